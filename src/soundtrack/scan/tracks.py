"""Voting over sliding windows of hits: tracks of one recording at one alignment.

Hits are voted on in windows :data:`WINDOW_S` long, every :data:`HOP_S`, with the acceptance
threshold of a query that drew as many hits (:func:`soundtrack.match.acceptance_threshold`, at
least :data:`WINDOW_MIN_SCORE`); every alignment above it counts, so two songs at once both come
out. An alignment opens a *track* (source, offset), which first takes the agreeing hits of the
last :data:`BACKFILL_S` (a quiet song is often recognised some seconds after it starts), then the
agreeing hits of every later window, whether or not that window alone would pass the threshold.
A hit agrees when it has the track's source and an offset within :data:`OFFSET_SLACK` frames; at a
known alignment a chance hit is very unlikely, so one is evidence. A track with no agreeing hit
for :data:`GAP_S` is closed, and kept when :func:`confirmed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..match import acceptance_threshold, best_alignments
from ..params import FingerprintParams
from .hits import HitLog, Hits
from .listen import Loudness
from .stream import Warp, recording_of, warp_of

#: Length of a voting window (seconds) and hop between windows (seconds).
WINDOW_S = 6.0
HOP_S = 2.0
#: Fewest agreeing anchor frames for a window alignment to open a track (cues are confirmed later).
WINDOW_MIN_SCORE = 5
#: A window supports a track when this many of its anchor frames agree with the track and one of
#: them at least is in its newest :data:`HOP_S` (or the window opens the track): the windows
#: overlap, and one burst of landmarks seen by three of them is still one moment.
WINDOW_MIN_AGREE = 2
#: Most alignments taken per window (several songs can sound at once).
WINDOW_MAX_RESULTS = 8
#: Hits within this many frames (±32 ms) of a track's offset agree with it.
OFFSET_SLACK = 2
#: A new track takes the agreeing hits of this many seconds before its first window.
BACKFILL_S = 20.0
#: A track with no agreeing hit for this long (seconds) is closed. Music heard again at the same
#: alignment after a shorter silence never stopped: it was drowned (by the other song of a mashup,
#: a loud scene), so its two stretches are one cue.
GAP_S = 20.0
#: A track is a cue if it has at least this many supporting windows and :data:`CUE_MIN_SCORE`
#: agreeing anchor frames, or a single window with :data:`CUE_STRONG_SCORE` agreeing frames.
CUE_MIN_WINDOWS = 2
CUE_MIN_SCORE = 12
CUE_STRONG_SCORE = 16
#: A closed track short of that, with at least this many agreeing frames, is a candidate: the
#: scanner listens to its recording there and confirms it when the recording is clearly heard
#: (:mod:`soundtrack.scan.listen`). One burst of frames counts as well as several windows: a song
#: whose landmarks a phone's room and codec leave only at its loudest moment is still there, and
#: listening, not the number of windows, tells it from a chance burst.
CANDIDATE_MIN_SCORE = 8


@dataclass
class Track:
    """Agreeing hits of one source (recording and warp) at one offset (frames of the timeline
    where the recording plays at its own speed)."""

    source: int
    offset: int
    windows: int = 0  # supporting windows (see WINDOW_MIN_AGREE)
    best_score: int = 0  # most agreeing anchor frames in one window
    last_frame: int = -1  # latest agreeing anchor frame
    parts: list[Hits] = field(default_factory=list)
    is_confirmed: bool = False  # see :func:`confirmed`; once true, stays true
    #: Confirmed on faint evidence (:meth:`soundtrack.scan.scanner.Scanner._verify`): it ranks below
    #: every other track where one of two is dropped (:attr:`soundtrack.scan.cues.Span.strength`).
    faint: bool = False
    #: Edges found by listening to the recording (:mod:`soundtrack.scan.listen`), episode frames,
    #: and how loud it is against the rest of the episode, measured the same way.
    start_frame: int | None = None
    end_frame: int | None = None
    loudness: Loudness | None = None

    def add(self, hits: Hits) -> None:
        """Add agreeing hits."""
        if len(hits):
            self.parts.append(hits)
            self.last_frame = max(self.last_frame, int(hits.frame.max()))

    def note_window(self, score: int, fresh: int | None = None) -> None:
        """Count a window in which ``score`` anchor frames agree, ``fresh`` of them in the part no
        earlier window of this track saw (see :data:`WINDOW_MIN_AGREE`; None: all of them, the
        window that opens the track)."""
        self.windows += score >= WINDOW_MIN_AGREE and (fresh is None or fresh > 0)
        self.best_score = max(self.best_score, score)

    @property
    def hits(self) -> Hits:
        """Every agreeing hit so far."""
        if len(self.parts) > 1:
            self.parts = [Hits.concat(self.parts)]
        return self.parts[0] if self.parts else Hits.empty()

    @property
    def balance_db(self) -> float | None:
        """The music-to-rest balance (dB) where listening heard the recording, else None."""
        return None if self.loudness is None else self.loudness.balance_db

    @property
    def recording_id(self) -> int:
        return int(recording_of(self.source))

    @property
    def warp(self) -> Warp:
        return warp_of(self.source)

    @property
    def speed(self) -> float:
        """Recording seconds per episode second."""
        return self.warp.speed

    def same(self, source: int, offset: int) -> bool:
        """Whether an alignment ``(source, offset)`` is this track's."""
        return self.source == source and abs(self.offset - offset) <= OFFSET_SLACK


