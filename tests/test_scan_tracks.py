"""Voting on windows of hits (:mod:`soundtrack.scan.tracks`) without audio: a cue needs evidence
from separate moments, or one strong window; one short burst of landmarks seen by several
overlapping windows is still one moment, which the scanner listens to before it believes it."""

from __future__ import annotations

import numpy as np

from soundtrack.params import FingerprintParams
from soundtrack.scan.hits import HitLog, Hits
from soundtrack.scan.stream import WARPS, Warp, source_of
from soundtrack.scan.tracks import CANDIDATE_MIN_SCORE, CUE_STRONG_SCORE, Tracker

P = FingerprintParams()
SOURCE = source_of(4, WARPS.index(Warp(1.0, 1.0)))
OFFSET = 1234  # frames


def _burst(at_s: float, frames: int, every: int = 2) -> Hits:
    """``frames`` agreeing hits, one per anchor frame, ``every`` frames apart from ``at_s`` seconds."""
    f = round(P.seconds_to_frames(at_s)) + every * np.arange(frames, dtype=np.int64)
    return Hits(source=np.full(f.size, SOURCE), offset=np.full(f.size, OFFSET), frame=f, last=f + 8,
                qid=np.arange(f.size, dtype=np.int64) + int(at_s) * 1000)


def _vote(*bursts: Hits, until_s: float = 60.0) -> tuple[int, int, int]:
    """Vote over ``until_s`` seconds of the bursts' hits: (confirmed tracks, candidates, windows
    of the one track)."""
    log, tracker = HitLog(), Tracker(P)
    for b in bursts:
        log.add(b)
    candidates, windows = [], 0
    while tracker.next_start < P.seconds_to_frames(until_s):
        candidates += tracker.vote(log).candidates
        windows = max([windows] + [t.windows for t in tracker.open])
    candidates += tracker.finish()[1]
    return len(tracker.done), len(candidates), windows


def test_one_short_burst_is_one_moment_however_many_windows_see_it() -> None:
    # 15 agreeing frames within 0.5 s: each of the three 6 s windows over it sees all 15
    confirmed, candidates, windows = _vote(_burst(24.1, 15))
    assert (confirmed, candidates, windows) == (0, 1, 1)  # not a cue, but listened to


def test_a_burst_too_small_for_a_candidate_is_dropped() -> None:
    confirmed, candidates, _ = _vote(_burst(24.1, CANDIDATE_MIN_SCORE - 1))
    assert (confirmed, candidates) == (0, 0)


def test_two_moments_seconds_apart_are_a_cue() -> None:
    confirmed, _, windows = _vote(_burst(24.1, 7), _burst(28.3, 7))
    assert confirmed == 1 and windows == 2


def test_one_strong_window_is_a_cue() -> None:
    confirmed, _, windows = _vote(_burst(24.1, CUE_STRONG_SCORE))
    assert confirmed == 1 and windows == 1
