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

import numba
import numpy as np
from scipy.ndimage import maximum_filter1d

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


def peak_cells(spec: np.ndarray, params: FingerprintParams, first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The peaks of ``spec`` (frames × bins, dB) in its rows ``[first, first + count)``: their rows
    (relative to ``first``) and bins, sorted by row then bin, int64. Rows within
    :func:`context_frames` of either end of ``spec`` are judged on the rows that exist.

    Every row of ``spec`` is context: the box means (:func:`_box_means`) and the running loudest
    level are taken over the rows that exist, and the tests run cell by cell in
    :func:`_peaks_of_band`, which looks at a cell's neighbourhood only when its levels pass
    (about a third of the cells).
    """
    p = params
    if spec.shape[0] == 0 or count <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    band = np.ascontiguousarray(spec[:, p.min_bin : p.max_bin + 1], dtype=np.float32)
    same_bin_history, background = _box_means(band, p.background_half_frames, p.background_half_bins)
    loudest = maximum_filter1d(band.max(axis=1), size=2 * p.loudest_half_frames + 1, mode="nearest")
    levels = np.array([p.peak_min_prominence_db, p.peak_min_onset_db, p.peak_max_below_loudest_db,
                       ABSOLUTE_FLOOR_DB, SILENCE_DB], dtype=np.float32)
    rows, bins = _peaks_of_band(band, background, same_bin_history, loudest.astype(np.float32), levels,
                                p.peak_half_frames, p.peak_half_bins, first, first + count)
    return rows - first, bins + p.min_bin


@numba.njit(cache=True, nogil=True)
def _box_means(band: np.ndarray, half_rows: int, half_cols: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Box means of ``band`` (float32, frames × bins) with edges extended by their nearest cell:
    the mean of each cell's bin over ``±half_rows`` frames (the onset test's reference), and the
    mean of that over ``±half_cols`` bins (the prominence test's background). Running sums in
    float64, the arithmetic of SciPy's ``uniform_filter1d`` (``mode="nearest"``) applied along
    frames then bins, row by row so the data stay in the cache."""
    n, m = band.shape
    history = np.empty((n, m), np.float32)
    background = np.empty((n, m), np.float32)
    column_sums = np.zeros(m, np.float64)
    for d in range(-half_rows, half_rows + 1):
        row = band[min(max(d, 0), n - 1)]
        for b in range(m):
            column_sums[b] += row[b]
    frames_in_box, bins_in_box = 2 * half_rows + 1, 2 * half_cols + 1
    line = np.empty(m + 2 * half_cols, np.float64)
    for t in range(n):
        for b in range(m):
            history[t, b] = column_sums[b] / frames_in_box
        if t + 1 < n:
            entering, leaving = band[min(t + 1 + half_rows, n - 1)], band[max(t - half_rows, 0)]
            for b in range(m):
                column_sums[b] += np.float64(entering[b]) - np.float64(leaving[b])
        for b in range(m + 2 * half_cols):
            line[b] = history[t, min(max(b - half_cols, 0), m - 1)]
        total = 0.0
        for k in range(bins_in_box):
            total += line[k]
        for b in range(m):
            background[t, b] = total / bins_in_box
            if b + 1 < m:
                total += line[b + bins_in_box] - line[b]
    return history, background


@numba.njit(cache=True, nogil=True)
def _peaks_of_band(band: np.ndarray, background: np.ndarray, history: np.ndarray, loudest: np.ndarray,
                   levels: np.ndarray, half_rows: int, half_cols: int, first: int, stop: int
                   ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """The tests of the module docstring, cell by cell of ``band``'s rows ``[first, stop)`` (dB,
    float32 throughout): ``levels`` = (prominence over ``background``, onset over ``history``,
    most below the frame's ``loudest``, absolute floor, level before the audio). A cell that passes
    the level tests must also be louder than the cell just before it in time and the one just
    below it in frequency (so a flat tone makes one peak, not one per frame), and no cell of its
    ``±half_rows`` × ``±half_cols`` neighbourhood (clipped at the edges) may be louder; rows
    nearest the cell are looked at first, where most cells fail. Returns the peaks' rows and
    columns."""
    prominence, onset, below, floor, silence = levels[0], levels[1], levels[2], levels[3], levels[4]
    n, m = band.shape
    rows, cols = [], []
    for t in range(first, stop):
        quietest = loudest[t] - below
        for b in range(m):
            v = band[t, b]
            if not (v - background[t, b] >= prominence and v - history[t, b] >= onset
                    and v >= quietest and v > floor):
                continue
            if v <= (band[t - 1, b] if t > 0 else silence) or v <= (band[t, b - 1] if b > 0 else silence):
                continue
            lo, hi = max(b - half_cols, 0), min(b + half_cols, m - 1)
            ok = True
            for d in range(2 * half_rows + 1):
                tt = t + (d + 1) // 2 if d % 2 else t - d // 2  # t, t+1, t-1, t+2, t-2, ...
                row = band[min(max(tt, 0), n - 1)]
                for bb in range(lo, hi + 1):
                    if row[bb] > v:
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                rows.append(t)
                cols.append(b)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


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
        first = self.done - self.spec_start - max(lo, 0)
        frames, bins = peak_cells(window, self.params, first, until - self.done)
        levels = window[first + frames, bins]
        peaks = Peaks((frames + self.done).astype(np.int32), bins.astype(np.int32), levels)
        self.done = until
        keep_from = self.done - self.context - self.spec_start
        if keep_from > 0:
            self.spec = self.spec[keep_from:]
            self.spec_start += keep_from
        return peaks
