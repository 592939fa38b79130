"""Streaming views of the episode: fingerprint grids, the level envelope, a ring of recent audio.

Everything here takes decoded blocks as they come and keeps a bounded amount of state, so memory
does not grow with the length of the episode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..audio import StreamResampler
from ..fingerprint import Fingerprinter, Landmarks
from ..fingerprint.hashes import last_peak_offset
from ..index.store import Snapshot
from ..params import FingerprintParams
from .hits import Hits

#: Playback speeds searched for by default: normal, and the PAL speed-up of 24 fps film shown at
#: 25 fps (tempo and pitch 4.17 % up). A cue's ``speed`` is the one its landmarks matched at.
DEFAULT_SPEEDS = (1.0, 25 / 24)
#: Spacing of the extra speeds a scan with ``max_speed_change`` searches (relative): a speed within
#: half a step of a grid's keeps most landmarks (bins move by at most a bin at the top of the band).
SPEED_STEP = 0.01
#: Every speed a grid can run at; a hit's source number holds the index into this table.
SPEEDS = DEFAULT_SPEEDS + tuple(1 + k * SPEED_STEP for k in range(-25, 26) if k)


def speeds_within(max_change: float) -> tuple[float, ...]:
    """The speeds a scan searches: the defaults, and with ``max_change`` > 0 every speed of
    :data:`SPEEDS` within ``1 ± max_change``."""
    extra = tuple(s for s in SPEEDS[len(DEFAULT_SPEEDS):] if abs(s - 1) <= max_change + 1e-9)
    return DEFAULT_SPEEDS + extra
#: Landmark ids (``Hits.qid``) of grid ``k`` start at ``k << QID_BITS``.
QID_BITS = 40


def source_of(recording_id: np.ndarray | int, speed_index: int) -> np.ndarray | int:
    """One number for a recording heard at speed ``SPEEDS[speed_index]``."""
    return recording_id * len(SPEEDS) + speed_index


def recording_of(source: int) -> int:
    """The recording id of a :func:`source_of` number."""
    return source // len(SPEEDS)


def speed_of(source: int) -> float:
    """The playback speed of a :func:`source_of` number."""
    return SPEEDS[source % len(SPEEDS)]


class Grid:
    """A streaming fingerprinter of the episode on one STFT grid.

    Frames start ``shift`` samples late, and the audio is first slowed down by ``speed`` (so music
    that was sped up by ``speed``, pitch and all, is heard at its own tempo and pitch again). Each
    anchor peak is grouped with its ``fan_out`` nearest partners, with query-side cell expansion
    (see :func:`soundtrack.fingerprint.hashes.landmarks`). ``number`` tells the grid's landmark ids
    apart from other grids'.
    """

    def __init__(self, params: FingerprintParams, *, shift: int = 0, speed: float = 1.0, fan_out: int,
                 number: int = 0) -> None:
        self.params = params
        self.fp = Fingerprinter(params, fan_out=fan_out, expand=True)
        self.shift = shift
        self.speed = speed
        self.speed_index = SPEEDS.index(speed)
        self.pending: list[Landmarks] = []
        self.next_qid = number << QID_BITS
        ratio = Fraction(speed).limit_denominator(1000)
        self.stretch = None if speed == 1.0 else StreamResampler(ratio.denominator, ratio.numerator)
        if shift:
            self.fp.push(np.zeros(shift, np.float32))

    def push(self, y: np.ndarray) -> None:
        """Add decoded episode samples (mono, ``params.sample_rate``)."""
        self.pending.append(self.fp.push(y if self.stretch is None else self.stretch.push(y)))

    def flush(self) -> None:
        """End of the episode: make every remaining landmark final."""
        if self.stretch is not None:
            self.pending.append(self.fp.push(self.stretch.flush()))
        self.pending.append(self.fp.flush())

    def hits(self, snapshot: Snapshot) -> Hits:
        """Look up the landmarks made final since the last call; return their hits in episode
        frames. A hit's ``offset`` is in the grid's timeline, where the music plays at its own
        speed, so it stays constant along a cue."""
        marks, self.pending = Landmarks.concat(self.pending), []
        first_qid, self.next_qid = self.next_qid, self.next_qid + len(marks)
        if len(marks) == 0:
            return Hits.empty()
        qi, rec_id, ref_frame = snapshot.lookup(marks.hash)
        g_frame = marks.frame[qi].astype(np.int64)
        dt = last_peak_offset(marks.hash[qi], self.params)  # frames from the anchor to the last peak
        return Hits(source=source_of(rec_id.astype(np.int64), self.speed_index),
                    offset=ref_frame.astype(np.int64) - g_frame,
                    frame=self.to_episode(g_frame), last=self.to_episode(g_frame + dt),
                    qid=first_qid + qi.astype(np.int64))

    def to_episode(self, frames: np.ndarray) -> np.ndarray:
        """Episode frames (int64) of frames of this grid's timeline."""
        f = frames.astype(np.float64) - self.shift / self.params.hop
        return np.round(f / self.speed).astype(np.int64)

    @property
    def ready(self) -> int:
        """Episode frames before this one have all their landmarks."""
        return int((self.fp.peaks.done - self.params.max_dt) / self.speed)


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
