"""Scan a long recording (a TV episode, a film) for every song of the library it contains.

The episode is decoded and fingerprinted as a stream, so memory does not grow with its length:

1. Each decoded block is fingerprinted on two STFT grids half a frame apart (a song mixed in at an
   arbitrary time loses landmarks on a grid that does not line up with its own) and the landmarks
   are looked up in the index once; only the hits are kept, as
   ``(recording, offset = ref_frame - episode_frame, episode_frame)``.
2. Hits are voted on in sliding windows (:data:`WINDOW_S` long, every :data:`HOP_S`) with a low
   per-window threshold, so quiet background music and short stings still show up; every
   alignment above it counts, so two songs at once (a mashup) both come out. Only the hits of
   the current window are held in memory.
3. An alignment opens a *track* (recording, offset); every later window adds the hits agreeing
   with the track's offset (±:data:`OFFSET_SLACK` frames), whether or not the window alone would
   pass the threshold. A track with no agreeing hit for :data:`GAP_S` is closed, and kept as a
   cue when several windows agree or one agrees strongly (:func:`_confirmed`).
4. Cue boundaries come from the agreeing hits themselves, not from window edges: the cue starts at
   the first agreeing anchor and ends at the last peak of the latest agreeing triplet, after stray
   chance hits at either end are trimmed. Cues of one recording that overlap are repeats of its
   own material (loops, choruses): the strongest is kept.
5. Flags come from the recording's duration; foreground/background from the dips of the
   episode's level during the cue (:data:`FOREGROUND_MAX_DIP_DB`).

Speed: a third grid hears the episode slowed down by 25/24, undoing the PAL speed-up (which raises
tempo and pitch alike); its hits form tracks of their own, and their cues report ``speed`` 1.0417.
Other speeds (and tempo changes that keep the pitch) are not searched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .audio import StreamResampler, stream_audio
from .export import Cue, Soundtrack
from .fingerprint import Fingerprinter, Landmarks
from .fingerprint.hashes import last_peak_offset
from .index.store import IndexStore, Snapshot
from .match import acceptance_threshold, best_alignments
from .models import Recording
from .params import FingerprintParams

#: Playback speeds searched for: normal, and the PAL speed-up of 24 fps film shown at 25 fps
#: (tempo and pitch 4.17 % up). A cue's ``speed`` is the one its landmarks matched at.
SPEEDS = (1.0, 25 / 24)
#: The episode is fingerprinted on these grids: (shift of the STFT frames in hops, speed). A song
#: mixed in at an arbitrary time lies between two frames of one grid; two grids half a hop apart
#: keep one within a quarter frame of the song's own grid (see :class:`_Grid`).
GRIDS = ((0.0, 1.0), (0.5, 1.0), (0.0, 25 / 24))
#: Length of a voting window (seconds) and hop between windows (seconds).
WINDOW_S = 6.0
HOP_S = 2.0
#: Fewest agreeing anchor frames for a window alignment to be kept (low: cues are confirmed later).
WINDOW_MIN_SCORE = 5
#: A window supports an open track when this many of its anchor frames agree with the track.
WINDOW_MIN_AGREE = 2
#: Most alignments kept per window (several songs can sound at once).
WINDOW_MAX_RESULTS = 8
#: Window alignments within this many frames (±32 ms) of a track's offset extend the track.
OFFSET_SLACK = 2
#: A track with no agreeing window for this long (seconds) is closed.
GAP_S = 4.0
#: A track is a cue if it has at least this many windows and :data:`CUE_MIN_SCORE` agreeing frames,
#: or a single window with :data:`CUE_STRONG_SCORE` agreeing frames.
CUE_MIN_WINDOWS = 2
CUE_MIN_SCORE = 12
CUE_STRONG_SCORE = 16
#: Hits at a cue's edges further than this (seconds) from the next agreeing hit are chance hits.
EDGE_GAP_S = 1.5
#: Cues of one recording overlapping by more than this (s) are repeats of its own material: only
#: the strongest is kept.
REPEAT_OVERLAP_S = 1.0
#: Flags: a cue ending this far (s) before its recording's end is ``interrupted``; one starting this
#: far (s) into its recording is ``partial_start``.
INTERRUPTED_S = 10.0
PARTIAL_START_S = 5.0
#: The RMS level envelope is kept at this resolution (seconds per value).
ENVELOPE_S = 0.25
#: A cue is foreground music when the episode level dips less than this (dB) below its median
#: during the cue (:func:`_level_dip_db`). A rough heuristic: on the synthetic test episode songs
#: over dialogue dip 3-6 dB, a song 15 dB under dialogue 14 dB. A loud score or effects track
#: under a background song makes it look foreground.
FOREGROUND_MAX_DIP_DB = 10.0

#: Called after each decoded block with (episode seconds done, × real time so far).
ScanProgress = Callable[[float, float], None]


@dataclass
class _Hits:
    """Index hits of episode landmarks: recording id, offset (frames) and episode frame, in step."""

    rec: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    frame: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # frame of the 3rd peak

    def extend(self, other: _Hits) -> None:
        self.rec = np.concatenate([self.rec, other.rec])
        self.offset = np.concatenate([self.offset, other.offset])
        self.frame = np.concatenate([self.frame, other.frame])
        self.last = np.concatenate([self.last, other.last])

    def select(self, mask: np.ndarray) -> _Hits:
        return _Hits(self.rec[mask], self.offset[mask], self.frame[mask], self.last[mask])

    def drop_before(self, frame: int) -> None:
        """Forget hits at episode frames before ``frame``."""
        kept = self.select(self.frame >= frame)
        self.rec, self.offset, self.frame, self.last = kept.rec, kept.offset, kept.frame, kept.last


@dataclass
class _Track:
    """Consecutive window alignments of one recording, at one speed, at one offset (frames of the
    timeline where the recording plays at its own speed)."""

    source: int  # see :func:`_source`
    offset: int
    windows: int = 0  # windows with at least :data:`WINDOW_MIN_AGREE` agreeing anchor frames
    best_score: int = 0  # most agreeing anchor frames in one window
    frames: dict[int, int] = field(default_factory=dict)  # agreeing anchor frame -> its latest 3rd-peak frame

    def add(self, hits: _Hits) -> None:
        """Add the agreeing ``hits`` of one window."""
        score = np.unique(hits.frame).size
        self.windows += score >= WINDOW_MIN_AGREE
        self.best_score = max(self.best_score, score)
        for f, last in zip(hits.frame.tolist(), hits.last.tolist(), strict=True):
            self.frames[f] = max(last, self.frames.get(f, last))

    @property
    def recording_id(self) -> int:
        return self.source // len(SPEEDS)

    @property
    def speed(self) -> float:
        return SPEEDS[self.source % len(SPEEDS)]

    @property
    def last_frame(self) -> int:
        return max(self.frames) if self.frames else 0


@dataclass
class _Envelope:
    """The episode's RMS level (linear, full scale = 1) every :data:`ENVELOPE_S` seconds."""

    step: int  # samples per value
    rms: list[float] = field(default_factory=list)
    _tail: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def push(self, y: np.ndarray) -> None:
        y = np.concatenate([self._tail, y])
        n = y.size // self.step
        if n:
            blocks = y[: n * self.step].reshape(n, self.step).astype(np.float64)
            self.rms.extend(np.sqrt(np.mean(blocks**2, axis=1)).tolist())
        self._tail = y[n * self.step :]

    def flush(self) -> None:
        if self._tail.size:
            self.rms.append(float(np.sqrt(np.mean(self._tail.astype(np.float64) ** 2))))
            self._tail = np.zeros(0, np.float32)


