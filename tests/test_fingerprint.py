"""Peaks and hashes: invariants on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest
from audiogen import synth_music
from scipy.signal import resample_poly

from soundtrack.fingerprint import Fingerprinter, fingerprint
from soundtrack.fingerprint.hashes import Landmarks, check_params, pack, unpack
from soundtrack.params import DEFAULT_PARAMS, FingerprintParams

P = DEFAULT_PARAMS


def music_8k(seed: int, seconds: float) -> np.ndarray:
    return resample_poly(synth_music(seed, seconds), 320, 882).astype(np.float32)


def test_pack_and_unpack_are_inverse() -> None:
    rng = np.random.default_rng(0)
    fields = (rng.integers(0, 256, 500), rng.integers(0, 63, 500), rng.integers(0, 63, 500),
              rng.integers(1, 64, 500), rng.integers(1, 64, 500))
    for got, want in zip(unpack(pack(*fields)), fields):
        np.testing.assert_array_equal(got, want)


def test_streaming_gives_the_same_landmarks_as_one_block() -> None:
    y = music_8k(1, 40.0)
    whole = fingerprint(y, P)
    fp = Fingerprinter(P)
    parts = [fp.push(y[i : i + 12345]) for i in range(0, y.size, 12345)] + [fp.flush()]
    streamed = Landmarks.concat(parts)
    assert len(whole) > 1000
    assert sorted(zip(whole.hash.tolist(), whole.frame.tolist())) == sorted(
        zip(streamed.hash.tolist(), streamed.frame.tolist())
    )


def test_an_excerpt_shares_most_landmarks_with_the_whole_at_its_offset() -> None:
    y = music_8k(2, 30.0)
    start_frames = 500  # 8 s
    whole = fingerprint(y, P)
    part = fingerprint(y[start_frames * P.hop : start_frames * P.hop + 5 * 8000], P)
    ref = set(zip(whole.hash.tolist(), whole.frame.tolist()))
    shifted = {(h, f + start_frames) for h, f in zip(part.hash.tolist(), part.frame.tolist())}
    assert len(shifted & ref) / len(shifted) > 0.7


def test_silence_gives_no_landmarks_and_a_constant_tone_little_information() -> None:
    assert len(fingerprint(np.zeros(8000 * 5, np.float32), P)) == 0
    t = np.arange(8000 * 5) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    assert np.unique(fingerprint(tone, P).hash).size < 20  # music gives thousands


def test_density_is_bounded_for_music() -> None:
    y = music_8k(3, 30.0)
    per_second = len(fingerprint(y, P)) / 30.0
    assert 20 < per_second < 400


def test_fingerprints_do_not_depend_on_level() -> None:
    y = music_8k(4, 10.0)
    a, b = fingerprint(y, P), fingerprint(0.05 * y, P)
    shared = set(zip(a.hash.tolist(), a.frame.tolist())) & set(zip(b.hash.tolist(), b.frame.tolist()))
    assert len(shared) >= 0.97 * len(a)  # float rounding may break a tie differently


def test_hash_fields_are_checked() -> None:
    with pytest.raises(ValueError, match="max_df"):
        check_params(FingerprintParams(max_df=40))


def _reference_peak_mask(spec: np.ndarray, p: FingerprintParams) -> np.ndarray:
    """The peak tests of ``fingerprint/peaks.py`` written with whole-array SciPy filters."""
    from scipy.ndimage import maximum_filter, maximum_filter1d, uniform_filter

    from soundtrack.fingerprint.peaks import ABSOLUTE_FLOOR_DB, SILENCE_DB

    band = spec[:, p.min_bin : p.max_bin + 1]
    local_max = maximum_filter(band, size=(2 * p.peak_half_frames + 1, 2 * p.peak_half_bins + 1), mode="nearest")
    background = uniform_filter(band, size=(2 * p.background_half_frames + 1, 2 * p.background_half_bins + 1),
                                mode="nearest")
    history = uniform_filter(band, size=(2 * p.background_half_frames + 1, 1), mode="nearest")
    loudest = maximum_filter1d(band.max(axis=1), size=2 * p.loudest_half_frames + 1, mode="nearest")
    before = np.vstack([np.full((1, band.shape[1]), SILENCE_DB, np.float32), band[:-1]])
    below = np.hstack([np.full((band.shape[0], 1), SILENCE_DB, np.float32), band[:, :-1]])
    mask = ((band == local_max) & (band > np.maximum(before, below))
            & (band - background >= p.peak_min_prominence_db) & (band - history >= p.peak_min_onset_db)
            & (band >= loudest[:, None] - p.peak_max_below_loudest_db) & (band > ABSOLUTE_FLOOR_DB))
    full = np.zeros(spec.shape, bool)
    full[:, p.min_bin : p.max_bin + 1] = mask
    return full


@pytest.mark.parametrize("kind", ["music", "ties", "flat"])
def test_peak_kernel_equals_the_whole_array_definition(kind: str) -> None:
    from soundtrack.fingerprint.peaks import peak_cells
    from soundtrack.fingerprint.spectrogram import log_spectrogram

    p = DEFAULT_PARAMS
    rng = np.random.default_rng(7)
    if kind == "music":
        spec = log_spectrogram(music_8k(3, 20.0), p)
    elif kind == "ties":  # integer dB levels: many equal neighbours
        spec = np.round(rng.standard_normal((400, p.max_bin + 1)) * 4).astype(np.float32) - 30
    else:
        spec = np.full((60, p.max_bin + 1), -40.0, np.float32)
    expected = _reference_peak_mask(spec, p)
    mask = np.zeros(spec.shape, bool)
    mask[peak_cells(spec, p, 0, spec.shape[0])] = True
    assert np.array_equal(mask, expected)
    if kind != "flat":
        assert expected.sum() > 10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_spectrogram_in_chunks_equals_one_transform_of_all_frames(dtype: type) -> None:
    import scipy.fft
    from numpy.lib.stride_tricks import sliding_window_view

    from soundtrack.fingerprint.spectrogram import FRAMES_PER_CHUNK, _hann, log_spectrogram

    p = DEFAULT_PARAMS
    y = (np.random.default_rng(3).standard_normal(p.hop * (2 * FRAMES_PER_CHUNK + 5) + p.n_fft) * 0.1).astype(dtype)
    spectrum = scipy.fft.rfft(sliding_window_view(y, p.n_fft)[:: p.hop] * _hann(p.n_fft), axis=1)[:, : p.max_bin + 1]
    expected = (10.0 * np.log10(spectrum.real**2 + spectrum.imag**2 + 1e-10)).astype(np.float32)
    got = log_spectrogram(y, p)
    assert got.dtype == np.float32 and got.shape == expected.shape == (2 * FRAMES_PER_CHUNK + 6, p.max_bin + 1)
    assert np.array_equal(got, expected)
