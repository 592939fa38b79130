"""The scanner: decode the episode once, fingerprint it as it streams, vote, and make cues."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..audio import stream_audio
from ..export import Cue, Soundtrack
from ..index.store import IndexStore, Snapshot
from ..models import Recording
from ..params import FingerprintParams
from . import compare
from .cues import Span, explained, span, spans
from .hits import HitLog
from .listen import CLEAR_SIGMAS, Alignment, Listener
from .stream import AudioRing, Envelope, Grid, grids_for, warps_within
from .tracks import CUE_STRONG_SCORE, Track, Tracker, confirmed
from .unmask import second_songs, unmasked_hits, worth_unmasking

#: Flags: a cue ending this far (s) before its recording's end is ``interrupted``; one starting this
#: far (s) into its recording is ``partial_start``.
INTERRUPTED_S = 10.0
PARTIAL_START_S = 5.0
#: The RMS level envelope is kept at this resolution (seconds per value).
ENVELOPE_S = 0.25
#: A cue is foreground music when the music (its recording and any other song heard with it,
#: :func:`music_balance_db`) is at most this far (dB) below everything else in the episode during
#: the cue (:func:`soundtrack.scan.compare.balance_db`): half-way between music as loud as the
#: dialogue (0 dB) and background music, 12-18 dB under it (-15 dB in the middle).
FOREGROUND_MIN_BALANCE_DB = -7.5
#: When the recording cannot be heard (its file is gone), a cue is foreground music when the
#: episode level dips less than this (dB) below its median during the cue (:func:`_level_dip_db`).
FOREGROUND_MAX_DIP_DB = 10.0
#: The balances measure the music's share of the episode only where the episode keeps the
#: recordings' waveforms: then some block of some cue (music in a pause of the dialogue)
#: correlates with its recording above this (a broadcast codec keeps 0.95 and more). Through a
#: phone's room and speech codec no block gets near it, the balances come out 10-20 dB low, and
#: every cue's usage is told from the level dips instead.
COHERENT_MIN_RHO = 0.9
#: Seconds of decoded episode audio kept for listening to tracks' recordings (:mod:`.listen`):
#: a track is confirmed at most about a minute after its first landmark (back-fill, window,
#: decoded block) and closed about as long after its last.
RING_S = 120.0
#: The speed of an episode is decided once confirmed tracks at one speed hold this many agreeing
#: anchor frames (three strong windows' worth: no chance alignment comes near) and no track at
#: another speed is confirmed; the grids of other speeds then stop (a transfer speeds up the
#: whole programme).
SPEED_DECISION_FRAMES = 3 * CUE_STRONG_SCORE

#: The episode's anchor peaks are grouped with this many neighbours (10 triplets per peak, where
#: the index holds 3): where dialogue, a phone's room or another song adds peaks, the index's
#: partners of a peak are still among them. The index's own fan-out (3) missed 4 of the 22 songs
#: of the benchmark's two phone episodes that 5 finds, for 6-11 % more CPU on those episodes; 10
#: (45 triplets, as identify uses) found the same and cost 60 % more. A search of other speeds, tempos and pitches
#: (``max_speed_change``) keeps the index's fan-out: its dozens of warps pay for every extra
#: triplet dozens of times over (on the warp scan benchmark fan-out 5 cost 1.8 times the CPU, for the
#: same 30 songs found).
SCAN_FAN_OUT = 5

#: Called after each decoded block with (episode seconds done, × real time so far).
ScanProgress = Callable[[float, float], None]


class CpuTimes(dict[str, float]):
    """CPU seconds (user + system) spent per stage of a scan."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.process_time()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.process_time() - started


