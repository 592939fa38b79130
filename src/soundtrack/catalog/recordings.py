"""Recordings: the mirror of the fingerprint library, where each is used, and their synced lyrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from ..models import Recording
from . import convert
from .lyrics import parse_lrc
from .results import Appearance, Page, RecordingInfo
from .schema import CueRow, EpisodeRow, RecordingRow, SeasonRow, ShowRow, utcnow
from .shows import like_pattern

if TYPE_CHECKING:
    from ..library import Library

#: Fields copied from the library's :class:`~soundtrack.models.Recording`.
MIRRORED = ("title", "artist", "album", "composer", "publisher", "duration_s", "musicbrainz_recording_id",
            "musicbrainz_release_id", "musicbrainz_artist_id", "path")


def sync(session: Session, library: Library) -> int:
    """Copy every recording of ``library`` into the catalog (same ids) and mark those no longer in it
    (their cues stay). Returns how many recordings were added or changed."""
    recordings = library.recordings()
    rows = {row.id: row for row in session.scalars(select(RecordingRow))}
    changed = sum(mirror(session, rec, rows.get(rec.id)) for rec in recordings)
    present = {rec.id for rec in recordings}
    for row in rows.values():
        if row.id not in present and row.in_library:
            row.in_library = False
            changed += 1
    return changed


def mirror(session: Session, rec: Recording, row: RecordingRow | None = None) -> bool:
    """Insert or update the catalog's copy of ``rec``; True if anything changed. Pass the row when it is
    already loaded (None: looked up)."""
    row = row if row is not None else session.get(RecordingRow, rec.id)
    if row is None:  # INSERT … ON CONFLICT DO NOTHING: two imports adding one recording at once both succeed
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(RecordingRow).values(
            id=rec.id, in_library=True, explicit=False, synced_at=utcnow(), **{f: getattr(rec, f) for f in MIRRORED},
        ).on_conflict_do_nothing(index_elements=["id"]))
        return True
    changed = not row.in_library
    for f in MIRRORED:
        if getattr(row, f) != getattr(rec, f):
            setattr(row, f, getattr(rec, f))
            changed = True
    if changed:
        row.in_library = True
        row.synced_at = utcnow()
    return changed


def recording(session: Session, recording_id: int) -> RecordingInfo:
    row = convert.get(session, RecordingRow, recording_id, "recording")
    return convert.recording_info(row, appearances(session, [recording_id]).get(recording_id, []))


def recordings(session: Session, query: str | None, offset: int, limit: int) -> Page[RecordingInfo]:
    """Recordings by title, optionally those whose title, artist or album contains ``query``."""
    convert.check_page(offset, limit)
    where = []
    if query and query.strip():
        pattern = like_pattern(query)
        where = [or_(*(col.ilike(pattern, escape="\\")
                       for col in (RecordingRow.title, RecordingRow.artist, RecordingRow.album)))]
    total = session.scalar(select(func.count()).select_from(RecordingRow).where(*where)) or 0
    rows = session.scalars(select(RecordingRow).where(*where).order_by(func.lower(RecordingRow.title), RecordingRow.id)
                           .offset(offset).limit(limit)).all()
    used = appearances(session, [r.id for r in rows])
    return Page(items=[convert.recording_info(r, used.get(r.id, [])) for r in rows], total=total, offset=offset,
                limit=limit)


def appearances(session: Session, recording_ids: list[int]) -> dict[int, list[Appearance]]:
    """Every cue of the given recordings, by recording, in show/season/episode/time order."""
    if not recording_ids:
        return {}
    cues = session.scalars(
        select(CueRow).join(CueRow.episode).join(EpisodeRow.season).join(SeasonRow.show)
        .where(CueRow.recording_id.in_(recording_ids))
        .options(selectinload(CueRow.episode).selectinload(EpisodeRow.season).selectinload(SeasonRow.show))
        .order_by(func.lower(ShowRow.title), ShowRow.id, SeasonRow.number, EpisodeRow.number,
                  CueRow.episode_start_s, CueRow.id)).all()
    found: dict[int, list[Appearance]] = {}
    for cue in cues:
        found.setdefault(cue.recording_id, []).append(convert.appearance(cue))
    return found


def set_lyrics(session: Session, recording_id: int, lrc_text: str, explicit: bool | None) -> RecordingInfo:
    """Store synced lyrics after checking them (:func:`~soundtrack.catalog.lyrics.parse_lrc` raises)."""
    row = convert.get(session, RecordingRow, recording_id, "recording")
    text = lrc_text.lstrip("\ufeff")
    parse_lrc(text)
    row.lrc = text
    if explicit is not None:
        row.explicit = explicit
    session.flush()
    return recording(session, recording_id)


def lrc_text(session: Session, recording_id: int) -> str | None:
    """The recording's stored LRC text (None without lyrics)."""
    row = convert.get(session, RecordingRow, recording_id, "recording")
    return row.lrc