class _Grid:
    """A streaming fingerprinter of the episode on one STFT grid: frames start ``shift`` samples
    late, and the audio is first slowed down by ``speed`` (so music that was sped up by ``speed``,
    pitch and all, is heard at its own tempo and pitch again). ``source`` numbers the speed in
    :data:`SPEEDS`."""

    def __init__(self, params: FingerprintParams, shift: int, speed: float) -> None:
        # the query fan-out (10). On the scan benchmark the index's fan-out (3) gave F1 0.88 vs 0.86
        # at 166x vs 54x real time, but found quiet songs' starts seconds late (tests/test_scan.py):
        # a fast first pass plus a dense pass at cue edges is the way to both.
        self.fp = Fingerprinter(params, fan_out=params.query_fan_out, expand=True)
        self.shift = shift
        self.speed = speed
        self.source = SPEEDS.index(speed)
        self.max_dt = params.max_dt
        self.pending: list[Landmarks] = []
        ratio = Fraction(speed).limit_denominator(1000)
        self.stretch = None if speed == 1.0 else StreamResampler(ratio.denominator, ratio.numerator)
        if shift:
            self.fp.push(np.zeros(shift, np.float32))

    def push(self, y: np.ndarray) -> None:
        self.pending.append(self.fp.push(y if self.stretch is None else self.stretch.push(y)))

    def flush(self) -> None:
        if self.stretch is not None:
            self.pending.append(self.fp.push(self.stretch.flush()))
        self.pending.append(self.fp.flush())

    def take(self) -> Landmarks:
        """The landmarks made final since the last call (frames of this grid's timeline)."""
        marks, self.pending = Landmarks.concat(self.pending), []
        return marks

    def to_episode(self, frames: np.ndarray) -> np.ndarray:
        """Episode frames (int64) of frames of this grid's timeline."""
        f = frames.astype(np.float64) - self.shift / self.fp.params.hop
        return np.round(f / self.speed).astype(np.int64)

    @property
    def ready(self) -> int:
        """Episode frames before this one have all their landmarks."""
        return int((self.fp.peaks.done - self.max_dt) / self.speed)


