"""What the server tests share: the test episode, its catalog ("world"), clips and encodings.

The episode (44 s) is quiet noise with track0 (2–17 s) at 4–19 s and track2 (5–21 s) at 24–40 s.
The catalog is SQLite in a temporary directory, and also a fresh schema on the PostgreSQL server
of ``$SOUNDTRACK_TEST_DATABASE_URL`` when it is set (``scripts/test.sh`` starts one).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from audiogen import SR, synth_music, write_audio

PG_ENV = "SOUNDTRACK_TEST_DATABASE_URL"
TRACK_S = 24.0  # as in tests/conftest.py
#: (track index, start in the track, end in the track, start in the episode), seconds.
EPISODE_CUES = [(0, 2.0, 17.0, 4.0), (2, 5.0, 21.0, 24.0)]
EPISODE_S = 44.0
LRC = """[ti:track0]
[00:00.00]First line of track zero
[00:05.00]Second line
[00:10.00]Third line, the chorus
[00:15.00]Fourth line
[00:20.00]Last line
"""


@dataclass(frozen=True)
class World:
    """Ids and values the server tests check against."""

    library: Path
    database_url: str
    data_dir: Path
    token: str
    show_id: int
    episode_id: int
    recordings: dict[str, int]  # track name ("track0") → recording id


def clip_of(track: int, start_s: float, seconds: float) -> np.ndarray:
    """``seconds`` of test track ``track`` from ``start_s``, at ``SR``."""
    y = synth_music(100 + track, TRACK_S)
    return y[int(start_s * SR): int((start_s + seconds) * SR)]


def episode_audio() -> np.ndarray:
    rng = np.random.default_rng(5)
    y = (rng.standard_normal(int(EPISODE_S * SR)) * 0.003).astype(np.float32)
    for track, a, b, at in EPISODE_CUES:
        part = clip_of(track, a, b - a)
        y[int(at * SR): int(at * SR) + part.size] += part
    return y


@contextmanager
def database_url(backend: str, tmp: Path) -> Iterator[str]:
    """An empty catalog database: a SQLite file in ``tmp``, or a new schema (dropped afterwards) on
    the PostgreSQL server of ``$SOUNDTRACK_TEST_DATABASE_URL``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'catalog.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ[PG_ENV]
    schema = f"server_{uuid.uuid4().hex[:12]}"
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


def encode(tmp: Path, y: np.ndarray, ext: str) -> bytes:
    """``y`` encoded into a file of type ``ext`` (".wav", ".ogg", ".m4a", ".webm"): its bytes."""
    return write_audio(tmp / f"clip{ext}", y).read_bytes()