class Scanner:
    """Scan one episode against an index (see :mod:`soundtrack.scan` for the method)."""

    def __init__(self, store: IndexStore, params: FingerprintParams, *, min_score: int,
                 max_speed_change: float = 0.0) -> None:
        self.store = store
        self.params = params
        self.min_score = min_score
        self.max_speed_change = max_speed_change
        self._unmasked = 0  # unmasking passes of the current scan (their landmark ids differ)

    def scan(self, path: str | Path, progress: ScanProgress | None = None) -> Soundtrack:
        """Decode ``path`` and return its :class:`Soundtrack`. Raises :class:`AudioError`."""
        snapshot = self.store.snapshot()
        p = self.params
        self._unmasked = 0
        grids = grids_for(warps_within(self.max_speed_change), p, p.fan_out if self.max_speed_change else SCAN_FAN_OUT)
        cpu = CpuTimes()
        envelope = Envelope(step=round(ENVELOPE_S * p.sample_rate))
        ring = AudioRing(round(RING_S * p.sample_rate))
        listener = Listener(p, ring)
        log, tracker = HitLog(), Tracker(p)
        started = time.perf_counter()
        done_s = 0.0
        for final in self._decode(path, grids, envelope, ring, cpu):
            with cpu.stage("lookup"):
                for grid in grids:
                    log.add(grid.hits(snapshot))
            done_s = grids[0].n_samples / p.sample_rate
            # landmarks before `limit` are final; the last windows may run past the end
            limit = p.seconds_to_frames(done_s) if final else min(g.ready for g in grids) - tracker.window
            while tracker.next_start <= limit:
                with cpu.stage("vote"):
                    changes = tracker.vote(log)
                    log.forget_before(tracker.keep_from)
                with cpu.stage("listen"):
                    for track in changes.confirmed:
                        self._listen_start(track, snapshot, listener, tracker)
                    for track in changes.closed:
                        self._listen_end(track, snapshot, listener, tracker)
                    self._verify(changes.candidates, snapshot, listener, tracker)
            if not self.max_speed_change:  # songs may each have their own speed: keep every grid
                _decide_speed(grids, tracker)
            if progress is not None:
                progress(done_s, done_s / max(1e-9, time.perf_counter() - started))
        with cpu.stage("listen"):
            closed, candidates = tracker.finish()
            for track in closed:
                self._listen_end(track, snapshot, listener, tracker)
            self._verify(candidates, snapshot, listener, tracker)
        with cpu.stage("cues"):
            found = spans(tracker.done, p, self.min_score,
                          same_audio=lambda weak, strong: self._same_audio(weak, strong, snapshot, listener))
            cues = _with_overlaps([self._cue(i + 1, s, snapshot) for i, s in enumerate(found)])
            _set_usage(cues, envelope.rms, coherent=_coherent(tracker.done))
        return Soundtrack(path=str(path), duration_s=done_s, cues=cues, envelope_s=ENVELOPE_S, rms=envelope.rms,
                          cpu_s=dict(cpu))

    def _decode(self, path: str | Path, grids: list[Grid], envelope: Envelope, ring: AudioRing,
                cpu: CpuTimes) -> Iterator[bool]:
        """Push each decoded block to the grids; yield ``False`` per block, ``True`` after the flush."""
        blocks = stream_audio(path, self.params.sample_rate)
        while True:
            with cpu.stage("decode"):
                y = next(blocks, None)
                if y is not None:
                    envelope.push(y)
                    ring.push(y)
            if y is None:
                break
            with cpu.stage("fingerprint"):
                for grid in grids:
                    grid.push(y)
            yield False
        envelope.flush()
        with cpu.stage("fingerprint"):
            for grid in grids:
                grid.flush()
        yield True

    def _listen_start(self, track: Track, snapshot: Snapshot, listener: Listener, tracker: Tracker) -> None:
        """A newly confirmed track: listen to its recording around its first landmarks (while the
        episode audio there is still in the ring); the music may begin earlier."""
        s = self._worth_listening(track, tracker)
        if s is not None:
            track.start_frame = listener.probe_start(self._alignment(track, snapshot), s.start).edge

    def _listen_end(self, track: Track, snapshot: Snapshot, listener: Listener, tracker: Tracker, *,
                    unmask: bool = True) -> None:
        """A closed confirmed track: listen around its last landmarks; measure its loudness; look
        for a second song under it when its level says there may be one (:mod:`.unmask`). An
        echo or repeat of a stronger track (as far as is known yet) is only measured: it may turn
        out a cue after all, and a masked one is told by its loudness (:func:`.cues.is_masked`)."""
        s = span(track, self.params)
        if s is None:
            return
        align = self._alignment(track, snapshot)
        echo = self._explained(s, track, tracker)
        if not echo:
            track.end_frame = listener.probe_end(align, s.end).edge
        start = min(s.start, track.start_frame or s.start)
        track.loudness = listener.loudness(align, start, track.end_frame or s.end)
        if unmask and not echo and worth_unmasking(track.balance_db):
            self._unmask(track, start, snapshot, listener, tracker)

    def _unmask(self, track: Track, start: int, snapshot: Snapshot, listener: Listener, tracker: Tracker) -> None:
        """Songs heard once ``track``'s recording is taken out of the episode, confirmed by
        listening to them, become tracks of their own."""
        self._unmasked += 1
        hits = unmasked_hits(listener, self._alignment(track, snapshot), track.recording_id, track.warp, start,
                             track.end_frame or start, snapshot, self.params, self._unmasked)
        for source, offset, agree in second_songs(hits):
            if any(t.same(source, offset) for t in tracker.open + tracker.done):
                continue
            found = Track(source, offset)
            found.add(agree)
            found.note_window(agree.distinct_frames())
            s = span(found, self.params)
            if s is not None and listener.heard_clearly(self._alignment(found, snapshot), s.start, s.end):
                tracker.accept(found)
                self._listen_start(found, snapshot, listener, tracker)
                self._listen_end(found, snapshot, listener, tracker, unmask=False)

    def _verify(self, candidates: list[Track], snapshot: Snapshot, listener: Listener, tracker: Tracker) -> None:
        """Confirm the candidates whose recording is clearly heard where their landmarks are, or
        heard above chance there and resembling the episode in its peaks and band bits
        (:meth:`Listener.resembles`: a phone keeps too little of the waveform to hear a song
        clearly, but these survive) where the episode is known not to keep the recordings'
        waveforms (:func:`_blurred`; elsewhere a song is heard clearly or not there, and a few
        seconds of one played at another tempo resemble the episode too); those are *faint*
        (:attr:`Track.faint`). Then listen at the confirmed ones' edges like any confirmed track."""
        blurred = _blurred(tracker.done)
        for track in candidates:
            s = span(track, self.params)
            if s is None:
                continue
            heard = self._heard(self._alignment(track, snapshot), s, listener, faint_ok=blurred)
            if heard is not None:
                track.faint = heard == "faint"
                tracker.accept(track)
                self._listen_start(track, snapshot, listener, tracker)
                self._listen_end(track, snapshot, listener, tracker)

    @staticmethod
    def _heard(align: Alignment, s: Span, listener: Listener, *, faint_ok: bool = True) -> str | None:
        """How a candidate's recording sounds where its landmarks are: "clearly", "faint" (above
        chance and resembling the episode, see :meth:`_verify`; only if ``faint_ok``) or not at
        all (None)."""
        level = listener.hearing(align, s.start, s.end)
        if level > CLEAR_SIGMAS:
            return "clearly"
        if faint_ok and level > compare.CHANCE_SIGMAS and listener.resembles(align, s.start, s.end):
            return "faint"
        return None

    def _worth_listening(self, track: Track, tracker: Tracker) -> Span | None:
        """The span of ``track``, unless it is empty or :meth:`_explained`."""
        s = span(track, self.params)
        return None if s is None or self._explained(s, track, tracker) else s

    def _explained(self, s: Span, track: Track, tracker: Tracker) -> bool:
        """Whether ``track`` (span ``s``) is, as far as is known yet, an echo or a repeat of a
        stronger track (:mod:`.cues`): those are dropped, and their music, which is really there,
        would keep a search for its edges going."""
        others = [o for t in tracker.open + tracker.done
                  if t is not track and t.is_confirmed and t.last_frame >= s.start
                  and (o := span(t, self.params)) is not None]
        return explained(s, others, self.params)

    def _same_audio(self, weak: Span, strong: Span, snapshot: Snapshot, listener: Listener) -> bool:
        """Whether the recordings of two overlapping spans hold the same audio where both sound
        (:meth:`Listener.same_audio`)."""
        first, end = max(weak.start, strong.start), min(weak.end, strong.end)
        return listener.same_audio(self._alignment(strong.track, snapshot), self._alignment(weak.track, snapshot),
                                   first, end)

    def _alignment(self, track: Track, snapshot: Snapshot) -> Alignment:
        return Alignment(snapshot.recording(track.recording_id), track.warp,
                         self.params.frames_to_seconds(track.offset))

    def _cue(self, number: int, span: Span, snapshot: Snapshot) -> Cue:
        """A cue from a span: it starts at the first agreeing anchor and ends at the last peak of
        the latest agreeing triplet."""
        p, track = self.params, span.track
        rec: Recording = snapshot.recording(track.recording_id)
        start_s, end_s = p.frames_to_seconds(span.start), p.frames_to_seconds(span.end)
        rec_start_s = max(0.0, p.frames_to_seconds(span.start * track.speed + track.offset))
        rec_end_s = min(rec.duration_s, p.frames_to_seconds(span.end * track.speed + track.offset))
        score = span.score
        balance = track.balance_db
        return Cue(
            number=number, recording=rec,
            episode_start_s=start_s, episode_end_s=end_s,
            recording_start_s=rec_start_s, recording_end_s=rec_end_s,
            speed=track.speed, pitch=track.warp.pitch, score=score,
            confidence=1.0 - 2.0 ** (-score / self.min_score),
            interrupted=rec_end_s < rec.duration_s - INTERRUPTED_S,
            partial_start=rec_start_s > PARTIAL_START_S,
            coverage=_survival(score / track.speed, rec, end_s - start_s, p),
            balance_db=balance,
        )


