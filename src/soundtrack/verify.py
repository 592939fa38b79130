"""Confirm a weak candidate by comparing the query's audio with the recording's own.

A landmark needs all three of its peaks to survive in the query. Through a phone's room, band and
speech codec about a quarter of a recording's peaks survive within two frames, so only a few
percent of its triplets do, and a 5 s phone clip of a song often gathers fewer agreeing landmarks
than the acceptance threshold (:func:`soundtrack.match.acceptance_threshold`) asks, even when it
is the best candidate by far. Single peaks survive far better than triplets, and at a known
alignment they can be checked one by one.

So a candidate the hashes rank but do not accept is **verified**: the recording's audio around the
alignment is decoded from its file (a seek and a few seconds, :func:`soundtrack.audio.load_span`),
and three things are compared with the query's at that alignment:

- its peaks at two spectrogram resolutions other than the index's (:func:`resolutions`): a window
  half as long (32 ms, 31 Hz bins), sharp in time, and one twice as long (128 ms, 7.8 Hz bins)
  with denser peaks, sharp in frequency, where a held partial survives a room's reverb. A query
  peak counts as *found* when a recording peak lies within ±:data:`PEAK_FRAMES` frames and
  ±:data:`PEAK_HZ` (at least one bin) of its aligned place (:class:`Coincidence`);
- its band bits (:mod:`soundtrack.fingerprint.bands`, after Haitsma and Kalker): per 16 ms frame,
  which way the envelope of 33 bands turns in a 256 ms window, the coarse shape a speech codec
  keeps when it replaces the partials (:class:`Agreement`: the bits that agree).

What chance gives is measured on the same two signals: each count with the alignment moved by 8
to 40 frames either way (:data:`NULL_SHIFTS`), which keeps everything the two pieces of music
share by nature (their keys, their beat, the bins their instruments fill) and loses only the
alignment. Each count is put in standard deviations of those, and the candidate is confirmed when
their sum over the square root of their number stands :data:`MIN_Z` above chance
(:class:`Evidence`). (A model of chance from the recording's local peak density instead let
unrelated clean music through at 13 standard deviations: two pieces in one key share bins and
onsets.) On the benchmark's phone clips of 5 s that the hashes do not accept (61), the index's
own resolution alone confirmed 29, the two resolutions 41, and the two with the band bits 49. On
wrong candidates the bits' z correlates with the peak counts' at 0.11-0.15 (the two peak counts
with each other at 0.31): nearly independent tests (``python -m benchmarks.verify_candidates``).

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
from .fingerprint import Landmarks, Peaks
from .fingerprint.bands import BAND_N_FFT, band_bits
from .fingerprint.hashes import landmarks
from .fingerprint.peaks import context_frames, find_peaks
from .match import Alignment, Hits, best_alignments
from .params import FingerprintParams

#: A query peak is found when a recording peak is this close in time (±2 frames = ±32 ms: a
#: phone's reverb moves peaks later by a frame or two) and in frequency (±:data:`PEAK_HZ`, at least
#: one bin).
PEAK_FRAMES = 2
PEAK_HZ = 16.0
#: Moves of the alignment (frames) that make the null distribution of :class:`Coincidence`: 8 to
#: 40 frames (0.13-0.64 s) either way, clear of the ±:data:`PEAK_FRAMES` tolerance.
NULL_SHIFTS = np.concatenate([np.arange(-40, -7), np.arange(8, 41)])
_NULL_REACH = int(np.abs(NULL_SHIFTS).max())
#: A candidate is confirmed this many standard deviations above the shifted alignments (see
#: :class:`Evidence`). Of the 6,695 wrong candidates of the benchmark's clips (never-indexed 5 s
#: clips in five conditions, and the other candidates of indexed clips the hashes did not accept)
#: whose places share no audio (waveform correlation under 0.15, the most that random places of
#: two corpus tracks reach), none reached 5.8: the two highest are places of one album whose
#: tracks loop each other's material, at 0.15, just under that line; the next (5.0-5.6) are other
#: pairs of the same game's tracks. 6.5 leaves a margin for music not seen there. (Never-indexed
#: tracks that do loop an indexed track's audio reach up to 13.)
MIN_Z = 6.5
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


def candidates(hits: Hits) -> list[Alignment]:
    """The alignments of a query's ``hits`` worth verifying: at most :data:`CANDIDATES`, each with
    at least :data:`MIN_SCORE` agreeing anchor frames, strongest first."""
    if hits.q_frame.size == 0:
        return []
    return best_alignments(hits.rec_id, hits.ref_frame - hits.q_frame, hits.q_frame,
                           min_score=MIN_SCORE, max_results=CANDIDATES)


def dense_query(samples: np.ndarray, params: FingerprintParams) -> Landmarks:
    """The query landmarks of the dense second look at ``samples`` (mono, ``params.sample_rate``):
    the peaks of :func:`dense_peak_params`, each grouped with :data:`DENSE_FAN_OUT` partners; hashes
    laid out as the index's, so they are looked up in it."""
    peaks = find_peaks(samples, dense_peak_params(params))
    return landmarks(peaks, params, fan_out=DENSE_FAN_OUT, expand=True)


