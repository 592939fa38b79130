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
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, synth_music, write_audio
from typer.testing import CliRunner

from soundtrack import Library, Soundtrack
from soundtrack.cli import app
from soundtrack.errors import AudioError, DecodeError
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
    ("track4", 57.0, 69.0, 4.0, 0.5),  # half-hidden by track3: its edges are found by listening
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


def test_quiet_background_song_is_found_whole(soundtrack: Soundtrack) -> None:
    c = _cue(soundtrack, "track0")
    assert abs(c.episode_start_s - 72.0) < 0.5 and abs(c.episode_end_s - 88.0) < 0.5
    assert not c.partial_start  # it starts 2 s into the recording


def test_usage_follows_the_music_to_dialogue_balance(soundtrack: Soundtrack) -> None:
    quiet, loud = _cue(soundtrack, "track0"), _cue(soundtrack, "track1")  # 15 dB under / over dialogue
    assert not quiet.foreground and quiet.usage == "BI" and quiet.balance_db < -7.5
    assert loud.foreground and loud.usage == "FI" and loud.balance_db > 0


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


@pytest.mark.parametrize("speed", [0.93, 1.06])
def test_other_speeds_are_found_when_asked_for(built_library: Path, track_signal, tmp_path: Path,
                                               speed: float) -> None:
    """A song sped up or slowed down (tempo and pitch together) beyond PAL: found with
    ``max_speed_change``, at its speed to within half the 1 % step."""
    from scipy.signal import resample_poly

    changed = resample_poly(_cut(track_signal(1), 3, 21), 1000, round(1000 * speed)).astype(np.float32)
    mix = speech_like(30.0, 11)
    _place(mix, changed, 5.0)
    episode = write_audio(tmp_path / "fast.m4a", mix / max(1.0, np.abs(mix).max() / 0.9))
    with Library(built_library) as lib:
        plain = lib.scan(episode)
        wide = lib.scan(episode, max_speed_change=0.08)
    assert "track1" not in [c.recording.title for c in plain.cues]
    assert [c.recording.title for c in wide.cues] == ["track1"]
    c = wide.cues[0]
    assert abs(c.speed - speed) <= 0.005 + 1e-9
    assert abs(c.episode_start_s - 5.0) < 0.5 and abs(c.recording_start_s - 3.0) < 0.5


def _scan_wide(built_library: Path, tmp_path: Path, music: np.ndarray, at_s: float) -> tuple[Soundtrack, Soundtrack]:
    """Scans (plain, and with ``max_speed_change=0.08``) of dialogue with ``music`` at ``at_s``."""
    mix = speech_like(40.0, 12)
    _place(mix, music, at_s)
    episode = write_audio(tmp_path / "changed.m4a", mix / max(1.0, np.abs(mix).max() / 0.9))
    with Library(built_library) as lib:
        return lib.scan(episode), lib.scan(episode, max_speed_change=0.08)


@pytest.mark.parametrize("tempo", [0.94, 1.07])
def test_tempo_changes_are_found_when_asked_for(built_library: Path, tmp_path: Path, tempo: float) -> None:
    """A song sped up or slowed down with its pitch kept: found with ``max_speed_change``, its
    tempo to within half the 1 % step, its pitch unchanged, times in the recording's own time."""
    piece = synth_music(103, 24.0 / tempo, tempo=tempo)  # track3's notes, played `tempo` times faster
    plain, wide = _scan_wide(built_library, tmp_path, _cut(piece, 2 / tempo, 20 / tempo), 5.0)
    assert "track3" not in [c.recording.title for c in plain.cues]
    assert [c.recording.title for c in wide.cues] == ["track3"]
    c = wide.cues[0]
    assert c.change == "tempo" and c.pitch == 1.0
    assert abs(c.speed - tempo) <= 0.005 + 1e-9
    assert abs(c.episode_start_s - 5.0) < 0.5 and abs(c.recording_start_s - 2.0) < 0.5
    assert abs(c.recording_end_s - 20.0) < 1.0  # edges from the landmarks alone: nothing to listen to


@pytest.mark.parametrize("pitch", [0.95, 1.048])
def test_pitch_shifts_are_found_when_asked_for(built_library: Path, tmp_path: Path, pitch: float) -> None:
    """A song shifted in pitch with its tempo kept: found with ``max_speed_change``, its pitch to
    within half the 1 % step (not whole semitones: see tests/test_warp.py)."""
    from scipy.signal import resample_poly

    slower = synth_music(101, 24.0 * pitch, tempo=1 / pitch)  # track1, `pitch` times slower, pitch kept
    shifted = resample_poly(slower, 1000, round(1000 * pitch)).astype(np.float32)  # back in time, new pitch
    plain, wide = _scan_wide(built_library, tmp_path, _cut(shifted, 3, 21), 5.0)
    assert "track1" not in [c.recording.title for c in plain.cues]
    assert [c.recording.title for c in wide.cues] == ["track1"]
    c = wide.cues[0]
    assert c.change == "pitch" and c.speed == 1.0
    assert abs(c.pitch - pitch) <= 0.005 + 1e-9
    # edges from the landmarks alone (resampling cannot replay a pitch shift to listen to it)
    assert abs(c.episode_start_s - 5.0) < 1.0 and abs(c.recording_start_s - 3.0) < 1.0


