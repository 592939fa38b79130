"""Index hits of an episode's landmarks, and a bounded log of the recent ones.

A hit says: the episode landmark ``qid`` (anchor at episode frame ``frame``, last peak at
``last``) has the hash of a landmark of the recording heard at a speed (together: ``source``),
``offset`` frames later in the recording than in the grid's timeline. Along a cue the offset is
constant, so a cue shows up as many hits of one (source, offset).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EMPTY = np.zeros(0, np.int64)


@dataclass(frozen=True)
class Hits:
    """Hits as parallel int64 arrays (see the module docstring). Frames are STFT frames of the
    episode (16 ms with the default parameters)."""

    source: np.ndarray
    offset: np.ndarray
    frame: np.ndarray
    last: np.ndarray
    qid: np.ndarray

    def __len__(self) -> int:
        return int(self.frame.size)

    @staticmethod
    def empty() -> Hits:
        return Hits(_EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY)

    @staticmethod
    def concat(parts: list[Hits]) -> Hits:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Hits.empty()
        if len(parts) == 1:
            return parts[0]
        return Hits(*(np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS))

    def select(self, mask: np.ndarray | slice) -> Hits:
        """The hits where boolean ``mask`` holds (or at an index array or slice)."""
        return Hits(self.source[mask], self.offset[mask], self.frame[mask], self.last[mask], self.qid[mask])

    def between(self, first: int, end: int) -> Hits:
        """The hits with anchors at episode frames ``first <= frame < end``."""
        return self.select((self.frame >= first) & (self.frame < end))

    def agreeing(self, source: int, offset: int, slack: int) -> Hits:
        """The hits of ``source`` within ``slack`` frames of ``offset``."""
        return self.select((self.source == source) & (np.abs(self.offset - offset) <= slack))

    def distinct_frames(self) -> int:
        """Number of distinct anchor frames (the score of a set of agreeing hits)."""
        return int(np.unique(self.frame).size)


_FIELDS = ("source", "offset", "frame", "last", "qid")


class HitLog:
    """The hits of the last stretch of the episode: added as lookups finish, read by window,
    forgotten once no window or back-fill needs them. Memory is bounded by the stretch kept.
    Kept sorted by frame, so a window is two binary searches away."""

    def __init__(self) -> None:
        self._parts: list[Hits] = []
        self._all: Hits = Hits.empty()

    def add(self, hits: Hits) -> None:
        if len(hits):
            self._parts.append(hits)

    def between(self, first: int, end: int) -> Hits:
        """The hits with anchors at episode frames ``first <= frame < end``."""
        merged = self._merged()
        lo, hi = np.searchsorted(merged.frame, [first, end])
        return merged.select(slice(lo, hi))

    def forget_before(self, frame: int) -> None:
        """Drop the hits anchored before episode frame ``frame``."""
        merged = self._merged()
        self._all = merged.select(slice(np.searchsorted(merged.frame, frame), None))

    def _merged(self) -> Hits:
        if self._parts:
            merged = Hits.concat([self._all, *self._parts])
            self._all, self._parts = merged.select(np.argsort(merged.frame, kind="stable")), []
        return self._all
