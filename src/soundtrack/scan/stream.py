"""Streaming views of the episode: fingerprint grids, the level envelope, a ring of recent audio.

Everything here takes decoded blocks as they come and keeps a bounded amount of state, so memory
does not grow with the length of the episode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..audio import StreamResampler
from ..fingerprint import Landmarks, Pairer, Peaks
from ..fingerprint.hashes import last_peak_offset
from ..fingerprint.peaks import PeakStream
from ..index.store import Snapshot
from ..params import FingerprintParams
from .hits import Hits


@dataclass(frozen=True)
class Warp:
    """How a recording plays in the episode: ``speed`` recording seconds per episode second (its
    tempo) and ``pitch`` episode Hz per recording Hz. A tape or PAL speed-up changes both alike,
    a tempo change (pitch kept) has ``pitch == 1``, a pitch shift (tempo kept) ``speed == 1``."""

    speed: float
    pitch: float


#: Searched by default: normal, and the PAL speed-up of 24 fps film shown at 25 fps (tempo and
#: pitch 4.17 % up). A cue's ``speed`` and ``pitch`` are those its landmarks matched at.
DEFAULT_WARPS = (Warp(1.0, 1.0), Warp(25 / 24, 25 / 24))
#: Spacing of the other speeds, tempos and pitches a scan with ``max_speed_change`` searches
#: (relative): a factor within half a step of a grid's keeps most landmarks (bins move by at most
#: a bin at the top of the band; a time offset of a second drifts by a third of a frame).
WARP_STEP = 0.01
#: Pitch shifts (tempo kept) are searched within this range (relative; 0.06 is one semitone).
PITCH_SHIFT_RANGE = 0.06
_FACTORS = tuple(1 + k * WARP_STEP for k in range(-25, 26) if k)
#: Every warp a grid can run at; a hit's source number holds the index into this table.
WARPS = (DEFAULT_WARPS + tuple(Warp(f, f) for f in _FACTORS) + tuple(Warp(f, 1.0) for f in _FACTORS)
         + tuple(Warp(1.0, f) for f in _FACTORS if abs(f - 1) <= PITCH_SHIFT_RANGE + 1e-9))


def warps_within(max_change: float) -> tuple[Warp, ...]:
    """The warps a scan searches: the defaults, and with ``max_change`` > 0 every speed change and
    tempo change of :data:`WARPS` within ``1 ± max_change`` and every pitch shift within that and
    :data:`PITCH_SHIFT_RANGE`."""
    extra = tuple(w for w in WARPS[len(DEFAULT_WARPS):]
                  if max(abs(w.speed - 1), abs(w.pitch - 1)) <= max_change + 1e-9)
    return DEFAULT_WARPS + extra


#: Landmark ids (``Hits.qid``) of the ``k``-th warp of a scan start at ``k << QID_BITS``.
QID_BITS = 40


def source_of(recording_id: np.ndarray | int, warp_index: int) -> np.ndarray | int:
    """One number for a recording heard at warp ``WARPS[warp_index]``."""
    return recording_id * len(WARPS) + warp_index


def recording_of(source: np.ndarray | int) -> np.ndarray | int:
    """The recording id of a :func:`source_of` number."""
    return source // len(WARPS)


def warp_of(source: int) -> Warp:
    """The warp of a :func:`source_of` number."""
    return WARPS[source % len(WARPS)]


@dataclass
class _Lane:
    """The landmarks of one warp, made from its grid's peaks."""

    warp: Warp
    warp_index: int
    pairer: Pairer
    next_qid: int
    pending: list[Landmarks] = field(default_factory=list)


