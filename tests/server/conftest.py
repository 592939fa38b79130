"""Fixtures of the server tests: a catalog over the test library with one scanned episode, and an app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serverkit import LRC, World, database_url, episode_audio, write_audio

from soundtrack import Library
from soundtrack.server import create_app


@pytest.fixture(scope="session")
def episode_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_audio(tmp_path_factory.mktemp("episode") / "S01E01.ogg", episode_audio())


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, built_library: Path, episode_file: Path) -> World:
    """The test library, a catalog holding show "Soundtrack" with episode S01E01 scanned into it,
    a scene note on its first cue, lyrics for track0, and an API token."""
    from soundtrack.catalog import Catalog

    tmp = tmp_path_factory.mktemp("server")
    url = database_url(tmp)
    catalog = Catalog(url, library_path=built_library)
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
    getattr(catalog, "close", lambda: None)()
    return World(built_library, url, tmp / "data", token, show.id, episode.id, recordings)


@pytest.fixture(scope="session")
def client(world: World) -> TestClient:
    """A client of the app over ``world`` (lifespan run once for the session)."""
    app = create_app(world.library, world.database_url, data_dir=world.data_dir, max_upload_mb=2, max_clip_s=20)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token}"}
