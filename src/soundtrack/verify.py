"""Confirm a weak candidate by comparing the query's peaks with the recording's own.

A landmark needs all three of its peaks to survive in the query. Through a phone's room, band and
speech codec about a quarter of a recording's peaks survive within two frames, so only a few
percent of its triplets do, and a 5 s phone clip of a song often gathers fewer agreeing landmarks
than the acceptance threshold (:func:`soundtrack.match.acceptance_threshold`) asks, even when it
is the best candidate by far. Single peaks survive far better than triplets, and at a known
alignment they can be checked one by one.

So a candidate the hashes rank but do not accept is **verified**: the recording's audio around the
alignment is decoded from its file (a seek and a few seconds, :func:`soundtrack.audio.load_span`),
its peaks are found with the index's parameters, and each query peak counts as *found* when a
recording peak lies within ±:data:`PEAK_FRAMES` frames and ±:data:`PEAK_BINS` bins of its aligned
place. What chance gives is measured on the same two signals: the found count with the alignment
moved by 8 to 40 frames either way (:data:`NULL_SHIFTS`), which keeps everything the two pieces of
music share by nature (their keys, their beat, the bins their instruments fill) and loses only
the alignment. The candidate is confirmed when its count stands :data:`MIN_Z` standard deviations
above those. (A model of chance from the recording's local peak density instead let unrelated
clean music through at 13 standard deviations: two pieces in one key share bins and onsets.)

When none of those is confirmed, the query is looked up once more with **denser peaks**
(:func:`dense_peak_params`: a peak need only dominate ±3 frames and ±4 bins, which keeps a
recording's peak that a phone's noise or codec put next to a louder cell) grouped with more
neighbours (:data:`DENSE_FAN_OUT`), and its best candidates are verified the same way, against
the same :data:`MIN_Z`. Twice the peaks, in 105 triplets each instead of 45, draw about six times
the index hits, and a distorted clip then finds more of its recording's triplets. Their chance
alignments are stronger too: accepted on their landmark score alone, they matched 4 % of
never-indexed clean clips, and confirmed at 3 standard deviations 0.8 %; so the dense look only
proposes candidates.

A recording whose file cannot be read any more (moved, deleted, on another machine) is simply not
verified: the query then gets the plain search's answer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter

from .audio import load_span
from .errors import AudioError
from .fingerprint import Peaks
from .fingerprint.peaks import context_frames, find_peaks
from .params import FingerprintParams

#: A query peak is found when a recording peak is this close in time (±2 frames = ±32 ms: a
#: phone's reverb moves peaks later by a frame or two) and in frequency (±1 bin = ±16 Hz).
PEAK_FRAMES = 2
PEAK_BINS = 1
#: Moves of the alignment (frames) that make the null distribution of :class:`Evidence`: 8 to 40
#: frames (0.13-0.64 s) either way, clear of the ±:data:`PEAK_FRAMES` tolerance.
NULL_SHIFTS = np.concatenate([np.arange(-40, -7), np.arange(8, 41)])
_NULL_REACH = int(np.abs(NULL_SHIFTS).max())
#: A candidate is confirmed this many standard deviations above the shifted alignments (see
#: :class:`Evidence`). On 840 of the benchmark's never-indexed 5 s clips (five conditions, about
#: 3,000 candidates) no wrong candidate reached 5.4; 6 leaves a margin for music not seen there.
#: (Over all 1,200, one reached 7.8: a never-indexed track sharing material with an indexed one.)
MIN_Z = 6.0
#: Only candidates the hashes give at least this many agreeing anchor frames are verified, and
#: at most :data:`CANDIDATES` of them, strongest first.
MIN_SCORE = 3
CANDIDATES = 3
#: The dense second look (see the module docstring): peaks that dominate ±3 frames (±48 ms) and
#: ±4 bins (±62 Hz), each grouped with its 15 nearest later peaks (105 triplets per peak).
DENSE_HALF_FRAMES = 3
DENSE_HALF_BINS = 4
DENSE_FAN_OUT = 15


def dense_peak_params(params: FingerprintParams) -> FingerprintParams:
    """``params`` with the smaller peak neighbourhood of the dense second look (query side only:
    the hashes' layout is unchanged, so they are looked up in the same index)."""
    return dataclasses.replace(params, peak_half_frames=DENSE_HALF_FRAMES, peak_half_bins=DENSE_HALF_BINS)


@dataclass(frozen=True)
class Evidence:
    """How many of a query's peaks the recording has at their aligned places (``found``), and
    the same count with the alignment moved by :data:`NULL_SHIFTS` frames (``shifted``): what an
    alignment that is not the right one finds in this pair of signals."""

    found: int
    shifted: np.ndarray

    @property
    def z(self) -> float:
        """Found peaks above the shifted alignments' mean, in their standard deviations (at least
        the square root of the mean, as for a Poisson count)."""
        mean = float(self.shifted.mean())
        sd = max(float(self.shifted.std()), np.sqrt(max(mean, 1.0)))
        return (self.found - mean) / sd


def coincidence(query: Peaks, reference: Peaks, offset_frames: int, n_bins: int) -> Evidence:
    """Compare ``query`` peaks with ``reference`` peaks, query frame ``t`` aligned with reference
    frame ``t + offset_frames``; ``n_bins``: bins per frame (``params.max_bin + 1``)."""
    if len(query) == 0:
        return Evidence(0, np.zeros(NULL_SHIFTS.size, np.int64))
    t = query.frame.astype(np.int64) + offset_frames
    lo = int(t.min()) - _NULL_REACH
    n_frames = int(t.max()) + _NULL_REACH + 1 - lo
    grid = np.zeros((n_frames, n_bins), dtype=bool)
    inside = (reference.frame >= lo) & (reference.frame < lo + n_frames)
    grid[reference.frame[inside] - lo, reference.bin[inside]] = True
    near = maximum_filter(grid, size=(2 * PEAK_FRAMES + 1, 2 * PEAK_BINS + 1), mode="constant")
    rows, cols = t - lo, query.bin
    shifted = np.array([int(near[rows + s, cols].sum()) for s in NULL_SHIFTS])
    return Evidence(int(near[rows, cols].sum()), shifted)


def confidence(z: float) -> float:
    """A verified match's confidence in [0, 1]: 0.5 at :data:`MIN_Z`, like a landmark score at its
    threshold."""
    return 1.0 - 2.0 ** (-z / MIN_Z)


def evidence(query: Peaks, path: str, offset_frames: int, duration_s: float,
             params: FingerprintParams) -> Evidence | None:
    """:func:`coincidence` of ``query`` peaks (``duration_s`` of audio) with the peaks of the
    recording at ``path``, query frame 0 at its frame ``offset_frames``; None when the file cannot
    be read."""
    reference = reference_peaks(path, offset_frames, duration_s, params)
    if reference is None:
        return None
    return coincidence(query, reference, offset_frames, params.max_bin + 1)


def reference_peaks(path: str, offset_frames: int, duration_s: float, params: FingerprintParams) -> Peaks | None:
    """Peaks of the recording at ``path`` from its frame ``offset_frames`` for ``duration_s``
    seconds, in the recording's frames; None when the file cannot be read. The decoded span reaches
    :func:`context_frames` plus the largest of :data:`NULL_SHIFTS` beyond each end, so the peaks
    that matter are those of the whole recording."""
    p = params
    margin_s = p.frames_to_seconds(context_frames(p) + _NULL_REACH + PEAK_FRAMES)
    start_s = max(0.0, p.frames_to_seconds(offset_frames) - margin_s)
    try:
        samples, first_s = load_span(path, start_s, start_s + duration_s + 2 * margin_s, p.sample_rate)
    except (AudioError, OSError):
        return None
    first_frame = int(np.ceil(p.seconds_to_frames(first_s) - 1e-6))
    skip = int(round((p.frames_to_seconds(first_frame) - first_s) * p.sample_rate))
    peaks = find_peaks(samples[skip:], p)
    return Peaks(peaks.frame + first_frame, peaks.bin, peaks.level)
