"""Shared fixtures: synthetic music files and a library built from them once per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from audiogen import SR, synth_music, write_audio  # noqa: E402

from soundtrack import Library  # noqa: E402

pytest_plugins = ["catalog_fixtures"]  # catalog, database_url: SQLite and PostgreSQL

TRACK_S = 24.0
FORMATS = [".wav", ".flac", ".mp3", ".ogg", ".m4a"]


@pytest.fixture(scope="session")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five synthetic tracks, one per container format, plus their signals in ``signals``."""
    d = tmp_path_factory.mktemp("music")
    for i, ext in enumerate(FORMATS):
        write_audio(d / f"track{i}{ext}", synth_music(100 + i, TRACK_S))
    return d


@pytest.fixture(scope="session")
def track_signal():
    """The signal of track ``i`` of ``music_dir``, at ``SR``."""
    return lambda i: synth_music(100 + i, TRACK_S)


@pytest.fixture(scope="session")
def built_library(tmp_path_factory: pytest.TempPathFactory, music_dir: Path) -> Path:
    """A library directory holding the five tracks of ``music_dir``. Treat it as read-only."""
    path = tmp_path_factory.mktemp("lib") / "library"
    with Library(path) as lib:
        report = lib.add([music_dir])
        assert len(report.added) == len(FORMATS), report
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


__all__ = ["SR", "synth_music", "write_audio"]
