"""Spectral peaks ("event points"): the time-frequency points a fingerprint is built from.

A peak is a spectrogram cell that

1. is the loudest cell of its neighbourhood (``peak_half_frames`` × ``peak_half_bins``),
2. stands ``peak_min_prominence_db`` above the mean of a wider box around it (so a broadband
   noise floor or a smooth spectral slope makes no peaks),
3. stands ``peak_min_onset_db`` above the mean of its own bin over the surrounding half second, so
   a held note makes peaks where it starts or swells, not all along its length (held notes and
   chords are shared by much unrelated music and cause false matches), and
4. is no more than ``peak_max_below_loudest_db`` below the loudest cell of the surrounding second.

All these tests look at a cell's neighbourhood only, never at block or clip boundaries, so a clip
cut at any instant yields the same peaks as the full recording around it, which is what makes a
query match. :class:`PeakStream` applies them to audio of any length in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter, maximum_filter1d, uniform_filter

from ..params import FingerprintParams
from .spectrogram import log_spectrogram

#: Level given to frames before the start and after the end of the audio (dBFS).
SILENCE_DB = -100.0
#: Cells quieter than this never make a peak (dBFS): dither and codec noise of silent passages.
ABSOLUTE_FLOOR_DB = -85.0


@dataclass(frozen=True)
class Peaks:
    """Spectral peaks sorted by time: ``frame`` (STFT frame index), ``bin`` (FFT bin), ``level`` (dB)."""

    frame: np.ndarray  # int32
    bin: np.ndarray  # int32
    level: np.ndarray  # float32

    def __len__(self) -> int:
        return int(self.frame.size)

    @staticmethod
    def empty() -> Peaks:
        return Peaks(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))

    @staticmethod
    def concat(parts: list[Peaks]) -> Peaks:
        if not parts:
            return Peaks.empty()
        return Peaks(
            np.concatenate([p.frame for p in parts]),
            np.concatenate([p.bin for p in parts]),
            np.concatenate([p.level for p in parts]),
        )


def context_frames(params: FingerprintParams) -> int:
    """Frames of spectrogram needed on each side of a frame to decide its peaks."""
    return max(params.peak_half_frames, params.background_half_frames, params.loudest_half_frames)


def peak_mask(spec: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """Boolean mask of the peaks of log spectrogram ``spec`` (frames × bins, dB).

    Cells within :func:`context_frames` of either end are judged on the frames that exist.
    """
    band = spec[:, params.min_bin : params.max_bin + 1]
    local_max = maximum_filter(
        band, size=(2 * params.peak_half_frames + 1, 2 * params.peak_half_bins + 1), mode="nearest"
    )
    background = uniform_filter(
        band, size=(2 * params.background_half_frames + 1, 2 * params.background_half_bins + 1), mode="nearest"
    )
    loudest = maximum_filter1d(band.max(axis=1), size=2 * params.loudest_half_frames + 1, mode="nearest")
    same_bin_history = uniform_filter(band, size=(2 * params.background_half_frames + 1, 1), mode="nearest")
    mask = (
        (band == local_max)
        & (band > _shifted_max(band))
        & (band - background >= params.peak_min_prominence_db)
        & (band - same_bin_history >= params.peak_min_onset_db)
        & (band >= loudest[:, None] - params.peak_max_below_loudest_db)
        & (band > ABSOLUTE_FLOOR_DB)
    )
    full = np.zeros(spec.shape, dtype=bool)
    full[:, params.min_bin : params.max_bin + 1] = mask
    return full


def _shifted_max(band: np.ndarray) -> np.ndarray:
    """Per cell, the loudest of the cells just before it in time (same bin) and just below it in
    frequency (same frame): ``band > _shifted_max(band)`` breaks ties between equal neighbours, so
    a perfectly flat synthesised tone yields one peak, not one per frame."""
    before = np.full_like(band, SILENCE_DB)
    before[1:] = band[:-1]
    below = np.full_like(band, SILENCE_DB)
    below[:, 1:] = band[:, :-1]
    return np.maximum(before, below)


def find_peaks(y: np.ndarray, params: FingerprintParams) -> Peaks:
    """Peaks of a whole mono signal ``y`` at ``params.sample_rate`` (convenience for short clips)."""
    stream = PeakStream(params)
    return Peaks.concat([stream.push(y), stream.flush()])


class PeakStream:
    """Turn a stream of sample blocks into peaks, keeping only a few seconds of state.

    ``push`` returns the peaks that are final so far; ``flush`` the rest at the end of the audio.
    Frame indices count from the first sample pushed.
    """

    def __init__(self, params: FingerprintParams) -> None:
        self.params = params
        self.context = context_frames(params)
        self.samples = np.zeros(0, dtype=np.float32)
        n_bins = params.max_bin + 1
        # spectrogram rows kept: starts with `context` rows of silence before the audio
        self.spec = np.full((self.context, n_bins), SILENCE_DB, dtype=np.float32)
        self.spec_start = -self.context  # absolute frame index of self.spec[0]
        self.done = 0  # absolute frame index of the first frame not yet judged
        self.frames_total = 0

    def push(self, y: np.ndarray) -> Peaks:
        """Add samples; return peaks of the frames that now have full context on both sides."""
        self._add_frames(y)
        judge_until = self.spec_start + len(self.spec) - self.context
        return self._judge(judge_until)

    def flush(self) -> Peaks:
        """Judge the remaining frames, treating what follows the audio as silence."""
        pad = np.full((self.context, self.spec.shape[1]), SILENCE_DB, dtype=np.float32)
        self.spec = np.concatenate([self.spec, pad])
        return self._judge(self.frames_total)

    def _add_frames(self, y: np.ndarray) -> None:
        p = self.params
        self.samples = np.concatenate([self.samples, y.astype(np.float32, copy=False)])
        n_frames = (self.samples.size - p.n_fft) // p.hop + 1 if self.samples.size >= p.n_fft else 0
        if n_frames <= 0:
            return
        new = log_spectrogram(self.samples[: (n_frames - 1) * p.hop + p.n_fft], p)
        self.samples = self.samples[n_frames * p.hop :]
        self.spec = np.concatenate([self.spec, new])
        self.frames_total += n_frames

    def _judge(self, until: int) -> Peaks:
        """Find peaks in absolute frames ``[self.done, until)`` and drop rows no longer needed."""
        if until <= self.done:
            return Peaks.empty()
        lo = self.done - self.context - self.spec_start
        hi = until + self.context - self.spec_start
        window = self.spec[max(lo, 0) : hi]
        mask = peak_mask(window, self.params)
        first = self.done - self.spec_start - max(lo, 0)
        mask = mask[first : first + (until - self.done)]
        frames, bins = np.nonzero(mask)
        levels = window[first + frames, bins]
        peaks = Peaks((frames + self.done).astype(np.int32), bins.astype(np.int32), levels)
        self.done = until
        keep_from = self.done - self.context - self.spec_start
        if keep_from > 0:
            self.spec = self.spec[keep_from:]
            self.spec_start += keep_from
        return peaks
