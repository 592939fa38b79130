"""Result types of the public API: plain frozen dataclasses with named fields and units."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recording:
    """A recording in the library, with the tags read from its file (file name as title otherwise)."""

    id: int
    path: str
    title: str
    duration_s: float
    artist: str | None = None
    album: str | None = None
    composer: str | None = None
    publisher: str | None = None
    musicbrainz_recording_id: str | None = None
    musicbrainz_release_id: str | None = None
    musicbrainz_artist_id: str | None = None
    n_hashes: int = 0
    added_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: Speed or pitch factors this close to each other (or to 1) are reported as equal (relative).
UNCHANGED_TOLERANCE = 0.006


def change_name(speed: float, pitch: float) -> str:
    """How music was changed, from its time scale ``speed`` (recording seconds per played second)
    and frequency ratio ``pitch`` (played Hz per recording Hz): "none", "speed" (both together),
    "tempo" (pitch kept), "pitch" (tempo kept) or "speed+pitch"; factors within
    :data:`UNCHANGED_TOLERANCE` of each other or of 1 count as equal."""
    speed_changed = abs(speed - 1) > UNCHANGED_TOLERANCE
    pitch_changed = abs(pitch - 1) > UNCHANGED_TOLERANCE
    if not speed_changed and not pitch_changed:
        return "none"
    if speed_changed and pitch_changed:
        return "speed" if abs(speed / pitch - 1) <= UNCHANGED_TOLERANCE else "speed+pitch"
    return "tempo" if speed_changed else "pitch"


@dataclass(frozen=True)
class Match:
    """One recording heard in a query.

    ``offset_s`` is where in the recording the query's first sample lies (seconds; negative if the
    query starts before the recording). ``query_start_s``/``query_end_s`` bound the part of the
    query whose landmarks matched. ``score`` counts landmarks that agree on the alignment;
    ``coverage`` is the share of the query's landmarks that do; ``confidence`` in [0, 1] grows
    with the score relative to the library's acceptance threshold.

    ``speed`` is the time scale (recording seconds per query second: 1.0417 for a PAL transfer,
    1.08 for a song sped up 8 % with its pitch kept) and ``pitch`` the frequency ratio (query Hz per
    recording Hz: 1.0595 for one semitone up). A plain speed change has both equal, a tempo change
    ``pitch == 1``, a pitch shift ``speed == 1``; both are 1 for unchanged audio.

    ``verified``: the landmarks alone fell short of the threshold and the recording's own audio at
    this alignment confirmed it (:mod:`soundtrack.verify`); ``confidence`` then comes from that.
    """

    recording: Recording
    offset_s: float
    query_start_s: float
    query_end_s: float
    score: int
    coverage: float
    confidence: float
    speed: float = 1.0
    pitch: float = 1.0
    verified: bool = False

    @property
    def change(self) -> str:
        """How the query was changed: "none", "speed", "tempo", "pitch" or "speed+pitch" (factors
        within :data:`UNCHANGED_TOLERANCE` of each other or of 1 count as equal)."""
        return change_name(self.speed, self.pitch)

    @property
    def recording_start_s(self) -> float:
        """Where in the recording the matched part of the query begins (seconds)."""
        return self.offset_s + self.query_start_s * self.speed

    @property
    def recording_end_s(self) -> float:
        """Where in the recording the matched part of the query ends (seconds)."""
        return self.offset_s + self.query_end_s * self.speed

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form documented in the README."""
        r = self.recording
        return {
            "recording_id": r.id,
            "title": r.title,
            "artist": r.artist,
            "album": r.album,
            "path": r.path,
            "offset_s": round(self.offset_s, 3),
            "query_start_s": round(self.query_start_s, 3),
            "query_end_s": round(self.query_end_s, 3),
            "recording_start_s": round(self.recording_start_s, 3),
            "recording_end_s": round(self.recording_end_s, 3),
            "score": self.score,
            "coverage": round(self.coverage, 4),
            "confidence": round(self.confidence, 4),
            "speed": round(self.speed, 5),
            "pitch": round(self.pitch, 5),
            "change": self.change,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be added, and why (one sentence naming the problem)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """A file whose audio is already in the library as ``existing``."""

    path: str
    existing: Recording
    how: str  # "same file content" or "same audio"


@dataclass
class AddReport:
    """What :meth:`Library.add` did with each file it was given."""

    added: list[Recording] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class LibraryStats:
    """Size of a library: recordings, hours of audio, landmarks and bytes of index on disk."""

    recordings: int
    hours: float
    hashes: int
    segments: int
    index_bytes: int
    database_bytes: int
    path: str

    @property
    def mb_per_hour(self) -> float:
        return self.index_bytes / 1e6 / self.hours if self.hours else 0.0
