"""Uploaded clips: saved to a temporary file within a size limit, decoded within a duration limit."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from starlette.datastructures import UploadFile

from ..audio import stream_audio
from ..errors import AudioError
from .errors import ApiError
from .limits import too_large_detail

#: Bytes copied from an upload at a time.
COPY_CHUNK_BYTES = 1 << 16
#: Clips are decoded in blocks of this many seconds, so an over-long clip is refused early.
DECODE_BLOCK_S = 5.0


@contextmanager
def saved_upload(upload: UploadFile, *, max_bytes: int, what: str = "clip") -> Iterator[Path]:
    """The upload written to a temporary file (deleted afterwards); 413 past ``max_bytes``.

    The file keeps the upload's extension when it has one (a hint for the demuxer; ffmpeg probes
    the content anyway).
    """
    suffix = Path(upload.filename or "").suffix[:10]
    with tempfile.NamedTemporaryFile(prefix="soundtrack-upload-", suffix=suffix) as tmp:
        copy_limited(upload, tmp, max_bytes=max_bytes, what=what)
        tmp.flush()
        yield Path(tmp.name)


def copy_limited(upload: UploadFile, dest, *, max_bytes: int, what: str) -> int:  # noqa: ANN001
    """Copy ``upload`` into the binary file object ``dest``; return the bytes copied.

    Raises 413 past ``max_bytes`` and 422 for an empty upload.
    """
    upload.file.seek(0)
    total = 0
    while chunk := upload.file.read(COPY_CHUNK_BYTES):
        total += len(chunk)
        if total > max_bytes:
            raise ApiError(413, "too_large", too_large_detail(what, max_bytes))
        dest.write(chunk)
    if total == 0:
        raise ApiError(422, "empty_upload", f"the {what} is empty (0 bytes were uploaded)")
    return total


def decode_clip(path: Path, sample_rate: int, *, max_clip_s: float) -> np.ndarray:
    """Mono float32 samples of the clip at ``path`` (``sample_rate`` Hz).

    Raises 422 ``clip_too_long`` past ``max_clip_s`` seconds (decoding stops there), and 422
    ``unreadable_audio`` naming the reason for corrupt or audio-less files.
    """
    limit = int(max_clip_s * sample_rate)
    blocks: list[np.ndarray] = []
    n = 0
    try:
        for block in stream_audio(path, sample_rate, block_s=DECODE_BLOCK_S):
            n += block.size
            if n > limit:
                raise ApiError(422, "clip_too_long",
                               f"the clip is too long: the limit is {max_clip_s:g} s of audio")
            blocks.append(block)
    except AudioError as exc:
        raise ApiError(422, "unreadable_audio", f"the clip cannot be used: {exc.reason}") from None
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def move_upload(upload: UploadFile, dest: Path, *, max_bytes: int, what: str) -> int:
    """Write ``upload`` to ``dest`` (created), within ``max_bytes``; remove it on failure."""
    try:
        with dest.open("wb") as out:
            return copy_limited(upload, out, max_bytes=max_bytes, what=what)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
