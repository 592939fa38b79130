"""From files on disk to fingerprinted recordings ready for the index.

Pure per-file work (decode, fingerprint, read tags) that can run in worker processes; nothing
here touches the library.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .audio import stream_audio
from .errors import AudioError, UnusableAudioError
from .fingerprint import Fingerprinter, Landmarks
from .index.store import NewRecording
from .metadata import read_tags
from .params import FingerprintParams

#: File extensions `add` picks up when walking a directory (any file named explicitly is tried).
MEDIA_EXTENSIONS = frozenset(
    ".aac .aif .aiff .ape .au .avi .caf .flac .m4a .m4b .mka .mkv .mov .mp2 .mp3 .mp4 .mpc .oga .ogg .ogv "
    ".opus .ra .spx .tta .wav .webm .wma .wmv .wv".split()
)
#: Shortest recording worth indexing (seconds).
MIN_RECORDING_S = 2.0


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named in ``paths``, with directories walked recursively for media files, sorted."""
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found = [
                Path(root) / name
                for root, _dirs, files in os.walk(path)
                for name in files
                if Path(name).suffix.lower() in MEDIA_EXTENSIONS
            ]
            yield from sorted(found)
        else:
            yield path


def file_sha1(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-1 of the file's bytes (hex): recognises a byte-identical copy under another name."""
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def analyze_file(path: str | Path, params: FingerprintParams) -> NewRecording:
    """Decode, fingerprint and tag one file. Raises :class:`AudioError` naming the file and reason."""
    p = Path(path).resolve()
    fp = Fingerprinter(params)
    parts = [fp.push(block) for block in stream_audio(p, params.sample_rate)]
    parts.append(fp.flush())
    duration_s = fp.n_samples / params.sample_rate
    if duration_s < MIN_RECORDING_S:
        raise UnusableAudioError(p, f"is too short ({duration_s:.1f} s; at least {MIN_RECORDING_S:.0f} s is needed)")
    marks = Landmarks.concat(parts)
    if len(marks) == 0:
        raise UnusableAudioError(p, "is silent or has no distinct sound to fingerprint")
    stat = p.stat()
    return NewRecording(
        hashes=marks.hash.astype(np.uint32),
        frames=marks.frame.astype(np.int32),
        n_frames=int(fp.n_samples // params.hop) + 1,
        path=str(p),
        file_size=stat.st_size,
        file_mtime=stat.st_mtime,
        file_sha1=file_sha1(p),
        duration_s=duration_s,
        tags=read_tags(p),
    )


def analyze_file_safe(path: str | Path, params: FingerprintParams) -> NewRecording | AudioError:
    """:func:`analyze_file` for worker processes: return the expected error instead of raising."""
    try:
        return analyze_file(path, params)
    except AudioError as exc:
        return exc
    except OSError as exc:
        return AudioError(path, f"cannot be read ({exc.strerror or exc})")
