"""Rows to results: the one place that turns ORM rows (``schema.py``) into API dataclasses (``results.py``),
plus the small checks every module shares (page bounds, times, usage codes)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypeVar, overload

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import CatalogError, NotFoundError
from .results import Appearance, CueInfo, Episode, EpisodeSummary, RecordingInfo, Season, Show
from .schema import USAGE_CODES, Base, CueRow, EpisodeRow, RecordingRow, SeasonRow, ShowRow

#: Largest page a listing returns.
MAX_LIMIT = 500

R = TypeVar("R", bound=Base)


def get(session: Session, row_type: type[R], row_id: int, what: str) -> R:
    """The row with primary key ``row_id``, or :class:`NotFoundError` naming ``what``."""
    row = session.get(row_type, row_id)
    if row is None:
        raise NotFoundError(f"no {what} with id {row_id}")
    return row


def check_page(offset: int, limit: int) -> None:
    if offset < 0:
        raise CatalogError(f"offset must be 0 or more, not {offset}")
    if not 1 <= limit <= MAX_LIMIT:
        raise CatalogError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")


def check_usage(usage: str) -> str:
    code = usage.strip().upper()
    if code not in USAGE_CODES:
        raise CatalogError(f"usage must be one of {', '.join(USAGE_CODES)}, not {usage!r}")
    return code


def check_times(start_s: float, end_s: float, duration_s: float | None) -> None:
    """A cue must lie inside its episode (seconds) and last longer than nothing."""
    if not 0 <= start_s < end_s:
        raise CatalogError(f"a cue needs 0 <= start < end (seconds), not start {start_s} and end {end_s}")
    if duration_s is not None and end_s > duration_s + 1e-3:
        raise CatalogError(f"cue end {end_s:.3f} s is after the end of the episode ({duration_s:.3f} s)")


@overload
def utc(when: datetime) -> datetime: ...
@overload
def utc(when: None) -> None: ...
def utc(when: datetime | None) -> datetime | None:
    """Timezone-aware UTC (SQLite hands back naive datetimes of what was stored as UTC)."""
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def recording_info(row: RecordingRow, appearances: list[Appearance] | None = None) -> RecordingInfo:
    return RecordingInfo(
        id=row.id, title=row.title, artist=row.artist, album=row.album, composer=row.composer,
        publisher=row.publisher, duration_s=row.duration_s, musicbrainz_recording_id=row.musicbrainz_recording_id,
        musicbrainz_release_id=row.musicbrainz_release_id, musicbrainz_artist_id=row.musicbrainz_artist_id,
        path=row.path, explicit=row.explicit, has_lyrics=row.lrc is not None, in_library=row.in_library,
        appearances=appearances or [])


def cue_infos(cues: Iterable[CueRow]) -> list[CueInfo]:
    """An episode's cues in episode order, numbered from 1, each with the ids of those overlapping it."""
    ordered = sorted(cues, key=lambda c: (c.episode_start_s, c.id))
    return [CueInfo(
        id=c.id, episode_id=c.episode_id, number=n, recording=recording_info(c.recording),
        episode_start_s=c.episode_start_s, episode_end_s=c.episode_end_s, recording_start_s=c.recording_start_s,
        recording_end_s=c.recording_end_s, speed=c.speed, pitch=c.pitch, score=c.score, confidence=c.confidence,
        coverage=c.coverage, interrupted=c.interrupted, partial_start=c.partial_start, foreground=c.foreground,
        usage=c.usage, confirmed=c.confirmed, scene_note=c.scene_note, source=c.source,
        overlaps=[o.id for o in ordered if o is not c
                  and min(c.episode_end_s, o.episode_end_s) > max(c.episode_start_s, o.episode_start_s)])
        for n, c in enumerate(ordered, start=1)]


def episode(row: EpisodeRow) -> Episode:
    season = row.season
    return Episode(id=row.id, show_id=season.show_id, show_title=season.show.title, season=season.number,
                   number=row.number, title=row.title, media_path=row.media_path, timeline_png=row.timeline_png,
                   duration_s=row.duration_s, scanned_at=utc(row.scanned_at), cues=cue_infos(row.cues))


def shows(session: Session, rows: list[ShowRow]) -> list[Show]:
    """Shows with their seasons and episode summaries (cue counts from one query)."""
    episode_ids = [e.id for show in rows for season in show.seasons for e in season.episodes]
    counts: dict[int, int] = {}
    if episode_ids:
        result = session.execute(select(CueRow.episode_id, func.count()).where(CueRow.episode_id.in_(episode_ids))
                                 .group_by(CueRow.episode_id))
        counts = {episode_id: n for episode_id, n in result}
    return [Show(id=show.id, title=show.title, description=show.description, created_at=utc(show.created_at),
                 seasons=[_season(show, season, counts) for season in show.seasons]) for show in rows]


def _season(show: ShowRow, season: SeasonRow, counts: dict[int, int]) -> Season:
    return Season(id=season.id, show_id=show.id, number=season.number, episodes=[
        EpisodeSummary(id=e.id, show_id=show.id, season=season.number, number=e.number, title=e.title,
                       media_path=e.media_path, timeline_png=e.timeline_png, duration_s=e.duration_s,
                       n_cues=counts.get(e.id, 0))
        for e in season.episodes])


def appearance(cue: CueRow) -> Appearance:
    ep = cue.episode
    return Appearance(show_id=ep.season.show.id, show_title=ep.season.show.title, season=ep.season.number,
                      episode_id=ep.id, episode_number=ep.number, episode_title=ep.title, cue_id=cue.id,
                      episode_start_s=cue.episode_start_s, episode_end_s=cue.episode_end_s,
                      recording_start_s=cue.recording_start_s, recording_end_s=cue.recording_end_s,
                      usage=cue.usage, scene_note=cue.scene_note, confirmed=cue.confirmed)
