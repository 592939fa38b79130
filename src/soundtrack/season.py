"""A season's soundtrack: the songs of several episodes, how much music each episode has, and
which songs come back from one episode to another.

Built from the :class:`~soundtrack.export.Soundtrack` of each episode; written as JSON (everything)
and two CSV tables (one row per episode, one per song).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .export import Soundtrack, covered_s
from .models import Recording

EPISODE_COLUMNS = ("episode", "duration_min", "cues", "songs", "music_min", "music_share", "foreground_cues",
                   "background_cues")
SONG_COLUMNS = ("title", "artist", "composer", "publisher", "recording_id", "episodes", "n_episodes", "cues",
                "minutes", "in_several_episodes")


@dataclass(frozen=True)
class EpisodeSummary:
    """One episode of a season: its length, cues, distinct songs and minutes of music (overlapping
    cues counted once)."""

    name: str
    path: str
    duration_s: float
    cues: int
    songs: int
    music_s: float
    foreground_cues: int

    def to_dict(self) -> dict[str, Any]:
        return {"episode": self.name, "path": self.path, "duration_min": round(self.duration_s / 60, 2),
                "cues": self.cues, "songs": self.songs, "music_min": round(self.music_s / 60, 2),
                "music_share": round(self.music_s / self.duration_s, 3) if self.duration_s else 0.0,
                "foreground_cues": self.foreground_cues, "background_cues": self.cues - self.foreground_cues}


@dataclass
class SongUse:
    """One recording across a season: the episodes it is heard in, its cues and minutes."""

    recording: Recording
    episodes: list[str] = field(default_factory=list)
    cues: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        r = self.recording
        return {"title": r.title, "artist": r.artist, "composer": r.composer, "publisher": r.publisher,
                "recording_id": r.id, "episodes": list(self.episodes), "n_episodes": len(self.episodes),
                "cues": self.cues, "minutes": round(self.seconds / 60, 2),
                "in_several_episodes": len(self.episodes) > 1}


@dataclass
class Season:
    """The summary of a season's episodes (see the module docstring)."""

    show: str | None
    season: int | None
    episodes: list[EpisodeSummary]
    songs: list[SongUse]
    failed: dict[str, str] = field(default_factory=dict)  # episode -> why it could not be scanned

    @property
    def recurring(self) -> list[SongUse]:
        """The songs heard in more than one episode, most episodes first."""
        return [s for s in self.songs if len(s.episodes) > 1]

    def to_dict(self) -> dict[str, Any]:
        return {"show": self.show, "season": self.season,
                "episodes": [e.to_dict() for e in self.episodes],
                "music_min": round(sum(e.music_s for e in self.episodes) / 60, 2),
                "songs": [s.to_dict() for s in self.songs],
                "songs_in_several_episodes": [s.recording.title for s in self.recurring],
                "failed": dict(self.failed)}

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def to_csv(self, episodes_path: str | Path, songs_path: str | Path) -> tuple[Path, Path]:
        """Write the per-episode table and the per-song table (``episodes`` joined by ``; ``)."""
        rows = [e.to_dict() for e in self.episodes]
        songs = [dict(s.to_dict(), episodes="; ".join(s.episodes)) for s in self.songs]
        return _write_csv(episodes_path, EPISODE_COLUMNS, rows), _write_csv(songs_path, SONG_COLUMNS, songs)


def summarize(soundtracks: list[Soundtrack], *, show: str | None = None, season: int | None = None,
              failed: dict[str, str] | None = None) -> Season:
    """The :class:`Season` of ``soundtracks`` (in episode order; an episode's name is its file's
    stem). Songs are listed by the number of episodes they are heard in, then minutes."""
    episodes: list[EpisodeSummary] = []
    songs: dict[int, SongUse] = {}
    for st in soundtracks:
        name = Path(st.path).stem
        episodes.append(EpisodeSummary(name=name, path=st.path, duration_s=st.duration_s, cues=len(st.cues),
                                       songs=len({c.recording.id for c in st.cues}), music_s=st.music_s,
                                       foreground_cues=sum(c.foreground for c in st.cues)))
        for c in st.cues:
            use = songs.setdefault(c.recording.id, SongUse(c.recording))
            if name not in use.episodes:
                use.episodes.append(name)
            use.cues += 1
        for rec_id, use in songs.items():
            use.seconds += covered_s([(c.episode_start_s, c.episode_end_s) for c in st.cues
                                      if c.recording.id == rec_id])
    ordered = sorted(songs.values(), key=lambda s: (-len(s.episodes), -s.seconds, s.recording.title))
    return Season(show=show, season=season, episodes=episodes, songs=ordered, failed=dict(failed or {}))


def _write_csv(path: str | Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Path:
    path = Path(path)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
