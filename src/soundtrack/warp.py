"""Speed-tolerant search: recordings played faster or slower, tempo-stretched or pitch-shifted.

A query is the recording with its frequencies scaled by a **pitch ratio** ``pitch`` (query Hz per
recording Hz) and its time by a **time scale** ``speed`` (recording seconds per query second).
A plain speed change (a PAL transfer, a sped-up edit) has both equal; a tempo change (pitch kept)
has ``pitch == 1``; a pitch shift (tempo kept) has ``speed == 1``.

Landmark hashes hold FFT bins exactly (the anchor's bin and the two bin offsets), so a pitch
change of more than a fraction of a percent breaks most of them; their time offsets are kept in
2-frame cells and survive a time scale off by a few percent. The search therefore:

1. **screens** pitch ratios on a grid :data:`PITCH_STEP` apart within ``±max_change``: the query is
   resampled by each ratio, which puts its frequencies back on the recording's bins (and scales its
   time by the same ratio), and a sparse fingerprint (fan-out :data:`SCREEN_FAN_OUT`) is looked up;
2. **verifies** the :data:`SHORTLIST` best (recording, ratio) pairs with the dense query
   fingerprint, voting over the residual time scale as well as the offset (so tempo-only changes,
   whose resampled query runs at another speed than the recording, line up too), and fits
   the time scale to the agreeing landmarks by least squares;
3. **accepts** a verified score only above the usual threshold plus :data:`TRIALS_MARGIN`, since
   many (ratio, time scale) hypotheses were tried and chance alignments get that many tries.

The search runs only when the plain search found nothing (see :meth:`soundtrack.Library.identify`),
so unchanged audio costs what it did.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample

from .fingerprint import Peaks, fingerprint
from .fingerprint.hashes import landmarks
from .fingerprint.peaks import SILENCE_DB, context_frames, peak_cells
from .fingerprint.spectrogram import log_spectrogram
from .index.store import Snapshot
from .match import MIN_SCORE, Hits, acceptance_threshold, best_alignments
from .params import FingerprintParams

#: Relative spacing of the screened pitch ratios (0.5 %: a bin near the top of the band moves by
#: about half a bin between two ratios, so every ratio has a grid point within a quarter bin).
PITCH_STEP = 0.005
#: Relative spacing of the screened time scales of tempo changes (the landmarks' 2-frame time
#: cells and the ±1-frame offset pooling tolerate about 1 % of drift).
TEMPO_STEP = 0.02
#: Pitch shifts (tempo kept) are looked for within this range (relative; 0.06 is one semitone).
PITCH_SHIFT_RANGE = 0.06
#: Fan-out of the screening fingerprint (cheap: 6 triplets per anchor instead of 45), with the
#: query-side cell expansion (under dialogue it finds the recording for a fifth more clips, for
#: about twice the screening's time).
SCREEN_FAN_OUT = 4
SCREEN_EXPAND = True
#: A screened alignment makes the shortlist from this share of the acceptance threshold (at least
#: :data:`SCREEN_MIN_SCORE` agreeing frames): only the dense verification accepts a match.
SCREEN_THRESHOLD_SHARE = 0.7
SCREEN_MIN_SCORE = 4
#: How many (recording, ratio) pairs from the screening are verified with the dense fingerprint.
SHORTLIST = 3
#: Extra score a warped match needs over the plain acceptance threshold. The verification tries
#: :data:`SHORTLIST` pairs times about ``2 * max_change * clip frames`` time scales, most of them
#: nearly the same alignment; each doubling of independent tries raises the best chance score by
#: :data:`soundtrack.match.CHANCE_PER_DOUBLING`: 3 stands for about 5 independent tries. (4 was
#: used before; with 3, none of the benchmark's 1,200 never-indexed 5 s clips matched, and 6 to 14
#: points more clips sped up ±3-5 % under dialogue were found.)
TRIALS_MARGIN = 3
#: The slope vote of :func:`_fit_line` uses at most about this many hits (every k-th): a clean
#: 10 s clip draws tens of thousands, and the line they agree on stands out in a sample.
FIT_VOTE_HITS = 2000
#: A plain match's time scale is reported only when fitting it gathers this share more query frames.
REFIT_GAIN = 0.2
#: Once a screening score reaches this many times its threshold, only ratios within
#: :data:`SURE_NEIGHBOURS` grid steps of it are still screened (to place the pitch ratio).
SURE_FACTOR = 2.0
SURE_NEIGHBOURS = 2


@dataclass(frozen=True)
class WarpedAlignment:
    """A recording heard in a warped query. Frames are the recording's STFT frames for
    ``offset_frames`` and the query's own (unwarped) frames for ``query_*_frame``."""

    recording_id: int
    offset_frames: float  # recording frame heard at query frame 0
    speed: float  # recording seconds per query second
    pitch: float  # query Hz per recording Hz
    score: int
    threshold: int
    votes: int
    query_first_frame: int
    query_last_frame: int


