"""Band-energy bits: which way the spectral envelope turns, frame by frame.

The sub-fingerprint of Haitsma and Kalker ("A Highly Robust Audio Fingerprinting System", ISMIR
2002): the energy of :data:`BANDS` logarithmically spaced bands in a long window, and for each
pair of neighbouring bands one bit, whether their difference grew or shrank since the previous
frame. The bits follow the coarse shape of the spectrum and how it moves, which is what a speech
codec is built to keep (it codes a spectral envelope) and what a room's reverb blurs least in a
window this long; the fine partials that make spectral peaks are what those two destroy. So the
bits are one more look at a candidate alignment, nearly independent of the peaks
(:mod:`soundtrack.verify`), not hashes: 32 bits of one frame are rarely all intact through a
phone, but well over half of them are (chance: half).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..params import FingerprintParams
from .spectrogram import power_spectrogram

#: Window of the band energies (samples at 8 kHz): 2048 = 256 ms, 3.9 Hz bins; frames advance by
#: the index's hop (16 ms), so a bit's frame is an index frame.
BAND_N_FFT = 2048
#: Band edges (Hz): 33 bands, logarithmically spaced over the telephone band's lower part, where
#: music keeps most of its energy (as in the original design, 300-2000 Hz there).
BANDS = 33
LOW_HZ = 300.0
HIGH_HZ = 3000.0


def band_params(params: FingerprintParams) -> FingerprintParams:
    """The spectrogram of the band energies: ``params`` with the long window, up to the last bin
    below :data:`HIGH_HZ`."""
    last_bin = int(np.ceil(HIGH_HZ * BAND_N_FFT / params.sample_rate)) - 1
    return dataclasses.replace(params, n_fft=BAND_N_FFT, min_bin=0, max_bin=last_bin)


def band_energies(samples: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """Energy (dB) of each band, shape ``(frames, BANDS)``; frame ``i`` starts at sample ``i * hop``."""
    p = band_params(params)
    power = power_spectrogram(samples, p)
    bin_hz = params.sample_rate / BAND_N_FFT
    first_bins = np.ceil(np.geomspace(LOW_HZ, HIGH_HZ, BANDS + 1) / bin_hz - 1e-9).astype(np.int64)
    if power.shape[0] == 0:
        return np.zeros((0, BANDS))
    sums = np.add.reduceat(power, first_bins[:-1], axis=1)  # band b: its first bin up to the next band's
    return 10.0 * np.log10(sums.astype(np.float64) + 1e-10)


def band_bits(samples: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """The bits (bool, shape ``(frames - 1, BANDS - 1)``): row ``i`` is frame ``i + 1``, bit ``m``
    whether band ``m``'s lead over band ``m + 1`` (dB) grew since the frame before."""
    energy = band_energies(samples, params)
    lead = energy[:, :-1] - energy[:, 1:]
    return np.diff(lead, axis=0) > 0
