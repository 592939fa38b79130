"""Scan benchmark: scan the synthetic episodes of :mod:`benchmarks.episodes` and score the cues.

The library is ``<cache>/library`` (built by :mod:`benchmarks.identify_bench`) when it holds
(nearly) every track of ``corpus.indexed``; otherwise ``<cache>/scan-library`` is built (or
completed) from ``corpus.indexed``. Each episode is scanned with :meth:`soundtrack.Library.scan`
and scored with :func:`benchmarks.scan_metrics.score_scan`; speed is episode seconds per wall
second (× real time).

Usage::

    python -m benchmarks.scan_bench [--quick] [--library DIR] [--json OUT] [--jobs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.corpus import Corpus, build_corpus, cache_dir
from benchmarks.episodes import EpisodeTruth, make_episodes
from benchmarks.scan_metrics import score_scan
from soundtrack import Library, LibraryError

#: The shared library is reused when it holds at least this share of the indexed tracks.
REUSE_SHARE = 0.95


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def open_library(corpus: Corpus, cache: Path, explicit: Path | None, jobs: int) -> Library:
    """The library to scan against (see the module docstring)."""
    if explicit is not None:
        return Library(explicit)
    shared = cache / "library"
    if shared.exists():
        try:
            lib = Library(shared)
        except LibraryError as exc:  # e.g. built with other fingerprint parameters
            log(f"not using {shared}: {exc}")
        else:
            if lib.stats().recordings >= REUSE_SHARE * len(corpus.indexed):
                log(f"using {shared} ({lib.stats().recordings} recordings)")
                return lib
            lib.close()
    own_dir = cache / "scan-library"
    try:
        own = Library(own_dir)
    except LibraryError:  # stale parameters: start again
        shutil.rmtree(own_dir)
        own = Library(own_dir)
    started = time.perf_counter()
    report = own.add([t.path for t in corpus.indexed], jobs=jobs)
    log(f"{own.path}: {own.stats().recordings} recordings ({len(report.added)} added in "
        f"{time.perf_counter() - started:.0f} s, {len(report.failed)} failed)")
    return own


def predicted_cues(lib: Library, episode: str) -> tuple[list[dict], float, float]:
    """Scan ``episode``; return its cues as score_scan mappings, the wall time (s) and duration (s)."""
    started = time.perf_counter()
    soundtrack = lib.scan(episode)
    wall = time.perf_counter() - started
    cues = [{"recording": c.recording.path, "episode_start_s": c.episode_start_s,
             "episode_end_s": c.episode_end_s, "recording_start_s": c.recording_start_s,
             "title": c.recording.title, "flags": c.flags} for c in soundtrack.cues]
    return cues, wall, soundtrack.duration_s


def bench_episode(lib: Library, truth: EpisodeTruth) -> dict:
    """Scan and score one episode; the result row holds the metrics, speed and misses."""
    cues, wall, duration = predicted_cues(lib, truth.episode)
    m = score_scan(truth.cues, cues)
    return {
        "episode": truth.name, "variant": truth.variant, "speed": truth.speed,
        "duration_s": round(duration, 1), "wall_s": round(wall, 2), "x_realtime": round(duration / wall, 1),
        **{k: m[k] for k in ("precision", "recall", "f1", "recall_by_kind", "mashup_both_found",
                             "median_start_error_s", "median_end_error_s", "median_recording_start_error_s",
                             "score_reported", "n_truth", "n_predicted", "n_matched")},
        "missed": [f"{truth.cues[i].kind} {Path(truth.cues[i].recording).name} "
                   f"@{truth.cues[i].episode_start_s:.1f}-{truth.cues[i].episode_end_s:.1f}" for i in m["missed"]],
        "false_positives": [f"{Path(cues[j]['recording']).name} "
                            f"@{cues[j]['episode_start_s']:.1f}-{cues[j]['episode_end_s']:.1f}"
                            for j in m["false_positives"]],
    }


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.2f}"


def print_table(rows: Sequence[dict]) -> None:
    print(f"{'episode':<18} {'P':>5} {'R':>5} {'F1':>5} {'start':>5} {'end':>5} {'recst':>5} "
          f"{'score':>5} {'×RT':>6}")
    for r in rows:
        print(f"{r['episode']:<18} {_fmt(r['precision'])} {_fmt(r['recall'])} {_fmt(r['f1'])} "
              f"{_fmt(r['median_start_error_s'])} {_fmt(r['median_end_error_s'])} "
              f"{_fmt(r['median_recording_start_error_s'])} {r['score_reported']:>5} {r['x_realtime']:>6.0f}")
        print(f"{'':<18} recall by kind: {json.dumps({k: round(v, 2) for k, v in r['recall_by_kind'].items()})}")
        for miss in r["missed"]:
            print(f"{'':<18} missed: {miss}")
        for fp in r["false_positives"]:
            print(f"{'':<18} false positive: {fp}")
    n_truth = sum(r["n_truth"] for r in rows)
    n_pred = sum(r["n_predicted"] for r in rows)
    n_match = sum(r["n_matched"] for r in rows)
    audio, wall = sum(r["duration_s"] for r in rows), sum(r["wall_s"] for r in rows)
    p, rec = (n_match / n_pred if n_pred else 1.0), (n_match / n_truth if n_truth else 1.0)
    print(f"{'all':<18} {p:5.2f} {rec:5.2f} {2 * p * rec / (p + rec) if p + rec else 0:5.2f}"
          f"   ({n_match}/{n_truth} cues found, {n_pred - n_match} false, {audio / wall:.0f}× real time)")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the 2 short quick episodes")
    ap.add_argument("--cache", type=Path, default=None, help="benchmark cache (default: corpus cache)")
    ap.add_argument("--library", type=Path, default=None, help="scan against this library")
    ap.add_argument("--jobs", type=int, default=2, help="workers when a library must be built")
    ap.add_argument("--json", type=Path, default=None, help="write the per-episode rows here")
    args = ap.parse_args(argv)
    cache = args.cache or cache_dir()
    corpus = build_corpus(cache)
    truths = make_episodes(corpus, cache, n=2 if args.quick else 6, quick=args.quick)
    with open_library(corpus, cache, args.library, args.jobs) as lib:
        rows = [bench_episode(lib, t) for t in truths]
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
