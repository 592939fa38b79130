"""A process killed in the middle of `add` leaves a usable library; readers work during writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audiogen import SR, synth_music, write_audio

from soundtrack import Library

ADD_SCRIPT = """
import sys
from soundtrack import library
library.BATCH_FILES = 1          # commit after every file, so the kill lands between commits
from soundtrack import Library
Library(sys.argv[1]).add([sys.argv[2]])
"""


@pytest.fixture(scope="module")
def many_tracks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("many")
    for i in range(12):
        write_audio(d / f"song{i:02d}.flac", synth_music(300 + i, 20.0))
    return d


def test_kill_during_add_leaves_only_whole_recordings(tmp_path: Path, many_tracks: Path) -> None:
    lib_path = tmp_path / "lib"
    proc = subprocess.Popen([sys.executable, "-c", ADD_SCRIPT, str(lib_path), str(many_tracks)])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until some files are in, then kill mid-way
        time.sleep(0.05)
        if proc.poll() is not None:
            break
        segments = list((lib_path / "segments").glob("*.keys.npy")) if (lib_path / "segments").exists() else []
        if len(segments) >= 3:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    lib = Library(lib_path)
    present = lib.recordings()
    assert 0 < len(present) <= 12
    for rec in present:  # every listed recording is fully searchable
        i = int(Path(rec.path).stem[4:])
        clip = synth_music(300 + i, 20.0)[int(12 * SR) : int(17 * SR)]
        m = lib.identify(clip, sample_rate=SR)
        assert m and m[0].recording.id == rec.id and abs(m[0].offset_s - 12.0) < 0.1
    report = lib.add([many_tracks])  # finishing the job works and cleans up
    assert len(report.added) == 12 - len(present) and not report.failed
    assert lib.stats().recordings == 12
    names = {p.name.split(".")[0] for p in (lib_path / "segments").iterdir()}
    assert len(names) == lib.stats().segments  # no orphan segment files remain


def test_reader_works_while_another_process_adds(tmp_path: Path, many_tracks: Path) -> None:
    lib_path = tmp_path / "lib"
    first = sorted(many_tracks.iterdir())[0]
    Library(lib_path).add([first])
    proc = subprocess.Popen([sys.executable, "-c", ADD_SCRIPT, str(lib_path), str(many_tracks)])
    reader = Library(lib_path)
    clip = synth_music(300, 20.0)[int(5 * SR) : int(10 * SR)]
    checks = 0
    while proc.poll() is None and checks < 500:
        m = reader.identify(clip, sample_rate=SR)
        assert m and m[0].recording.title == "song00"
        checks += 1
    assert proc.wait(timeout=120) == 0
    assert checks > 0
    assert reader.stats().recordings == 12
    assert len(reader.recordings()) == 12