class Grid:
    """A streaming fingerprinter of the episode for the warps of one ``pitch``.

    The audio is first resampled by ``pitch`` (so music played at that pitch is heard at its own
    pitch again: the STFT bins are the recording's), its peaks found once, and each warp's
    landmarks made from them with the frames stretched to the warp's tempo
    (:class:`~soundtrack.fingerprint.Pairer`). Each anchor peak is grouped with its ``fan_out``
    nearest partners, with query-side cell expansion (see
    :func:`soundtrack.fingerprint.hashes.landmarks`). Add warps with :meth:`add_warp`.
    """

    def __init__(self, params: FingerprintParams, *, pitch: float = 1.0, fan_out: int) -> None:
        self.params = params
        self.pitch = pitch
        self.fan_out = fan_out
        self.peaks = PeakStream(params)
        self.lanes: list[_Lane] = []
        self.n_samples = 0  # episode samples pushed
        ratio = Fraction(pitch).limit_denominator(1000)
        self.stretch = None if pitch == 1.0 else StreamResampler(ratio.denominator, ratio.numerator)

    def add_warp(self, warp: Warp, number: int) -> None:
        """Also make the landmarks of ``warp`` (whose pitch is this grid's); ``number`` tells its
        landmark ids apart from other warps'."""
        assert warp.pitch == self.pitch, (warp, self.pitch)
        pairer = Pairer(self.params, fan_out=self.fan_out, expand=True, frame_scale=warp.speed / warp.pitch)
        self.lanes.append(_Lane(warp, WARPS.index(warp), pairer, number << QID_BITS))

    def drop_warps(self, keep: Callable[[Warp], bool]) -> None:
        """Stop making the landmarks of the warps ``keep`` says no to."""
        self.lanes = [lane for lane in self.lanes if keep(lane.warp)]

    @property
    def warps(self) -> list[Warp]:
        return [lane.warp for lane in self.lanes]

    def push(self, y: np.ndarray) -> None:
        """Add decoded episode samples (mono, ``params.sample_rate``)."""
        self.n_samples += y.size
        self._pair(self.peaks.push(y if self.stretch is None else self.stretch.push(y)), final=False)

    def flush(self) -> None:
        """End of the episode: make every remaining landmark final."""
        if self.stretch is not None:
            self._pair(self.peaks.push(self.stretch.flush()), final=False)
        self._pair(self.peaks.flush(), final=True)

    def _pair(self, new: Peaks, *, final: bool) -> None:
        for lane in self.lanes:
            lane.pending.append(lane.pairer.push(new, self.peaks.done, final=final))

    def hits(self, snapshot: Snapshot) -> Hits:
        """Look up the landmarks made final since the last call; return their hits in episode
        frames. A hit's ``offset`` is in its warp's timeline, where the music plays at its own
        speed, so it stays constant along a cue."""
        parts = []
        for lane in self.lanes:
            marks, lane.pending = Landmarks.concat(lane.pending), []
            first_qid, lane.next_qid = lane.next_qid, lane.next_qid + len(marks)
            if len(marks) == 0:
                continue
            qi, rec_id, ref_frame = snapshot.lookup(marks.hash)
            g_frame = marks.frame[qi].astype(np.int64)
            dt = last_peak_offset(marks.hash[qi], self.params)  # frames from the anchor to the last peak
            parts.append(Hits(source=source_of(rec_id.astype(np.int64), lane.warp_index),
                              offset=ref_frame.astype(np.int64) - g_frame,
                              frame=_to_episode(g_frame, lane.warp), last=_to_episode(g_frame + dt, lane.warp),
                              qid=first_qid + qi.astype(np.int64)))
        return Hits.concat(parts)

    @property
    def ready(self) -> int:
        """Episode frames before this one have all their landmarks."""
        done, max_dt = self.peaks.done, self.params.max_dt
        return min(int((done * w.speed / w.pitch - max_dt) / w.speed) for w in self.warps)


def _to_episode(frames: np.ndarray, warp: Warp) -> np.ndarray:
    """Episode frames (int64) of frames of ``warp``'s timeline."""
    return np.round(frames.astype(np.float64) / warp.speed).astype(np.int64)


def grids_for(warps: tuple[Warp, ...], params: FingerprintParams, fan_out: int) -> list[Grid]:
    """One :class:`Grid` per pitch of ``warps``, each making the landmarks of its warps."""
    grids: dict[float, Grid] = {}
    for number, warp in enumerate(warps):
        if warp.pitch not in grids:
            grids[warp.pitch] = Grid(params, pitch=warp.pitch, fan_out=fan_out)
        grids[warp.pitch].add_warp(warp, number)
    return list(grids.values())


@dataclass
class Envelope:
    """The episode's RMS level (linear, full scale = 1) every ``step`` samples."""

    step: int
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


class AudioRing:
    """The last ``capacity`` decoded samples of the episode, addressed by absolute sample index."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.start = 0  # absolute index of self.samples[0]
        self.samples = np.zeros(0, np.float32)

    @property
    def end(self) -> int:
        """Absolute index one past the newest sample."""
        return self.start + self.samples.size

    def push(self, y: np.ndarray) -> None:
        self.samples = np.concatenate([self.samples, y.astype(np.float32, copy=False)])
        drop = self.samples.size - self.capacity
        if drop > 0:
            self.samples = self.samples[drop:]
            self.start += drop

    def get(self, first: int, end: int) -> tuple[np.ndarray, int]:
        """Samples ``[first, end)`` as far as they are still held, and the index of the first."""
        lo, hi = max(first, self.start), min(end, self.end)
        if hi <= lo:
            return np.zeros(0, np.float32), lo
        return self.samples[lo - self.start : hi - self.start], lo
