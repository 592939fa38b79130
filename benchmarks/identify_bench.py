"""Identification benchmark: accuracy, false positives, speed, size and memory.

Usage, from the repository root::

    PYTHONPATH=src python -m benchmarks.identify_bench [--quick] [--speed] [--compare-plain] [--reindex]
        [--max-speed-change X]
        [--cache DIR] [--json out.json] [--seed N]

Steps: build the corpus (``benchmarks.corpus``) and clip sets
(``benchmarks.clips``); index ``corpus.indexed`` into ``<cache>/library``
(rebuilt when ``--reindex`` is given, the indexed track list or the engine's
source changed, or the library cannot be opened), timing ``Library.add(...,
jobs=1)`` in a separate process so its memory peak is measured apart; then
identify every clip, timing each call.

Scoring.  A positive clip is *found* when the top match's recording is the
clip's source, and *offset-ok* when in addition ``|offset_s - truth| <= 0.5 s``
(truth in original-recording time, also for sped-up clips).  A clip of
never-indexed music is a *false positive* when any match comes back.

The corpus holds shared audio between files (warzone2100's ``menu.opus`` is
the start of ``menu_enhanced.opus``, ``track3.opus`` of ``track3_enhanced``,
``track15`` recurs in ``track10``; loops repeat inside tracks).  So a top
match that disagrees with the ground truth is compared, as clean audio, with
the truth: when the matched place sounds the same (``segment_similarity``
above ``ALIAS_SIMILARITY`` for positives, ``FP_ALIAS_SIMILARITY`` for
unindexed clips) it is counted as an *alias*: correct for a positive, not a
false positive for an unindexed clip.  An unindexed clip is an alias too when
its waveform holds the matched place's audio (``waveform_correlation`` above
``CONTAINS_CORRELATION``): a track that mixes another's audio under its own
parts sounds different but contains the indexed recording.  Alias counts are
reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from . import clips as clipsets
from .corpus import Corpus, build_corpus, cache_dir
from .degrade import load_segment

OFFSET_TOLERANCE_S = 0.5
FINE_TOLERANCE_S = 0.1
WARMUP_CALLS = 3
# segment_similarity calibration (5 s segments, 8 kHz): the same place decoded
# twice >= 0.93; random pairs of corpus segments median 0.01, max 0.14 (60
# pairs); menu.opus vs the same place of menu_enhanced.opus 0.36-0.69; the
# same track 1 s later up to 0.54 (stationary passages).
ALIAS_SIMILARITY = 0.7  # a wrong top match counts as correct above this
FP_ALIAS_SIMILARITY = 0.3  # a match to unindexed music is shared audio above this
# waveform_correlation calibration (5 s at 8 kHz, best lag within +-0.3 s): the
# same place decoded twice >= 0.95; random pairs of places in two corpus tracks
# median 0.03, max 0.15 (80 pairs); the same track 1 s later median 0.2, up to
# 0.95 (loops); warzone2100's never-indexed track17.opus at 385 / 401.6 /
# 419.2 s against the indexed track20.opus at 88 / 92.6 / 89.2 s: 0.72 / 0.74 /
# 0.50 (track17 loops track20's audio under other parts; segment_similarity
# 0.15-0.23 there, as the other parts change the spectrum).
CONTAINS_CORRELATION = 0.4  # a match to unindexed music whose audio is mixed into the clip's
SIM_SR = 8000  # Hz
SIM_MAX_LAG_S = 0.3


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def real(path: str | Path) -> str:
    """Canonical absolute path (symlinks resolved) for comparing file names."""
    return os.path.realpath(str(path))


def git_commit(repo: Path) -> str:
    """Short commit of ``repo`` with ``+dirty`` when the work tree has changes."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


#: The parts of the package that decide what an index holds: a change there rebuilds the library;
#: a change elsewhere (scan, catalog, server, CLI) does not.
INDEX_SOURCES = ("audio.py", "ingest.py", "metadata.py", "params.py", "fingerprint", "index")


