"""Decode any media ffmpeg reads (PyAV) into mono float32 blocks at a fixed sample rate.

Decoding streams: memory is bounded by the block length, not by the length of the file, so a
two-hour film costs the same memory as a song. Resampling is libsoxr's (python-soxr), streamed
across blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soxr

from .errors import DecodeError, UnusableAudioError

#: Decoded audio is handed on in blocks of about this many seconds.
BLOCK_S = 20.0
#: Decoded frames are mixed to mono and resampled in chunks of about this many seconds: small
#: enough to stay in the CPU's cache (chunks of 20 s of 48 kHz stereo made decoding 1.4x slower).
DECODE_CHUNK_S = 1.0
#: Bytes ffmpeg reads to find a file's streams on a first try (its default is 5 MB).
QUICK_PROBE_BYTES = 1 << 16
#: :func:`load_span` starts decoding this long (s) before the span: after a seek, a decoder needs a
#: few frames to settle (an MP3 decoder's bit reservoir and filter bank: its output correlates
#: 0.8 with a decode from the start in the first 100 ms, 0.9 up to about a second).
SEEK_PREROLL_S = 0.5
#: Packets that fail to decode are skipped (as ffmpeg does); more than this many is an error.
MAX_BAD_PACKETS = 50
#: Decoded samples whose timestamps say they come before the end of what was already decoded, by
#: more than :data:`TIMESTAMP_SLACK_S` (the jitter of an Ogg demuxer's per-packet estimates, up to
#: a Vorbis long block) and at most :data:`MAX_TRIM_S` (larger jumps back are restarts, as in a
#: chained stream, not overlaps), are dropped (:class:`_Timeline`). Seconds.
TIMESTAMP_SLACK_S = 0.04
MAX_TRIM_S = 1.0

_SAMPLE_DTYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "flt": np.float32, "dbl": np.float64}
_SAMPLE_SCALE = {"u8": 1 / 128.0, "s16": 1 / 32768.0, "s32": 1 / 2147483648.0, "flt": 1.0, "dbl": 1.0}


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about a file's first audio stream."""

    path: str
    duration_s: float | None
    sample_rate: int
    channels: int
    codec: str
    container: str


def probe(path: str | Path) -> AudioInfo:
    """Read the container header of ``path`` without decoding. Raises :class:`DecodeError`."""
    with _open(path) as container:
        stream = _audio_stream(container, path)
        return AudioInfo(
            path=str(path),
            duration_s=_duration_s(container, stream),
            sample_rate=int(stream.codec_context.sample_rate or 0),
            channels=int(stream.codec_context.channels or 0),
            codec=stream.codec_context.name,
            container=container.format.name,
        )


