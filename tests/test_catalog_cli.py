"""The catalog commands end to end (typer's CliRunner): a show, an episode scanned from a real file,
cue edits that survive a re-scan, lyrics, playlists, tokens; the same commands on PostgreSQL."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, write_audio
from typer.testing import CliRunner

from soundtrack.catalog.playlists import XSPF_NS
from soundtrack.cli import app

runner = CliRunner()


def run(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, built_library: Path) -> Path:
    """A copy of the session's library (the catalog and timelines are written into it)."""
    copy = tmp_path_factory.mktemp("cli-catalog") / "library"
    shutil.copytree(built_library, copy)
    return copy


@pytest.fixture(scope="module")
def episode_file(tmp_path_factory: pytest.TempPathFactory, track_signal) -> Path:
    """40 s of quiet noise with track1 (0-16 s of it) at 4 s and track3 (6-18 s of it) at 25 s."""
    rng = np.random.default_rng(7)
    mix = (0.01 * rng.standard_normal(40 * SR)).astype(np.float32)
    for i, at_s, (a, b) in ((1, 4.0, (0, 16)), (3, 25.0, (6, 18))):
        part = track_signal(i)[int(a * SR) : int(b * SR)]
        mix[int(at_s * SR) : int(at_s * SR) + part.size] += part
    return write_audio(tmp_path_factory.mktemp("cli-episode") / "s01e01.m4a", mix / np.abs(mix).max() * 0.9)


def test_catalog_commands(library: Path, episode_file: Path, tmp_path: Path) -> None:
    lib = ("--library", str(library))
    assert "show 1: Soundtrack" in run("show", "add", "Soundtrack", "--description", "Musical drama", *lib).stdout
    again = run("show", "add", "Soundtrack", *lib, ok=False)
    assert again.exit_code == 1 and "exists already" in again.stderr

    added = run("episode", "add", "--show", "soundtrack", "--season", "1", "--number", "1",
                "--title", "Track 1: Nellie and Sam", "--scan", str(episode_file), *lib, "--json")
    ep = json.loads(added.stdout)
    assert ep["title"] == "Track 1: Nellie and Sam" and ep["media_path"] == str(episode_file.resolve())
    assert [c["recording"]["title"] for c in ep["cues"]] == ["track1", "track3"]
    assert abs(ep["cues"][0]["episode_start_s"] - 4.0) < 0.5 and abs(ep["duration_s"] - 40.0) < 0.1
    png = Path(ep["timeline_png"])
    assert png.parent == library / "timelines" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (library / "catalog.sqlite").is_file()

    first = ep["cues"][0]["id"]
    edited = json.loads(run("cue", "edit", str(first), "--confirm", "--note", "Sam gets fired", "--visual-vocal",
                            *lib, "--json").stdout)
    assert (edited["confirmed"], edited["scene_note"], edited["usage"]) == (True, "Sam gets fired", "VV")
    rescanned = json.loads(run("episode", "scan", str(ep["id"]), *lib, "--json").stdout)
    kept = rescanned["cues"][0]
    assert (kept["id"], kept["scene_note"], kept["usage"]) == (first, "Sam gets fired", "VV")
    assert len(rescanned["cues"]) == 2 and rescanned["cues"][1]["id"] != ep["cues"][1]["id"]

    table = run("episode", "show", str(ep["id"]), *lib).stdout
    assert "track1" in table and "Sam gets fired" in table and "00:00:0" in table
    tree = run("show", "list", *lib).stdout
    assert "Soundtrack" in tree and "S01E01 Track 1: Nellie and Sam" in tree

    ids = {r["title"]: r["id"] for r in json.loads(run("list", *lib, "--json").stdout)}
    manual = run("cue", "add", str(ep["id"]), str(ids["track2"]), "--start", "30", "--end", "33", "--note", "radio",
                 *lib).stdout
    cue_id = manual.split()[1].rstrip(":")
    assert "track2" in manual
    assert run("cue", "delete", cue_id, *lib).exit_code == 0
    missing = run("cue", "delete", cue_id, *lib, ok=False)
    assert missing.exit_code == 1 and f"no cue with id {cue_id}" in missing.stderr

    lrc = tmp_path / "track1.lrc"
    lrc.write_text("[ar:Nellie]\n[00:01.00]Hello\n[00:05.00]World\n", encoding="utf-8")
    rec_id = str(ep["cues"][0]["recording_id"])
    assert "2 timed lines (explicit)" in run("lyrics", "set", rec_id, str(lrc), "--explicit", *lib).stdout
    assert run("lyrics", "show", rec_id, "--at", "6", *lib).stdout.strip() == "[00:05.00] World"
    bad = tmp_path / "bad.lrc"
    bad.write_text("no times here\n")
    refused = run("lyrics", "set", rec_id, str(bad), *lib, ok=False)
    assert refused.exit_code == 1 and "line 1" in refused.stderr

    xspf = tmp_path / "s01.xspf"
    run("export", "playlist", "--show", "Soundtrack", "--season", "1", "--format", "xspf", "-o", str(xspf), *lib)
    titles = [t.text for t in ET.parse(xspf).getroot().iter(f"{{{XSPF_NS}}}title")]
    assert titles == ["Soundtrack season 1", "track1", "track3"]
    m3u = run("export", "playlist", "--episode", str(ep["id"]), *lib).stdout
    assert m3u.startswith("#EXTM3U\n") and m3u.count("#EXTINF:") == 2 and "track1.flac" in m3u

    unknown = run("episode", "add", "--show", "Nope", "--season", "1", "--number", "1", *lib, ok=False)
    assert unknown.exit_code == 1 and "no show titled 'Nope'" in unknown.stderr


def test_token_commands_on_both_databases(database_url: str, tmp_path: Path) -> None:
    db = ("--library", str(tmp_path / "lib"), "--database-url", database_url)
    token = run("token", "create", "editor", *db).stdout.strip()
    assert token.startswith("st_")
    listed = json.loads(run("token", "list", *db, "--json").stdout)
    assert [t["name"] for t in listed] == ["editor"] and token not in json.dumps(listed)
    assert "editor" in run("token", "list", *db).stdout
    run("token", "revoke", "editor", *db)
    gone = run("token", "revoke", "editor", *db, ok=False)
    assert gone.exit_code == 1 and "no token named 'editor'" in gone.stderr
    run("show", "add", "Soundtrack", *db)
    assert json.loads(run("show", "list", *db, "--json").stdout)["items"][0]["title"] == "Soundtrack"


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run("show", "list", "--database-url", "postgresql://u:secret@127.0.0.1:1/db", ok=False)
    assert result.exit_code == 1 and "cannot open the catalog" in result.stderr and "secret" not in result.stderr