def pitch_grid(max_change: float, step: float = PITCH_STEP) -> np.ndarray:
    """Ratios to screen, nearest to 1 first, covering ``[1 - max_change, 1 + max_change]`` in steps
    of ``step`` (relative; the last one each side is the bound itself), without 1 itself (the plain
    search covers it)."""
    n_up = int(math.ceil(math.log1p(max_change) / math.log1p(step)))
    n_down = int(math.ceil(-math.log1p(-max_change) / math.log1p(step)))
    n = max(n_up, n_down)
    k = np.arange(1, n + 1)
    up = np.minimum((1 + step) ** k, 1 + max_change)
    down = np.maximum((1 + step) ** -k, 1 - max_change)
    ratios = np.stack([up, down], axis=1).ravel()
    _, first = np.unique(ratios, return_index=True)
    return ratios[np.sort(first)]


def screens(max_change: float) -> list[tuple[float, float]]:
    """(pitch ratio, time scale) pairs to screen: every ratio of the :func:`pitch_grid`, then tempo
    changes (pitch kept) every :data:`TEMPO_STEP`.

    A ratio stands for a speed change (time scale = ratio) and, within :data:`PITCH_SHIFT_RANGE`,
    for a pitch shift too (time scale 1); there it is screened at the time scale halfway between
    (the square root), whose error for either (at most 3 %) the screening tolerates and the
    verification's time-scale vote then removes."""
    pairs = []
    for ratio in pitch_grid(max_change):
        both = abs(math.log(ratio)) <= math.log1p(PITCH_SHIFT_RANGE)
        pairs.append((float(ratio), float(math.sqrt(ratio) if both else ratio)))
    pairs += [(1.0, float(t)) for t in pitch_grid(max_change, TEMPO_STEP)]
    return pairs


def stretch(samples: np.ndarray, ratio: float) -> np.ndarray:
    """``samples`` made ``ratio`` times longer (FFT resampling): times scale by ``ratio`` and
    frequencies by ``1 / ratio``."""
    return resample(samples, max(1, int(round(samples.size * ratio)))).astype(np.float32)


def search(samples: np.ndarray, snapshot: Snapshot, params: FingerprintParams, *, max_change: float,
           min_score: int = MIN_SCORE, max_results: int = 5) -> list[WarpedAlignment]:
    """Recordings heard in ``samples`` (mono, at ``params.sample_rate``) at a speed, tempo or pitch
    changed by at most ``max_change`` (relative), strongest first; see the module docstring."""
    shortlist = _screen(samples, snapshot, params, max_change)
    found: dict[int, WarpedAlignment] = {}
    for rec_id, ratio in shortlist:
        a = _verify(samples, snapshot, params, rec_id, ratio, max_change, min_score)
        if a is not None and (rec_id not in found or found[rec_id].score < a.score):
            found[rec_id] = a
    ranked = sorted(found.values(), key=lambda a: -a.score)[:max_results]
    if ranked:
        ranked[0] = _refine_pitch(samples, snapshot, params, ranked[0], max_change, min_score)
    return ranked


def _refine_pitch(samples: np.ndarray, snapshot: Snapshot, params: FingerprintParams, best: WarpedAlignment,
                  max_change: float, min_score: int) -> WarpedAlignment:
    """``best`` re-verified at the pitch ratios :data:`PITCH_STEP` / 2 either side of its own
    (the screening found the ratio to within a grid step); the best of the three, with its pitch
    placed by a parabola through the three scores."""
    step = 1 + PITCH_STEP / 2
    trials = {0: best}
    for k in (-1, 1):
        a = _verify(samples, snapshot, params, best.recording_id, best.pitch * step**k, max_change, min_score)
        if a is not None:
            trials[k] = a
    top_k = max(trials, key=lambda k: trials[k].score)
    top = trials[top_k]
    if top_k == 0 and len(trials) == 3:
        lo, mid, hi = trials[-1].score, top.score, trials[1].score
        curve = lo - 2 * mid + hi
        shift = 0.5 * (lo - hi) / curve if curve < 0 else 0.0
        top = dataclasses.replace(top, pitch=float(top.pitch * step**shift))
    return top


