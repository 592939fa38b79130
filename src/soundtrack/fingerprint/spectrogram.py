"""Short-time log-magnitude spectrogram, computed block by block."""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from ..params import FingerprintParams

#: Floor added before the logarithm: -100 dBFS, far below any audible content.
_POWER_FLOOR = 1e-10


def log_spectrogram(y: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """Log-power spectrogram of mono samples ``y`` at ``params.sample_rate``.

    Returns a float32 array of shape ``(n_frames, max_bin + 1)`` in dB, one row per hop of
    ``params.hop`` samples; frame ``i`` covers samples ``[i*hop, i*hop + n_fft)``. Samples that
    do not fill a whole frame at the end are ignored (the caller keeps them for the next block).
    """
    return (10.0 * np.log10(power_spectrogram(y, params) + _POWER_FLOOR)).astype(np.float32)


def power_spectrogram(y: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """The power (linear, full-scale sine about 1) of :func:`log_spectrogram`'s cells."""
    n_fft, hop = params.n_fft, params.hop
    if y.size < n_fft:
        return np.zeros((0, params.max_bin + 1), dtype=np.float32)
    frames = sliding_window_view(y, n_fft)[::hop]
    spectrum = scipy.fft.rfft(frames * _hann(n_fft), axis=1)[:, : params.max_bin + 1]
    return spectrum.real**2 + spectrum.imag**2


def _hann(n: int) -> np.ndarray:
    """Periodic Hann window of ``n`` samples, scaled so a full-scale sine reads about 0 dB."""
    window = np.hanning(n + 1)[:-1].astype(np.float32)
    return window * np.float32(2.0 / window.sum())
