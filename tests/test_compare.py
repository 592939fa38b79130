"""Listening to a recording next to the episode: presence and music-to-rest balance on synthetic
signals with known mixing (seeded, so every run is the same)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from audiogen import synth_music
from scipy.signal import resample_poly

from soundtrack.scan import compare

SR = 8000


def _music(seed: int, seconds: float) -> np.ndarray:
    return resample_poly(synth_music(seed, seconds), 160, 441).astype(np.float32)  # 22050 -> 8000 Hz


def _speech_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Noise bursts shaped like syllables, with pauses: energy that comes and goes."""
    envelope = np.repeat(rng.random(n // 800 + 1) > 0.3, 800)[:n]
    return (rng.standard_normal(n) * envelope).astype(np.float32)


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))


@pytest.mark.parametrize("db", [-15.0, 0.0])
def test_the_recording_is_heard_exactly_where_it_plays(db: float) -> None:
    rng = np.random.default_rng(1)
    rec = _music(7, 10.0)
    rest = _speech_like(rng, rec.size)
    music = rec * (_rms(rest) / _rms(rec) * 10 ** (db / 20))
    episode = rest.copy()
    episode[3 * SR : 7 * SR] += music[3 * SR : 7 * SR]  # the song plays from 3 s to 7 s
    pres = compare.presence(episode, rec, SR)
    t = pres.center / SR
    inside, outside = (t > 3.5) & (t < 6.5), (t < 2.5) | (t > 7.5)
    assert np.median(pres.score[inside]) > compare.CHANCE_SIGMAS
    assert np.all(pres.score[outside] < compare.CHANCE_SIGMAS)


def test_an_unrelated_recording_is_not_heard() -> None:
    episode = _music(7, 10.0) + 0.1 * _speech_like(np.random.default_rng(2), 80000)
    pres = compare.presence(episode, _music(8, 10.0), SR)
    assert np.mean(pres.score > compare.CHANCE_SIGMAS) < 0.02


@pytest.mark.parametrize("db", [-15.0, -6.0, 0.0, 6.0])
def test_balance_measures_the_mix(db: float) -> None:
    rng = np.random.default_rng(3)
    rec = _music(9, 8.0)
    rest = _speech_like(rng, rec.size)
    music = rec * (_rms(rest) / _rms(rec) * 10 ** (db / 20))
    measured = compare.balance_db(compare.presence(rest + music, rec, SR))
    assert measured == pytest.approx(db, abs=1.5)


def test_best_match_finds_the_offset() -> None:
    rec = _music(10, 4.0)
    episode = rec[1000:20000]
    assert compare.best_match(episode, rec)[0] == 1000


@pytest.mark.parametrize("db", [-40.0, -30.0, -10.0, 0.0])
def test_audible_from_bounds_the_balance_of_what_is_heard(db: float) -> None:
    """A recording is heard exactly when it is louder than the bound (3 dB either side is left to
    the median's spread), and the bound holds whatever the recording's level is."""
    rng = np.random.default_rng(4)
    rec = _music(11, 8.0)
    rest = _speech_like(rng, rec.size)
    music = rec * (_rms(rest) / _rms(rec) * 10 ** (db / 20))
    pres = compare.presence(rest + music, rec, SR)
    bound = compare.audible_from_db(pres)
    heard = np.median(pres.score) > compare.CHANCE_SIGMAS
    assert bound is not None and -40.0 < bound < -5.0
    if db > bound + 3.0:
        assert heard
    elif db < bound - 3.0:
        assert not heard
    else:
        pytest.fail(f"the bound {bound:.1f} dB should be clear of the balance {db} dB")


def test_audible_from_is_none_without_blocks() -> None:
    assert compare.audible_from_db(compare.presence(np.zeros(100), np.zeros(100), SR)) is None