class Scanner:
    """Scan one episode against an index snapshot (see the module docstring for the method)."""

    def __init__(self, store: IndexStore, params: FingerprintParams, *, min_score: int) -> None:
        self.store = store
        self.params = params
        self.min_score = min_score
        self.window = round(params.seconds_to_frames(WINDOW_S))
        self.hop = round(params.seconds_to_frames(HOP_S))
        self.gap = round(params.seconds_to_frames(GAP_S))

    def scan(self, path: str | Path, progress: ScanProgress | None = None) -> Soundtrack:
        """Decode ``path`` and return its :class:`Soundtrack`. Raises :class:`AudioError`."""
        snapshot = self.store.snapshot()
        p = self.params
        grids = [_Grid(p, round(shift * p.hop), speed) for shift, speed in GRIDS]
        envelope = _Envelope(step=round(ENVELOPE_S * p.sample_rate))
        hits, open_tracks, closed = _Hits(), [], []
        next_window = 0  # start frame of the next window to evaluate
        started = time.perf_counter()
        for final in self._decode(path, grids, envelope):
            for grid in grids:
                self._add_hits(grid, snapshot, hits)
            done = grids[0].fp.n_samples / p.sample_rate
            # landmarks before `limit` are final; the last windows may run past the end
            limit = p.seconds_to_frames(done) if final else min(g.ready for g in grids) - self.window
            while next_window <= limit:
                self._vote(hits, next_window, open_tracks)
                closed += [t for t in self._close_stale(open_tracks, next_window) if _confirmed(t)]
                next_window += self.hop
                hits.drop_before(next_window)
            if progress is not None:
                progress(done, done / max(1e-9, time.perf_counter() - started))
        closed += open_tracks
        cues = self._cues(closed, envelope)
        return Soundtrack(path=str(path), duration_s=done, cues=cues, envelope_s=ENVELOPE_S, rms=envelope.rms)

    def _decode(self, path: str | Path, grids: list[_Grid], envelope: _Envelope) -> Iterator[bool]:
        """Push each decoded block to the grids; yield ``False`` per block, ``True`` after the flush."""
        for y in stream_audio(path, self.params.sample_rate):
            envelope.push(y)
            for grid in grids:
                grid.push(y)
            yield False
        envelope.flush()
        for grid in grids:
            grid.flush()
        yield True

    def _add_hits(self, grid: _Grid, snapshot: Snapshot, hits: _Hits) -> None:
        """Look up the grid's new landmarks; keep the hits, in episode frames. A hit's ``offset``
        is in the grid's timeline, where the music plays at its own speed, so it is constant along
        a cue; its ``rec`` is the :func:`_source` of recording and speed."""
        marks = grid.take()
        if len(marks) == 0:
            return
        qi, rec_id, ref_frame = snapshot.lookup(marks.hash)
        g_frame = marks.frame[qi].astype(np.int64)
        dt = last_peak_offset(marks.hash[qi], self.params)  # frames from anchor to the last peak
        hits.extend(_Hits(_source(rec_id.astype(np.int64), grid.source), ref_frame.astype(np.int64) - g_frame,
                          grid.to_episode(g_frame), grid.to_episode(g_frame + dt)))

    def _vote(self, hits: _Hits, start: int, tracks: list[_Track]) -> None:
        """Align the hits of the window starting at frame ``start``: extend open tracks with the
        hits agreeing with them, and open tracks for new alignments."""
        win = hits.select((hits.frame >= start) & (hits.frame < start + self.window))
        if win.frame.size == 0:
            return
        # chance alignments grow with the hits a window draws, as for a query (see match.py)
        threshold = acceptance_threshold(int(win.frame.size), WINDOW_MIN_SCORE)
        for a in best_alignments(win.rec, win.offset, win.frame, min_score=threshold,
                                 max_results=WINDOW_MAX_RESULTS):
            source = a.recording_id  # the hits' `rec` are sources: recording and speed
            if not any(_same(t, source, a.offset_frames) for t in tracks):
                tracks.append(_Track(source, a.offset_frames))
        for t in tracks:
            agree = (win.rec == t.source) & (np.abs(win.offset - t.offset) <= OFFSET_SLACK)
            if agree.any():
                t.add(win.select(agree))

    def _close_stale(self, tracks: list[_Track], window_start: int) -> list[_Track]:
        """Remove and return the tracks with no agreeing hit for :data:`GAP_S`."""
        stale = [t for t in tracks if window_start - t.last_frame > self.gap]
        tracks[:] = [t for t in tracks if t not in stale]
        return stale

    def _cues(self, tracks: list[_Track], envelope: _Envelope) -> list[Cue]:
        """Confirmed tracks as numbered cues in episode order, with flags and overlaps."""
        max_gap = self.params.seconds_to_frames(EDGE_GAP_S)
        spans = [(t, _trim(np.array(sorted(t.frames)), max_gap)) for t in tracks if _confirmed(t)]
        spans = _drop_repeats([(t, f) for t, f in spans if f.size >= self.min_score],
                              round(self.params.seconds_to_frames(REPEAT_OVERLAP_S)))
        spans.sort(key=lambda tf: int(tf[1][0]))
        cues = [self._cue(i + 1, t, f, envelope) for i, (t, f) in enumerate(spans)]
        return _with_overlaps(cues)

    def _cue(self, number: int, track: _Track, frames: np.ndarray, envelope: _Envelope) -> Cue:
        """A cue from a track's agreeing anchor ``frames`` (sorted, trimmed): it starts at the first
        anchor and ends at the last peak of the latest agreeing triplet."""
        p = self.params
        rec: Recording = self.store.recording(track.recording_id)
        first = int(frames[0])
        last = max(track.frames[int(f)] for f in frames[-20:])
        start_s, end_s = p.frames_to_seconds(first), p.frames_to_seconds(last)
        rec_start_s = max(0.0, p.frames_to_seconds(first * track.speed + track.offset))
        rec_end_s = min(rec.duration_s, p.frames_to_seconds(last * track.speed + track.offset))
        score = int(frames.size)
        n_grids = sum(1 for _, speed in GRIDS if speed == track.speed)
        coverage = _survival(score / n_grids / track.speed, rec, end_s - start_s, self.params)
        dip_db = _level_dip_db(envelope.rms, start_s, end_s)
        return Cue(
            number=number, recording=rec,
            episode_start_s=start_s, episode_end_s=end_s,
            recording_start_s=rec_start_s, recording_end_s=rec_end_s,
            speed=track.speed, score=score,
            confidence=1.0 - 2.0 ** (-score / self.min_score),
            interrupted=rec_end_s < rec.duration_s - INTERRUPTED_S,
            partial_start=rec_start_s > PARTIAL_START_S,
            coverage=coverage,
            foreground=dip_db < FOREGROUND_MAX_DIP_DB,
        )