def _screen(samples: np.ndarray, snapshot: Snapshot, params: FingerprintParams,
            max_change: float) -> list[tuple[int, float]]:
    """The (recording, pitch ratio) pairs that look best in the sparse screening, best first.

    The query's peaks are found once, with sub-bin and sub-frame positions, and rescaled for each
    ratio (bins divided, frames multiplied by it): the same landmarks a resampled query would give,
    without an STFT per ratio.
    """
    frame, fbin, level = fractional_peaks(samples, params)
    best: dict[int, tuple[float, float]] = {}  # recording -> (score / threshold, ratio)
    sure_at: float | None = None
    for ratio, time_scale in screens(max_change):
        if sure_at is not None and abs(math.log(ratio / sure_at)) > SURE_NEIGHBOURS * math.log1p(PITCH_STEP):
            continue
        peaks = _rescaled(frame, fbin, level, ratio, time_scale, params)
        query = landmarks(peaks, params, fan_out=SCREEN_FAN_OUT, expand=SCREEN_EXPAND)
        hits = Hits.of(query, snapshot)
        if hits.q_frame.size == 0:
            continue
        # ranked by score over the acceptance threshold, but kept from a lower score: a sparse
        # fingerprint of a query under dialogue may gather few frames even where the dense one,
        # which decides, gathers enough
        threshold = acceptance_threshold(int(hits.q_frame.size), MIN_SCORE)
        for a in best_alignments(hits.rec_id, hits.ref_frame - hits.q_frame, hits.q_frame,
                                 min_score=max(SCREEN_MIN_SCORE, int(threshold * SCREEN_THRESHOLD_SHARE)),
                                 max_results=SHORTLIST):
            strength = a.score / threshold
            if a.recording_id not in best or best[a.recording_id][0] < strength:
                best[a.recording_id] = (strength, float(ratio))
            if strength >= SURE_FACTOR and sure_at is None:
                sure_at = float(ratio)
    ranked = sorted(best.items(), key=lambda item: -item[1][0])[:SHORTLIST]
    return [(rec_id, ratio) for rec_id, (_, ratio) in ranked]


