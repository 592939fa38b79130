"""Band-energy bits: the second, envelope-based look at a candidate alignment (verify.py)."""

from __future__ import annotations

import numpy as np
import pytest
import soxr
from audiogen import SR
from scipy import signal

from soundtrack.fingerprint.bands import BAND_N_FFT, BANDS, band_bits
from soundtrack.params import DEFAULT_PARAMS
from soundtrack.verify import MIN_Z, NULL_SHIFTS, Agreement, Coincidence, Evidence, agreement

P = DEFAULT_PARAMS


def at_index_rate(y: np.ndarray) -> np.ndarray:
    return soxr.resample(y, SR, P.sample_rate).astype(np.float32)


def phone_like(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A telephone band, a short room echo and noise 10 dB down: peaks move, the envelope stays."""
    sos = signal.butter(6, [300, 3400], btype="bandpass", fs=P.sample_rate, output="sos")
    echo = np.zeros(int(0.3 * P.sample_rate))
    echo[0], echo[int(0.02 * P.sample_rate)], echo[int(0.09 * P.sample_rate)] = 1.0, 0.6, 0.4
    wet = signal.sosfilt(sos, signal.fftconvolve(y, echo)[: y.size])
    noise = rng.standard_normal(y.size) * np.std(wet) * 10 ** (-10 / 20)
    return (wet + noise).astype(np.float32)


def test_the_bits_have_one_row_per_frame_after_the_first(track_signal) -> None:
    y = at_index_rate(track_signal(1)[: 5 * SR])
    bits = band_bits(y, P)
    frames = (y.size - BAND_N_FFT) // P.hop + 1
    assert bits.shape == (frames - 1, BANDS - 1) and bits.dtype == bool
    assert 0.3 < bits.mean() < 0.7  # the envelope turns both ways


def test_most_bits_survive_a_phone_like_channel_at_the_alignment_only(track_signal, rng) -> None:
    song = at_index_rate(track_signal(2))
    first = round(P.seconds_to_frames(10.0))
    clip = phone_like(song[first * P.hop : first * P.hop + 5 * P.sample_rate], rng)
    found = agreement(band_bits(clip, P), band_bits(song, P), first)
    assert found.found / found.n > 0.6  # chance is one half
    assert abs(float(found.shifted.mean()) / found.n - 0.5) < 0.05
    assert found.z > MIN_Z
    moved = agreement(band_bits(clip, P), band_bits(song, P), first + 300)
    assert moved.z < 3


def test_query_frames_beyond_the_recording_count_as_half_agreeing() -> None:
    bits = np.ones((100, BANDS - 1), bool)
    inside = agreement(bits, bits, 0)
    assert inside.found == pytest.approx(bits.size)
    outside = agreement(bits, bits, 1000)  # the query lies after the end of the reference
    assert outside.found == pytest.approx(bits.size / 2)
    assert outside.z == pytest.approx(0.0)


def test_an_agreement_is_in_standard_deviations_of_fair_coins_at_least() -> None:
    n = 10_000
    same = Agreement(found=5100.0, shifted=np.full(NULL_SHIFTS.size, 5000.0), n=n)
    assert same.z == pytest.approx(100 / (np.sqrt(n) / 2))  # the floor: 2 standard deviations


def test_the_bits_add_to_the_peaks_as_a_third_independent_test() -> None:
    peaks = Coincidence(140, np.full(NULL_SHIFTS.size, 100))  # 4 sigma
    bits = Agreement(5200.0, np.full(NULL_SHIFTS.size, 5000.0), 10_000)  # 4 sigma
    assert Evidence((peaks, peaks)).z < MIN_Z
    three = Evidence((peaks, peaks, bits))
    assert three.z == pytest.approx(12 / np.sqrt(3)) and three.z > MIN_Z