def stream_audio(path: str | Path, sample_rate: int, *, block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """Yield the first audio stream of ``path`` as mono float32 blocks at ``sample_rate`` (Hz).

    Blocks are about ``block_s`` seconds long (the last one shorter). Raises :class:`DecodeError`
    for a missing, unreadable or audio-less file and :class:`UnusableAudioError` for one that
    decodes to no samples.
    """
    with _open(path) as container:
        stream = _audio_stream(container, path)
        resampler: StreamResampler | None = None
        gathered = _Gather()
        for chunk, rate_in in _decoded_blocks(container, stream, path, DECODE_CHUNK_S):
            if resampler is None or resampler.rate_in != rate_in:  # the first chunk, or a chained stream
                if resampler is not None:
                    gathered.add(resampler.flush())
                resampler = StreamResampler(rate_in, sample_rate)
            gathered.add(resampler.push(chunk))
            if gathered.samples >= block_s * sample_rate:
                yield gathered.take()
        if resampler is not None:
            gathered.add(resampler.flush())
        if gathered.samples:
            yield gathered.take()
    if gathered.taken == 0:
        raise UnusableAudioError(path, "contains no audio samples")


class _Gather:
    """Sample chunks collected into blocks; ``samples`` waiting, ``taken`` handed on so far."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.samples = 0
        self.taken = 0

    def add(self, chunk: np.ndarray) -> None:
        if chunk.size:
            self.parts.append(chunk)
            self.samples += chunk.size

    def take(self) -> np.ndarray:
        """Return what is collected as one block and start again."""
        block = self.parts[0] if len(self.parts) == 1 else np.concatenate(self.parts)
        self.parts, self.samples = [], 0
        self.taken += block.size
        return block


def load_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """Decode the whole of ``path`` to one mono float32 array at ``sample_rate`` (Hz)."""
    return np.concatenate(list(stream_audio(path, sample_rate)))


def load_span(path: str | Path, start_s: float, end_s: float, sample_rate: int) -> tuple[np.ndarray, float]:
    """Decode about ``[start_s, end_s)`` of ``path``: mono float32 at ``sample_rate`` (Hz) and the
    time (s) of its first sample, at or before ``start_s``.

    Times count decoded samples from the first, as :func:`stream_audio` does (a file's first
    timestamp, e.g. an MP3 encoder's delay, is time 0). Seeks to the packet
    :data:`SEEK_PREROLL_S` before ``start_s`` (timestamps are within a few ms for Ogg, MP3, MP4
    and Matroska) and drops what the decoder makes before ``start_s`` while it settles, so a span
    deep into a long file costs about its own length to decode. Raises :class:`DecodeError` like
    :func:`stream_audio`; returns no samples past the end of the file.
    """
    with _open(path) as container:
        stream = _audio_stream(container, path)
        tb = stream.time_base
        zero = float(stream.start_time * tb) if stream.start_time is not None and tb is not None else 0.0
        if start_s > SEEK_PREROLL_S and tb is not None:
            try:
                container.seek(int((start_s - SEEK_PREROLL_S + zero) / tb), stream=stream)
            except av.error.FFmpegError:  # not seekable: decode from the start
                container.seek(0, stream=stream)
        pending, timeline, first_s, rate = _PendingFrames(), _Timeline(stream.time_base), None, 0
        try:
            for decoded in container.decode(stream):
                frame = timeline.keep(decoded)
                if frame is None:
                    continue
                if first_s is None:
                    first_s = float(frame.pts * frame.time_base) - zero if frame.pts is not None else 0.0
                if not pending.add(frame):
                    break  # the rate, format or channel count changed mid-span: keep what came before
                rate = pending.rate
                if first_s + pending.samples / rate >= end_s:
                    break
        except av.error.FFmpegError as exc:
            if first_s is None:
                raise DecodeError(path, f"corrupt or unsupported audio ({_reason(exc)})") from None
    if first_s is None or pending.samples == 0:
        return np.zeros(0, np.float32), max(0.0, start_s)
    mono, rate = pending.pop()
    y = resample(mono, rate, sample_rate)
    skip = min(y.size, max(0, int((start_s - first_s) * sample_rate)))
    return y[skip:], first_s + skip / sample_rate


def _open(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` with a small probe (64 KiB: most of a short clip's open time is probing), and
    again with ffmpeg's default probe if that finds no audio stream."""
    p = Path(path)
    if not p.exists():
        raise DecodeError(path, "no such file")
    if p.is_dir():
        raise DecodeError(path, "is a directory, not a media file")
    if p.stat().st_size == 0:
        raise UnusableAudioError(path, "is empty (0 bytes)")
    try:
        container = av.open(str(p), mode="r", options={"probesize": str(QUICK_PROBE_BYTES)})
        if container.streams.audio:
            return container
        container.close()
        return av.open(str(p), mode="r")
    except av.error.FFmpegError as exc:
        raise DecodeError(path, f"not a media file ffmpeg can read ({_reason(exc)})") from None


def _audio_stream(container: av.container.InputContainer, path: str | Path) -> av.AudioStream:
    if not container.streams.audio:
        raise DecodeError(path, "has no audio stream")
    return container.streams.audio[0]


def _duration_s(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip().lower() if text else type(exc).__name__


def _decoded_blocks(
    container: av.container.InputContainer, stream: av.AudioStream, path: str | Path, chunk_s: float
) -> Iterator[tuple[np.ndarray, int]]:
    """Decode ``stream`` into mono float32 chunks at its own rate, about ``chunk_s`` s each.

    Frames are collected as raw sample buffers and mixed to mono once per chunk: per-frame NumPy
    calls would cost more than decoding itself (a Vorbis frame is only ~10 ms of audio).
    """
    pending, timeline = _PendingFrames(), _Timeline(stream.time_base)
    bad_packets = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except (av.error.InvalidDataError, av.error.ValueError) as exc:
                bad_packets += 1
                if bad_packets > MAX_BAD_PACKETS:
                    raise DecodeError(path, f"corrupt audio data ({_reason(exc)})") from None
                continue
            for decoded in frames:
                frame = timeline.keep(decoded)
                if frame is None:
                    continue
                if not pending.add(frame):  # another rate, sample format or channel count
                    yield pending.pop()
                    pending.restart()
                    pending.add(frame)
                if pending.samples >= chunk_s * pending.rate:
                    yield pending.pop()
    except av.error.FFmpegError as exc:
        if pending.rate == 0:
            raise DecodeError(path, f"corrupt or unsupported audio ({_reason(exc)})") from None
        # a damaged tail: keep what decoded, as ffmpeg does
    if pending.samples:
        yield pending.pop()


class _Timeline:
    """Keeps decoded audio on the file's timestamps where the decoder's output runs ahead of them.

    A file's time is counted in decoded samples (:func:`stream_audio`), and after a seek it is
    read from timestamps (:func:`load_span`); the two must agree, or listening to a recording at
    an alignment found in its fingerprint hears the wrong moment. They disagree when the decoder
    puts out more samples than the timestamps allow, as ffmpeg does for an Ogg Vorbis stream whose
    first page trims its start: its first frames are stamped from 0, then time steps back by their
    length (136 ms in one file of the benchmark corpus), which libvorbisfile drops and ffmpeg
    keeps. Here a frame stamped before the end of what was kept, by more than
    :data:`TIMESTAMP_SLACK_S` and at most :data:`MAX_TRIM_S`, loses its samples up to that end,
    and so do the frames after it until their timestamps reach it.
    """

    def __init__(self, time_base: Fraction | None) -> None:
        #: Seconds per timestamp tick of the stream (0: it has no time base); a float, as
        #: Fraction arithmetic on every frame cost 13 % of decoding a Vorbis file.
        self.tick_s = float(time_base) if time_base else 0.0
        self.end_s: float | None = None  # timestamp (s) just after the samples kept so far
        self.trimming = False  # time stepped back and has not yet caught up with end_s

    def keep(self, frame: av.AudioFrame) -> av.AudioFrame | None:
        """``frame``, or its part after what was already kept, or None when all of it was."""
        pts = frame.pts
        if pts is not None and self.tick_s:
            start_s = pts * self.tick_s
            if self.end_s is None:
                self.end_s = start_s
            overlap_s = self.end_s - start_s
            if self.trimming or TIMESTAMP_SLACK_S < overlap_s <= MAX_TRIM_S:
                # once time has stepped back, every sample up to the end of what was kept goes
                drop = round(overlap_s * frame.sample_rate)
                self.trimming = drop >= frame.samples  # the frames after this one overlap too
                if self.trimming:
                    return None
                if drop > 0:
                    frame = _frame_tail(frame, drop)
        if self.end_s is not None:
            self.end_s += frame.samples / frame.sample_rate
        return frame


def _frame_tail(frame: av.AudioFrame, skip: int) -> av.AudioFrame:
    """A new frame holding ``frame``'s samples from sample ``skip`` on (same format, rate and
    time base, stamped where those samples start)."""
    samples = frame.to_ndarray()  # planar: (channels, n); packed: (1, n * channels)
    per_sample = 1 if frame.format.is_planar else len(frame.layout.channels)
    tail = np.ascontiguousarray(samples[:, skip * per_sample :])
    out = av.AudioFrame.from_ndarray(tail, format=frame.format.name, layout=frame.layout.name)
    out.sample_rate = frame.sample_rate
    if frame.pts is not None and frame.time_base is not None:
        out.time_base = frame.time_base
        out.pts = frame.pts + round(Fraction(skip, frame.sample_rate) / frame.time_base)
    return out


class _PendingFrames:
    """Decoded frames of one sample format, rate and channel count, waiting to be mixed to mono.

    Frames go into an ``av.AudioFifo`` (one C call each: handling each frame's samples in Python
    would cost about as much as decoding a Vorbis frame) and come out as one block. The fifo is
    kept from block to block and takes only frames like its first: it refuses another sample
    format or rate itself, and :meth:`add` checks the channel count first (PyAV 18's fifo crashes
    on another one rather than refusing it). After :meth:`add` says ``False``, :meth:`pop` what is
    pending and :meth:`restart`.
    """

    def __init__(self) -> None:
        self.fifo: av.AudioFifo | None = None
        self.channels = 0
        #: Sample rate (Hz) of the pending frames or the last block; 0 before any frame.
        self.rate = 0
        self.samples = 0

    def add(self, frame: av.AudioFrame) -> bool:
        """Queue the frame's samples; ``False`` (nothing queued) if its sample format, rate or
        channel count is not that of the pending frames."""
        if self.fifo is None:
            self.fifo = av.AudioFifo()
            self.channels, self.rate = frame.layout.nb_channels, frame.sample_rate
        elif frame.layout.nb_channels != self.channels:
            return False
        frame.pts = None  # the fifo would reject a gap in the timestamps: not an error here
        try:
            self.fifo.write(frame)
        except ValueError:  # another sample format or rate
            return False
        self.samples += frame.samples
        return True

    def restart(self) -> None:
        """Take frames of another format, rate or channel count from now on (the fifo must be empty)."""
        self.fifo = None

    def pop(self) -> tuple[np.ndarray, int]:
        """Mix the pending frames to one mono float32 block in [-1, 1]; return it and its rate (Hz)."""
        assert self.fifo is not None
        block = self.fifo.read()
        rate = self.rate  # the rate stays: it means something was decoded
        self.samples = 0
        if block is None:
            return np.zeros(0, np.float32), rate
        base, channels = block.format.name.rstrip("p"), len(block.layout.channels)
        dtype, n = _SAMPLE_DTYPES[base], block.samples
        planar = block.format.is_planar
        planes = [np.frombuffer(plane, dtype, count=n if planar else n * channels) for plane in block.planes]
        if planar and channels > 1:
            mono = planes[0].astype(np.float32)  # a copy, summed into
            for plane in planes[1:]:
                mono += plane
            mono *= np.float32(1.0 / channels)
        elif channels > 1:
            mono = planes[0].reshape(-1, channels).mean(axis=1, dtype=np.float32)
        else:
            mono = planes[0].astype(np.float32)
        if base == "u8":
            mono = mono - np.float32(128.0)
        if _SAMPLE_SCALE[base] != 1.0:
            mono = mono * np.float32(_SAMPLE_SCALE[base])
        return mono, rate


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Mono ``samples`` at ``rate_in`` Hz resampled to ``rate_out`` Hz, float32, in one go
    (:class:`StreamResampler` over a single block)."""
    resampler = StreamResampler(rate_in, rate_out)
    return np.concatenate([resampler.push(samples), resampler.flush()])


class StreamResampler:
    """Resample a stream of blocks from ``rate_in`` to ``rate_out`` Hz, seamlessly across blocks
    (libsoxr through python-soxr, its "HQ" quality; the output is aligned with the input, and its
    length is the input's scaled by the ratio)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in = rate_in
        self.identity = rate_in == rate_out
        self._stream = None if self.identity else soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32")

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add input samples; return the output samples that are now final."""
        block = np.ascontiguousarray(block, dtype=np.float32)
        return block if self._stream is None else self._stream.resample_chunk(block)

    def flush(self) -> np.ndarray:
        """Return the remaining output at the end of the stream."""
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        return self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
