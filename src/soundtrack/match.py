"""Vote on alignments: which recordings agree with a query, and at what offset.

Every query landmark whose hash is in the index votes for ``(recording, ref_frame - query_frame)``.
A true match piles its votes on one offset; chance hits scatter. Votes one frame apart are pooled
(a peak can move by a frame between the original and a degraded copy). A candidate's score is the
number of distinct query anchor frames that agree, so a single loud moment cannot outvote a
consistent match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fingerprint import Landmarks
from .index.store import Snapshot

#: Fewest agreeing anchor frames for a match to be reported. With 32-bit triplet hashes, chance
#: alignments of unrelated music score 0-3 (see the false-positive rows of the benchmark).
MIN_SCORE = 5
#: Offsets within this many frames (±16 ms) are pooled into one candidate.
OFFSET_TOLERANCE = 1
#: How many of the most-voted alignments are examined in detail.
CANDIDATES = 40


@dataclass(frozen=True)
class Alignment:
    """A recording agreeing with the query at one offset, in frames (the caller converts to s)."""

    recording_id: int
    offset_frames: int  # ref_frame - query_frame
    score: int  # distinct query anchor frames that agree
    votes: int  # landmarks that agree
    query_first_frame: int
    query_last_frame: int


def align(query: Landmarks, snapshot: Snapshot, *, min_score: int = MIN_SCORE, max_results: int = 5) -> list[Alignment]:
    """Best alignments of ``query`` against the index, strongest first, one per recording."""
    if len(query) == 0:
        return []
    qi, rec_id, ref_frame = snapshot.lookup(query.hash)
    if qi.size == 0:
        return []
    q_frame = query.frame[qi].astype(np.int64)
    offset = ref_frame - q_frame
    return best_alignments(rec_id, offset, q_frame, min_score=min_score, max_results=max_results)


def best_alignments(
    rec_id: np.ndarray, offset: np.ndarray, q_frame: np.ndarray, *, min_score: int, max_results: int
) -> list[Alignment]:
    """Pool votes ``(rec_id, offset)`` and score the strongest by distinct query frames."""
    span = int(offset.max() - offset.min()) + 3
    base = int(offset.min()) - 1
    key = rec_id * span + (offset - base)
    keys, counts = np.unique(key, return_counts=True)
    # pool each bin with its neighbours one frame either side (same recording: keys are contiguous)
    pooled = counts.copy()
    for shift in (1, -1):
        idx = np.searchsorted(keys, keys + shift)
        idx_c = np.minimum(idx, keys.size - 1)
        found = (idx < keys.size) & (keys[idx_c] == keys + shift)
        pooled[found] += counts[idx_c[found]]
    top = np.argsort(pooled)[::-1][:CANDIDATES]
    results: dict[int, Alignment] = {}
    for k in top:
        if pooled[k] < min_score:
            break
        center = keys[k]
        near = np.abs(key - center) <= OFFSET_TOLERANCE
        frames = q_frame[near]
        score = int(np.unique(frames).size)
        rid = int(center // span)
        if score < min_score or (rid in results and results[rid].score >= score):
            continue
        results[rid] = Alignment(
            recording_id=rid,
            offset_frames=int(center % span) + base,
            score=score,
            votes=int(near.sum()),
            query_first_frame=int(frames.min()),
            query_last_frame=int(frames.max()),
        )
    return sorted(results.values(), key=lambda a: -a.score)[:max_results]
