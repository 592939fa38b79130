"""Vote on alignments: which recordings agree with a query, and at what offset.

Every query landmark whose hash is in the index votes for ``(recording, ref_frame - query_frame)``.
A true match piles its votes on one offset; chance hits scatter. Votes one frame apart are pooled
(a peak can move by a frame between the original and a degraded copy). A candidate's score is the
number of distinct query anchor frames that agree, so a single loud moment cannot outvote a
consistent match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .fingerprint import Landmarks
from .index.store import Snapshot

#: Fewest agreeing anchor frames for a match to be reported, whatever the query.
MIN_SCORE = 5
#: The best chance alignment of unrelated music grows with the number of index hits a query draws
#: (a dense or long query, a large library): on the benchmark its 99th percentile went from 4 at
#: under 2,000 hits to 9 at 10,000-20,000. The acceptance threshold therefore grows with the log of
#: the hits: ``CHANCE_BASE + CHANCE_PER_DOUBLING * log2(hits / 1000)``, and never below MIN_SCORE.
CHANCE_BASE = 4.5
CHANCE_PER_DOUBLING = 1.25
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
    threshold: int  # the score this query needed (see :func:`acceptance_threshold`)
    votes: int  # landmarks that agree
    query_first_frame: int
    query_last_frame: int


def acceptance_threshold(hits: int, min_score: int = MIN_SCORE) -> int:
    """The score a query that drew ``hits`` index hits needs for a match (see :data:`CHANCE_BASE`)."""
    chance = CHANCE_BASE + CHANCE_PER_DOUBLING * math.log2(max(hits, 1000) / 1000)
    return max(min_score, math.ceil(chance))


@dataclass(frozen=True)
class Hits:
    """Index hits of a query's landmarks: per hit, the query's anchor frame, and the recording and
    anchor frame of the stored landmark with the same hash."""

    q_frame: np.ndarray  # int64
    rec_id: np.ndarray  # int64
    ref_frame: np.ndarray  # int64

    @staticmethod
    def of(query: Landmarks, snapshot: Snapshot) -> Hits:
        """Look ``query`` up in the index."""
        if len(query) == 0:
            empty = np.zeros(0, np.int64)
            return Hits(empty, empty, empty)
        qi, rec_id, ref_frame = snapshot.lookup(query.hash)
        return Hits(query.frame[qi].astype(np.int64), rec_id, ref_frame)

    def of_recording(self, recording_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(query frames, recording frames) of the hits in one recording."""
        mine = self.rec_id == recording_id
        return self.q_frame[mine], self.ref_frame[mine]


def align(query: Landmarks, snapshot: Snapshot, *, min_score: int = MIN_SCORE, max_results: int = 5) -> list[Alignment]:
    """Best alignments of ``query`` against the index, strongest first, one per recording.

    A match needs :func:`acceptance_threshold` of the query's hits, at least ``min_score``.
    """
    return align_hits(Hits.of(query, snapshot), min_score=min_score, max_results=max_results)


def align_hits(hits: Hits, *, min_score: int = MIN_SCORE, max_results: int = 5) -> list[Alignment]:
    """:func:`align` on hits already looked up."""
    if hits.q_frame.size == 0:
        return []
    threshold = acceptance_threshold(int(hits.q_frame.size), min_score)
    return best_alignments(hits.rec_id, hits.ref_frame - hits.q_frame, hits.q_frame, min_score=threshold,
                           max_results=max_results)


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
    n_top = min(CANDIDATES, pooled.size)  # the strongest bins, strongest first
    top = np.argpartition(-pooled, n_top - 1)[:n_top]
    top = top[np.argsort(-pooled[top], kind="stable")]
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
            threshold=min_score,
            votes=int(near.sum()),
            query_first_frame=int(frames.min()),
            query_last_frame=int(frames.max()),
        )
    return sorted(results.values(), key=lambda a: -a.score)[:max_results]