def rescaled(params: FingerprintParams, n_fft: int) -> FingerprintParams:
    """``params`` with an FFT of ``n_fft`` samples, every bin count scaled to keep its width in Hz
    (the hop, hence the frames, unchanged)."""
    scale = n_fft / params.n_fft

    def bins(n: int) -> int:
        return max(1, round(n * scale))

    return dataclasses.replace(params, n_fft=n_fft, min_bin=bins(params.min_bin), max_bin=bins(params.max_bin),
                               peak_half_bins=bins(params.peak_half_bins),
                               background_half_bins=bins(params.background_half_bins))


def resolutions(params: FingerprintParams) -> tuple[FingerprintParams, ...]:
    """The peak definitions a candidate is verified at: the index's peaks with a window half as
    long (``n_fft / 2``), and the dense look's peaks with a window twice as long (``2 n_fft``)."""
    return (rescaled(params, params.n_fft // 2), rescaled(dense_peak_params(params), 2 * params.n_fft))


@dataclass(frozen=True)
class Coincidence:
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


@dataclass(frozen=True)
class Agreement:
    """How many of a query's band bits (:func:`soundtrack.fingerprint.bands.band_bits`) equal the
    recording's at the aligned frames (``found``, out of ``n``), and the same count at the
    alignments moved by :data:`NULL_SHIFTS` frames (``shifted``)."""

    found: float
    shifted: np.ndarray
    n: int

    @property
    def z(self) -> float:
        """Agreeing bits above the shifted alignments' mean, in their standard deviations (at least
        that of ``n`` independent fair coins, ``sqrt(n) / 2``)."""
        sd = max(float(self.shifted.std()), np.sqrt(max(self.n, 1)) / 2)
        return (self.found - float(self.shifted.mean())) / sd


@dataclass(frozen=True)
class Evidence:
    """The :class:`Coincidence` of a candidate at each of :func:`resolutions`, and the
    :class:`Agreement` of its band bits."""

    parts: tuple[Coincidence | Agreement, ...]

    @property
    def z(self) -> float:
        """The parts' z summed over the square root of their number: a standard deviation above
        chance when each part is one."""
        return sum(part.z for part in self.parts) / np.sqrt(len(self.parts))


def coincidence(query: Peaks, reference: Peaks, offset_frames: int, n_bins: int,
                tolerance_bins: int = 1) -> Coincidence:
    """Compare ``query`` peaks with ``reference`` peaks, query frame ``t`` aligned with reference
    frame ``t + offset_frames``; ``n_bins``: bins per frame (``params.max_bin + 1``); a peak is
    found within ±:data:`PEAK_FRAMES` frames and ±``tolerance_bins`` bins."""
    if len(query) == 0:
        return Coincidence(0, np.zeros(NULL_SHIFTS.size, np.int64))
    t = query.frame.astype(np.int64) + offset_frames
    lo = int(t.min()) - _NULL_REACH
    n_frames = int(t.max()) + _NULL_REACH + 1 - lo
    grid = np.zeros((n_frames, n_bins), dtype=bool)
    inside = (reference.frame >= lo) & (reference.frame < lo + n_frames)
    grid[reference.frame[inside] - lo, reference.bin[inside]] = True
    near = maximum_filter(grid, size=(2 * PEAK_FRAMES + 1, 2 * tolerance_bins + 1), mode="constant")
    rows, cols = t - lo, query.bin
    shifted = np.array([int(near[rows + s, cols].sum()) for s in NULL_SHIFTS])
    return Coincidence(int(near[rows, cols].sum()), shifted)


def agreement(query: np.ndarray, reference: np.ndarray, offset_frames: int) -> Agreement:
    """Compare ``query`` band bits with ``reference`` band bits, query row ``t`` aligned with
    reference row ``t + offset_frames`` (rows are frames, as :func:`~soundtrack.fingerprint.bands.
    band_bits` makes them); a query row with no reference row there counts as half agreeing."""
    n_rows, n_bits = query.shape
    lo = offset_frames - _NULL_REACH  # reference row of the first query row at the widest shift
    width = n_rows + 2 * _NULL_REACH
    padded = np.full((width, n_bits), -1, np.int8)  # -1: no reference frame
    first, last = max(lo, 0), min(lo + width, reference.shape[0])
    if last > first:
        padded[first - lo : last - lo] = reference[first:last]
    q = query.astype(np.int8)

    def agreeing(shift: int) -> float:
        r = padded[_NULL_REACH + shift : _NULL_REACH + shift + n_rows]
        return float(np.count_nonzero(r == q) + 0.5 * np.count_nonzero(r < 0))

    return Agreement(agreeing(0), np.array([agreeing(int(s)) for s in NULL_SHIFTS]), q.size)


def tolerance_in_bins(params: FingerprintParams) -> int:
    """±:data:`PEAK_HZ` in bins of ``params`` (at least one)."""
    return max(1, round(PEAK_HZ / params.bin_hz))


def confidence(z: float) -> float:
    """A verified match's confidence in [0, 1]: 0.5 at :data:`MIN_Z`, like a landmark score at its
    threshold."""
    return 1.0 - 2.0 ** (-z / MIN_Z)


@dataclass(frozen=True)
class QueryFeatures:
    """What a query is verified with: its peaks at each of :func:`resolutions`, and its band bits
    (rows from frame 1, :func:`~soundtrack.fingerprint.bands.band_bits`)."""

    peaks: tuple[Peaks, ...]
    bands: np.ndarray


def query_features(samples: np.ndarray, params: FingerprintParams) -> QueryFeatures:
    """The :class:`QueryFeatures` of a query (mono ``samples`` at ``params.sample_rate``), computed
    once per query."""
    return QueryFeatures(tuple(find_peaks(samples, p) for p in resolutions(params)), band_bits(samples, params))


def evidence(query: QueryFeatures, path: str, offset_frames: int, duration_s: float,
             params: FingerprintParams) -> Evidence | None:
    """The :class:`Evidence` for the recording at ``path``, query frame 0 at its frame
    ``offset_frames``: ``query`` is :func:`query_features` of ``duration_s`` seconds of audio.
    None when the file cannot be read."""
    span = reference_span(path, offset_frames, duration_s, params)
    if span is None:
        return None
    samples, first_frame = span
    return evidence_in(query, samples, offset_frames - first_frame, params)


def evidence_in(query: QueryFeatures, samples: np.ndarray, offset_frames: int,
                params: FingerprintParams) -> Evidence:
    """The :class:`Evidence` for recording audio ``samples`` (frame 0 at their first sample),
    query frame 0 at their frame ``offset_frames``; they should reach :func:`margin_frames`
    beyond the query on each side."""
    parts: list[Coincidence | Agreement] = []
    for p, peaks in zip(resolutions(params), query.peaks):
        parts.append(coincidence(peaks, find_peaks(samples, p), offset_frames, p.max_bin + 1, tolerance_in_bins(p)))
    # both sets of band rows start at frame 1 of their audio, so their rows align as frames do
    parts.append(agreement(query.bands, band_bits(samples, params), offset_frames))
    return Evidence(tuple(parts))


def margin_frames(params: FingerprintParams) -> int:
    """Frames of recording needed beyond each end of a query: the :func:`context_frames` of any
    of :func:`resolutions` (or the band bits' window), plus the largest of :data:`NULL_SHIFTS`."""
    context = max(*(context_frames(r) for r in resolutions(params)), BAND_N_FFT // params.hop)
    return context + _NULL_REACH + PEAK_FRAMES


def reference_span(path: str, offset_frames: int, duration_s: float,
                   params: FingerprintParams) -> tuple[np.ndarray, int] | None:
    """The samples of the recording at ``path`` around its frame ``offset_frames`` for
    ``duration_s`` seconds, starting on a frame boundary, and the recording frame they start at;
    None when the file cannot be read. The span reaches :func:`context_frames` (of any of
    :func:`resolutions`, or the band bits' window) plus the largest of :data:`NULL_SHIFTS` beyond
    each end, so the peaks and bits that matter are those of the whole recording."""
    p = params
    margin_s = p.frames_to_seconds(margin_frames(p))
    start_s = max(0.0, p.frames_to_seconds(offset_frames) - margin_s)
    try:
        samples, first_s = load_span(path, start_s, start_s + duration_s + 2 * margin_s, p.sample_rate)
    except (AudioError, OSError):
        return None
    first_frame = int(np.ceil(p.seconds_to_frames(first_s) - 1e-6))
    skip = int(round((p.frames_to_seconds(first_frame) - first_s) * p.sample_rate))
    return samples[skip:], first_frame
