"""Fixtures of the server tests: a catalog over the test library with one scanned episode, and an app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serverkit import LRC, PG_ENV, World, database_url, episode_audio, write_audio

from soundtrack import Library
from soundtrack.server import create_app


@pytest.fixture(scope="session")
def episode_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_audio(tmp_path_factory.mktemp("episode") / "S01E01.ogg", episode_audio())


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, built_library: Path,
          episode_file: Path) -> Iterator[World]:
    """The test library, a catalog holding show "Soundtrack" with episode S01E01 scanned into it,
    a scene note on its first cue, lyrics for track0, and an API token; on SQLite and PostgreSQL
    (skipped without ``$SOUNDTRACK_TEST_DATABASE_URL``). A module that needs one backend only says
    ``pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)``."""
    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(f"${PG_ENV} is not set: run `eval \"$(bash scripts/postgres.sh start)\"` (scripts/test.sh does)")
    tmp = tmp_path_factory.mktemp("server")
    with database_url(request.param, tmp) as url:
        yield _populate(url, tmp, built_library, episode_file)


def _populate(url: str, tmp: Path, built_library: Path, episode_file: Path) -> World:
    from soundtrack.catalog import Catalog

    with Catalog(url, library_path=built_library) as catalog:
        with Library(built_library) as lib:
            catalog.sync_recordings(lib)
            recordings = {Path(r.path).stem: r.id for r in lib.recordings()}
            soundtrack = lib.scan(episode_file)
        png = soundtrack.plot(tmp / "timeline.png")
        show = catalog.add_show("Soundtrack", description="A series about music")
        episode = catalog.add_episode(show.id, 1, 1, title="Track 1: Nellie and Sam", media_path=str(episode_file))
        episode = catalog.import_scan(episode.id, soundtrack, timeline_png=str(png))
        assert [c.recording.id for c in episode.cues] == [recordings["track0"], recordings["track2"]], episode
        catalog.update_cue(episode.cues[0].id, scene_note="Sam gets fired", confirmed=True)
        catalog.set_lyrics(recordings["track0"], LRC)
        token = catalog.create_token("tests")
    return World(built_library, url, tmp / "data", token, show.id, episode.id, recordings)


@pytest.fixture(scope="session")
def client(world: World) -> Iterator[TestClient]:
    """A client of the app over ``world`` (lifespan run once for the session)."""
    app = create_app(world.library, world.database_url, data_dir=world.data_dir, max_upload_mb=2, max_clip_s=20)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token}"}
