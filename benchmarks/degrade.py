"""Audio degradations for benchmark clips.

Every function works on mono float32 numpy arrays at ``SR`` Hz (samples in
[-1, 1]) and returns a new array at ``SR``; levels are in dB, durations and
offsets in seconds.  Functions that need randomness take an explicit
``np.random.Generator``; nothing here touches global random state.  Encoding
and decoding run in-process with PyAV where it can (an ffmpeg process costs
~0.1 s to start); sox and the ffmpeg CLI run in subprocesses, with temporary
directories that are removed afterwards.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

SR = 22050  # Hz, the sample rate of every array in this module
_EPS = 1e-12


# --------------------------------------------------------------------------
# I/O
# --------------------------------------------------------------------------


def _run(cmd: list[str], data: bytes | None = None) -> bytes:
    """Run ``cmd`` feeding ``data`` on stdin; return stdout or raise with stderr."""
    proc = subprocess.run(cmd, input=data, capture_output=True)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err}")
    return proc.stdout


def load_segment(
    path: str | Path, start_s: float = 0.0, dur_s: float | None = None, sr: int = SR
) -> np.ndarray:
    """Decode ``dur_s`` seconds of ``path`` from ``start_s`` as mono float32 at ``sr`` Hz.

    ``dur_s=None`` decodes to the end.  16-bit PCM WAV files already at
    ``sr`` are read directly; everything else goes through the ffmpeg CLI.
    ffmpeg's seek in Ogg Vorbis can land a few ms (up to ~150 samples) off,
    so cut from a whole-file decode where sample accuracy matters.  The
    result can be shorter than asked near the end of the file.
    """
    wav = _read_wav(path, sr)
    if wav is not None:
        first = int(round(start_s * sr))
        last = None if dur_s is None else first + int(round(dur_s * sr))
        return wav[first:last]
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if start_s > 0:
        cmd += ["-ss", f"{start_s:.6f}"]
    if dur_s is not None:
        cmd += ["-t", f"{dur_s:.6f}"]
    cmd += ["-i", str(path), "-vn", "-ac", "1", "-ar", str(sr), "-f", "f32le", "-"]
    return np.frombuffer(_run(cmd), dtype="<f4").astype(np.float32)


def _read_wav(path: str | Path, sr: int) -> np.ndarray | None:
    """Mono float32 samples of a 16-bit PCM WAV at ``sr`` Hz, or None for anything else."""
    if Path(path).suffix.lower() != ".wav":
        return None
    try:
        rate, data = wavfile.read(path, mmap=False)
    except ValueError:  # a WAV flavour scipy does not read
        return None
    if rate != sr or data.dtype != np.int16:
        return None
    if data.ndim == 2:
        data = data.mean(axis=1)
    return (data / 32768.0).astype(np.float32)


def _pcm16(x: np.ndarray) -> np.ndarray:
    """Float samples to int16, scaled down (not clipped) when the peak exceeds 1."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1.0:
        x = x / peak
    return np.round(x * 32767.0).astype(np.int16)


def decode_bytes(data: bytes, sr: int = SR) -> np.ndarray:
    """Decode an in-memory audio file with PyAV as mono float32 at ``sr`` Hz.

    In-process (an ffmpeg process costs ~0.1 s to start), for short clips;
    encoder delay and padding are removed as ffmpeg does.  Whole tracks are
    faster through ``load_segment`` (PyAV's per-frame resampling is slow).
    """
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
    chunks: list[np.ndarray] = []
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(container.streams.audio[0]):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


@dataclass(frozen=True)
class _Codec:
    """How PyAV encodes a format: container, encoder, its sample rate and bit rate."""

    container: str
    codec: str
    rate: int | None = None  # Hz; None = keep the input rate
    bit_rate: int | None = None  # bit/s


# extension -> in-process (PyAV) encoder for ``write_audio`` and round trips
_AV_CODECS: dict[str, _Codec] = {
    ".m4a": _Codec("ipod", "aac", bit_rate=96_000),
    ".mp3": _Codec("mp3", "libmp3lame", bit_rate=128_000),
    ".opus": _Codec("ogg", "libopus", rate=48_000, bit_rate=64_000),
    ".flac": _Codec("flac", "flac"),
    ".amr": _Codec("amr", "libopencore_amrnb", rate=8_000, bit_rate=12_200),
}


