"""Fixtures for the catalog tests: a fresh catalog on SQLite and on PostgreSQL, and scan results.

PostgreSQL tests need ``$SOUNDTRACK_TEST_DATABASE_URL`` (``scripts/test.sh`` starts a throwaway
server with ``scripts/postgres.sh`` and sets it); each test gets its own schema, dropped afterwards.
``tests/conftest.py`` loads this module as a plugin, so every test module can use the fixtures.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from soundtrack import Cue, Recording, Soundtrack
from soundtrack.catalog import Catalog

PG_ENV = "SOUNDTRACK_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a new schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"${PG_ENV} is not set: run `eval \"$(bash scripts/postgres.sh start)\"` "
                    "(scripts/test.sh does) to test on PostgreSQL")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def catalog(database_url: str) -> Iterator[Catalog]:
    with Catalog(database_url) as cat:
        yield cat


def recording(rid: int, **tags: object) -> Recording:
    """A library recording as the fingerprint library would report it."""
    fields: dict = {"path": f"/music/song{rid}.mp3", "title": f"Song {rid}", "duration_s": 180.0 + rid,
                    "artist": "Nellie" if rid % 2 else "Sam"}
    fields.update(tags)
    return Recording(id=rid, **fields)


def scan_result(*spans: tuple[int, float, float], duration_s: float = 1500.0, path: str = "/tv/s01e01.mkv",
                library: FakeLibrary | None = None) -> Soundtrack:
    """A scan of an episode: one cue per (recording id, episode start s, episode end s), 5 s into the
    recording, numbered and with overlaps as :meth:`Library.scan` gives them. The recordings are
    ``library``'s, or made by :func:`recording`."""
    known = {r.id: r for r in library.recordings()} if library else {}
    cues = [Cue(number=i, recording=known.get(rid) or recording(rid), episode_start_s=start, episode_end_s=end,
                recording_start_s=5.0, recording_end_s=5.0 + end - start, score=30, confidence=0.9, coverage=0.5)
            for i, (rid, start, end) in enumerate(sorted(spans, key=lambda s: s[1]), start=1)]
    for a in cues:
        a.overlaps = [b.number for b in cues if b is not a
                      and min(a.episode_end_s, b.episode_end_s) > max(a.episode_start_s, b.episode_start_s)]
    return Soundtrack(path=path, duration_s=duration_s, cues=cues)


class FakeLibrary:
    """What :meth:`Catalog.sync_recordings` needs of a :class:`~soundtrack.Library`: its recordings."""

    def __init__(self, recordings: list[Recording]) -> None:
        self._recordings = recordings

    def recordings(self) -> list[Recording]:
        return self._recordings
