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

    def select(self, mask: np.ndarray) -> Hits:
        """The hits where boolean ``mask`` (or an index array) holds."""
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
    forgotten once no window or back-fill needs them. Memory is bounded by the stretch kept."""

    def __init__(self) -> None:
        self._parts: list[Hits] = []
        self._all: Hits | None = Hits.empty()

    def add(self, hits: Hits) -> None:
        if len(hits):
            self._parts.append(hits)
            self._all = None

    def between(self, first: int, end: int) -> Hits:
        """The hits with anchors at episode frames ``first <= frame < end``."""
        return self._merged().between(first, end)

    def forget_before(self, frame: int) -> None:
        """Drop the hits anchored before episode frame ``frame``."""
        kept = self._merged()
        kept = kept.select(kept.frame >= frame)
        self._parts, self._all = [kept], kept

    def _merged(self) -> Hits:
        if self._all is None:
            self._all = Hits.concat(self._parts)
            self._parts = [self._all]
        return self._all
