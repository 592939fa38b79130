"""Index segments: lookups agree with a brute-force search."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soundtrack.index.segments import expand_ranges, open_segment, write_segment
from soundtrack.index.store import IndexStore, NewRecording
from soundtrack.params import FingerprintParams


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


def _recording(i: int, hashes: np.ndarray, frames: np.ndarray) -> NewRecording:
    return NewRecording(hashes=hashes, frames=frames, n_frames=int(frames.max()) + 1, path=f"/r{i}.wav",
                        file_size=1, file_mtime=0.0, file_sha1=f"{i:040x}", duration_s=10.0, tags={"title": f"r{i}"})


def test_snapshot_lookup_over_segments_matches_brute_force(tmp_path: Path) -> None:
    """Every (query position, recording, frame) of repeated query hashes, over several segments,
    after a partial merge and a removal."""
    rng = np.random.default_rng(5)
    store = IndexStore(tmp_path, FingerprintParams())
    pool = rng.integers(0, 2**32, 400, dtype=np.uint64).astype(np.uint32)  # shared: many hits per hash
    stored = {}
    with store.write_lock():
        for batch in range(3):
            recs = []
            for k in range(2):
                i = 2 * batch + k
                hashes = rng.choice(pool, 300)
                frames = np.sort(rng.integers(0, 5000, hashes.size)).astype(np.int32)
                recs.append(_recording(i, hashes, frames))
            for rec in store.commit(recs):
                new = recs[[r.path for r in recs].index(rec.path)]
                stored[rec.id] = (new.hashes, new.frames)
        store.compact(store.segments_since(1))  # the last two segments become one
        removed = next(iter(stored))
        store.remove([removed])
        del stored[removed]
    snapshot = store.snapshot()
    assert len(snapshot.views) == 2
    query = np.concatenate([rng.choice(pool, 200), pool[:50], rng.integers(0, 2**32, 50, dtype=np.uint64)])
    qi, rec_id, frame = snapshot.lookup(query.astype(np.uint32))
    got = sorted(zip(qi.tolist(), rec_id.tolist(), frame.tolist()))
    want = sorted((q, rid, int(f)) for q, h in enumerate(query.tolist()) for rid, (hs, fs) in stored.items()
                  for f in fs[hs == h])
    assert got == want
    assert snapshot.lookup(np.zeros(0, np.uint32))[0].size == 0
