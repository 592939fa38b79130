"""Shows, seasons and episodes: creating, listing, reading; the tracks of a playlist."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..errors import CatalogError, NotFoundError
from . import convert
from .playlists import PlaylistTrack
from .results import Episode, Page, Show
from .schema import CueRow, EpisodeRow, SeasonRow, ShowRow

#: Longest show title (characters).
MAX_TITLE = 300

_SHOW_TREE = selectinload(ShowRow.seasons).selectinload(SeasonRow.episodes)
_EPISODE_FULL = (selectinload(EpisodeRow.season).selectinload(SeasonRow.show),
                 selectinload(EpisodeRow.cues).selectinload(CueRow.recording))


def add_show(session: Session, title: str, description: str | None) -> Show:
    title = _title(title)
    existing = session.scalar(select(ShowRow.id).where(ShowRow.title == title))
    if existing is not None:
        raise CatalogError(f"a show titled {title!r} exists already (id {existing})")
    row = ShowRow(title=title, description=_text(description))
    session.add(row)
    session.flush()
    return show(session, row.id)


def shows(session: Session, query: str | None, offset: int, limit: int) -> Page[Show]:
    convert.check_page(offset, limit)
    where = [ShowRow.title.ilike(like_pattern(query), escape="\\")] if query and query.strip() else []
    total = session.scalar(select(func.count()).select_from(ShowRow).where(*where)) or 0
    rows = session.scalars(select(ShowRow).where(*where).options(_SHOW_TREE)
                           .order_by(func.lower(ShowRow.title), ShowRow.id).offset(offset).limit(limit)).all()
    return Page(items=convert.shows(session, list(rows)), total=total, offset=offset, limit=limit)


def show(session: Session, show_id: int) -> Show:
    row = session.scalar(select(ShowRow).where(ShowRow.id == show_id).options(_SHOW_TREE))
    if row is None:
        raise NotFoundError(f"no show with id {show_id}")
    return convert.shows(session, [row])[0]


def find_show(session: Session, title: str) -> Show | None:
    """The show titled exactly ``title``, else the only one whose title matches ignoring case."""
    title = title.strip()
    found = session.scalar(select(ShowRow.id).where(ShowRow.title == title))
    if found is None:
        ids = session.scalars(select(ShowRow.id).where(func.lower(ShowRow.title) == title.lower())).all()
        found = ids[0] if len(ids) == 1 else None
    return None if found is None else show(session, found)


def add_episode(session: Session, show_id: int, season: int, number: int, title: str | None,
                media_path: str | None) -> Episode:
    """A new episode ``number`` of ``season`` (created if the show has no such season yet)."""
    convert.get(session, ShowRow, show_id, "show")
    if season < 0 or number < 0:
        raise CatalogError(f"season and episode numbers must be 0 or more, not season {season} number {number}")
    season_row = session.scalar(select(SeasonRow).where(SeasonRow.show_id == show_id, SeasonRow.number == season))
    if season_row is None:
        season_row = SeasonRow(show_id=show_id, number=season)
        session.add(season_row)
        session.flush()
    existing = session.scalar(select(EpisodeRow.id).where(EpisodeRow.season_id == season_row.id,
                                                          EpisodeRow.number == number))
    if existing is not None:
        raise CatalogError(f"season {season} of show {show_id} already has an episode {number} (id {existing})")
    row = EpisodeRow(season_id=season_row.id, number=number, title=_text(title), media_path=_text(media_path))
    session.add(row)
    session.flush()
    return episode(session, row.id)


def episode_row(session: Session, episode_id: int) -> EpisodeRow:
    row = session.scalar(select(EpisodeRow).where(EpisodeRow.id == episode_id).options(*_EPISODE_FULL)
                         .execution_options(populate_existing=True))
    if row is None:
        raise NotFoundError(f"no episode with id {episode_id}")
    return row


def episode(session: Session, episode_id: int) -> Episode:
    return convert.episode(episode_row(session, episode_id))


def playlist_tracks(session: Session, episode_id: int | None, show_id: int | None,
                    season: int | None) -> tuple[str, list[PlaylistTrack]]:
    """The title and tracks of the playlist of one episode, one season, or (no season) a whole show:
    each recording once, in order of first use."""
    if (episode_id is None) == (show_id is None):
        raise CatalogError("a playlist needs either an episode id or a show id (with a season, optionally)")
    if episode_id is not None:
        if season is not None:
            raise CatalogError("give a season with a show id, not with an episode id")
        row = episode_row(session, episode_id)
        label = f"{row.season.show.title} {_code(row)}" + (f" {row.title}" if row.title else "")
        episodes = [row]
    else:
        assert show_id is not None
        show_row = convert.get(session, ShowRow, show_id, "show")
        seasons = [s for s in show_row.seasons if season is None or s.number == season]
        if season is not None and not seasons:
            raise NotFoundError(f"show {show_id} has no season {season}")
        label = show_row.title + (f" season {season}" if season is not None else "")
        episodes = [e for s in seasons for e in s.episodes]
    tracks: dict[int, PlaylistTrack] = {}
    for ep in episodes:
        for cue in sorted(ep.cues, key=lambda c: (c.episode_start_s, c.id)):
            r = cue.recording
            if r.id not in tracks:
                tracks[r.id] = PlaylistTrack(
                    path=r.path, title=r.title, artist=r.artist, album=r.album, duration_s=r.duration_s,
                    musicbrainz_recording_id=r.musicbrainz_recording_id,
                    note=f"{_code(ep)} at {_clock(cue.episode_start_s)}"
                         + (f": {cue.scene_note}" if cue.scene_note else ""))
    return label, list(tracks.values())


def like_pattern(text: str | None) -> str:
    """A LIKE pattern matching ``text`` anywhere (``%``, ``_`` and ``\\`` in it match themselves)."""
    escaped = (text or "").strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _code(ep: EpisodeRow) -> str:
    return f"S{ep.season.number:02d}E{ep.number:02d}"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise CatalogError(f"a show title needs 1 to {MAX_TITLE} characters, not {title!r}")
    return title


def _text(value: str | None) -> str | None:
    """Optional text, with blank meaning none."""
    value = value.strip() if value is not None else None
    return value or None
