"""The :class:`Catalog`: the one Python API over shows, episodes, cues, recordings, lyrics and tokens
that the command line, the HTTP server and the web page all use.

Each method runs in its own transaction (reads see one consistent view; a write either happens
whole or not at all), so one ``Catalog`` may be shared by the threads of a server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ..errors import CatalogError, CatalogUnavailableError
from . import cues, db, recordings, search, shows, tokens
from .lyrics import line_at, parse_lrc
from .playlists import render
from .results import CueInfo, Episode, LyricLine, Page, RecordingInfo, SearchHit, Show, TokenInfo

if TYPE_CHECKING:
    from ..export import Soundtrack
    from ..library import Library


class Catalog:
    """The catalog database at ``url`` (SQLAlchemy URL; ``postgresql://…`` uses psycopg 3), or when
    ``url`` is None the SQLite file ``catalog.sqlite`` in ``library_path`` (default: the default
    library directory). The schema is created or upgraded to the newest migration on opening.

    >>> with Catalog(library_path=Path("/tmp/lib")) as cat:          # doctest: +SKIP
    ...     show = cat.add_show("Soundtrack")
    ...     ep = cat.add_episode(show.id, 1, 1, title="Track 1: Nellie and Sam")
    ...     cat.import_scan(ep.id, library.scan("S01E01.mkv")).cues
    """

    def __init__(self, url: str | None = None, *, library_path: Path | None = None) -> None:
        self._engine = db.make_engine(db.resolve_url(url, library_path))
        self._writer = self._engine.execution_options(write=True)
        try:
            db.upgrade(self._engine)
        except DBAPIError as exc:
            self._engine.dispose()
            raise CatalogUnavailableError(f"cannot open the catalog at {self.url}: {_first_line(exc)}") from exc
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({self.url!r})"

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction (on SQLite it takes the write lock up front, so writers queue)."""
        try:
            with Session(self._writer) as session, session.begin():
                yield session
        except IntegrityError as exc:  # a race the checks before it could not see (e.g. a duplicate)
            raise CatalogError(f"the change conflicts with what is stored: {exc.orig}") from None

    # -- recordings ------------------------------------------------------------------------

    def sync_recordings(self, library: Library) -> int:
        """Mirror ``library``'s recordings (same ids, tags, paths); recordings gone from it stay, marked
        ``in_library=False``. Returns how many recordings were added or changed."""
        with self._write() as s:
            return recordings.sync(s, library)

    def recording(self, recording_id: int) -> RecordingInfo:
        """A recording with every cue that uses it (``.appearances``)."""
        with self._read() as s:
            return recordings.recording(s, recording_id)

    def recordings(self, *, query: str | None = None, offset: int = 0, limit: int = 50) -> Page[RecordingInfo]:
        """Recordings by title (those whose title, artist or album contains ``query``), with appearances."""
        with self._read() as s:
            return recordings.recordings(s, query, offset, limit)

    def set_lyrics(self, recording_id: int, lrc_text: str, *, explicit: bool | None = None) -> RecordingInfo:
        """Store synced lyrics (LRC text, checked: :class:`CatalogError` names a bad line) and optionally
        the explicit-lyrics flag (None: unchanged)."""
        with self._write() as s:
            return recordings.set_lyrics(s, recording_id, lrc_text, explicit)

    def lyrics(self, recording_id: int) -> list[LyricLine]:
        """The recording's synced lyrics in time order ([] without lyrics)."""
        with self._read() as s:
            text = recordings.lrc_text(s, recording_id)
        return list(_parsed(text)) if text is not None else []

    def lyric_line(self, recording_id: int, at_s: float) -> LyricLine | None:
        """The lyric line sung ``at_s`` seconds into the recording (None without lyrics or before the
        first line); its ``next_start_s`` says when the next one starts."""
        return line_at(self.lyrics(recording_id), at_s)

    # -- shows and episodes ----------------------------------------------------------------

    def add_show(self, title: str, *, description: str | None = None) -> Show:
        """A new show; :class:`CatalogError` if one has that title already."""
        with self._write() as s:
            return shows.add_show(s, title, description)

    def shows(self, *, query: str | None = None, offset: int = 0, limit: int = 50) -> Page[Show]:
        """Shows by title (those whose title contains ``query``), each with its seasons and episodes."""
        with self._read() as s:
            return shows.shows(s, query, offset, limit)

    def show(self, show_id: int) -> Show:
        with self._read() as s:
            return shows.show(s, show_id)

    def find_show(self, title: str) -> Show | None:
        """The show with this title (ignoring case when that is unambiguous), or None."""
        with self._read() as s:
            return shows.find_show(s, title)

    def add_episode(self, show_id: int, season: int, number: int, *, title: str | None = None,
                    media_path: str | None = None) -> Episode:
        """A new episode; the season is created if the show has none of that number yet."""
        with self._write() as s:
            return shows.add_episode(s, show_id, season, number, title, media_path)

    def episode(self, episode_id: int) -> Episode:
        """An episode with its cues in episode order, each with its recording."""
        with self._read() as s:
            return shows.episode(s, episode_id)

    def playlist(self, *, episode_id: int | None = None, show_id: int | None = None, season: int | None = None,
                 fmt: str = "m3u") -> str:
        """The songs of an episode, or of a show's season (all seasons when ``season`` is None), each
        once in order of first use, as ``fmt`` "m3u" (extended M3U) or "xspf" (XSPF 1) text."""
        with self._read() as s:
            title, tracks = shows.playlist_tracks(s, episode_id, show_id, season)
        return render(title, tracks, fmt)

    # -- cues ------------------------------------------------------------------------------

    def import_scan(self, episode_id: int, soundtrack: Soundtrack, *, timeline_png: str | None = None) -> Episode:
        """Put a scan's cues into the episode. Cues from an earlier scan are replaced; cues people
        confirmed, added or edited are kept (a scanned cue of the same recording overlapping one of
        them is skipped). The episode takes the scan's duration and, unless it has one, its media path."""
        with self._write() as s:
            return cues.import_scan(s, episode_id, soundtrack, timeline_png)

    def update_cue(self, cue_id: int, *, confirmed: bool | None = None, scene_note: str | None = None,
                   usage: str | None = None, visual_vocal: bool | None = None,
                   episode_start_s: float | None = None, episode_end_s: float | None = None,
                   recording_id: int | None = None, recording_start_s: float | None = None) -> CueInfo:
        """Edit a cue; None leaves a field unchanged. ``scene_note=""`` clears the note. ``usage`` is a
        cue-sheet code (BI BV FI FV VI VV MT ET); ``visual_vocal=True`` sets VV, False turns VV into BV.
        Moving the episode start moves ``recording_start_s`` with it (same alignment) unless that is
        given too. Any edit but (un)confirming keeps the cue through later imports."""
        with self._write() as s:
            return cues.update_cue(s, cue_id, confirmed=confirmed, scene_note=scene_note, usage=usage,
                                   visual_vocal=visual_vocal, episode_start_s=episode_start_s,
                                   episode_end_s=episode_end_s, recording_id=recording_id,
                                   recording_start_s=recording_start_s)

    def add_cue(self, episode_id: int, recording_id: int, episode_start_s: float, episode_end_s: float, *,
                recording_start_s: float = 0.0, scene_note: str | None = None, usage: str = "BI") -> CueInfo:
        """A cue the scan missed, added by a person (confirmed; ``source == "manual"``)."""
        with self._write() as s:
            return cues.add_cue(s, episode_id, recording_id, episode_start_s, episode_end_s, recording_start_s,
                                scene_note, usage)

    def delete_cue(self, cue_id: int) -> None:
        with self._write() as s:
            cues.delete_cue(s, cue_id)

    # -- search and tokens -----------------------------------------------------------------

    def search(self, q: str, *, offset: int = 0, limit: int = 20) -> Page[SearchHit]:
        """Shows, episode titles, song titles, artists and scene notes containing ``q`` (any case)."""
        with self._read() as s:
            return search.search(s, q, offset, limit)

    def create_token(self, name: str) -> str:
        """A new API token named ``name``. The token is returned once; only its SHA-256 is stored."""
        with self._write() as s:
            return tokens.create(s, name)

    def verify_token(self, token: str) -> bool:
        """True for a live token (its ``last_used_at`` is updated)."""
        with self._write() as s:
            return tokens.verify(s, token)

    def revoke_token(self, name: str) -> None:
        with self._write() as s:
            tokens.revoke(s, name)

    def tokens(self) -> list[TokenInfo]:
        with self._read() as s:
            return tokens.tokens(s)


@lru_cache(maxsize=256)
def _parsed(lrc_text: str) -> tuple[LyricLine, ...]:
    """Parsed lyrics, cached by their text (a server asks for the line now playing on every match)."""
    return tuple(parse_lrc(lrc_text))


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
