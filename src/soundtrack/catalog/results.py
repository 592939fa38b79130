"""What the catalog API returns: frozen dataclasses, each with ``to_dict()`` giving JSON-ready values.

Times are seconds, rounded to the millisecond in ``to_dict()``; instants are timezone-aware UTC
``datetime`` objects, ISO 8601 strings in ``to_dict()``. Lists inside these objects are the
caller's to read, not to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: ``items`` are entries ``offset`` … ``offset + len(items) - 1`` of ``total``."""

    items: list[T]
    total: int
    offset: int
    limit: int

    def to_dict(self) -> dict[str, Any]:
        return {"items": [item.to_dict() for item in self.items],  # type: ignore[attr-defined]
                "total": self.total, "offset": self.offset, "limit": self.limit}


@dataclass(frozen=True)
class EpisodeSummary:
    """An episode without its cues: how it is listed under its season."""

    id: int
    show_id: int
    season: int
    number: int
    title: str | None
    media_path: str | None
    timeline_png: str | None
    duration_s: float | None
    n_cues: int

    @property
    def code(self) -> str:
        """``S01E02`` style label."""
        return f"S{self.season:02d}E{self.number:02d}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "show_id": self.show_id, "season": self.season, "number": self.number,
                "code": self.code, "title": self.title, "media_path": self.media_path,
                "timeline_png": self.timeline_png, "duration_s": _ms(self.duration_s), "n_cues": self.n_cues}


@dataclass(frozen=True)
class Season:
    """A season of a show (``number`` from 1, or 0 for specials) and its episodes in order."""

    id: int
    show_id: int
    number: int
    episodes: list[EpisodeSummary]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "show_id": self.show_id, "number": self.number,
                "episodes": [e.to_dict() for e in self.episodes]}


@dataclass(frozen=True)
class Show:
    """A series (or a film: a show with one episode) and its seasons in order."""

    id: int
    title: str
    description: str | None
    created_at: datetime
    seasons: list[Season]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description,
                "created_at": _iso(self.created_at), "seasons": [s.to_dict() for s in self.seasons]}


@dataclass(frozen=True)
class Appearance:
    """One use of a recording: a cue in an episode of a show."""

    show_id: int
    show_title: str
    season: int
    episode_id: int
    episode_number: int
    episode_title: str | None
    cue_id: int
    episode_start_s: float
    episode_end_s: float
    recording_start_s: float
    recording_end_s: float
    usage: str
    scene_note: str | None
    confirmed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"show_id": self.show_id, "show_title": self.show_title, "season": self.season,
                "episode_id": self.episode_id, "episode_number": self.episode_number,
                "episode_code": f"S{self.season:02d}E{self.episode_number:02d}",
                "episode_title": self.episode_title, "cue_id": self.cue_id,
                "episode_start_s": _ms(self.episode_start_s), "episode_end_s": _ms(self.episode_end_s),
                "recording_start_s": _ms(self.recording_start_s), "recording_end_s": _ms(self.recording_end_s),
                "usage": self.usage, "scene_note": self.scene_note, "confirmed": self.confirmed}


@dataclass(frozen=True)
class RecordingInfo:
    """A recording as the catalog knows it (same ``id`` as in the fingerprint library).

    ``appearances`` lists every cue using it, in show/season/episode/time order; it is filled by
    :meth:`Catalog.recording` and :meth:`Catalog.recordings`, and left empty (and out of
    ``to_dict()``) where the recording is part of a :class:`CueInfo`. ``in_library`` is False once
    the recording has been removed from the fingerprint library (its cues stay).
    """

    id: int
    title: str
    artist: str | None
    album: str | None
    composer: str | None
    publisher: str | None
    duration_s: float
    musicbrainz_recording_id: str | None
    musicbrainz_release_id: str | None
    musicbrainz_artist_id: str | None
    path: str | None
    explicit: bool
    has_lyrics: bool
    in_library: bool
    appearances: list[Appearance] = field(default_factory=list)

    def to_dict(self, *, appearances: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id, "title": self.title, "artist": self.artist, "album": self.album,
            "composer": self.composer, "publisher": self.publisher, "duration_s": _ms(self.duration_s),
            "musicbrainz_recording_id": self.musicbrainz_recording_id,
            "musicbrainz_release_id": self.musicbrainz_release_id,
            "musicbrainz_artist_id": self.musicbrainz_artist_id, "path": self.path,
            "explicit": self.explicit, "has_lyrics": self.has_lyrics, "in_library": self.in_library}
        if appearances:
            d["appearances"] = [a.to_dict() for a in self.appearances]
        return d


