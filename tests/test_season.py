"""A season: one report per episode and a summary of songs, minutes of music and recurring songs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, write_audio
from typer.testing import CliRunner

from soundtrack.cli import app
from soundtrack.export import Cue, Soundtrack
from soundtrack.models import Recording
from soundtrack.season import summarize


def _cue(number: int, rec: Recording, start: float, end: float, foreground: bool = True) -> Cue:
    return Cue(number=number, recording=rec, episode_start_s=start, episode_end_s=end, recording_start_s=0.0,
               recording_end_s=end - start, score=50, confidence=0.99, foreground=foreground)


def test_summary_counts_minutes_once_and_finds_recurring_songs(tmp_path: Path) -> None:
    a, b = Recording(1, "/a.ogg", "A", 200.0), Recording(2, "/b.ogg", "B", 200.0)
    ep1 = Soundtrack("s1/e01.mkv", 600.0, [_cue(1, a, 0, 60), _cue(2, b, 30, 90, foreground=False)])
    ep2 = Soundtrack("s1/e02.mkv", 600.0, [_cue(1, a, 100, 130)])
    season = summarize([ep1, ep2], show="Show", season=1)
    assert [e.name for e in season.episodes] == ["e01", "e02"]
    assert season.episodes[0].music_s == 90.0  # overlapping cues count once
    assert season.episodes[0].foreground_cues == 1 and season.episodes[1].songs == 1
    assert [s.recording.title for s in season.songs] == ["A", "B"] and season.songs[0].seconds == 90.0
    assert [s.recording.title for s in season.recurring] == ["A"]
    data = season.to_dict()
    assert data["show"] == "Show" and data["season"] == 1 and data["songs_in_several_episodes"] == ["A"]
    assert data["music_min"] == 2.0
    episodes_csv, songs_csv = season.to_csv(tmp_path / "e.csv", tmp_path / "s.csv")
    with episodes_csv.open() as f:
        assert [r["music_min"] for r in csv.DictReader(f)] == ["1.5", "0.5"]
    with songs_csv.open() as f:
        first = next(csv.DictReader(f))
    assert first["title"] == "A" and first["episodes"] == "e01; e02" and first["in_several_episodes"] == "True"


@pytest.fixture(scope="module")
def season_dir(tmp_path_factory: pytest.TempPathFactory, track_signal) -> Path:
    """Two 40 s episodes: track1 in both, track2 in the second only."""
    d = tmp_path_factory.mktemp("season1")
    rng = np.random.default_rng(3)
    for name, tracks in (("S01E01", [1]), ("S01E02", [1, 2])):
        mix = 0.01 * rng.standard_normal(40 * SR).astype(np.float32)
        for k, i in enumerate(tracks):
            y = track_signal(i)[: 16 * SR]
            mix[(2 + 20 * k) * SR : (2 + 20 * k) * SR + y.size] += y
        write_audio(d / f"{name}.mkv", mix)
    return d


def test_cli_writes_a_report_per_episode_and_the_season_summary(built_library: Path, season_dir: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "out"
    episodes = sorted(season_dir.glob("*.mkv"))
    result = CliRunner().invoke(app, ["scan", *map(str, episodes), "--library", str(built_library),
                                      "--show", "Soundtrack", "--season", "1", "--out", str(out), "--fps", "24"])
    assert result.exit_code == 0, result.output
    for name in ("S01E01", "S01E02"):
        assert {p.name for p in out.glob(f"{name}.*")} == {f"{name}.json", f"{name}.csv", f"{name}.png"}
    season = json.loads((out / "season.json").read_text())
    assert season["show"] == "Soundtrack" and season["season"] == 1
    assert [e["cues"] for e in season["episodes"]] == [1, 2]
    assert season["songs_in_several_episodes"] == ["track1"]
    assert abs(season["episodes"][1]["music_min"] - 32 / 60) < 0.05
    with (out / "season-songs.csv").open() as f:
        assert [r["title"] for r in csv.DictReader(f)] == ["track1", "track2"]
    assert json.loads((out / "S01E02.json").read_text())["fps"] == 24
    assert "in 2 episodes: track1" in result.stdout
