"""Verification's calibration: how high wrong candidates score, and how many right ones pass.

``soundtrack.verify.MIN_Z`` was set from this table. For every clip the plain search does not
accept (the identify benchmark's phone, dialogue and white-noise clips of 3 s and 5 s, and its
never-indexed 5 s clips in all five conditions), the candidates identify would verify (the plain
look's and the dense look's best, :data:`soundtrack.verify.CANDIDATES` each) are scored with
``soundtrack.verify.evidence``, and each test's z is kept. A candidate is *right* when it is the
clip's own recording. Wrong candidates that score 3 or more are checked for shared audio: the
clip's source and the candidate's place are compared sample by sample
(``identify_bench.place_correlation``); at 0.15 or more (the most random places of two corpus
tracks reach) the two hold the same audio, and such a candidate says nothing about chance.

Printed: per set, the clips confirmed by the peaks alone and by the peaks with the band bits at
``MIN_Z``; the highest wrong candidates with and without shared audio; the correlation of the
tests on wrong candidates. Needs ``python -m benchmarks.identify_bench`` to have run once (clips
and library).

Usage::

    python -m benchmarks.verify_candidates [--cache DIR] [--jobs 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .clips import generated_entries
from .corpus import cache_dir
from .identify_bench import place_correlation, real

POSITIVE_CONDITIONS = ("phone", "speech_10db", "noise_0db")
NEGATIVE_CONDITIONS = ("clean", "noise_0db", "speech_10db", "phone", "mp3_32k")
#: Wrong candidates scoring this much (any test, or all) are checked for shared audio.
CHECK_SHARED_Z = 3.0
SHARED_CORRELATION = 0.15


def clip_entries(cache: Path) -> list[dict]:
    """The clips examined: positives of :data:`POSITIVE_CONDITIONS` at 3 s and 5 s, every negative."""
    return [e for e in generated_entries(cache)
            if (e["expected"] and e["condition"] in POSITIVE_CONDITIONS and float(e["duration_s"]) in (3.0, 5.0))
            or (not e["expected"] and e["condition"] in NEGATIVE_CONDITIONS)]


def candidates_of(entries: list[dict], library: str) -> list[dict]:
    """One record per clip: accepted by the plain search, or its verified candidates' z per test."""
    from soundtrack import Library, verify
    from soundtrack.audio import load_audio
    from soundtrack.fingerprint.hashes import landmarks
    from soundtrack.fingerprint.peaks import find_peaks
    from soundtrack.match import Hits, align_hits

    out = []
    with Library(library) as lib:
        p, snapshot = lib.params, lib.store.snapshot()
        for e in entries:
            samples = load_audio(e["path"], p.sample_rate)
            duration_s = samples.size / p.sample_rate
            query = landmarks(find_peaks(samples, p), p, fan_out=p.query_fan_out, expand=True)
            hits = Hits.of(query, snapshot)
            record = {k: e[k] for k in ("path", "condition", "duration_s", "expected", "source", "offset_s")}
            record["plain"] = bool(align_hits(hits, min_score=lib.min_score, max_results=1))
            record["candidates"] = []
            if not record["plain"]:
                features = verify.query_features(samples, p)
                dense = Hits.of(verify.dense_query(samples, p), snapshot)
                seen = set()
                for look, h in (("plain", hits), ("dense", dense)):
                    for a in verify.candidates(h):
                        if (a.recording_id, a.offset_frames) in seen:
                            continue
                        seen.add((a.recording_id, a.offset_frames))
                        rec = snapshot.recording(a.recording_id)
                        ev = verify.evidence(features, rec.path, a.offset_frames, duration_s, p)
                        if ev is None:
                            continue
                        record["candidates"].append({
                            "look": look, "path": rec.path, "offset_s": p.frames_to_seconds(a.offset_frames),
                            "z": [float(part.z) for part in ev.parts],
                            "right": bool(e["expected"] and real(rec.path) == real(e["source"])),
                        })
            out.append(record)
    return out


def combined(z: list[float], parts: slice = slice(None)) -> float:
    """The evidence of the chosen tests, as :class:`soundtrack.verify.Evidence` adds them."""
    chosen = z[parts]
    return sum(chosen) / np.sqrt(len(chosen))


def mark_shared(records: list[dict]) -> None:
    """Give each wrong candidate scoring :data:`CHECK_SHARED_Z` a ``shared`` waveform correlation."""
    for r in records:
        for c in r["candidates"]:
            if not c["right"] and max(max(c["z"]), combined(c["z"])) >= CHECK_SHARED_Z:
                c["shared"] = place_correlation(r["source"], r["offset_s"], c["path"], c["offset_s"], r["duration_s"])


def report(records: list[dict], min_z: float) -> None:
    peaks, everything = slice(0, 2), slice(None)
    confirmed: dict[str, Counter] = {"peaks": Counter(), "peaks+bits": Counter()}
    for r in records:
        if r["plain"] or not r["expected"]:
            continue
        key = f"{r['condition']} {float(r['duration_s']):.0f}s"
        for name, parts in (("peaks", peaks), ("peaks+bits", everything)):
            first = next((c for c in r["candidates"] if combined(c["z"], parts) >= min_z), None)
            confirmed[name][key] += bool(first and first["right"])
    unaccepted = Counter(f"{r['condition']} {float(r['duration_s']):.0f}s" for r in records
                         if r["expected"] and not r["plain"])
    print(f"confirmed at MIN_Z = {min_z} of the clips the plain search does not accept")
    print(f"{'set':18s} {'not accepted':>13s} {'peaks':>7s} {'peaks+bits':>11s}")
    for key in sorted(unaccepted):
        print(f"{key:18s} {unaccepted[key]:13d} {confirmed['peaks'][key]:7d} {confirmed['peaks+bits'][key]:11d}")
    wrong = [c for r in records for c in r["candidates"] if not c["right"]]
    unrelated = [c for c in wrong if c.get("shared", 0.0) < SHARED_CORRELATION]
    sharing = [c for c in wrong if c.get("shared", 0.0) >= SHARED_CORRELATION]
    print(f"\nwrong candidates: {len(wrong)}, sharing audio (waveform correlation >= {SHARED_CORRELATION}): "
          f"{len(sharing)}")
    for name, parts in (("peaks", peaks), ("peaks+bits", everything)):
        top = sorted((combined(c["z"], parts) for c in unrelated), reverse=True)[:5]
        shared = sorted((combined(c["z"], parts) for c in sharing), reverse=True)[:5]
        print(f"  {name:11s} highest without shared audio {np.round(top, 1).tolist()}, "
              f"with {np.round(shared, 1).tolist()}")
    if len(wrong) > 2:
        z = np.array([c["z"] for c in wrong])
        print("  correlation of the tests on wrong candidates:", np.round(np.corrcoef(z.T), 2).tolist())


def main() -> None:
    from soundtrack.verify import MIN_Z

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=None, help="benchmark cache (default: as identify_bench)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--json", type=Path, default=None, help="write every clip's candidates here")
    args = ap.parse_args()
    cache = args.cache or cache_dir()
    entries = clip_entries(cache)
    parts = [entries[k :: args.jobs] for k in range(args.jobs)]
    with ProcessPoolExecutor(args.jobs) as pool:
        records = [r for chunk in pool.map(candidates_of, parts, [str(cache / "library")] * args.jobs) for r in chunk]
    mark_shared(records)
    report(records, MIN_Z)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
