"""Immutable, memory-mapped, sorted segments of (hash, position) pairs.

A segment is two NumPy files written once and never changed:

* ``<name>.keys.npy``: uint32 landmark hashes, sorted;
* ``<name>.pos.npy``: uint32 positions, in STFT frames from the start of the segment, where the
  recordings of the segment lie end to end (each recording owns a range of positions).

8 bytes per landmark. A lookup is a vectorised binary search (``np.searchsorted``) over the
memory-mapped keys, so opening a segment costs nothing and only the pages a query touches are read.
Files are written to a temporary name, flushed to disk and renamed into place, so a segment file
either exists whole or not at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

#: Keys are bucketed by their top bits for lookups: 2**16 buckets, a 256 KiB directory per segment.
DIRECTORY_BITS = 16


@dataclass(frozen=True)
class Segment:
    """One opened segment: sorted ``keys`` and their ``positions`` (both uint32, memory-mapped),
    and ``directory[b]``, the index of the first key whose top :data:`DIRECTORY_BITS` are ``>= b``."""

    name: str
    keys: np.ndarray
    positions: np.ndarray
    directory: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.positions.nbytes)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Find every stored pair whose key is in ``hashes`` (fastest when sorted and distinct).

        Returns ``(query_index, position)``: for each hit, the index into ``hashes`` of the query
        hash that matched, and the stored position (frames, segment coordinates).
        """
        if hashes.size == 0 or self.keys.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        needles = np.asarray(hashes, dtype=np.uint32)
        lo, hi = _bucketed_ranges(self.keys, self.directory, needles, 32 - DIRECTORY_BITS)
        query_index, offsets = expand_ranges(lo, hi - lo)
        return query_index, self.positions[offsets].astype(np.int64)


def expand_ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``[starts[i], starts[i] + counts[i])``: ``(i, j)`` for every ``j`` in range ``i``."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    first = np.cumsum(counts) - counts
    within = np.arange(owner.size) - first[owner]
    return owner, np.asarray(starts, dtype=np.int64)[owner] + within


def segment_paths(directory: Path, name: str) -> tuple[Path, Path]:
    """The key and position file of segment ``name`` in ``directory``."""
    return directory / f"{name}.keys.npy", directory / f"{name}.pos.npy"


def write_segment(directory: Path, name: str, hashes: np.ndarray, positions: np.ndarray) -> int:
    """Sort ``(hashes, positions)`` by hash and write them as segment ``name``; return bytes written.

    Both files are fsync'ed before this returns. The caller makes the segment visible by recording
    it in the catalog afterwards, so a crash at any point leaves at worst an unreferenced file.
    """
    if positions.size and int(positions.max()) >= 1 << 32:
        raise ValueError("segment too long: positions must fit in 32 bits")
    # one 64-bit value per landmark, hash above position, sorted in place: 4 times faster than
    # np.lexsort on the benchmark's 4.4 M landmarks
    packed = (np.asarray(hashes).astype(np.uint64) << np.uint64(32)) | np.asarray(positions).astype(np.uint64)
    packed.sort()
    keys = (packed >> np.uint64(32)).astype(np.uint32)
    pos = (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    directory.mkdir(parents=True, exist_ok=True)
    for path, array in zip(segment_paths(directory, name), (keys, pos)):
        _write_npy_durably(path, array)
    _fsync_dir(directory)
    return int(keys.nbytes + pos.nbytes)


def open_segment(directory: Path, name: str) -> Segment:
    """Memory-map segment ``name``. Raises ``FileNotFoundError`` if it was removed meanwhile."""
    keys_path, pos_path = segment_paths(directory, name)
    keys = np.load(keys_path, mmap_mode="r").view(np.ndarray)
    positions = np.load(pos_path, mmap_mode="r").view(np.ndarray)
    bucket_starts = np.arange((1 << DIRECTORY_BITS) + 1, dtype=np.uint64) << np.uint64(32 - DIRECTORY_BITS)
    directory = np.searchsorted(keys, bucket_starts).astype(np.int64)
    return Segment(name, keys, positions, directory)


def delete_segment(directory: Path, name: str) -> None:
    """Remove a segment's files (readers that have it mapped keep their view on POSIX)."""
    for path in segment_paths(directory, name):
        path.unlink(missing_ok=True)


@numba.njit(cache=True, nogil=True)
def _bucketed_ranges(
    keys: np.ndarray, directory: np.ndarray, needles: np.ndarray, shift: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    lo_out = np.empty(needles.size, dtype=np.int64)
    hi_out = np.empty(needles.size, dtype=np.int64)
    for i in range(needles.size):
        h = needles[i]
        lo = directory[h >> shift]
        hi = directory[(h >> shift) + 1]
        while lo < hi:  # first key >= h within the bucket
            mid = (lo + hi) // 2
            if keys[mid] < h:
                lo = mid + 1
            else:
                hi = mid
        end = lo
        while end < keys.size and keys[end] == h:
            end += 1
        lo_out[i] = lo
        hi_out[i] = end
    return lo_out, hi_out


def _write_npy_durably(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, array)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