@dataclass(frozen=True)
class CueInfo:
    """A stretch of an episode where a recording sounds, as scanned and then edited by people.

    ``number`` is the cue's place in its episode (1 = earliest); ``overlaps`` holds the ids of the
    episode's other cues sounding at the same time. ``score``/``confidence``/``coverage`` are the
    scan's evidence (None for a cue a person added: ``source == "manual"``).
    """

    id: int
    episode_id: int
    number: int
    recording: RecordingInfo
    episode_start_s: float
    episode_end_s: float
    recording_start_s: float
    recording_end_s: float
    speed: float
    pitch: float
    score: int | None
    confidence: float | None
    coverage: float | None
    interrupted: bool
    partial_start: bool
    foreground: bool
    usage: str
    overlaps: list[int]
    confirmed: bool
    scene_note: str | None
    source: str

    @property
    def duration_s(self) -> float:
        return self.episode_end_s - self.episode_start_s

    @property
    def visual_vocal(self) -> bool:
        """The song is sung on screen (cue-sheet usage ``VV``)."""
        return self.usage == "VV"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "episode_id": self.episode_id, "number": self.number,
                "recording_id": self.recording.id, "recording": self.recording.to_dict(appearances=False),
                "episode_start_s": _ms(self.episode_start_s), "episode_end_s": _ms(self.episode_end_s),
                "duration_s": _ms(self.duration_s), "recording_start_s": _ms(self.recording_start_s),
                "recording_end_s": _ms(self.recording_end_s), "speed": round(self.speed, 5),
                "pitch": round(self.pitch, 5),
                "score": self.score, "confidence": None if self.confidence is None else round(self.confidence, 4),
                "coverage": None if self.coverage is None else round(self.coverage, 4),
                "interrupted": self.interrupted, "partial_start": self.partial_start,
                "foreground": self.foreground, "usage": self.usage, "visual_vocal": self.visual_vocal,
                "overlaps": list(self.overlaps), "confirmed": self.confirmed, "scene_note": self.scene_note,
                "source": self.source}


@dataclass(frozen=True)
class Episode:
    """An episode with its cues in episode order."""

    id: int
    show_id: int
    show_title: str
    season: int
    number: int
    title: str | None
    media_path: str | None
    timeline_png: str | None
    duration_s: float | None
    scanned_at: datetime | None
    cues: list[CueInfo]

    @property
    def code(self) -> str:
        return f"S{self.season:02d}E{self.number:02d}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "show_id": self.show_id, "show_title": self.show_title, "season": self.season,
                "number": self.number, "code": self.code, "title": self.title, "media_path": self.media_path,
                "timeline_png": self.timeline_png, "duration_s": _ms(self.duration_s),
                "scanned_at": _iso(self.scanned_at), "cues": [c.to_dict() for c in self.cues]}


@dataclass(frozen=True)
class LyricLine:
    """A line of synced lyrics: shown from ``start_s`` until ``next_start_s`` (None: to the end).
    Times are seconds into the recording; ``text`` is "" for a timed pause."""

    text: str
    start_s: float
    next_start_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start_s": _ms(self.start_s), "next_start_s": _ms(self.next_start_s)}


@dataclass(frozen=True)
class SearchHit:
    """One search result. ``kind`` is "show", "episode", "song", "artist" or "scene" (a cue's
    scene note); ``id`` is the show, episode, recording or cue id (None for an artist, which has no
    row of its own); ``episode_id``/``recording_id`` say where to go for it."""

    kind: str
    id: int | None
    title: str
    subtitle: str | None
    episode_id: int | None
    recording_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "title": self.title, "subtitle": self.subtitle,
                "episode_id": self.episode_id, "recording_id": self.recording_id}


@dataclass(frozen=True)
class TokenInfo:
    """An API token's name and use; the token itself is never stored (only its SHA-256)."""

    name: str
    created_at: datetime
    last_used_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "created_at": _iso(self.created_at), "last_used_at": _iso(self.last_used_at)}
