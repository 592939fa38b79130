"""Index segments: lookups agree with a brute-force search."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soundtrack.index.segments import expand_ranges, open_segment, write_segment


def test_lookup_finds_exactly_the_stored_pairs(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32)
    keys[:3000] = keys[3000:6000]  # plenty of repeated keys
    positions = rng.integers(0, 10**6, keys.size).astype(np.int64)
    write_segment(tmp_path, "s", keys, positions)
    seg = open_segment(tmp_path, "s")
    query = np.concatenate([keys[::97], rng.integers(0, 2**32, 500, dtype=np.uint64).astype(np.uint32), [0, 2**32 - 1]])
    qi, pos = seg.lookup(query.astype(np.uint32))
    got = sorted(zip(qi.tolist(), pos.tolist()))
    want = sorted((i, int(p)) for i, h in enumerate(query.tolist()) for p in positions[keys == h])
    assert got == want


def test_expand_ranges() -> None:
    owner, index = expand_ranges(np.array([10, 0, 5]), np.array([2, 0, 3]))
    assert owner.tolist() == [0, 0, 2, 2, 2]
    assert index.tolist() == [10, 11, 5, 6, 7]