def _decide_speed(grids: list[Grid], tracker: Tracker) -> None:
    """Stop the warps of other speeds once one speed has :data:`SPEED_DECISION_FRAMES` of evidence
    and no other speed a confirmed track (in place)."""
    if sum(len(g.lanes) for g in grids) < 2:
        return
    tracks = [t for t in tracker.done + tracker.open if confirmed(t)]
    warps = {t.warp for t in tracks}
    if len(warps) == 1:
        warp = warps.pop()
        if sum(t.hits.distinct_frames() for t in tracks) >= SPEED_DECISION_FRAMES:
            for g in grids:
                g.drop_warps(lambda w, keep=warp: w == keep)
            grids[:] = [g for g in grids if g.lanes]


def _survival(n_anchors: float, rec: Recording, seconds: float, params: FingerprintParams) -> float:
    """Agreeing anchor frames per second over the recording's own anchor peaks per second in the
    index: near 1 when the music is heard clean, small when dialogue or effects bury it."""
    per_peak = params.fan_out * (params.fan_out - 1) // 2  # hashes per anchor peak in the index
    indexed_rate = rec.n_hashes / per_peak / max(rec.duration_s, 1e-9)
    return n_anchors / max(seconds, 1e-9) / indexed_rate if indexed_rate else 0.0