CUE_SHEET_FIELDS = {"title", "artist", "composer", "publisher", "usage", "timecode_in", "timecode_out", "duration"}


def test_exports_carry_every_cue_sheet_field(soundtrack: Soundtrack, tmp_path: Path) -> None:
    data = json.loads(soundtrack.to_json(tmp_path / "cues.json", fps=24).read_text())
    assert len(data["cues"]) == 5 and data["fps"] == 24
    assert CUE_SHEET_FIELDS | {"number", "episode_start_s", "overlaps", "prominence"} <= set(data["cues"][0])
    with soundtrack.to_csv(tmp_path / "cues.csv", fps=24).open() as f:
        rows = list(csv.DictReader(f))
    assert CUE_SHEET_FIELDS | {"cue"} <= set(rows[0])
    for row, cue in zip(rows, soundtrack.cues, strict=True):
        assert row["cue"] == str(cue.number) and row["title"] == cue.recording.title
        assert row["usage"] == cue.usage and row["prominence"] == cue.prominence
        assert row["timecode_in"] == timecode(cue.episode_start_s, 24)
        assert row["duration"] == timecode(cue.duration_s, 24)
    assert {r["usage"] for r in rows} == {"BI", "FI"}
    png = soundtrack.plot(tmp_path / "cues.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tags_fill_the_cue_sheet(soundtrack: Soundtrack, tmp_path: Path) -> None:
    """Composer and publisher read from a file's tags reach the cue sheet."""
    from mutagen.easyid3 import EasyID3

    from soundtrack.metadata import read_tags

    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes(Path(_cue(soundtrack, "track2").recording.path).read_bytes())
    tags = EasyID3()
    tags.update({"title": "Song", "artist": "Band", "composer": "Writer", "organization": "Label"})
    tags.save(tagged)
    read = read_tags(tagged)
    cue = _cue(soundtrack, "track2")
    cue = dataclasses.replace(cue, recording=dataclasses.replace(
        cue.recording, **{k: read[k] for k in ("title", "artist", "composer", "publisher")}))
    sheet = Soundtrack(path="x.mkv", duration_s=90.0, cues=[cue])
    with sheet.to_csv(tmp_path / "cues.csv").open() as f:
        row = next(csv.DictReader(f))
    assert (row["title"], row["artist"], row["composer"], row["publisher"]) == ("Song", "Band", "Writer", "Label")
    assert sheet.to_dict()["cues"][0]["publisher"] == "Label"


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


def _video_only(path: Path, seconds: float = 3.0) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(int(seconds * 10)):
            img = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            out.mux(stream.encode(img))
        out.mux(stream.encode(None))
    return path


def test_a_video_without_audio_is_a_clear_error(built_library: Path, tmp_path: Path) -> None:
    with Library(built_library) as lib, pytest.raises(DecodeError, match="has no audio stream"):
        lib.scan(_video_only(tmp_path / "silent_film.mp4"))


def test_a_song_after_minutes_of_silence(built_library: Path, track_signal, tmp_path: Path) -> None:
    mix = np.zeros(int(150 * SR), np.float32)
    _place(mix, track_signal(1), 120.0)
    with Library(built_library) as lib:
        result = lib.scan(write_audio(tmp_path / "late.flac", mix))
    assert [c.recording.title for c in result.cues] == ["track1"]
    assert abs(result.cues[0].episode_start_s - 120.0) < 0.5 and abs(result.duration_s - 150.0) < 0.1


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


def test_cli_scan_bad_files_fail_cleanly_and_the_rest_is_scanned(built_library: Path, episode: Path,
                                                                   tmp_path: Path) -> None:
    bad = tmp_path / "nope.mkv"
    bad.write_bytes(b"\x00" * 100)
    video = _video_only(tmp_path / "no_sound.mp4")
    result = CliRunner().invoke(app, ["scan", str(bad), str(video), str(episode), "--library", str(built_library)])
    assert result.exit_code == 1
    assert "nope.mkv" in result.stderr and "no_sound.mp4: has no audio stream" in result.stderr
    assert "track1" in result.stdout


def test_a_recording_sharing_audio_with_the_one_playing_is_not_a_cue(tmp_path: Path) -> None:
    """B begins with A's first 8 s (a re-used intro): only A, which is playing, is reported."""
    a = synth_music(500, 24.0)
    b = np.concatenate([a[: 8 * SR], synth_music(501, 28.0)])
    music = tmp_path / "music"
    music.mkdir()
    write_audio(music / "a.wav", a)
    write_audio(music / "b.wav", b)
    mix = 0.01 * np.random.default_rng(4).standard_normal(40 * SR).astype(np.float32)
    _place(mix, a, 5.0)
    with Library(tmp_path / "lib") as lib:
        assert len(lib.add([music]).added) == 2
        result = lib.scan(write_audio(tmp_path / "ep.flac", mix))
    assert [c.recording.title for c in result.cues] == ["a"]