def _source(recording_id: np.ndarray | int, speed_index: int) -> np.ndarray | int:
    """One number for a recording heard at speed ``SPEEDS[speed_index]``."""
    return recording_id * len(SPEEDS) + speed_index


def _same(track: _Track, source: int, offset: int) -> bool:
    return track.source == source and abs(track.offset - offset) <= OFFSET_SLACK


def _confirmed(track: _Track) -> bool:
    """Several consistent windows, or one strong one: not a chance alignment."""
    score = len(track.frames)
    return (track.windows >= CUE_MIN_WINDOWS and score >= CUE_MIN_SCORE) or track.best_score >= CUE_STRONG_SCORE


def _drop_repeats(spans: list[tuple[_Track, np.ndarray]], max_overlap: int) -> list[tuple[_Track, np.ndarray]]:
    """Keep the strongest of cues of one recording that overlap in the episode by more than
    ``max_overlap`` frames: music that repeats itself (loops, choruses) matches the same episode
    audio at several offsets, but a recording cannot be heard twice at once."""
    kept: list[tuple[_Track, np.ndarray]] = []
    for t, f in sorted(spans, key=lambda tf: -tf[1].size):
        clash = any(k.recording_id == t.recording_id and min(f[-1], kf[-1]) - max(f[0], kf[0]) > max_overlap
                    for k, kf in kept)
        if not clash:
            kept.append((t, f))
    return kept


