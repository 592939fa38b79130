"""The command line, end to end, in process (typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audiogen import SR, synth_music, write_audio
from typer.testing import CliRunner

from soundtrack.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def cli_library(tmp_path_factory: pytest.TempPathFactory, music_dir: Path) -> Path:
    lib = tmp_path_factory.mktemp("cli") / "lib"
    result = run("add", str(music_dir), "--library", str(lib), "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["added"]) == 5
    return lib


def test_identify_json_is_the_documented_interface(cli_library: Path, track_signal, tmp_path: Path) -> None:
    clip = write_audio(tmp_path / "clip.mp3", track_signal(1)[int(8 * SR) : int(13 * SR)])
    result = run("identify", str(clip), "--library", str(cli_library), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["clip"] == str(clip) and data["matched"] is True
    best = data["matches"][0]
    assert set(best) >= {"recording_id", "title", "artist", "path", "offset_s", "query_start_s", "query_end_s",
                         "score", "confidence"}
    assert best["title"] == "track1" and abs(best["offset_s"] - 8.0) < 0.15
    assert Path(best["path"]).name == "track1.flac"


def test_identify_unknown_says_so(cli_library: Path, tmp_path: Path) -> None:
    clip = write_audio(tmp_path / "unknown.wav", synth_music(777, 5.0))
    data = json.loads(run("identify", str(clip), "--library", str(cli_library), "--json").stdout)
    assert data == {"clip": str(clip), "matched": False, "matches": []}
    assert "no match" in run("identify", str(clip), "--library", str(cli_library)).stdout


def test_identify_bad_file_names_it_and_fails(cli_library: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.m4a"
    bad.write_bytes(b"\x00" * 1000)
    result = run("identify", str(bad), "--library", str(cli_library))
    assert result.exit_code == 1
    assert "broken.m4a" in result.stderr


def test_add_reports_failures_and_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    write_audio(tmp_path / "music" / "ok.wav", synth_music(5, 8.0))
    (tmp_path / "music" / "bad.mp3").write_bytes(b"ID3" + b"\x01" * 500)
    result = run("add", str(tmp_path / "music"), "--library", str(tmp_path / "lib"))
    assert result.exit_code == 1
    assert "added 1" in result.stdout and "bad.mp3" in result.stderr
    listing = json.loads(run("list", "--library", str(tmp_path / "lib"), "--json").stdout)
    assert [r["title"] for r in listing] == ["ok"]


def test_list_stats_remove(cli_library: Path) -> None:
    listing = json.loads(run("list", "--library", str(cli_library), "--json").stdout)
    assert len(listing) == 5
    stats = json.loads(run("stats", "--library", str(cli_library), "--json").stdout)
    assert stats["recordings"] == 5 and stats["index_bytes"] > 0
    assert run("list", "--library", str(cli_library)).exit_code == 0


def test_remove_unknown_id_fails_cleanly(tmp_path: Path) -> None:
    result = run("remove", "999", "--library", str(tmp_path / "empty-lib"))
    assert result.exit_code == 1 and "999" in result.stderr


def test_library_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUNDTRACK_LIBRARY", str(tmp_path / "envlib"))
    assert run("stats", "--json").exit_code == 0
    assert (tmp_path / "envlib" / "library.db").exists()