def engine_fingerprint() -> str:
    """Hash of the Python sources that decide what the index holds (library staleness key)."""
    import soundtrack

    root = Path(soundtrack.__file__).parent
    digest = hashlib.sha256()
    paths = [p for name in INDEX_SOURCES for p in ((root / name).rglob("*.py") if (root / name).is_dir()
                                                   else [root / name]) if p.exists()]
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size of this process (or its largest waited-for child), in MB."""
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def reset_peak_rss() -> bool:
    """Restart this process's peak-RSS count (Linux ``clear_refs``); False where unsupported.

    Needed because a spawned child inherits its parent's ``ru_maxrss``
    (exec keeps it), and to measure identification apart from the set-up.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile of ``values`` (None when empty)."""
    return float(np.percentile(values, q)) if values else None


# --------------------------------------------------------------------------
# Audio similarity (for aliases)
# --------------------------------------------------------------------------


def _pattern(x: np.ndarray) -> np.ndarray:
    """Spectro-temporal pattern: log spectrum 300-4000 Hz, band and frame means removed."""
    n, hop = 1024, 128
    if len(x) < n:
        x = np.concatenate([x, np.zeros(n - len(x), np.float32)])
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop] * np.hanning(n)
    lo, hi = int(300 * n / SIM_SR), int(4000 * n / SIM_SR)
    s = np.log(np.abs(np.fft.rfft(frames))[:, lo:hi] + 1e-5)
    s -= s.mean(axis=0, keepdims=True)
    s -= s.mean(axis=1, keepdims=True)
    return s / (np.linalg.norm(s, axis=1, keepdims=True) + 1e-9)


def segment_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two clean segments (mono, ``SIM_SR`` Hz) sound: -1..1.

    The mean cosine similarity of spectro-temporal frames at the best lag
    within +-``SIM_MAX_LAG_S``; see the calibration at ``ALIAS_SIMILARITY``.
    """
    pa, pb = _pattern(a), _pattern(b)
    max_lag = int(SIM_MAX_LAG_S * SIM_SR / 128)
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x, y = (pa[lag:], pb) if lag >= 0 else (pa, pb[-lag:])
        m = min(len(x), len(y))
        if m > 0:
            best = max(best, float(np.mean(np.sum(x[:m] * y[:m], axis=1))))
    return best


def place_similarity(path_a: str, start_a: float, path_b: str, start_b: float,
                     dur_s: float) -> float:
    """``segment_similarity`` of ``dur_s`` s of two files at the given starts (seconds)."""
    a = load_segment(path_a, max(0.0, start_a), dur_s, sr=SIM_SR)
    b = load_segment(path_b, max(0.0, start_b), dur_s, sr=SIM_SR)
    if len(a) < SIM_SR or len(b) < SIM_SR:
        return -1.0
    return segment_similarity(a, b)


