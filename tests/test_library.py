"""The Library API: add, identify (clean, noisy, unknown), duplicates, remove, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, synth_music, write_audio

from soundtrack import FingerprintParams, IndexMismatchError, Library, NotFoundError, UnusableAudioError


def excerpt(y: np.ndarray, start_s: float, dur_s: float) -> np.ndarray:
    return y[int(start_s * SR) : int((start_s + dur_s) * SR)]


@pytest.mark.parametrize("index", range(5))
def test_clean_excerpt_is_found_at_its_offset(built_library: Path, track_signal, index: int) -> None:
    lib = Library(built_library)
    start = 3.3 + 2.1 * index
    matches = lib.identify(excerpt(track_signal(index), start, 5.0), sample_rate=SR)
    assert matches, "no match"
    assert Path(matches[0].recording.path).stem == f"track{index}"
    assert matches[0].offset_s == pytest.approx(start, abs=0.1)
    assert 0 < matches[0].confidence <= 1


def test_noisy_excerpt_is_found(built_library: Path, track_signal, rng: np.random.Generator) -> None:
    lib = Library(built_library)
    clip = excerpt(track_signal(2), 10.0, 5.0)
    noisy = clip + rng.standard_normal(clip.size).astype(np.float32) * clip.std() * 0.3  # ~10 dB SNR
    matches = lib.identify(noisy, sample_rate=SR)
    assert matches and Path(matches[0].recording.path).stem == "track2"
    assert matches[0].offset_s == pytest.approx(10.0, abs=0.1)


def test_a_file_clip_in_another_format_is_found(built_library: Path, track_signal, tmp_path: Path) -> None:
    clip = write_audio(tmp_path / "phone.m4a", excerpt(track_signal(4), 12.0, 4.0))
    matches = Library(built_library).identify(clip)
    assert matches and Path(matches[0].recording.path).stem == "track4"


def test_unknown_music_is_not_matched(built_library: Path) -> None:
    lib = Library(built_library)
    for seed in range(900, 905):
        assert lib.identify(synth_music(seed, 6.0), sample_rate=SR) == []


def test_silence_matches_nothing(built_library: Path) -> None:
    assert Library(built_library).identify(np.zeros(SR * 5, np.float32), sample_rate=SR) == []


def test_too_short_query_is_an_error(built_library: Path) -> None:
    with pytest.raises(UnusableAudioError, match="too short"):
        Library(built_library).identify(np.zeros(SR // 4, np.float32), sample_rate=SR)


def test_two_songs_at_once_are_both_reported(built_library: Path, track_signal) -> None:
    mix = excerpt(track_signal(0), 5.0, 6.0) + excerpt(track_signal(1), 9.0, 6.0)
    stems = {Path(m.recording.path).stem for m in Library(built_library).identify(mix, sample_rate=SR)}
    assert {"track0", "track1"} <= stems


def test_metadata_falls_back_to_file_name(built_library: Path) -> None:
    titles = sorted(r.title for r in Library(built_library).recordings())
    assert titles == [f"track{i}" for i in range(5)]


def test_stats(built_library: Path) -> None:
    s = Library(built_library).stats()
    assert s.recordings == 5
    assert s.hours == pytest.approx(5 * 24 / 3600, rel=0.02)
    assert s.index_bytes > 0 and s.mb_per_hour < 20


@pytest.fixture
def fresh_library(tmp_path: Path, built_library: Path) -> Library:
    """A private copy of the built library, free to change."""
    path = tmp_path / "lib"
    shutil.copytree(built_library, path)
    return Library(path)


def test_re_adding_is_a_no_op(fresh_library: Library, music_dir: Path) -> None:
    report = fresh_library.add([music_dir])
    assert report.added == [] and len(report.unchanged) == 5


def test_same_bytes_under_another_name_is_a_duplicate(fresh_library: Library, music_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "renamed.flac"
    shutil.copy(music_dir / "track1.flac", copy)
    report = fresh_library.add([copy])
    assert report.added == [] and report.duplicates[0].how == "same file content"
    assert report.duplicates[0].existing.title == "track1"


def test_a_changed_file_is_replaced(tmp_path: Path, track_signal) -> None:
    path = write_audio(tmp_path / "song.flac", track_signal(0))
    lib = Library(tmp_path / "lib")
    lib.add([path])
    write_audio(path, synth_music(4242, 20.0))  # same name, other music
    report = lib.add([path])
    assert len(report.added) == 1 and lib.stats().recordings == 1
    assert lib.identify(excerpt(track_signal(0), 5.0, 5.0), sample_rate=SR) == []
    assert lib.identify(excerpt(synth_music(4242, 20.0), 5.0, 5.0), sample_rate=SR)


def test_two_copies_in_one_call_add_once(tmp_path: Path, music_dir: Path) -> None:
    (tmp_path / "in").mkdir()
    shutil.copy(music_dir / "track0.wav", tmp_path / "in" / "a.wav")
    shutil.copy(music_dir / "track0.wav", tmp_path / "in" / "b.wav")
    report = Library(tmp_path / "lib").add([tmp_path / "in"])
    assert [Path(r.path).name for r in report.added] == ["a.wav"]
    assert [Path(d.path).name for d in report.duplicates] == ["b.wav"]


def test_re_encoded_audio_is_a_duplicate(fresh_library: Library, track_signal, tmp_path: Path) -> None:
    other = write_audio(tmp_path / "same-song.mkv", track_signal(3))
    report = fresh_library.add([other])
    assert report.added == [] and report.duplicates[0].how == "same audio"
    assert report.duplicates[0].existing.title == "track3"


def test_remove(fresh_library: Library, track_signal) -> None:
    victim = next(r for r in fresh_library.recordings() if r.title == "track2")
    fresh_library.remove(victim.id)
    assert fresh_library.identify(excerpt(track_signal(2), 4.0, 5.0), sample_rate=SR) == []
    assert fresh_library.identify(excerpt(track_signal(3), 4.0, 5.0), sample_rate=SR)
    with pytest.raises(NotFoundError):
        fresh_library.recording(victim.id)


def test_a_removed_recordings_id_is_never_reused(tmp_path: Path, track_signal) -> None:
    with Library(tmp_path / "lib") as lib:
        for i in (0, 1):
            write_audio(tmp_path / f"song{i}.wav", track_signal(i))
            lib.add([tmp_path / f"song{i}.wav"])
        newest = max(r.id for r in lib.recordings())
        lib.remove(newest)
        write_audio(tmp_path / "song2.wav", track_signal(2))
        (added,) = lib.add([tmp_path / "song2.wav"]).added
        assert added.id > newest


def test_bad_files_are_reported_and_the_batch_goes_on(fresh_library: Library, tmp_path: Path) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "corrupt.ogg").write_bytes(b"OggS" + bytes(range(256)) * 20)
    write_audio(tmp_path / "silent.wav", np.zeros(SR * 5, np.float32))
    write_audio(tmp_path / "short.wav", synth_music(7, 0.5))
    write_audio(tmp_path / "good.flac", synth_music(8, 12.0))
    report = fresh_library.add([tmp_path])
    assert [Path(r.path).name for r in report.added] == ["good.flac"]
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert set(reasons) == {"empty.mp3", "corrupt.ogg", "silent.wav", "short.wav"}
    assert "empty" in reasons["empty.mp3"]
    assert "silent" in reasons["silent.wav"]
    assert "too short" in reasons["short.wav"]
    assert fresh_library.stats().recordings == 6


def test_parallel_add_matches_serial(tmp_path: Path, music_dir: Path, track_signal) -> None:
    lib = Library(tmp_path / "par")
    report = lib.add([music_dir], jobs=2)
    assert len(report.added) == 5
    m = lib.identify(excerpt(track_signal(1), 7.0, 5.0), sample_rate=SR)
    assert m and m[0].recording.title == "track1"


def test_compaction_keeps_every_recording(tmp_path: Path, music_dir: Path, track_signal) -> None:
    lib = Library(tmp_path / "many")
    for f in sorted(music_dir.iterdir()):
        lib.add([f])
    assert lib.stats().segments == 5
    victim = next(r for r in lib.recordings() if r.title == "track0")
    with lib.store.write_lock():
        lib.store.remove([victim.id])
        lib.store.compact()
    assert lib.stats().segments == 1
    assert lib.identify(excerpt(track_signal(0), 5.0, 5.0), sample_rate=SR) == []
    for i in range(1, 5):
        m = lib.identify(excerpt(track_signal(i), 6.0, 5.0), sample_rate=SR)
        assert m and m[0].recording.title == f"track{i}" and m[0].offset_s == pytest.approx(6.0, abs=0.1)


def test_other_parameters_cannot_open_the_library(built_library: Path) -> None:
    with pytest.raises(IndexMismatchError, match="parameters"):
        Library(built_library, params=FingerprintParams(fan_out=4))