def encode(x: np.ndarray, codec: _Codec, sr: int = SR) -> bytes:
    """Encode mono ``x`` (at ``sr`` Hz) in memory with PyAV; return the file's bytes."""
    import av

    buf = io.BytesIO()
    rate = codec.rate or sr
    with av.open(buf, "w", format=codec.container) as out:
        stream = out.add_stream(codec.codec, rate=rate, layout="mono")
        if codec.bit_rate:
            stream.bit_rate = codec.bit_rate
        frame = av.AudioFrame.from_ndarray(_pcm16(x)[None, :], format="s16", layout="mono")
        frame.sample_rate = sr
        frame.pts = 0  # timestamps let muxers record encoder delay (MP4 edit list)
        frame.time_base = Fraction(1, sr)
        fmt = stream.codec_context.format.name
        resampler = av.AudioResampler(format=fmt, layout="mono", rate=rate,
                                      frame_size=stream.codec_context.frame_size or None)
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return buf.getvalue()


def write_audio(path: str | Path, x: np.ndarray, sr: int = SR) -> None:
    """Write mono ``x`` to ``path``; the format follows the extension.

    ``.wav`` is 16-bit PCM (scipy); ``.m4a`` (AAC 96k), ``.mp3`` (128k),
    ``.opus`` (64k, at its native 48 kHz) and ``.flac`` are encoded in-process
    with PyAV; ``.ogg`` (Vorbis q4) with the ffmpeg CLI, whose libvorbis PyAV
    lacks.  A peak above full scale is scaled down rather than clipped.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".wav":
        wavfile.write(path, sr, _pcm16(x))
    elif ext in _AV_CODECS:
        path.write_bytes(encode(x, _AV_CODECS[ext], sr))
    elif ext == ".ogg":
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", str(sr),
               "-ac", "1", "-i", "-", "-c:a", "libvorbis", "-q:a", "4", str(path)]
        _run(cmd, _pcm16(x).tobytes())
    else:
        raise ValueError(f"unsupported audio extension {ext!r}")


def fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Cut or zero-pad ``y`` to exactly ``n`` samples."""
    if len(y) >= n:
        return y[:n]
    return np.concatenate([y, np.zeros(n - len(y), dtype=y.dtype)])


# --------------------------------------------------------------------------
# Levels
# --------------------------------------------------------------------------


def rms(x: np.ndarray) -> float:
    """Root-mean-square level of ``x`` (linear, full scale = 1)."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def db(ratio: float) -> float:
    """Amplitude ratio in dB."""
    return 20.0 * np.log10(max(ratio, _EPS))


def active_mask(x: np.ndarray, frame_s: float = 0.02, floor_db: float = -35.0,
                sr: int = SR) -> np.ndarray:
    """Per-sample mask of frames louder than ``floor_db`` below the loudest frame."""
    n = max(1, int(frame_s * sr))
    frames = len(x) // n
    if frames == 0:
        return np.ones(len(x), dtype=bool)
    energy = np.mean(np.square(x[: frames * n].reshape(frames, n), dtype=np.float64), axis=1)
    loud = energy > energy.max() * 10.0 ** (floor_db / 10.0)
    mask = np.repeat(loud, n)
    return np.concatenate([mask, np.full(len(x) - len(mask), loud[-1])])


def active_rms(x: np.ndarray, sr: int = SR) -> float:
    """RMS over the active (non-silent) frames of ``x``, e.g. speech without pauses."""
    mask = active_mask(x, sr=sr)
    return rms(x[mask]) if mask.any() else 0.0


def scale_to_snr(noise: np.ndarray, reference: np.ndarray, snr_db: float,
                 noise_level: float | None = None) -> np.ndarray:
    """Scale ``noise`` so that ``rms(reference) / level(noise)`` is ``snr_db`` dB.

    ``noise_level`` is the noise level to use (defaults to ``rms(noise)``).
    """
    level = rms(noise) if noise_level is None else noise_level
    if level < _EPS:
        return noise
    target = rms(reference) / 10.0 ** (snr_db / 20.0)
    return (noise * (target / level)).astype(np.float32)


# --------------------------------------------------------------------------
# Additive degradations
# --------------------------------------------------------------------------


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise ``snr_db`` dB below the RMS of ``x``."""
    noise = rng.standard_normal(len(x)).astype(np.float32)
    return (x + scale_to_snr(noise, x, snr_db)).astype(np.float32)


def _as_arrays(speech: Sequence[np.ndarray | str | Path]) -> list[np.ndarray]:
    """Speech pool entries as arrays at ``SR`` (paths are decoded)."""
    return [s if isinstance(s, np.ndarray) else load_segment(s) for s in speech]


