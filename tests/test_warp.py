"""Speed, tempo and pitch changes: found, with their factors and the offset in the recording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, synth_music
from scipy.signal import resample_poly
from typer.testing import CliRunner

from soundtrack import Library
from soundtrack.cli import app
from soundtrack.library import WIDE_SPEED_CHANGE
from soundtrack.warp import pitch_grid, screens


def _excerpt(y: np.ndarray, start_s: float, length_s: float) -> np.ndarray:
    return y[int(start_s * SR) : int((start_s + length_s) * SR)]


def _played_at(y: np.ndarray, speed: float) -> np.ndarray:
    """``y`` played ``speed`` times faster, pitch and tempo together (a tape or PAL speed-up)."""
    up, down = round(1000 / speed), 1000
    return resample_poly(y, up, down).astype(np.float32)


@pytest.fixture(scope="module")
def lib(built_library: Path):
    with Library(built_library) as library:
        yield library


def _only_match(lib: Library, y: np.ndarray, recording_title: str, **kwargs):
    matches = lib.identify(y, sample_rate=SR, **({"max_speed_change": WIDE_SPEED_CHANGE} | kwargs))
    assert matches, "no match"
    best = matches[0]
    assert best.recording.title == recording_title
    return best


@pytest.mark.parametrize("speed", [0.91, 0.96, 25 / 24, 1.09])
def test_speed_change_is_found_with_its_factor(lib: Library, track_signal, speed: float) -> None:
    clip = _played_at(_excerpt(track_signal(2), 8.0, 6.0 * speed), speed)
    m = _only_match(lib, clip, "track2")
    assert m.speed == pytest.approx(speed, rel=0.005)
    assert m.pitch == pytest.approx(speed, rel=0.01)
    assert m.change == "speed"
    assert m.offset_s == pytest.approx(8.0, abs=0.1)


@pytest.mark.parametrize("tempo", [0.93, 1.07])
def test_tempo_change_is_found_with_pitch_kept(lib: Library, tempo: float) -> None:
    piece = synth_music(103, 24.0 / tempo, tempo=tempo)  # track3's notes, played `tempo` times faster
    m = _only_match(lib, _excerpt(piece, 6.0 / tempo, 6.0), "track3")
    assert m.speed == pytest.approx(tempo, rel=0.005)
    assert m.pitch == pytest.approx(1.0, abs=0.006)
    assert m.change == "tempo"
    assert m.offset_s == pytest.approx(6.0, abs=0.15)


# not whole semitones: the synthetic notes sit on the semitone grid, so a whole-semitone shift
# lands partly on other notes of the same piece
@pytest.mark.parametrize("pitch", [0.95, 1.048])
def test_pitch_shift_is_found_with_tempo_kept(lib: Library, pitch: float) -> None:
    # slower by `pitch` with pitch kept, then played `pitch` times faster: original timing, new pitch
    piece = _played_at(synth_music(101, 24.0 * pitch, tempo=1 / pitch), pitch)
    m = _only_match(lib, _excerpt(piece, 10.0, 6.0), "track1")
    assert m.pitch == pytest.approx(pitch, rel=0.006)
    assert m.speed == pytest.approx(1.0, abs=0.006)
    assert m.change == "pitch"
    assert m.offset_s == pytest.approx(10.0, abs=0.15)


def test_unchanged_audio_reports_factors_of_one(lib: Library, track_signal) -> None:
    m = _only_match(lib, _excerpt(track_signal(4), 5.0, 5.0), "track4")
    assert (m.speed, m.pitch, m.change) == (1.0, 1.0, "none")


def test_the_search_is_off_by_default_and_can_be_narrowed(lib: Library, track_signal) -> None:
    clip = _played_at(_excerpt(track_signal(2), 8.0, 6.3), 1.05)
    assert lib.identify(clip, sample_rate=SR) == []
    assert lib.identify(clip, sample_rate=SR, max_speed_change=0) == []
    assert lib.identify(clip, sample_rate=SR, max_speed_change=0.02) == []
    with pytest.raises(ValueError):
        lib.identify(clip, sample_rate=SR, max_speed_change=0.5)


@pytest.mark.parametrize("speed", [0.92, 1.06])
def test_unknown_music_at_another_speed_is_not_matched(lib: Library, speed: float) -> None:
    unknown = _played_at(synth_music(999, 8.0), speed)
    assert lib.identify(unknown, sample_rate=SR, max_speed_change=WIDE_SPEED_CHANGE) == []


def test_the_screened_grid_covers_the_range() -> None:
    grid = pitch_grid(0.1)
    assert grid.min() == pytest.approx(0.9, abs=0.005) and grid.max() == pytest.approx(1.1, abs=0.005)
    assert not np.any(np.isclose(grid, 1.0))
    steps = np.diff(np.log(np.sort(grid)))
    assert steps.max() < np.log(1.011)  # at most one step (0.5 %) each side of 1, none missing
    assert {t for p, t in screens(0.1) if p == 1.0}  # tempo changes are screened with pitch kept


def test_cli_json_reports_speed_and_pitch(built_library: Path, track_signal, tmp_path: Path) -> None:
    from audiogen import write_audio

    clip = write_audio(tmp_path / "pal.wav", _played_at(_excerpt(track_signal(0), 4.0, 6.3), 25 / 24))
    result = CliRunner().invoke(app, ["identify", str(clip), "--library", str(built_library), "--json",
                                      "--max-speed-change", "0.1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["matched"]
    top = out["matches"][0]
    assert top["title"] == "track0" and top["change"] == "speed"
    assert top["speed"] == pytest.approx(25 / 24, rel=0.005)
    result = CliRunner().invoke(app, ["identify", str(clip), "--library", str(built_library), "--json"])
    assert json.loads(result.output)["matched"] is False