def fractional_peaks(samples: np.ndarray, params: FingerprintParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The peaks of :func:`~soundtrack.fingerprint.peaks.find_peaks` with positions refined by a
    parabola through the neighbouring cells: (frames, bins, levels in dB) as float arrays."""
    spec = log_spectrogram(samples, params)
    context = context_frames(params)
    silence = np.full((context, spec.shape[1]), SILENCE_DB, np.float32)
    padded = np.concatenate([silence, spec, silence])
    frames, bins = peak_cells(padded, params, context, spec.shape[0])
    rows = frames + context

    def vertex(before: np.ndarray, at: np.ndarray, after: np.ndarray) -> np.ndarray:
        curve = before - 2 * at + after
        safe = np.where(curve < 0, curve, -1.0)
        return np.where(curve < 0, np.clip(0.5 * (before - after) / safe, -0.5, 0.5), 0.0)

    top = spec.shape[1] - 1
    d_bin = vertex(padded[rows, bins - 1], padded[rows, bins], padded[rows, np.minimum(bins + 1, top)])
    d_frame = vertex(padded[rows - 1, bins], padded[rows, bins], padded[rows + 1, bins])
    return frames + d_frame, bins + d_bin, padded[rows, bins]


def _rescaled(frame: np.ndarray, fbin: np.ndarray, level: np.ndarray, ratio: float, time_scale: float,
              params: FingerprintParams) -> Peaks:
    """Peaks as the recording would have them if the query were its pitch times ``ratio`` and its
    time divided by ``time_scale``: bins divided by ``ratio``, frames multiplied by ``time_scale``,
    rounded; peaks leaving the band are dropped."""
    bins = np.rint(fbin / ratio).astype(np.int32)
    frames = np.rint(frame * time_scale).astype(np.int32)
    keep = (bins >= params.min_bin) & (bins <= params.max_bin)
    order = np.argsort(frames[keep], kind="stable")
    return Peaks(frames[keep][order], bins[keep][order], level[keep][order].astype(np.float32))


def _verify(samples: np.ndarray, snapshot: Snapshot, params: FingerprintParams, rec_id: int, ratio: float,
            max_change: float, min_score: int) -> WarpedAlignment | None:
    """Score ``rec_id`` against the dense fingerprint of the query unwarped by pitch ``ratio``,
    over time scales and offsets; ``None`` unless the score clears the warped threshold."""
    query = fingerprint(stretch(samples, ratio), params, fan_out=params.query_fan_out, expand=True)
    if len(query) == 0:
        return None
    qi, hit_rec, ref = snapshot.lookup(query.hash)
    threshold = acceptance_threshold(int(qi.size), min_score) + TRIALS_MARGIN
    mine = hit_rec == rec_id
    q = query.frame[qi[mine]].astype(np.float64)
    r = ref[mine].astype(np.float64)
    if q.size < threshold:
        return None
    slope, offset, inliers = _fit_line(q, r, max_change)
    score = int(np.unique(q[inliers]).size)
    if score < threshold:
        return None
    # the query was stretched by ``ratio``: its frame u is original query frame u / ratio
    q_orig = q[inliers] / ratio
    return WarpedAlignment(
        recording_id=rec_id, offset_frames=float(offset), speed=float(slope * ratio), pitch=float(ratio),
        score=score, threshold=threshold, votes=int(inliers.sum()),
        query_first_frame=int(q_orig.min()), query_last_frame=int(q_orig.max()),
    )


def time_scale(q: np.ndarray, r: np.ndarray, offset_frames: int, score: int,
               max_change: float) -> tuple[float, float, int] | None:
    """The time scale of a plain match: fit ``r = slope * q + offset`` (frames) to the hits ``q``,
    ``r`` of its recording near its alignment ``offset_frames``. A tempo change of a few percent
    still lines up enough landmarks for the plain search but drifts off its offset; returns
    (slope, offset, score) when the fitted line gathers clearly more query frames than ``score``
    (:data:`REFIT_GAIN`), else ``None`` (the plain alignment stands)."""
    if q.size < 3:
        return None
    reach = max_change * float(q.max() - q.min()) + 2
    near = np.abs((r - q) - offset_frames) <= reach
    if int(near.sum()) < 3:
        return None
    slope, offset, inliers = _fit_line(q[near].astype(np.float64), r[near].astype(np.float64), max_change)
    fitted = int(np.unique(q[near][inliers]).size)
    if fitted < score * (1 + REFIT_GAIN):
        return None
    return slope, offset, fitted


def _fit_line(q: np.ndarray, r: np.ndarray, max_change: float) -> tuple[float, float, np.ndarray]:
    """The line ``r = slope * q + offset`` (frames) most hits agree with, ``|slope - 1| <= max_change``:
    a vote over slopes 1 / span apart and offsets pooled ±1 frame, then least squares on the hits
    within 1.5 frames. Returns (slope, offset, inlier mask)."""
    span = max(1.0, float(q.max() - q.min()))
    slopes = 1.0 + np.arange(-max_change, max_change + 0.5 / span, 1.0 / span)
    stride = -(-q.size // FIT_VOTE_HITS)  # the vote needs a sample of the hits, the fit takes them all
    off = np.rint(r[None, ::stride] - slopes[:, None] * q[None, ::stride]).astype(np.int64)
    base = int(off.min()) - 1
    width = int(off.max()) - base + 2
    keys = (np.arange(slopes.size)[:, None] * width + (off - base)).ravel()
    counts = np.bincount(keys, minlength=slopes.size * width).reshape(slopes.size, width)
    pooled = counts.copy()
    pooled[:, 1:] += counts[:, :-1]
    pooled[:, :-1] += counts[:, 1:]
    s_idx, o_idx = np.unravel_index(int(np.argmax(pooled)), pooled.shape)
    slope, offset = float(slopes[s_idx]), float(o_idx + base)
    inliers = np.abs(r - (slope * q + offset)) <= 1.5
    if int(np.unique(q[inliers]).size) >= 3 and np.ptp(q[inliers]) > 0:
        slope, offset = np.polyfit(q[inliers], r[inliers], 1)
        refit = np.abs(r - (slope * q + offset)) <= 1.5
        if refit.sum() >= inliers.sum():
            inliers = refit
    return float(slope), float(offset), inliers