def speech_track(speech: Sequence[np.ndarray | str | Path], n: int,
                 rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of dialogue: random pool lines separated by 0.1-0.4 s gaps.

    The track starts at a random point of its first line, as a clip cut from
    the middle of a scene would.
    """
    pool = _as_arrays(speech)
    if not pool:
        raise ValueError("empty speech pool")
    first = pool[int(rng.integers(len(pool)))]
    parts = [first[int(rng.integers(max(1, len(first) // 2))):]]
    total = len(parts[0])
    while total < n:
        gap = np.zeros(int(rng.uniform(0.1, 0.4) * SR), dtype=np.float32)
        line = pool[int(rng.integers(len(pool)))]
        parts += [gap, line]
        total += len(gap) + len(line)
    return np.concatenate(parts)[:n].astype(np.float32)


def mix_speech(x: np.ndarray, speech: Sequence[np.ndarray | str | Path],
               louder_db: float, rng: np.random.Generator) -> np.ndarray:
    """Overlay dialogue on ``x`` with speech ``louder_db`` dB above the music.

    Speech loudness is its RMS over speech-active frames (pauses excluded);
    music loudness is the RMS of the whole of ``x``.
    """
    talk = speech_track(speech, len(x), rng)
    talk = scale_to_snr(talk, x, -louder_db, noise_level=active_rms(talk))
    return (x + talk).astype(np.float32)


# --------------------------------------------------------------------------
# Phone recording
# --------------------------------------------------------------------------


def room_impulse(rng: np.random.Generator, rt60_s: float, sr: int = SR) -> np.ndarray:
    """Synthetic room impulse response: direct path plus an exponential noise tail.

    ``rt60_s`` is the time for the tail to decay by 60 dB; the tail starts
    after a 5-15 ms pre-delay and carries about as much energy as the direct
    path (a living room heard from a few metres).
    """
    n = int(rt60_s * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * np.exp(-6.91 * t / rt60_s)  # 6.91 = ln(1000)
    tail[: int(rng.uniform(0.005, 0.015) * sr)] = 0.0
    tail *= rng.uniform(0.7, 1.2) / (np.sqrt(np.sum(tail**2)) + _EPS)
    tail[0] = 1.0
    return tail.astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator, rt60_s: tuple[float, float] = (0.3, 0.5)
           ) -> np.ndarray:
    """Convolve ``x`` with a random room response (RT60 drawn from ``rt60_s``), same length."""
    ir = room_impulse(rng, rng.uniform(*rt60_s))
    y = signal.fftconvolve(x, ir)[: len(x)]
    return (y * (rms(x) / max(rms(y), _EPS))).astype(np.float32)


def band_pass(x: np.ndarray, low_hz: float = 300.0, high_hz: float = 3400.0,
              order: int = 6) -> np.ndarray:
    """Butterworth band-pass (causal, like a microphone and its front end)."""
    sos = signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=SR, output="sos")
    return signal.sosfilt(sos, x).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of 1/f (pink) noise, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    spectrum[1:] /= np.sqrt(f[1:])
    spectrum[0] = 0.0
    y = np.fft.irfft(spectrum, n)
    return (y / max(rms(y), _EPS)).astype(np.float32)


def room_noise(n: int, rng: np.random.Generator,
               babble: Sequence[np.ndarray | str | Path] | None = None) -> np.ndarray:
    """Room noise: pink noise with slow level swings, plus babble when a speech pool is given.

    Babble is 4-6 overlapping dialogue tracks; it is mixed at 0 dB relative
    to the pink noise.  Unit RMS.
    """
    noise = pink_noise(n, rng)
    swing = np.interp(np.arange(n), np.linspace(0, n, 8), rng.uniform(0.6, 1.4, 8))
    noise = noise * swing.astype(np.float32)
    if babble:
        crowd = sum(speech_track(babble, n, rng) * rng.uniform(0.5, 1.0)
                    for _ in range(int(rng.integers(4, 7))))
        noise = noise + scale_to_snr(np.asarray(crowd, np.float32), noise, 0.0)
    return (noise / max(rms(noise), _EPS)).astype(np.float32)


@functools.cache
def _av_has_encoder(name: str) -> bool:
    """Whether PyAV's bundled FFmpeg has the encoder ``name`` (cached per process)."""
    import av

    try:
        av.codec.Codec(name, "w")
    except Exception:  # noqa: BLE001 - av raises several types for unknown codecs
        return False
    return True


@functools.cache
def _ffmpeg_encoders() -> str:
    """The text of ``ffmpeg -encoders`` (cached per process)."""
    return _run(["ffmpeg", "-hide_banner", "-encoders"]).decode("utf-8", "replace")


@functools.cache
def _sox_formats() -> frozenset[str]:
    """Audio file formats this sox build can write or read (cached per process)."""
    if not shutil.which("sox"):
        return frozenset()
    text = subprocess.run(["sox", "-h"], capture_output=True, text=True).stdout
    for line in text.splitlines():
        if line.startswith("AUDIO FILE FORMATS:"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def phone_codec() -> str:
    """Best available narrow-band speech codec for ``phone_chain``.

    One of ``amrnb-av`` (AMR-NB 12.2 kbit/s in PyAV), ``amrnb-ffmpeg`` (same,
    ffmpeg CLI), ``amrnb-sox`` (same, sox with libopencore-amrnb), ``gsm``
    (GSM 06.10 via sox) or ``opus`` (12 kbit/s narrow-band, ffmpeg CLI).
    AMR-NB 12.2 is what GSM/UMTS phones send.
    """
    if _av_has_encoder("libopencore_amrnb"):
        return "amrnb-av"
    if "libopencore_amrnb" in _ffmpeg_encoders():
        return "amrnb-ffmpeg"
    if "amr-nb" in _sox_formats():
        return "amrnb-sox"
    if "gsm" in _sox_formats():
        return "gsm"
    return "opus"


def _narrowband_roundtrip(x: np.ndarray, codec: str) -> np.ndarray:
    """Encode ``x`` at 8 kHz with ``codec`` (see ``phone_codec``), decode back to ``SR``.

    Output length = input length.
    """
    if codec == "amrnb-av":
        return fit_length(decode_bytes(encode(x, _AV_CODECS[".amr"])), len(x))
    with tempfile.TemporaryDirectory(prefix="st-phone-") as tmp:
        src, back = Path(tmp) / "in.wav", Path(tmp) / "back.wav"
        write_audio(src, x)
        if codec == "amrnb-ffmpeg":
            coded = Path(tmp) / "coded.amr"
            _run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(src), "-ar", "8000",
                  "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k", str(coded)])
        elif codec in ("amrnb-sox", "gsm"):
            coded = Path(tmp) / ("coded.amr-nb" if codec == "amrnb-sox" else "coded.gsm")
            mode = ["-C", "7"] if codec == "amrnb-sox" else []  # AMR mode 7 = 12.2 kbit/s
            _run(["sox", "-V1", str(src), "-r", "8000", "-c", "1", *mode, str(coded)])
            _run(["sox", "-V1", str(coded), "-r", str(SR), "-b", "16", str(back)])
            coded = back
        else:
            coded = Path(tmp) / "coded.opus"
            _run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(src), "-ar", "8000",
                  "-c:a", "libopus", "-b:a", "12k", "-application", "voip", str(coded)])
        return fit_length(load_segment(coded), len(x))


