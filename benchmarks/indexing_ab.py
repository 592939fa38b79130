"""Indexing speed of this tree against another revision, side by side on the same files.

The machine's speed drifts by 10-20 % within an hour, more than most changes to indexing make, so
two revisions are compared by alternating them: each round fingerprints the same corpus files
(``analyze_file``: decode, fingerprint, tags, SHA-1; no index write) once with each tree, each
in a fresh process timed in CPU seconds. Reported per tree: real-time factor (audio seconds per
CPU second) of every round and the median, and a digest of all hashes and frames, which must be
the same when a change is meant to leave the fingerprints alone.

The other revision is checked out into a temporary git worktree. The corpus must have been built
once (``python -m benchmarks.identify_bench`` does it).

Usage::

    python -m benchmarks.indexing_ab --against 6cefca0 [--files 30] [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent

#: Run in a child process with one tree's ``src`` first on the path: prints one JSON line.
_CHILD = r"""
import hashlib, json, sys, time
from soundtrack.ingest import analyze_file
from soundtrack.params import FingerprintParams
import soundtrack
paths, audio_s = json.loads(sys.argv[1]), float(sys.argv[2])
params = FingerprintParams()
analyze_file(paths[0], params)  # compiled kernels loaded, caches warm
digest, started = hashlib.sha1(), time.process_time()
for path in paths:
    rec = analyze_file(path, params)
    digest.update(rec.hashes.tobytes())
    digest.update(rec.frames.tobytes())
cpu_s = time.process_time() - started
print(json.dumps({"x_real_time": audio_s / cpu_s, "digest": digest.hexdigest()[:12], "src": soundtrack.__file__}))
"""


def corpus_sample(n_files: int) -> tuple[list[str], float]:
    """The first ``n_files`` indexed tracks of the benchmark corpus (paths, total seconds)."""
    from .corpus import build_corpus

    tracks = build_corpus().indexed[:n_files]
    return [str(t.path) for t in tracks], sum(t.duration_s for t in tracks)


def time_tree(src: Path, paths: list[str], audio_s: float) -> dict:
    """One round with the package at ``src`` (a tree's ``src`` directory)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(paths), str(audio_s)],
                         env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["src"].startswith(str(src)):
        raise RuntimeError(f"imported {result['src']}, not the tree at {src}")
    return result


def compare(against: str, n_files: int, rounds: int) -> dict:
    """Alternate this tree and revision ``against`` for ``rounds`` rounds; results per tree."""
    paths, audio_s = corpus_sample(n_files)
    with tempfile.TemporaryDirectory(prefix="soundtrack-ab-") as tmp:
        other = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(other), against], check=True)
        try:
            trees = {against: other / "src", "this tree": REPO / "src"}
            runs: dict[str, list[dict]] = {name: [] for name in trees}
            for round_no in range(rounds):
                for name, src in trees.items():
                    runs[name].append(time_tree(src, paths, audio_s))
                    print(f"round {round_no + 1} {name}: {runs[name][-1]['x_real_time']:.0f}x", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(other)], check=False)
    return {
        "files": len(paths), "audio_hours": audio_s / 3600,
        "trees": {name: {"x_real_time": [r["x_real_time"] for r in rs],
                         "median_x_real_time": median(r["x_real_time"] for r in rs),
                         "digests": sorted({r["digest"] for r in rs})} for name, rs in runs.items()},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", required=True, help="git revision to compare with")
    ap.add_argument("--files", type=int, default=30, help="corpus files per round")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    args = ap.parse_args(argv)
    result = compare(args.against, args.files, args.rounds)
    print(f"{result['files']} files, {result['audio_hours']:.2f} h of audio, {args.rounds} rounds")
    for name, tree in result["trees"].items():
        rounds = ", ".join(f"{x:.0f}" for x in tree["x_real_time"])
        print(f"  {name:>12}: median {tree['median_x_real_time']:.0f}x real time ({rounds}); "
              f"hash digest {' / '.join(tree['digests'])}")
    digests = {d for tree in result["trees"].values() for d in tree["digests"]}
    print("  the same hashes and frames" if len(digests) == 1 else "  the fingerprints differ")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