def confirmed(track: Track) -> bool:
    """Several consistent windows, or one strong one: not a chance alignment."""
    if not track.is_confirmed:
        score = track.hits.distinct_frames()
        track.is_confirmed = ((track.windows >= CUE_MIN_WINDOWS and score >= CUE_MIN_SCORE)
                              or track.best_score >= CUE_STRONG_SCORE)
    return track.is_confirmed


@dataclass
class Changes:
    """What a vote changed: tracks confirmed for the first time, confirmed tracks closed, and
    closed tracks that are candidates (see :data:`CANDIDATE_MIN_SCORE`)."""

    confirmed: list[Track] = field(default_factory=list)
    closed: list[Track] = field(default_factory=list)
    candidates: list[Track] = field(default_factory=list)


class Tracker:
    """Vote on the windows of a :class:`HitLog` in order; collect the confirmed tracks."""

    def __init__(self, params: FingerprintParams) -> None:
        self.window = round(params.seconds_to_frames(WINDOW_S))
        self.hop = round(params.seconds_to_frames(HOP_S))
        self.gap = round(params.seconds_to_frames(GAP_S))
        self.backfill = round(params.seconds_to_frames(BACKFILL_S))
        self.open: list[Track] = []
        self.done: list[Track] = []
        self.next_start = 0  # first frame of the next window
        self._added_until = 0  # open tracks hold their agreeing hits of frames before this

    @property
    def keep_from(self) -> int:
        """Hits anchored before this frame are no longer needed."""
        return self.next_start - self.backfill

    def vote(self, log: HitLog) -> Changes:
        """Vote on the window starting at :attr:`next_start`, then move on by a hop."""
        start, end = self.next_start, self.next_start + self.window
        win = log.between(start, end)
        changes = Changes()
        if len(win):
            self._extend(win, start, end)
            self._open_new(win, log, start, end)
            changes.confirmed = [t for t in self.open if not t.is_confirmed and confirmed(t)]
        self._added_until = end
        self.next_start += self.hop
        changes.closed, changes.candidates = self._close_stale()
        return changes

    def finish(self) -> tuple[list[Track], list[Track]]:
        """Close every track; return the confirmed ones that were still open, and the candidates."""
        closed, candidates = self._close(self.open)
        self.open = []
        return closed, candidates

    def accept(self, track: Track) -> None:
        """Confirm a candidate (its recording was heard): it joins the confirmed tracks."""
        track.is_confirmed = True
        self.done.append(track)

    def _extend(self, win: Hits, start: int, end: int) -> None:
        if not self.open:
            return
        sources = np.array(sorted({t.source for t in self.open}), dtype=np.int64)
        mine = win.select(np.isin(win.source, sources))
        for t in self.open:
            agree = mine.agreeing(t.source, t.offset, OFFSET_SLACK)
            fresh = agree.between(self._added_until, end)
            t.note_window(agree.distinct_frames(), fresh.distinct_frames())
            t.add(fresh)

    def _open_new(self, win: Hits, log: HitLog, start: int, end: int) -> None:
        # chance alignments grow with the hits a window draws, as for a query (see match.py)
        threshold = acceptance_threshold(len(win), WINDOW_MIN_SCORE)
        found = best_alignments(win.source, win.offset, win.frame, min_score=threshold,
                                max_results=WINDOW_MAX_RESULTS)
        earlier = None
        for a in found:
            source = a.recording_id  # the hits' recording ids are sources: recording and speed
            if any(t.same(source, a.offset_frames) for t in self.open):
                continue
            track = Track(source, a.offset_frames)
            track.note_window(win.agreeing(source, track.offset, OFFSET_SLACK).distinct_frames())
            if earlier is None:
                earlier = log.between(start - self.backfill, end)
            track.add(earlier.agreeing(source, track.offset, OFFSET_SLACK))
            self.open.append(track)

    def _close_stale(self) -> tuple[list[Track], list[Track]]:
        """Close the tracks with no agreeing hit for :data:`GAP_S`: keep and return the confirmed,
        and return the candidates."""
        stale = [t for t in self.open if self.next_start - t.last_frame > self.gap]
        if not stale:
            return [], []
        self.open = [t for t in self.open if t not in stale]
        return self._close(stale)

    def _close(self, tracks: list[Track]) -> tuple[list[Track], list[Track]]:
        closed = [t for t in tracks if confirmed(t)]
        self.done += closed
        candidates = [t for t in tracks if not t.is_confirmed and t.hits.distinct_frames() >= CANDIDATE_MIN_SCORE]
        return closed, candidates