def _trim(frames: np.ndarray, max_gap: float) -> np.ndarray:
    """Drop isolated hits at either end of sorted ``frames``: keep the longest run whose
    consecutive hits are at most ``max_gap`` frames apart."""
    if frames.size < 2:
        return frames
    breaks = np.flatnonzero(np.diff(frames) > max_gap) + 1
    runs = np.split(frames, breaks)
    # keep every run between the first and last "substantial" run (>= 3 hits): a cue may contain
    # short quiet stretches where the music is drowned, but its edges should not be chance hits
    solid = [i for i, r in enumerate(runs) if np.unique(r).size >= 3]
    if not solid:
        return max(runs, key=len)
    return np.concatenate(runs[solid[0] : solid[-1] + 1])


def _survival(n_anchors: float, rec: Recording, seconds: float, params: FingerprintParams) -> float:
    """Agreeing anchor frames per second over the recording's own anchor peaks per second in the
    index: near 1 when the music is heard clean, small when dialogue or effects bury it."""
    per_peak = params.fan_out * (params.fan_out - 1) // 2  # hashes per anchor peak in the index
    indexed_rate = rec.n_hashes / per_peak / max(rec.duration_s, 1e-9)
    return n_anchors / max(seconds, 1e-9) / indexed_rate if indexed_rate else 0.0


def _level_dip_db(rms: list[float], start_s: float, end_s: float) -> float:
    """Median minus 10th-percentile episode level (dB) between ``start_s`` and ``end_s``.

    Foreground music fills the pauses of dialogue at nearly the level of the mix (a dip of a few
    dB); background music lets the level fall deep in every pause (10 dB and more).
    """
    cells = np.asarray(rms[int(start_s / ENVELOPE_S) : int(np.ceil(end_s / ENVELOPE_S))], dtype=np.float64)
    if cells.size == 0:
        return 0.0
    level = 20 * np.log10(np.maximum(cells, 1e-5))
    return float(np.median(level) - np.percentile(level, 10))


def _with_overlaps(cues: list[Cue]) -> list[Cue]:
    """Fill each cue's ``overlaps`` with the numbers of the cues sounding at the same time."""
    for a in cues:
        a.overlaps = [b.number for b in cues if b is not a
                      and min(a.episode_end_s, b.episode_end_s) > max(a.episode_start_s, b.episode_start_s)]
    return cues
