"""Scanning a synthetic episode: songs found with their boundaries, flags and overlaps; exports; CLI.

The episode (90 s, 22050 Hz) is dialogue-like sound throughout, with

* 8–20 s: unindexed "score" music (must not be reported),
* 22–46 s: track1 whole,
* 48–54 s: track2 from 7 s to 13 s (starts mid-recording, cut off),
* 57–69 s: track3 (0–12 s) and track4 (4–16 s) mashed together,
* 72–88 s: track0 (2–18 s) 15 dB under the dialogue level.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, synth_music, write_audio
from typer.testing import CliRunner

from soundtrack import Library, Soundtrack
from soundtrack.cli import app
from soundtrack.errors import AudioError
from soundtrack.export import lanes, timecode

DIALOGUE_RMS = 0.06


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Dialogue-like sound: sentences of voiced syllables (gliding harmonics + breath noise) with
    pauses, at :data:`DIALOGUE_RMS` while talking."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n)
    t = rng.uniform(0, 1)
    while t < seconds:
        end_sentence = t + rng.uniform(1.0, 3.0)
        while t < min(end_sentence, seconds):
            dur = rng.uniform(0.12, 0.3)
            a, b = int(t * SR), min(n, int((t + dur) * SR))
            tt = np.arange(b - a) / SR
            f0 = rng.uniform(110, 220) * (1 + rng.uniform(-0.2, 0.2) * tt / dur)
            phase = 2 * np.pi * np.cumsum(f0) / SR
            syllable = sum(np.sin(h * phase) / h for h in range(1, 12)) + 0.3 * rng.standard_normal(b - a)
            y[a:b] += syllable * np.hanning(b - a)
            t += dur + rng.uniform(0.03, 0.12)
        t += rng.uniform(0.4, 2.0)
    active = y[np.abs(y) > 1e-3]
    return (y / np.sqrt(np.mean(active**2)) * DIALOGUE_RMS).astype(np.float32)


def _place(mix: np.ndarray, y: np.ndarray, at_s: float, gain: float = 1.0) -> None:
    a = int(at_s * SR)
    mix[a : a + y.size] += gain * y[: mix.size - a]


def _cut(y: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    return y[int(start_s * SR) : int(end_s * SR)]


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory, track_signal) -> Path:
    mix = speech_like(90.0, 5)
    _place(mix, synth_music(900, 12.0), 8.0, 0.5)
    _place(mix, track_signal(1), 22.0)
    _place(mix, _cut(track_signal(2), 7, 13), 48.0)
    _place(mix, _cut(track_signal(3), 0, 12), 57.0, 0.7)
    _place(mix, _cut(track_signal(4), 4, 16), 57.0, 0.7)
    quiet = _cut(track_signal(0), 2, 18)
    _place(mix, quiet, 72.0, DIALOGUE_RMS * 10 ** (-15 / 20) / np.sqrt(np.mean(quiet**2)))
    mix /= max(1.0, np.abs(mix).max() / 0.9)
    return write_audio(tmp_path_factory.mktemp("episode") / "episode.m4a", mix)


@pytest.fixture(scope="module")
def soundtrack(built_library: Path, episode: Path) -> Soundtrack:
    with Library(built_library) as lib:
        return lib.scan(episode)


def _cue(soundtrack: Soundtrack, title: str):
    found = [c for c in soundtrack.cues if c.recording.title == title]
    assert len(found) == 1, [(c.recording.title, c.episode_start_s) for c in soundtrack.cues]
    return found[0]


def test_every_song_once_and_no_score(soundtrack: Soundtrack) -> None:
    titles = sorted(c.recording.title for c in soundtrack.cues)
    assert titles == ["track0", "track1", "track2", "track3", "track4"]
    assert not any(c.episode_start_s < 20 for c in soundtrack.cues)  # the score is not a song
    assert [c.number for c in soundtrack.cues] == [1, 2, 3, 4, 5]
    assert abs(soundtrack.duration_s - 90.0) < 0.1


@pytest.mark.parametrize(("title", "start", "end", "rec_start", "tol"), [
    ("track1", 22.0, 46.0, 0.0, 0.5),
    ("track2", 48.0, 54.0, 7.0, 0.5),
    ("track3", 57.0, 69.0, 0.0, 0.5),
    ("track4", 57.0, 69.0, 4.0, 1.5),  # half-hidden by track3: its landmark edges are less sharp
])
def test_boundaries(soundtrack: Soundtrack, title: str, start: float, end: float, rec_start: float,
                    tol: float) -> None:
    c = _cue(soundtrack, title)
    assert abs(c.episode_start_s - start) < tol
    assert abs(c.episode_end_s - end) < tol
    assert abs(c.recording_start_s - rec_start) < tol
    assert abs((c.recording_end_s - c.recording_start_s) - c.duration_s) < 0.1
    assert c.speed == 1.0 and 0.5 < c.confidence <= 1.0


def test_flags_and_overlaps(soundtrack: Soundtrack) -> None:
    full, cut, mash_a, mash_b = (_cue(soundtrack, f"track{i}") for i in (1, 2, 3, 4))
    assert not full.interrupted and not full.partial_start and not full.overlaps
    assert cut.interrupted and cut.partial_start
    assert mash_a.overlaps == [mash_b.number] and mash_b.overlaps == [mash_a.number]
    assert mash_a.interrupted and not mash_a.partial_start


def test_quiet_background_song_is_found_inside_its_span(soundtrack: Soundtrack) -> None:
    c = _cue(soundtrack, "track0")
    assert 71.5 < c.episode_start_s < c.episode_end_s < 88.5 and c.duration_s > 4
    assert not c.partial_start and c.usage == "BI"  # it starts 2 s into the recording
    assert _cue(soundtrack, "track1").foreground and not c.foreground


def test_pal_speed_up_is_found_with_its_speed(built_library: Path, track_signal, tmp_path: Path) -> None:
    """A song played 25/24 times faster (tempo and pitch, as a PAL transfer does)."""
    from scipy.signal import resample_poly

    fast = resample_poly(_cut(track_signal(2), 3, 21), 24, 25).astype(np.float32)  # 18 s -> 17.28 s
    mix = speech_like(30.0, 9)
    _place(mix, fast, 6.0)
    with Library(built_library) as lib:
        result = lib.scan(write_audio(tmp_path / "pal.m4a", mix / max(1.0, np.abs(mix).max() / 0.9)))
    assert [c.recording.title for c in result.cues] == ["track2"]
    c = result.cues[0]
    assert abs(c.speed - 25 / 24) < 1e-3
    assert abs(c.episode_start_s - 6.0) < 0.5 and abs(c.episode_end_s - (6.0 + 18 * 24 / 25)) < 0.5
    assert abs(c.recording_start_s - 3.0) < 0.5 and abs(c.recording_end_s - 21.0) < 0.5


def test_exports(soundtrack: Soundtrack, tmp_path: Path) -> None:
    data = json.loads(soundtrack.to_json(tmp_path / "cues.json").read_text())
    assert len(data["cues"]) == 5 and {"title", "episode_start_s", "overlaps", "usage"} <= set(data["cues"][0])
    with soundtrack.to_csv(tmp_path / "cues.csv", fps=25).open() as f:
        rows = list(csv.DictReader(f))
    first = soundtrack.cues[0]
    assert rows[0]["title"] == first.recording.title and rows[0]["usage"] == "BI"
    assert rows[0]["timecode_in"] == timecode(first.episode_start_s, 25)
    png = soundtrack.plot(tmp_path / "cues.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overlapping_cues_get_their_own_plot_lanes(soundtrack: Soundtrack) -> None:
    lane = dict(zip((c.recording.title for c in soundtrack.cues), lanes(soundtrack.cues), strict=True))
    assert lane["track3"] != lane["track4"] and lane["track1"] == 0


def test_timecode() -> None:
    assert timecode(3723.5, 25) == "01:02:03:12"
    assert timecode(59.99, 24) == "00:00:59:23"


def test_progress_reports_seconds_and_speed(built_library: Path, tmp_path: Path) -> None:
    clip = write_audio(tmp_path / "short.wav", synth_music(55, 30.0))
    calls: list[tuple[float, float]] = []
    with Library(built_library) as lib:
        result = lib.scan(clip, progress=lambda done, speed: calls.append((done, speed)))
    assert result.cues == []
    assert calls and abs(calls[-1][0] - 30.0) < 0.1 and all(speed > 0 for _, speed in calls)


def test_silence_gives_an_empty_soundtrack(built_library: Path, tmp_path: Path) -> None:
    silent = write_audio(tmp_path / "silent.wav", np.zeros(20 * SR, np.float32))
    with Library(built_library) as lib:
        result = lib.scan(silent)
    assert result.cues == [] and abs(result.duration_s - 20) < 0.1


def test_bad_input_raises_audio_error(built_library: Path, tmp_path: Path, episode: Path) -> None:
    truncated = tmp_path / "truncated.m4a"
    truncated.write_bytes(episode.read_bytes()[: 2000])
    garbage = tmp_path / "garbage.mkv"
    garbage.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 3000)
    with Library(built_library) as lib:
        for bad in (truncated, garbage, tmp_path / "missing.mp4"):
            with pytest.raises(AudioError):
                lib.scan(bad)


def test_truncated_file_keeps_what_decodes(built_library: Path, tmp_path: Path, episode: Path) -> None:
    data = episode.read_bytes()
    cut = tmp_path / "half.m4a"
    cut.write_bytes(data[: len(data) // 2])
    with Library(built_library) as lib:
        try:
            result = lib.scan(cut)
        except AudioError:
            return  # an MP4 without its index cannot be read: a clear error is fine
    assert result.duration_s <= 90


def test_cli_scan_writes_everything(built_library: Path, episode: Path, tmp_path: Path) -> None:
    out = {ext: tmp_path / f"out.{ext}" for ext in ("json", "csv", "png")}
    result = CliRunner().invoke(app, ["scan", str(episode), "--library", str(built_library),
                                      "--json", str(out["json"]), "--csv", str(out["csv"]),
                                      "--plot", str(out["png"]), "--fps", "24"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "track1" in result.stdout
    assert len(json.loads(out["json"].read_text())["cues"]) == 5
    assert all(p.stat().st_size > 0 for p in out.values())


def test_cli_scan_bad_file_fails_cleanly(built_library: Path, tmp_path: Path) -> None:
    bad = tmp_path / "nope.mkv"
    bad.write_bytes(b"\x00" * 100)
    result = CliRunner().invoke(app, ["scan", str(bad), "--library", str(built_library)])
    assert result.exit_code == 1 and "nope.mkv" in result.stderr