def phone_chain(x: np.ndarray, rng: np.random.Generator,
                babble: Sequence[np.ndarray | str | Path] | None = None,
                snr_db: tuple[float, float] = (10.0, 15.0)) -> np.ndarray:
    """What a phone held in a noisy room records of music playing in that room.

    Room reverb (RT60 0.3-0.5 s), room noise (pink, plus babble from
    ``babble`` if given) at an in-band SNR drawn from ``snr_db``, the
    300-3400 Hz band of a phone microphone, then a narrow-band speech codec
    round trip (``phone_codec()``), back at ``SR``.  Output length = input length.
    """
    wet = band_pass(reverb(x, rng))
    noise = band_pass(room_noise(len(x), rng, babble))
    mixed = wet + scale_to_snr(noise, wet, rng.uniform(*snr_db))
    return _narrowband_roundtrip(mixed.astype(np.float32), phone_codec())


# --------------------------------------------------------------------------
# Codecs and sox effects
# --------------------------------------------------------------------------

_ROUNDTRIP_CODECS: dict[str, _Codec] = {
    "mp3": _Codec("mp3", "libmp3lame"),
    "aac": _Codec("ipod", "aac"),
    "opus": _Codec("ogg", "libopus", rate=48_000),
}


def codec_roundtrip(x: np.ndarray, codec: str = "mp3", kbps: int = 32) -> np.ndarray:
    """Encode ``x`` with ``codec`` (``mp3``/``aac``/``opus``) at ``kbps`` kbit/s and decode to ``SR``.

    In memory with PyAV; output length = input length (decoder delay is
    removed from the encoder's gapless metadata).
    """
    spec = _ROUNDTRIP_CODECS[codec]
    spec = _Codec(spec.container, spec.codec, spec.rate, kbps * 1000)
    return fit_length(decode_bytes(encode(x, spec)), len(x))


def sox_effect(x: np.ndarray, effect: Sequence[str]) -> np.ndarray:
    """Run the sox effect chain ``effect`` (e.g. ``["tempo", "-s", "1.08"]``) on ``x``.

    Raw float32 goes through pipes; ``rate SR`` is appended so effects that
    change the sample rate (``speed``) come back at ``SR``.  ``-G`` lets sox
    lower the gain instead of clipping.
    """
    raw = ["-t", "raw", "-e", "floating-point", "-b", "32", "-r", str(SR), "-c", "1"]
    cmd = ["sox", "-V1", "-G", *raw, "-", *raw, "-", *effect, "rate", "-v", str(SR)]
    out = _run(cmd, np.ascontiguousarray(x, dtype="<f4").tobytes())
    return np.frombuffer(out, dtype="<f4").astype(np.float32)
