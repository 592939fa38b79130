"""Decoding: formats, streaming equivalence, and clear errors for bad files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from audiogen import SR, synth_music, write_audio
from scipy.signal import resample_poly

from soundtrack.audio import StreamResampler, load_audio, load_span, probe, stream_audio
from soundtrack.errors import DecodeError, UnusableAudioError


@pytest.mark.parametrize("ext", [".wav", ".flac", ".mp3", ".ogg", ".m4a", ".mkv"])
def test_every_container_decodes_to_the_right_length(tmp_path: Path, ext: str) -> None:
    path = write_audio(tmp_path / f"a{ext}", synth_music(1, 6.0))
    y = load_audio(path, 8000)
    assert y.dtype == np.float32
    assert abs(y.size / 8000 - 6.0) < 0.15  # AAC adds encoder priming
    assert probe(path).duration_s == pytest.approx(6.0, abs=0.1)


def test_the_audio_of_a_video_file_is_decoded(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "clip.mp4", synth_music(2, 4.0), video=True)
    assert abs(load_audio(path, 8000).size / 8000 - 4.0) < 0.1


def test_decoded_audio_matches_the_signal(tmp_path: Path) -> None:
    y = synth_music(3, 3.0)
    decoded = load_audio(write_audio(tmp_path / "a.wav", y), SR)
    assert np.max(np.abs(decoded - y)) < 1e-3  # 16-bit quantisation only


@pytest.mark.parametrize("ext", [".wav", ".ogg", ".mp3"])
def test_a_span_deep_in_a_file_lines_up_with_the_whole(tmp_path: Path, ext: str) -> None:
    path = write_audio(tmp_path / f"a{ext}", synth_music(4, 20.0))
    whole = load_audio(path, 8000)
    y, first_s = load_span(path, 12.3, 14.3, 8000)
    assert first_s <= 12.3 and first_s + y.size / 8000 >= 14.3
    at = round(first_s * 8000)
    inner = slice(800, y.size - 800)  # away from the resampler's edges
    corr = np.corrcoef(y[inner], whole[at:at + y.size][inner])[0, 1]
    assert corr > 0.95


def test_a_span_past_the_end_is_empty(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "a.wav", synth_music(4, 3.0))
    assert load_span(path, 10.0, 12.0, 8000)[0].size == 0


def test_streamed_resampling_equals_resampling_at_once() -> None:
    x = np.random.default_rng(0).standard_normal(44100 * 3 + 17).astype(np.float32)
    whole = StreamResampler(44100, 8000)
    at_once = np.concatenate([whole.push(x), whole.flush()])
    parts = StreamResampler(44100, 8000)
    streamed = np.concatenate([parts.push(x[i : i + 5001]) for i in range(0, x.size, 5001)] + [parts.flush()])
    assert at_once.size == streamed.size == round(x.size * 8000 / 44100)
    np.testing.assert_allclose(streamed, at_once, atol=1e-5)


def test_resampling_keeps_a_tone_in_band() -> None:
    t = np.arange(44100) / 44100
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    r = StreamResampler(44100, 8000)
    y = np.concatenate([r.push(tone), r.flush()])
    ref = resample_poly(tone, 80, 441)
    assert np.std(y[800:-800]) == pytest.approx(np.std(ref[800:-800]), rel=0.02)


def test_streaming_blocks_are_bounded(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "long.flac", synth_music(4, 30.0))
    sizes = [b.size for b in stream_audio(path, 8000, block_s=5.0)]
    assert len(sizes) >= 5 and max(sizes) <= 6 * 8000


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="no such file") as err:
        load_audio(tmp_path / "nope.mp3", 8000)
    assert "nope.mp3" in str(err.value)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.ogg").write_bytes(b"")
    with pytest.raises(UnusableAudioError, match="empty"):
        load_audio(tmp_path / "empty.ogg", 8000)


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mp3"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises((DecodeError, UnusableAudioError)) as err:
        load_audio(path, 8000)
    assert "garbage.mp3" in str(err.value)


def test_text_file_is_not_media(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not audio at all\n" * 50)
    with pytest.raises((DecodeError, UnusableAudioError), match="notes.txt"):
        load_audio(path, 8000)


def test_truncated_file_keeps_what_decodes(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "full.mp3", synth_music(5, 10.0))
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    y = load_audio(cut, 8000)
    assert 3.0 < y.size / 8000 < 7.0


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="directory"):
        load_audio(tmp_path, 8000)


def test_pending_frames_mix_to_mono_and_take_one_kind_of_frame_at_a_time() -> None:
    import av

    from soundtrack.audio import _PendingFrames

    def frame(samples: np.ndarray, layout: str, fmt: str = "fltp", rate: int = 8000) -> av.AudioFrame:
        data = samples.astype(np.float32) if fmt.startswith("flt") else (samples * 32767).astype(np.int16)
        f = av.AudioFrame.from_ndarray(data, format=fmt, layout=layout)
        f.sample_rate = rate
        return f

    pending = _PendingFrames()
    stereo = np.stack([np.full(100, 0.5), np.full(100, -0.1)])
    for _ in range(2):
        assert pending.add(frame(stereo, "stereo"))
    mono_frame = frame(np.full((1, 100), 0.3), "mono")
    refused = [mono_frame, frame(stereo, "stereo", rate=16000), frame(stereo, "stereo", fmt="s16p")]
    assert not any(pending.add(f) for f in refused)  # pop, then restart
    assert pending.samples == 200
    mono, rate = pending.pop()
    assert rate == 8000 and mono.shape == (200,) and np.allclose(mono, 0.2)
    assert not pending.add(mono_frame)  # the fifo is kept for the same kind of frame
    pending.restart()
    assert pending.add(mono_frame)
    assert np.allclose(pending.pop()[0], 0.3)


def _stamped_frames(starts: list[int], n: int, fmt: str, layout: str, rate: int = 44100) -> list:
    """Frames of ``n`` samples stamped at sample ``starts[i]``; each sample holds its own
    timestamp (samples) / 1e5, the same in every channel."""
    import av

    frames = []
    channels = 2 if layout == "stereo" else 1
    for start in starts:
        values = (np.arange(start, start + n) / 1e5).astype(np.float32)
        data = np.tile(values, (channels, 1)) if fmt.endswith("p") else np.repeat(values, channels)[None, :]
        f = av.AudioFrame.from_ndarray(data, format=fmt, layout=layout)
        f.sample_rate, f.pts, f.time_base = rate, start, Fraction(1, rate)
        frames.append(f)
    return frames


@pytest.mark.parametrize(("fmt", "layout"), [("fltp", "stereo"), ("flt", "stereo"), ("flt", "mono")])
def test_samples_stamped_before_what_was_kept_are_dropped(fmt: str, layout: str) -> None:
    """An Ogg Vorbis start trim as ffmpeg decodes it: 5000 samples stamped from 0, then time
    steps back to -100; what is kept follows the timestamps from there on."""
    from soundtrack.audio import _Timeline

    timeline = _Timeline(Fraction(1, 44100))
    first = _stamped_frames([0, 1000, 2000, 3000, 4000], 1000, fmt, layout)
    after = _stamped_frames(list(range(-100, 9000, 1000)), 1000, fmt, layout)
    kept = [k for f in first + after if (k := timeline.keep(f)) is not None]
    samples = np.concatenate([k.to_ndarray()[0, :: 2 if fmt == "flt" and layout == "stereo" else 1]
                              for k in kept])
    assert samples.size == 5000 + (10_000 - 5100)  # of the 10,000 restamped from -100, 5100 go
    assert np.allclose(samples[:5000], np.arange(5000) / 1e5)
    assert np.allclose(samples[5000:], np.arange(5000, 9900) / 1e5)  # sample i is stamped i
    assert [k.pts for k in kept][5:7] == [5000, 5900]  # the trimmed frame is stamped where it starts


def test_timestamp_jitter_and_restarts_keep_every_sample() -> None:
    """A frame stamped 10 ms early (an Ogg demuxer's estimate) or 2 s back (a chained stream
    starting again) is kept whole: neither is an overlap."""
    from soundtrack.audio import _Timeline

    timeline = _Timeline(Fraction(1, 44100))
    starts = [0, 1000, 1559, 3000, 4000, 4000 - 88200, 1000 - 88200 + 4000]
    frames = _stamped_frames(starts, 1000, "fltp", "mono")
    assert all(timeline.keep(f) is f for f in frames)