def waveform_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The largest normalised correlation of segment ``a`` with any equally long stretch of ``b``
    (mono, same rate; ``b`` at least as long): the share of ``a``'s waveform that is ``b``'s
    audio, whatever else is mixed over it. See the calibration at ``CONTAINS_CORRELATION``."""
    from scipy.signal import correlate

    if len(a) == 0 or len(b) < len(a):
        return 0.0
    c = correlate(b, a, mode="valid", method="fft")
    energy = np.concatenate([[0.0], np.cumsum(b.astype(np.float64) ** 2)])
    window = energy[len(a):] - energy[: len(b) - len(a) + 1]
    rho = c / np.sqrt(np.maximum(window * float(np.sum(a.astype(np.float64) ** 2)), 1e-12))
    return float(np.max(np.abs(rho)))


def place_correlation(path_a: str, start_a: float, path_b: str, start_b: float,
                      dur_s: float) -> float:
    """``waveform_correlation`` of ``dur_s`` s of ``path_a`` at ``start_a`` with ``path_b`` around
    ``start_b`` (within +-``SIM_MAX_LAG_S``)."""
    a = load_segment(path_a, max(0.0, start_a), dur_s, sr=SIM_SR)
    lo = max(0.0, start_b - SIM_MAX_LAG_S)
    b = load_segment(path_b, lo, dur_s + (start_b - lo) + SIM_MAX_LAG_S, sr=SIM_SR)
    if len(a) < SIM_SR:
        return 0.0
    return waveform_correlation(a, b)


# --------------------------------------------------------------------------
# Indexing
# --------------------------------------------------------------------------


def _index_in_child(lib_dir: str, paths: list[str]) -> dict:
    """Build a library from ``paths`` with ``jobs=1``; runs in its own process.

    Returns timing (wall s, audio s), what was added/duplicated/failed, the
    library stats and this process's peak RSS (MB).
    """
    from soundtrack import Library

    decode_s = _decode_only_s(paths)
    reset_peak_rss()
    with Library(lib_dir) as lib:
        started = time.perf_counter()
        report = lib.add(paths, jobs=1)
        wall_s = time.perf_counter() - started
        stats = lib.stats()
    return {
        "wall_s": wall_s,
        "audio_s": float(getattr(report, "audio_s", 0.0)),
        "added": len(report.added),
        "duplicates": [(d.path, d.existing.path, getattr(d, "how", "")) for d in report.duplicates],
        "failed": [tuple(f) if isinstance(f, tuple) else (f.path, f.reason) for f in report.failed],
        "stats": _stats_dict(stats),
        "peak_rss_mb": peak_rss_mb(),
        "decode_only_s": decode_s,
    }


def _decode_only_s(paths: list[str]) -> float:
    """CPU seconds PyAV takes to decode the first audio stream of every file and do nothing else
    (measured just before indexing, so the two compare on the machine as it is then)."""
    import av

    started = time.process_time()
    for path in paths:
        try:
            with av.open(path) as container:
                stream = container.streams.audio[0]
                for packet in container.demux(stream):
                    packet.decode()
        except (av.error.FFmpegError, IndexError):
            continue
    return time.process_time() - started


def _stats_dict(stats: object) -> dict:
    """Library stats as a plain dict (recordings, hours, index_bytes, ...)."""
    if hasattr(stats, "__dataclass_fields__"):
        return asdict(stats)  # type: ignore[arg-type]
    return {k: getattr(stats, k) for k in ("recordings", "hours", "index_bytes")}


def _build_key(corpus: Corpus) -> dict:
    """What a library build depends on: the indexed files and the engine's sources."""
    return {"tracks": sorted(real(t.path) for t in corpus.indexed),
            "engine": engine_fingerprint()}


def _library_usable(lib_dir: Path) -> bool:
    """Whether ``lib_dir`` opens as a library with recordings in it."""
    from soundtrack import Library

    try:
        with Library(lib_dir) as lib:
            return lib.stats().recordings > 0
    except Exception:  # noqa: BLE001 - any failure means: rebuild
        return False


def ensure_library(corpus: Corpus, cache: Path, reindex: bool,
                   log: Callable[[str], None]) -> dict:
    """Return the build record of ``<cache>/library``, (re)building it when needed."""
    lib_dir, record_path = cache / "library", cache / "library-build.json"
    key = _build_key(corpus)
    if not reindex and lib_dir.exists() and record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("key") == key and _library_usable(lib_dir):
            log(f"reusing library {lib_dir} (built {record['built_at']}; --reindex to rebuild)")
            return record | {"reused": True}
        log("library is stale (tracks or engine changed): rebuilding")
    shutil.rmtree(lib_dir, ignore_errors=True)
    hours = sum(t.duration_s for t in corpus.indexed) / 3600
    log(f"indexing {len(corpus.indexed)} tracks ({hours:.2f} h) with jobs=1 ...")
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as ex:
        result = ex.submit(_index_in_child, str(lib_dir),
                           [str(t.path) for t in corpus.indexed]).result()
    record = {"key": key, "built_at": dt.datetime.now().isoformat(timespec="seconds"),
              "corpus_audio_s": sum(t.duration_s for t in corpus.indexed), **result}
    record_path.write_text(json.dumps(record, indent=1))
    return record | {"reused": False}