def _level_dip_db(rms: list[float], start_s: float, end_s: float) -> float:
    """Median minus 10th-percentile episode level (dB) between ``start_s`` and ``end_s``."""
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


def _coherent(tracks: list[Track]) -> bool:
    """Whether the episode keeps the recordings' waveforms (see :data:`COHERENT_MIN_RHO`)."""
    return any(t.loudness is not None and t.loudness.peak_rho >= COHERENT_MIN_RHO for t in tracks)


def _blurred(tracks: list[Track]) -> bool:
    """Whether the episode is known, from the tracks confirmed so far, not to keep the recordings'
    waveforms: some were listened to, and none :func:`_coherent`."""
    return any(t.loudness is not None for t in tracks) and not _coherent(tracks)


def _set_usage(cues: list[Cue], rms: list[float], *, coherent: bool = True) -> None:
    """Set each cue's ``foreground``: from all the music against the rest of the episode
    (:func:`music_balance_db`) where listening heard the cue through a ``coherent`` channel, else
    from how far the episode's level (``rms``, one value per :data:`ENVELOPE_S`) dips during it
    (:func:`_level_dip_db`)."""
    for cue in cues:
        music = music_balance_db(cue, cues) if coherent else None
        cue.foreground = bool(music >= FOREGROUND_MIN_BALANCE_DB if music is not None
                              else _level_dip_db(rms, cue.episode_start_s, cue.episode_end_s) < FOREGROUND_MAX_DIP_DB)


def music_balance_db(cue: Cue, cues: list[Cue]) -> float | None:
    """All the music against everything else (dB) in the middle of ``cue``: the shares of the
    episode's energy of ``cue``'s recording and of the overlapping cues sounding there (the
    other song of a mashup is music, not dialogue), each as listening measured it. None if
    ``cue`` was not heard."""
    if cue.balance_db is None:
        return None
    middle = (cue.episode_start_s + cue.episode_end_s) / 2
    playing = [c for c in cues if c is cue or (c.number in cue.overlaps and c.balance_db is not None
                                                and c.episode_start_s <= middle <= c.episode_end_s)]
    return compare.share_db(sum(compare.share_of(c.balance_db) for c in playing))
