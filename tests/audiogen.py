"""Synthetic test music and media files (seeded, so every run builds the same audio)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

SR = 22050


def synth_music(seed: int, duration_s: float, sr: int = SR, *, tempo: float = 1.0) -> np.ndarray:
    """A few seconds of "music": notes with harmonics, random melody and chords, and drum hits.

    Each seed gives a different piece. ``tempo`` plays the same piece that many times faster with
    its pitch kept (notes start and end earlier; their sound is unchanged). Mono float32 in [-1, 1]
    at ``sr`` Hz.
    """
    rng = np.random.default_rng(seed)
    n = int(duration_s * sr)
    y = np.zeros(n, dtype=np.float64)
    t_note = 0.0  # in the piece's own time; the output places it at t_note / tempo
    while t_note / tempo < duration_s:
        dur = float(rng.choice([0.125, 0.25, 0.25, 0.5, 0.75]))
        for _voice in range(int(rng.integers(1, 4))):
            midi = int(rng.integers(45, 84))
            freq = 440.0 * 2 ** ((midi - 69) / 12)
            start, stop = int(t_note / tempo * sr), min(n, int((t_note + dur) / tempo * sr))
            t = np.arange(stop - start) / sr
            env = np.exp(-t * rng.uniform(2, 8)) * np.minimum(1, t * 200)
            tone = sum(np.sin(2 * np.pi * freq * h * t + rng.uniform(0, 6.28)) / h for h in (1, 2, 3, 4))
            y[start:stop] += 0.2 * env * tone
        if rng.random() < 0.5:
            start = int(t_note / tempo * sr)
            length = min(n - start, int(0.05 * sr))
            hit = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.01 * sr))
            y[start : start + hit.size] += 0.3 * hit
        t_note += dur
    y /= max(1e-9, np.abs(y).max()) * 1.25
    return y.astype(np.float32)


def write_audio(path: Path, y: np.ndarray, sr: int = SR, *, codec: str | None = None, video: bool = False) -> Path:
    """Encode mono ``y`` to ``path`` with PyAV; the container follows the file extension."""
    codecs = {".wav": "pcm_s16le", ".flac": "flac", ".ogg": "libopus", ".mp3": "libmp3lame",
              ".m4a": "aac", ".mp4": "aac", ".mkv": "libopus", ".webm": "libopus", ".opus": "libopus"}
    codec = codec or codecs[path.suffix]
    rate = 48000 if codec == "libopus" else sr
    if rate != sr:
        from scipy.signal import resample_poly

        y = resample_poly(y, rate // 50, sr // 50).astype(np.float32)
    with av.open(str(path), "w") as out:
        if video:
            vs = out.add_stream("mpeg4", rate=10)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        stream = out.add_stream(codec, rate=rate, layout="mono")
        fmt = stream.codec_context.codec.audio_formats[0].name
        frame_n = 1024
        for start in range(0, y.size, frame_n):
            chunk = y[start : start + frame_n]
            frame = av.AudioFrame.from_ndarray(_as_format(chunk, fmt), format=fmt, layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
            if video and start % (rate // 10) < frame_n:
                img = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
                for packet in vs.encode(img):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if video:
            for packet in vs.encode(None):
                out.mux(packet)
    return path


def _as_format(chunk: np.ndarray, fmt: str) -> np.ndarray:
    if fmt.startswith("s16"):
        return (np.clip(chunk, -1, 1) * 32767).astype(np.int16)[None, :]
    if fmt.startswith("s32"):
        return (np.clip(chunk, -1, 1) * 2147483647).astype(np.int32)[None, :]
    return chunk.astype(np.float32)[None, :]