def test_recordings_sharing_a_passage_hold_the_same_audio_there(tmp_path) -> None:
    """B holds A's 10-20 s from its own 5 s on, remastered (another gain, noise 10 dB down): at
    their alignments the two recordings sound the same; a recording of other music, or B where
    it plays its own music, does not sound like A."""
    from audiogen import SR as FILE_SR
    from audiogen import write_audio

    from soundtrack.models import Recording
    from soundtrack.params import FingerprintParams
    from soundtrack.scan.listen import Alignment, Listener
    from soundtrack.scan.stream import AudioRing, Warp

    rng = np.random.default_rng(5)
    a = synth_music(21, 30.0)
    shared = a[10 * FILE_SR : 20 * FILE_SR]
    shared = 0.8 * shared + _rms(shared) * 10 ** (-10 / 20) * rng.standard_normal(shared.size)
    b = np.concatenate([synth_music(22, 5.0), shared, synth_music(23, 10.0)]).astype(np.float32)
    c = synth_music(24, 30.0)
    recs = [Recording(id=i, path=str(write_audio(tmp_path / f"{name}.flac", y / max(1.0, float(np.abs(y).max())))),
                      title=name, duration_s=y.size / FILE_SR)
            for i, (name, y) in enumerate((("a", a), ("b", b), ("c", c)))]
    params = FingerprintParams()
    listener = Listener(params, AudioRing(params.sample_rate))
    same = Warp(1.0, 1.0)
    # episode 100-110 s plays A's 10-20 s: B's 5-15 s there
    at_a, at_b = Alignment(recs[0], same, -90.0), Alignment(recs[1], same, -95.0)
    first, end = round(params.seconds_to_frames(102.0)), round(params.seconds_to_frames(108.0))
    assert listener.same_audio(at_a, at_b, first, end)
    assert not listener.same_audio(at_a, Alignment(recs[2], same, -90.0), first, end)
    assert not listener.same_audio(at_a, Alignment(recs[1], same, -80.0), first, end)  # B's 20-28 s


def test_a_song_through_a_room_resembles_its_recording_only_at_its_alignment(tmp_path) -> None:
    """A room's reverb and noise leave little of the waveform (the episode hardly correlates with
    the recording), but the recording's peaks and band bits still agree with the episode's at its
    alignment, and not at another passage of it or for other music."""
    from audiogen import SR as FILE_SR
    from audiogen import write_audio
    from scipy.signal import fftconvolve

    from soundtrack.models import Recording
    from soundtrack.params import FingerprintParams
    from soundtrack.scan.listen import CLEAR_SIGMAS, Alignment, Listener
    from soundtrack.scan.stream import AudioRing, Warp

    rng = np.random.default_rng(7)
    a, c = synth_music(31, 40.0), synth_music(32, 40.0)
    recs = [Recording(id=i, path=str(write_audio(tmp_path / f"{name}.flac", y / max(1.0, float(np.abs(y).max())))),
                      title=name, duration_s=y.size / FILE_SR) for i, (name, y) in enumerate((("a", a), ("c", c)))]
    params = FingerprintParams()
    music = _music(31, 40.0)[10 * SR : 20 * SR]  # A's 10-20 s, played from the episode's 0 s
    room = rng.standard_normal(SR // 2) * np.exp(-np.arange(SR // 2) / (0.06 * SR))  # RT60 about 0.4 s
    wet = fftconvolve(music, room)[: music.size]
    wet *= _rms(music) / _rms(wet)
    episode = (wet + _speech_like(rng, wet.size) * _rms(wet) * 0.5).astype(np.float32)
    ring = AudioRing(episode.size)
    ring.push(episode)
    listener = Listener(params, ring)
    same = Warp(1.0, 1.0)
    first, end = round(params.seconds_to_frames(2.0)), round(params.seconds_to_frames(8.0))
    right = Alignment(recs[0], same, 10.0)
    # heard above chance, but the waveform is too blurred to confirm the song by itself
    assert compare.CHANCE_SIGMAS < listener.hearing(right, first, end) < CLEAR_SIGMAS
    assert listener.resembles(right, first, end)
    assert not listener.resembles(Alignment(recs[0], same, 22.0), first, end)  # A's 24-30 s
    assert not listener.resembles(Alignment(recs[1], same, 10.0), first, end)


@pytest.mark.parametrize(("level", "resembles", "heard"), [
    (9.0, False, "clearly"),
    (6.0, True, "faint"),  # above chance, and the peaks and band bits agree
    (6.0, False, None),
    (3.0, True, None),     # not heard above chance
])
def test_a_candidate_is_heard_clearly_or_faintly_by_two_tests(level, resembles, heard) -> None:
    from soundtrack.scan.scanner import Scanner

    listener = SimpleNamespace(hearing=lambda *_: level, resembles=lambda *_: resembles)
    frames = SimpleNamespace(start=100, end=400)
    assert Scanner._heard(None, frames, listener) == heard
    # where the episode keeps the waveforms, a song is heard clearly or not at all
    assert Scanner._heard(None, frames, listener, faint_ok=False) == (heard if heard == "clearly" else None)
