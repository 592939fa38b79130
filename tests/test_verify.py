"""Verification: a candidate the landmarks rank but do not accept is confirmed by the recording's peaks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, synth_music, write_audio

from soundtrack import Library, verify
from soundtrack.audio import resample
from soundtrack.fingerprint import Peaks
from soundtrack.fingerprint.peaks import find_peaks
from soundtrack.match import Hits
from soundtrack.params import DEFAULT_PARAMS
from soundtrack.verify import (
    MIN_Z,
    NULL_SHIFTS,
    Coincidence,
    Evidence,
    coincidence,
    dense_peak_params,
    evidence,
    query_features,
    resolutions,
)

N_BINS = 219


def random_peaks(rng: np.random.Generator, n: int, frames: int) -> Peaks:
    frame = np.sort(rng.integers(0, frames, n)).astype(np.int32)
    return Peaks(frame, rng.integers(20, 218, n).astype(np.int32), np.zeros(n, np.float32))


def test_peaks_that_survive_at_the_alignment_stand_out(rng: np.random.Generator) -> None:
    reference = random_peaks(rng, 2000, 3000)
    inside = (reference.frame >= 1000) & (reference.frame < 1300)
    keep = inside & (rng.random(reference.frame.size) < 0.3)  # a phone keeps about a quarter
    moved = rng.integers(0, 3, int(keep.sum()))  # and moves them a frame or two later
    survivors = Peaks(reference.frame[keep] - 1000 + moved, reference.bin[keep], reference.level[keep])
    noise = random_peaks(rng, 150, 300)
    query = Peaks.concat([survivors, noise])
    order = np.argsort(query.frame, kind="stable")
    query = Peaks(query.frame[order], query.bin[order], query.level[order])
    right = coincidence(query, reference, 1000, N_BINS)
    assert right.found >= survivors.frame.size
    assert right.shifted.size == NULL_SHIFTS.size
    assert right.z > MIN_Z
    assert coincidence(query, reference, 1500, N_BINS).z < MIN_Z / 2


def test_unrelated_peaks_are_not_confirmed(rng: np.random.Generator) -> None:
    reference = random_peaks(rng, 2000, 3000)
    zs = [coincidence(random_peaks(rng, 300, 300), reference, off, N_BINS).z for off in range(200, 2600, 200)]
    assert max(zs) < MIN_Z / 2


def test_an_empty_query_finds_nothing(rng: np.random.Generator) -> None:
    assert coincidence(Peaks.empty(), random_peaks(rng, 100, 300), 0, N_BINS).found == 0


@pytest.fixture
def strict_library(built_library: Path, tmp_path: Path) -> Path:
    """A copy of the test library (its recordings' files stay where they are)."""
    copy = tmp_path / "library"
    shutil.copytree(built_library, copy)
    return copy


def test_a_clip_below_the_threshold_is_confirmed_by_its_recording(strict_library: Path, track_signal) -> None:
    clip = track_signal(3)[int(7.0 * SR) : int(12.0 * SR)]
    with Library(strict_library, min_score=10_000) as lib:  # no landmark score is ever enough
        matches = lib.identify(clip, sample_rate=SR)
    assert len(matches) == 1 and matches[0].verified
    assert Path(matches[0].recording.path).stem == "track3"
    assert matches[0].offset_s == pytest.approx(7.0, abs=0.1)
    assert 0.5 <= matches[0].confidence <= 1
    assert matches[0].to_dict()["verified"] is True


def test_plain_matches_are_not_marked_verified(built_library: Path, track_signal) -> None:
    matches = Library(built_library).identify(track_signal(1)[: 5 * SR], sample_rate=SR)
    assert matches and not matches[0].verified


def test_unknown_music_is_not_confirmed(strict_library: Path) -> None:
    with Library(strict_library, min_score=10_000) as lib:
        for seed in range(900, 905):
            assert lib.identify(synth_music(seed, 6.0), sample_rate=SR) == []


def test_a_recording_whose_file_is_gone_is_not_confirmed(tmp_path: Path, track_signal) -> None:
    song = write_audio(tmp_path / "song.flac", track_signal(2))
    with Library(tmp_path / "library", min_score=10_000) as lib:
        lib.add([song])
        song.unlink()
        assert lib.identify(track_signal(2)[int(4 * SR) : int(9 * SR)], sample_rate=SR) == []


def test_the_dense_look_proposes_the_recording_and_its_peaks_confirm_it(strict_library: Path, track_signal,
                                                                       rng: np.random.Generator) -> None:
    clip = track_signal(3)[int(7.0 * SR) : int(12.0 * SR)]
    clip = clip + rng.normal(0.0, 0.5 * float(np.std(clip)), clip.size).astype(np.float32)  # 6 dB SNR
    with Library(strict_library) as lib:
        samples = resample(clip, SR, lib.params.sample_rate)
        snapshot = lib.store.snapshot()
        candidates = verify.candidates(Hits.of(verify.dense_query(samples, lib.params), snapshot))
        best = candidates[0]
        assert Path(snapshot.recording(best.recording_id).path).stem == "track3"
        assert lib.params.frames_to_seconds(best.offset_frames) == pytest.approx(7.0, abs=0.1)
        matches = lib._verified(candidates, query_features(samples, lib.params), 5.0, snapshot, 1, {})
    assert len(matches) == 1 and matches[0].verified and 0.5 <= matches[0].confidence <= 1


def test_dense_peaks_are_a_superset_of_the_index_peaks(track_signal) -> None:
    y = track_signal(2)[: 6 * SR]
    params = DEFAULT_PARAMS
    plain, dense = find_peaks(y, params), find_peaks(y, dense_peak_params(params))
    plain_cells = set(zip(plain.frame.tolist(), plain.bin.tolist()))
    assert plain_cells <= set(zip(dense.frame.tolist(), dense.bin.tolist()))
    assert len(dense) > 1.3 * len(plain)


def test_the_resolutions_keep_the_band_and_the_frames_of_the_index() -> None:
    p = DEFAULT_PARAMS
    short, long = resolutions(p)
    assert (short.n_fft, long.n_fft) == (p.n_fft // 2, 2 * p.n_fft)
    for r in (short, long):
        assert r.hop == p.hop and r.sample_rate == p.sample_rate  # same frames: one alignment for all
        assert r.min_bin * r.bin_hz == pytest.approx(p.min_bin * p.bin_hz, abs=p.bin_hz)
        assert r.max_bin * r.bin_hz == pytest.approx(p.max_bin * p.bin_hz, abs=p.bin_hz)
        assert r.peak_half_bins * r.bin_hz <= p.peak_half_bins * p.bin_hz


def test_evidence_adds_the_resolutions_as_independent_tests() -> None:
    chance = np.full(NULL_SHIFTS.size, 100)  # sd floor: sqrt(100) = 10
    one = Coincidence(150, chance)
    assert one.z == pytest.approx(5.0)
    assert Evidence((one, one)).z == pytest.approx(10 / np.sqrt(2))  # two 5-sigma tests: 7.1 sigma
    assert Evidence((one, Coincidence(100, chance))).z < MIN_Z  # one of them alone is not enough


def test_a_recording_is_confirmed_at_each_resolution(track_signal, rng: np.random.Generator, tmp_path: Path) -> None:
    song = write_audio(tmp_path / "song.flac", track_signal(3))
    clip = track_signal(3)[int(7.0 * SR) : int(12.0 * SR)]
    clip = clip + rng.normal(0.0, 0.3 * float(np.std(clip)), clip.size).astype(np.float32)
    with Library(tmp_path / "library") as lib:
        samples = resample(clip, SR, lib.params.sample_rate)
        offset = round(lib.params.seconds_to_frames(7.0))
        right = evidence(query_features(samples, lib.params), str(song), offset, 5.0, lib.params)
        wrong = evidence(query_features(samples, lib.params), str(song), offset + 600, 5.0, lib.params)
    assert right is not None and wrong is not None
    assert all(part.z > MIN_Z for part in right.parts) and right.z > MIN_Z
    assert wrong.z < MIN_Z / 2
