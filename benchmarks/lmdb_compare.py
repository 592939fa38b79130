"""Why the index is sorted segments and not LMDB: size and lookup time of the same landmarks.

Loads the landmarks of a soundtrack library (default: the identify benchmark's library), stores
them in LMDB the way one would (duplicate-sorted, fixed-size integer values) and compares bytes on
disk and the time to look up the distinct hashes of a query. Needs ``pip install lmdb``.

Usage::

    python -m benchmarks.lmdb_compare [--library DIR] [--query-hashes 15000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import cache_dir
from soundtrack import Library


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, default=None)
    ap.add_argument("--query-hashes", type=int, default=15000)
    args = ap.parse_args()
    import lmdb  # an optional tool of this comparison, not a dependency of soundtrack

    lib = Library(args.library or cache_dir() / "library")
    views = lib.store.snapshot().views
    keys = np.concatenate([np.asarray(v.segment.keys) for v in views])
    pos = np.concatenate([np.asarray(v.segment.positions) for v in views])
    query = np.unique(keys[np.random.default_rng(0).integers(0, keys.size, args.query_hashes)])
    print(f"{keys.size} landmarks; segments: {lib.stats().index_bytes / 1e6:.1f} MB")
    for view in views:  # warm up: compiled search loaded, pages in memory (as LMDB's, just written)
        view.segment.lookup(query)
    started = time.perf_counter()
    for view in views:
        view.segment.lookup(query)
    print(f"segments: {query.size} distinct hashes looked up in {1000 * (time.perf_counter() - started):.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        env = lmdb.open(tmp, map_size=1 << 34, max_dbs=1)
        db = env.open_db(b"h", dupsort=True, dupfixed=True, integerdup=True, integerkey=True)
        order = np.lexsort((pos, keys))
        with env.begin(write=True, db=db) as txn:
            txn.cursor().putmulti(
                [(int(k).to_bytes(4, "little"), int(p).to_bytes(4, "little")) for k, p in zip(keys[order], pos[order])]
            )
        used = env.info()["last_pgno"] * env.stat()["psize"]
        print(f"LMDB: {used / 1e6:.1f} MB")
        started = time.perf_counter()
        with env.begin(db=db) as txn:
            cursor = txn.cursor()
            for k in query.tolist():
                if cursor.set_key(k.to_bytes(4, "little")):
                    for _ in cursor.iternext_dup():
                        pass
        print(f"LMDB: {query.size} distinct hashes looked up in {1000 * (time.perf_counter() - started):.1f} ms")
        env.close()


if __name__ == "__main__":
    main()
