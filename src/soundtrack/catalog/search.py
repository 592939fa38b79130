"""Search over shows, episode titles, songs, artists and scene notes: one paged list of hits.

Matching is case-insensitive substring matching (SQL ``LIKE``/``ILIKE``, the same on SQLite and
PostgreSQL; SQLite folds case for ASCII letters only). Hits come grouped by kind in the order of
:data:`KINDS`; within a kind, titles starting with the query come first, then alphabetically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, func, select
from sqlalchemy.orm import Session

from ..errors import CatalogError
from . import convert
from .results import Page, SearchHit
from .schema import CueRow, EpisodeRow, RecordingRow, SeasonRow, ShowRow
from .shows import like_pattern

KINDS = ("show", "episode", "song", "artist", "scene")
#: Longest search text (characters).
MAX_QUERY = 200


@dataclass(frozen=True)
class _Source:
    """How to find one kind of hit: a count, a query of rows ordered by ``sort``, a row → hit."""

    count: Select  # type: ignore[type-arg]
    rows: Select  # type: ignore[type-arg]
    hit: Callable[[Any], SearchHit]


def search(session: Session, q: str, offset: int, limit: int) -> Page[SearchHit]:
    convert.check_page(offset, limit)
    text = (q or "").strip()
    if not text or len(text) > MAX_QUERY:
        raise CatalogError(f"search text needs 1 to {MAX_QUERY} characters, not {q!r}")
    hits: list[SearchHit] = []
    total = 0
    for source in _sources(like_pattern(text), like_pattern(text)[1:]):
        n = session.scalar(source.count) or 0
        skip = max(0, offset - total)  # rows of this kind before the page starts
        want = limit - len(hits)
        if want > 0 and skip < n:
            hits.extend(source.hit(row) for row in session.execute(source.rows.offset(skip).limit(want)))
        total += n
    return Page(items=hits, total=total, offset=offset, limit=limit)


def _sources(anywhere: str, prefix: str) -> list[_Source]:
    def like(col: Any) -> ColumnElement[bool]:
        return col.ilike(anywhere, escape="\\")

    def first(col: Any) -> Any:  # titles that start with the query sort first
        return (case((col.ilike(prefix, escape="\\"), 0), else_=1), func.lower(col))

    show_code = (ShowRow.title, SeasonRow.number, EpisodeRow.number)
    return [
        _Source(select(func.count()).select_from(ShowRow).where(like(ShowRow.title)),
                select(ShowRow.id, ShowRow.title, ShowRow.description).where(like(ShowRow.title))
                .order_by(*first(ShowRow.title), ShowRow.id),
                lambda r: SearchHit("show", r.id, r.title, r.description, None, None)),
        _Source(select(func.count()).select_from(EpisodeRow).where(like(EpisodeRow.title)),
                select(EpisodeRow.id, EpisodeRow.title, *show_code).join(EpisodeRow.season).join(SeasonRow.show)
                .where(like(EpisodeRow.title)).order_by(*first(EpisodeRow.title), EpisodeRow.id),
                lambda r: SearchHit("episode", r.id, r.title, f"{r[2]} {_code(r[3], r[4])}", r.id, None)),
        _Source(select(func.count()).select_from(RecordingRow).where(like(RecordingRow.title)),
                select(RecordingRow.id, RecordingRow.title, RecordingRow.artist).where(like(RecordingRow.title))
                .order_by(*first(RecordingRow.title), RecordingRow.id),
                lambda r: SearchHit("song", r.id, r.title, r.artist, None, r.id)),
        _Source(select(func.count(distinct(RecordingRow.artist))).where(like(RecordingRow.artist)),
                select(RecordingRow.artist, func.count()).where(like(RecordingRow.artist))
                .group_by(RecordingRow.artist).order_by(*first(RecordingRow.artist)),
                lambda r: SearchHit("artist", None, r[0], f"{r[1]} recording{'s' if r[1] != 1 else ''}", None, None)),
        _Source(select(func.count()).select_from(CueRow).where(like(CueRow.scene_note)),
                select(CueRow.id, CueRow.scene_note, CueRow.episode_id, CueRow.recording_id, CueRow.episode_start_s,
                       RecordingRow.title, *show_code)
                .join(CueRow.recording).join(CueRow.episode).join(EpisodeRow.season).join(SeasonRow.show)
                .where(like(CueRow.scene_note)).order_by(*first(CueRow.scene_note), CueRow.id),
                lambda r: SearchHit("scene", r.id, r.scene_note, f"{r[6]} {_code(r[7], r[8])} · {r.title}",
                                    r.episode_id, r.recording_id)),
    ]


def _code(season: int, number: int) -> str:
    return f"S{season:02d}E{number:02d}"