# --------------------------------------------------------------------------
# Identification
# --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What ``identify`` returned for one clip (top match only), and how long it took."""

    n_matches: int = 0
    path: str | None = None
    offset_s: float | None = None
    score: float | None = None
    confidence: float | None = None
    speed: float | None = None
    latency_s: float = 0.0
    error: str | None = None


def identify_one(lib: object, path: str, max_speed_change: float | None = None) -> Outcome:
    """Identify ``path`` with ``lib``, timing the call (wall seconds, decode included);
    ``max_speed_change`` None is the library's default."""
    kwargs = {} if max_speed_change is None else {"max_speed_change": max_speed_change}
    started = time.perf_counter()
    try:
        matches = lib.identify(path, **kwargs)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - an engine error is a failed clip, not a crash
        return Outcome(latency_s=time.perf_counter() - started,
                       error=f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - started
    if not matches:
        return Outcome(latency_s=latency)
    m = matches[0]
    return Outcome(n_matches=len(matches), path=real(m.recording.path), offset_s=float(m.offset_s),
                   score=float(getattr(m, "score", 0.0)),
                   confidence=float(getattr(m, "confidence", 0.0)),
                   speed=float(getattr(m, "speed", 1.0)), latency_s=latency)


def identify_all(lib: object, entries: Sequence[dict], log: Callable[[str], None],
                 max_speed_change: float | None = None) -> list[Outcome]:
    """Identify every clip after ``WARMUP_CALLS`` untimed calls; progress every 10 %."""
    for entry in entries[:WARMUP_CALLS]:
        identify_one(lib, entry["path"], max_speed_change)
    outcomes, step = [], max(1, len(entries) // 10)
    started = time.perf_counter()
    for i, entry in enumerate(entries, 1):
        outcomes.append(identify_one(lib, entry["path"], max_speed_change))
        if i % step == 0 or i == len(entries):
            log(f"  identified {i}/{len(entries)} clips ({time.perf_counter() - started:.0f} s)")
    return outcomes


# --------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------


@dataclass
class Verdict:
    """Scored result of one clip."""

    found: bool = False  # positive: right recording (or alias); negative: no match
    offset_ok: bool = False  # positive: found and offset within OFFSET_TOLERANCE_S
    fine_ok: bool = False  # positive: found and offset within FINE_TOLERANCE_S
    alias: bool = False  # accepted because the matched audio equals the truth
    false_positive: bool = False  # negative: a match came back (not an alias)
    offset_error_s: float | None = None  # top match offset - truth, when the recording is right
    similarity: float | None = None  # segment_similarity of matched place and truth, if checked


def score_positive(entry: dict, out: Outcome) -> Verdict:
    """Verdict of a clip of indexed music (see module doc)."""
    v = Verdict()
    if out.path is None:
        return v
    err = out.offset_s - entry["offset_s"]
    if out.path == real(entry["source"]):
        v.found, v.offset_error_s = True, err
        v.offset_ok = abs(err) <= OFFSET_TOLERANCE_S
        v.fine_ok = abs(err) <= FINE_TOLERANCE_S
    if not v.offset_ok:
        span = entry["duration_s"] * entry.get("time_scale", 1.0)
        sim = place_similarity(entry["source"], entry["offset_s"], out.path, out.offset_s, span)
        v.similarity = sim
        if sim >= ALIAS_SIMILARITY:
            v.found = v.offset_ok = v.alias = True
    return v


def score_negative(entry: dict, out: Outcome) -> Verdict:
    """Verdict of a clip of never-indexed music (see module doc)."""
    if out.path is None:
        return Verdict(found=out.error is None)
    span = entry["duration_s"] * entry.get("time_scale", 1.0)
    sim = place_similarity(entry["source"], entry["offset_s"], out.path, out.offset_s, span)
    alias = sim >= FP_ALIAS_SIMILARITY
    if not alias:  # the matched audio may be mixed into the clip's, under other parts
        corr = place_correlation(entry["source"], entry["offset_s"], out.path, out.offset_s, span)
        alias = corr >= CONTAINS_CORRELATION
    return Verdict(found=alias, alias=alias, false_positive=not alias, similarity=sim)


def score(entry: dict, out: Outcome) -> Verdict:
    """Verdict of one clip."""
    return score_positive(entry, out) if entry["expected"] else score_negative(entry, out)


# --------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------


def pct(num: int, den: int) -> float | None:
    """Percentage, None for an empty set."""
    return 100.0 * num / den if den else None


def summarize_set(entries: Sequence[dict], outs: Sequence[Outcome],
                  verdicts: Sequence[Verdict]) -> dict:
    """Figures of one clip set (one condition, one duration, positive or not)."""
    n = len(entries)
    lat = [o.latency_s * 1000 for o in outs]
    row = {
        "condition": entries[0]["condition"], "duration_s": entries[0]["duration_s"],
        "expected": entries[0]["expected"], "n": n,
        "aliases": sum(v.alias for v in verdicts),
        "errors": sum(o.error is not None for o in outs),
        "latency_ms_median": statistics.median(lat) if lat else None,
    }
    if entries[0]["expected"]:
        row["top1_pct"] = pct(sum(v.found for v in verdicts), n)
        row["offset_ok_pct"] = pct(sum(v.offset_ok for v in verdicts), n)
        row["fine_ok_pct"] = pct(sum(v.fine_ok for v in verdicts), n)
        speed_err = [abs(o.speed - e["time_scale"])
                     for e, o, v in zip(entries, outs, verdicts, strict=True)
                     if v.found and o.speed is not None]
        row["speed_abs_err_median"] = statistics.median(speed_err) if speed_err else None
    else:
        row["fp_pct"] = pct(sum(v.false_positive for v in verdicts), n)
    return row


def group_sets(entries: Sequence[dict]) -> dict[tuple, list[int]]:
    """Indices of ``entries`` per (expected, condition, duration), in manifest order."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, e in enumerate(entries):
        groups[(not e["expected"], e["condition"], e["duration_s"])].append(i)
    return dict(groups)


def summarize(entries: Sequence[dict], outs: Sequence[Outcome],
              verdicts: Sequence[Verdict]) -> list[dict]:
    """One row per clip set."""
    rows = []
    for _, idx in sorted(group_sets(entries).items(), key=lambda kv: _set_order(kv[0])):
        rows.append(summarize_set([entries[i] for i in idx], [outs[i] for i in idx],
                                  [verdicts[i] for i in idx]))
    return rows


def _set_order(key: tuple) -> tuple:
    """Sort key: positives first, main conditions in their declared order, then duration."""
    negative, condition, duration = key
    order = list(clipsets.ALL_CONDITIONS)
    rank = order.index(condition) if condition in order else len(order)
    return (negative, rank, condition, duration)


def mean_over_conditions(rows: Sequence[dict], duration_s: float, field: str) -> float | None:
    """Mean of ``field`` over the positive main-condition sets of one duration."""
    main = {c.name for c in clipsets.MAIN_CONDITIONS}
    vals = [r[field] for r in rows if r["expected"] and r["duration_s"] == duration_s
            and r["condition"] in main and r[field] is not None]
    return sum(vals) / len(vals) if vals else None


def latency_summary(outs: Sequence[Outcome]) -> dict:
    """Median and p95 identify latency over all clips, in ms."""
    lat = [o.latency_s * 1000 for o in outs]
    return {"median_ms": percentile(lat, 50), "p95_ms": percentile(lat, 95),
            "max_ms": max(lat) if lat else None}


def indexing_summary(build: dict) -> dict:
    """Indexing throughput (x real time, one core) and index size (MB per hour of audio)."""
    stats = build["stats"]
    audio_s = build.get("audio_s") or build["corpus_audio_s"]
    hours = stats.get("hours") or audio_s / 3600
    return {
        "tracks_added": build["added"], "duplicates": build["duplicates"], "failed": build["failed"],
        "audio_hours": hours, "wall_s": build["wall_s"],
        "x_real_time": audio_s / build["wall_s"] if build["wall_s"] else None,
        "decode_only_x_real_time": audio_s / build["decode_only_s"] if build.get("decode_only_s") else None,
        "index_mb": stats["index_bytes"] / 1e6,
        "index_mb_per_hour": stats["index_bytes"] / 1e6 / hours if hours else None,
        "database_mb": stats.get("database_bytes", 0) / 1e6,
        "peak_rss_mb": build.get("peak_rss_mb"), "reused": build.get("reused", False),
    }


def clip_record(entry: dict, out: Outcome, verdict: Verdict) -> dict:
    """One clip for the JSON output: manifest entry, ``got_*`` outcome, ``v_*`` verdict."""
    return {**entry, **{f"got_{k}": x for k, x in asdict(out).items()},
            **{f"v_{k}": x for k, x in asdict(verdict).items()}}


def bad_input_checks(lib: object, corrupt: Iterable[Path]) -> list[dict]:
    """What ``identify`` does with each corrupt corpus file (an error is expected)."""
    rows = []
    for path in corrupt:
        out = identify_one(lib, str(path))
        rows.append({"path": str(path), "error": out.error, "n_matches": out.n_matches})
    return rows


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".1f") -> str:
    """Format a number, '-' for None."""
    return "-" if value is None else format(value, spec)


def _print_false_positives(console: object, clips: Sequence[dict], limit: int = 10) -> None:
    """List up to ``limit`` false positives: source place -> matched place (score)."""
    fps = [c for c in clips if c["v_false_positive"]]
    for c in fps[:limit]:
        console.print(  # type: ignore[attr-defined]
            f"  FP {c['condition']} {c['duration_s']:g}s: {Path(c['source']).name} "
            f"@{c['offset_s']:.1f}s -> {Path(c['got_path']).name} @{c['got_offset_s']:.1f}s "
            f"(score {c['got_score']:g}, similarity {c['v_similarity']:.2f})")
    if len(fps) > limit:
        console.print(f"  ... {len(fps) - limit} more in the JSON output")  # type: ignore[attr-defined]


def print_report(result: dict) -> None:
    """Print the rich tables and the speed/size/latency/memory figures."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # piped or redirected: do not squeeze the tables into 80 columns
        console = Console(width=120)
    console.print(f"[bold]soundtrack identify benchmark[/]  commit {result['commit']}  "
                  f"{result['date']}  ({result['mode']})")
    pos = Table(title="Positive clips (indexed music)")
    for col in ("set", "n", "top-1 %", "offset ok %", "±0.1 s %", "alias", "err", "speed err",
                "med ms"):
        pos.add_column(col, justify="left" if col == "set" else "right")
    for r in (r for r in result["sets"] if r["expected"]):
        pos.add_row(f"{r['condition']} {r['duration_s']:g}s", str(r["n"]), _fmt(r["top1_pct"]),
                    _fmt(r["offset_ok_pct"]), _fmt(r["fine_ok_pct"]), str(r["aliases"]),
                    str(r["errors"]), _fmt(r["speed_abs_err_median"], ".4f"),
                    _fmt(r["latency_ms_median"], ".0f"))
    console.print(pos)
    neg = Table(title="Unindexed clips (any match is a false positive)")
    for col in ("set", "n", "FP %", "alias", "err", "med ms"):
        neg.add_column(col, justify="left" if col == "set" else "right")
    for r in (r for r in result["sets"] if not r["expected"]):
        neg.add_row(f"{r['condition']} {r['duration_s']:g}s", str(r["n"]), _fmt(r["fp_pct"], ".2f"),
                    str(r["aliases"]), str(r["errors"]), _fmt(r["latency_ms_median"], ".0f"))
    console.print(neg)
    _print_false_positives(console, result["clips"])
    m = result["means"]
    console.print(f"mean over conditions at 3 s: top-1 {_fmt(m['top1_pct_3s'])} %, "
                  f"offset ok {_fmt(m['offset_ok_pct_3s'])} %")
    ix, lat, mem = result["indexing"], result["latency"], result["memory"]
    console.print(
        f"indexing: {ix['audio_hours']:.2f} h in {ix['wall_s']:.0f} s = "
        f"{_fmt(ix['x_real_time'], '.0f')}× real time (jobs=1{', reused build' if ix['reused'] else ''}); "
        f"index {ix['index_mb']:.1f} MB = {_fmt(ix['index_mb_per_hour'])} MB/h; "
        f"added {ix['tracks_added']}, duplicates {len(ix['duplicates'])}, failed {len(ix['failed'])}; "
        f"PyAV decoding alone, just before: {_fmt(ix.get('decode_only_x_real_time'), '.0f')}×")
    console.print(f"identify latency: median {_fmt(lat['median_ms'], '.0f')} ms, "
                  f"p95 {_fmt(lat['p95_ms'], '.0f')} ms, max {_fmt(lat['max_ms'], '.0f')} ms "
                  f"over {result['n_clips']} clips")
    setup = " (incl. set-up)" if mem["identify_peak_includes_setup"] else ""
    console.print(f"peak RSS: identifying {mem['identify_peak_rss_mb']:.0f} MB{setup}, "
                  f"indexing {_fmt(mem['index_peak_rss_mb'], '.0f')} MB, "
                  f"largest child process {mem['children_peak_rss_mb']:.0f} MB")
    if result.get("speed_search_off"):
        _print_before_after(console, result)
    for row in result["bad_inputs"]:
        said = (row["error"] or f"{row['n_matches']} matches, no error").replace(row["path"], "…")
        console.print(f"bad input {Path(row['path']).name}: {said}")


def _print_before_after(console: object, result: dict) -> None:
    """Unchanged-audio sets with the speed search off (before) and on (after), same run."""
    from rich.table import Table

    off = {(r["condition"], r["duration_s"], r["expected"]): r for r in result["speed_search_off"]["sets"]}
    table = Table(title="Unchanged audio: speed search off → on (same run)")
    for col in ("set", "n", "top-1 / FP % off", "on", "med ms off", "on"):
        table.add_column(col, justify="left" if col == "set" else "right")
    for r in result["sets"]:
        before = off.get((r["condition"], r["duration_s"], r["expected"]))
        if before is None:
            continue
        field = "top1_pct" if r["expected"] else "fp_pct"
        kind = "" if r["expected"] else " (unindexed)"
        table.add_row(f"{r['condition']} {r['duration_s']:g}s{kind}", str(r["n"]), _fmt(before[field]), _fmt(r[field]),
                      _fmt(before["latency_ms_median"], ".0f"), _fmt(r["latency_ms_median"], ".0f"))
    console.print(table)  # type: ignore[attr-defined]
    lat_off, lat_on = result["speed_search_off"]["latency_off"], result["speed_search_off"]["latency_on"]
    console.print(f"unchanged-audio latency, search off: median {_fmt(lat_off['median_ms'], '.0f')} ms, "  # type: ignore[attr-defined]
                  f"p95 {_fmt(lat_off['p95_ms'], '.0f')} ms; on: median {_fmt(lat_on['median_ms'], '.0f')} ms, "
                  f"p95 {_fmt(lat_on['p95_ms'], '.0f')} ms")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def make_sets(corpus: Corpus, cache: Path, args: argparse.Namespace,
              log: Callable[[str], None]) -> list[dict]:
    """Generate (or reuse) the clip sets the arguments ask for; return their entries."""
    quick = args.quick
    path = clipsets.make_clip_sets(
        corpus, cache, seed=args.seed, log=log,
        per_set=clipsets.QUICK_PER_SET if quick else clipsets.PER_SET,
        fp_per_condition=clipsets.QUICK_FP_PER_CONDITION if quick else clipsets.FP_PER_CONDITION)
    entries = clipsets.load_manifest(path)
    if args.speed:
        path = clipsets.make_speed_sets(
            corpus, cache, seed=args.seed, log=log,
            per_set=clipsets.QUICK_SPEED_PER_SET if quick else clipsets.SPEED_PER_SET)
        entries += clipsets.load_manifest(path)
    return entries


def run(args: argparse.Namespace) -> dict:
    """The whole benchmark; returns the result dict (also written by ``main``)."""
    from soundtrack import Library

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cache = args.cache or cache_dir()
    corpus = build_corpus(cache)
    log(f"corpus: {len(corpus.indexed)} indexed, {len(corpus.unindexed)} unindexed, "
        f"{len(corpus.corrupt)} corrupt")
    entries = make_sets(corpus, cache, args, log)
    build = ensure_library(corpus, cache, args.reindex, log)
    rss_reset = reset_peak_rss()
    speed_names = {c.name for c in clipsets.SPEED_CONDITIONS}
    unchanged = [i for i, e in enumerate(entries) if e["condition"] not in speed_names]
    with Library(cache / "library") as lib:
        log(f"identifying {len(entries)} clips ...")
        outs = identify_all(lib, entries, log, args.max_speed_change)
        plain_outs = []
        if args.compare_plain:
            log(f"identifying the {len(unchanged)} unchanged-audio clips again with the speed search off ...")
            plain_outs = identify_all(lib, [entries[i] for i in unchanged], log, 0.0)
        bad = bad_input_checks(lib, corpus.corrupt)
    verdicts = [score(e, o) for e, o in zip(entries, outs, strict=True)]
    rows = summarize(entries, outs, verdicts)
    plain = None
    if plain_outs:
        plain_entries = [entries[i] for i in unchanged]
        plain_verdicts = [score(e, o) for e, o in zip(plain_entries, plain_outs, strict=True)]
        plain = {"sets": summarize(plain_entries, plain_outs, plain_verdicts),
                 "latency_off": latency_summary(plain_outs),
                 "latency_on": latency_summary([outs[i] for i in unchanged])}
    return {
        "commit": git_commit(Path(__file__).resolve().parent.parent),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "mode": ("quick" if args.quick else "full") + (" +speed" if args.speed else ""),
        "seed": args.seed, "n_clips": len(entries),
        "sets": rows,
        "means": {"top1_pct_3s": mean_over_conditions(rows, 3, "top1_pct"),
                  "offset_ok_pct_3s": mean_over_conditions(rows, 3, "offset_ok_pct")},
        "indexing": indexing_summary(build),
        "latency": latency_summary(outs),
        "memory": {"identify_peak_rss_mb": peak_rss_mb(),
                   "identify_peak_includes_setup": not rss_reset,
                   "children_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
                   "index_peak_rss_mb": build.get("peak_rss_mb")},
        "bad_inputs": bad,
        "speed_search_off": plain,
        "clips": [clip_record(e, o, v) for e, o, v in zip(entries, outs, verdicts, strict=True)],
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description="soundtrack identification benchmark")
    ap.add_argument("--quick", action="store_true",
                    help=f"{clipsets.QUICK_PER_SET} clips per set instead of {clipsets.PER_SET}")
    ap.add_argument("--speed", action="store_true", help="also run the speed/tempo/pitch sets")
    ap.add_argument("--reindex", action="store_true", help="rebuild the library")
    ap.add_argument("--max-speed-change", type=float, default=0.1,
                    help="identify's speed/tempo/pitch search range for every clip (default %(default)s; "
                         "0 is the library's default, the plain search)")
    ap.add_argument("--compare-plain", action="store_true",
                    help="also identify the unchanged-audio clips with the speed search off (before/after)")
    ap.add_argument("--cache", type=Path, default=None,
                    help="cache dir (default: $SOUNDTRACK_BENCH_CACHE or ~/.cache/soundtrack-bench)")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    ap.add_argument("--seed", type=int, default=0, help="clip-set seed")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point."""
    args = parse_args(argv)
    result = run(args)
    if args.json:  # before the report, so a printing problem cannot lose a long run
        args.json.write_text(json.dumps(result, indent=1))
        print(f"results written to {args.json}", file=sys.stderr)
    print_report(result)


if __name__ == "__main__":
    main()
