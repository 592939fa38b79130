"""Clip sets with ground truth for identification benchmarks.

A *slot* is a place in a source track (track, offset, length); a *clip* is a
slot rendered under one *condition* (clean, noisy, through a phone, sped
up...).  All conditions of a set share the same slots, so they are compared
on the same music.  Positive clips come from ``corpus.indexed`` tracks; false-
positive clips (``expected: false``) from ``corpus.unindexed`` tracks.

Layout under ``<cache>/clips/``::

    <condition>_<dur>s/NNNN.<ext>      positive clips
    <condition>_<dur>s_fp/NNNN.<ext>   clips of never-indexed music
    generated.json                     every clip made so far (the cache)
    manifest.json                      the clips of the last make_clip_sets call
    manifest_speed.json                the clips of the last make_speed_sets call

A manifest is a JSON list of entries ``{"path", "condition", "duration_s",
"source", "offset_s", "expected", "speed", "tempo", "pitch_cents",
"time_scale", "source_rms_dbfs"}``.  ``offset_s`` is where the clip starts in
the *original* recording; ``time_scale`` is how many seconds of the original
one second of the clip covers (sox speed x tempo).

Everything is deterministic in ``seed``: offsets and noise come from
generators seeded by (seed, set, slot, condition), never from global state,
so a missing clip is regenerated identically and ``--quick`` sets are the
first clips of the full sets.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import degrade
from .corpus import Corpus, Track, build_corpus, cache_dir, speech_pool
from .degrade import SR

CLIPS_VERSION = 1  # bump after changing how clips are rendered
DURATIONS: tuple[float, ...] = (3, 5, 10)  # seconds
SPEED_DURATIONS: tuple[float, ...] = (5, 10)
PER_SET = 300  # positive clips per (condition, duration): 1 miss = 0.33 %
QUICK_PER_SET = 40
FP_PER_CONDITION = 240  # clips of unindexed music per condition
QUICK_FP_PER_CONDITION = 40
SPEED_PER_SET = 100  # 26 speed conditions x 2 durations: keep the run short
QUICK_SPEED_PER_SET = 20
FP_DURATION = 5.0
EDGE_S = 2.0  # never cut within this many seconds of a track's start or end
PRE_ROLL_S = 0.5  # source audio before the clip fed to stateful effects (reverb)
MIN_RMS_DBFS = -40.0  # a slot quieter than this is redrawn (silence cannot be identified)
MAX_DRAWS = 25
CLEAN_FORMATS: tuple[str, ...] = (".wav", ".ogg", ".m4a", ".mp3")
SPEECH_DB = 10.0
WORKERS = 2


# --------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------

Pool = Sequence[np.ndarray]
Render = Callable[[np.ndarray, np.random.Generator, Pool], np.ndarray]


@dataclass(frozen=True)
class Condition:
    """How a slot of source audio becomes a clip.

    ``render`` maps (source audio incl. ``pre_roll_s`` seconds before the
    clip, rng, speech pool) to the clip.  ``speed``/``tempo``/``pitch_cents``
    are the sox parameters, 1/1/0 when unused.
    """

    name: str
    render: Render
    speed: float = 1.0
    tempo: float = 1.0
    pitch_cents: float = 0.0
    pre_roll_s: float = 0.0

    @property
    def time_scale(self) -> float:
        """Seconds of the original that one second of the clip covers."""
        return self.speed * self.tempo


def _clean(x: np.ndarray, rng: np.random.Generator, pool: Pool) -> np.ndarray:
    return x


def _noise_0db(x: np.ndarray, rng: np.random.Generator, pool: Pool) -> np.ndarray:
    return degrade.add_noise(x, 0.0, rng)


def _speech_10db(x: np.ndarray, rng: np.random.Generator, pool: Pool) -> np.ndarray:
    return degrade.mix_speech(x, pool, SPEECH_DB, rng)


def _phone(x: np.ndarray, rng: np.random.Generator, pool: Pool) -> np.ndarray:
    return degrade.phone_chain(x, rng, babble=pool)[int(PRE_ROLL_S * SR):]


def _mp3_32k(x: np.ndarray, rng: np.random.Generator, pool: Pool) -> np.ndarray:
    return degrade.codec_roundtrip(x, "mp3", 32)


@dataclass(frozen=True)
class _SoxRender:
    """Picklable renderer: a sox effect, optionally with dialogue mixed on top."""

    effect: tuple[str, ...]
    speech: bool

    def __call__(self, x: np.ndarray, rng: np.random.Generator, pool: Pool) -> np.ndarray:
        y = degrade.sox_effect(x, self.effect)
        return degrade.mix_speech(y, pool, SPEECH_DB, rng) if self.speech else y


MAIN_CONDITIONS: tuple[Condition, ...] = (
    Condition("clean", _clean),
    Condition("noise_0db", _noise_0db),
    Condition("speech_10db", _speech_10db),
    Condition("phone", _phone, pre_roll_s=PRE_ROLL_S),
    Condition("mp3_32k", _mp3_32k),
)


def _speed_conditions() -> tuple[Condition, ...]:
    """Speed, tempo and pitch changes, each plain and with dialogue on top."""
    base: list[tuple[str, tuple[str, ...], dict[str, float]]] = []
    for s in ("0.90", "0.95", "0.97", "1.03", "1.0417", "1.05", "1.10"):
        base.append((f"speed_{s}", ("speed", s), {"speed": float(s)}))
    for t in ("0.92", "0.96", "1.04", "1.08"):
        base.append((f"tempo_{t}", ("tempo", "-s", t), {"tempo": float(t)}))
    for c in (-100, 100):
        base.append((f"pitch_{c:+d}c", ("pitch", str(c)), {"pitch_cents": float(c)}))
    return tuple(
        Condition(name + ("+speech10" if speech else ""), _SoxRender(effect, speech), **params)
        for name, effect, params in base
        for speech in (False, True)
    )


SPEED_CONDITIONS: tuple[Condition, ...] = _speed_conditions()
ALL_CONDITIONS: dict[str, Condition] = {c.name: c for c in MAIN_CONDITIONS + SPEED_CONDITIONS}


def _stable_id(text: str) -> int:
    """A process-independent integer for ``text`` (for seeding generators)."""
    return zlib.crc32(text.encode("utf-8"))


# --------------------------------------------------------------------------
# Plan: slots and clips
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A place to cut from: set ``kind`` ('main', 'fp', 'speed'), length and index.

    ``span_s`` is the source length reserved (the longest any condition needs).
    """

    kind: str
    duration_s: float
    index: int
    track: Track
    span_s: float

    def rng(self, seed: int) -> np.random.Generator:
        """Generator that draws this slot's offset."""
        return np.random.default_rng(
            [seed, _stable_id(self.kind), int(self.duration_s * 1000), self.index])


@dataclass(frozen=True)
class ClipSpec:
    """One clip to make: a slot under a condition, written to ``rel`` (under clips/)."""

    rel: str
    slot: Slot
    condition: str
    expected: bool

    def rng(self, seed: int) -> np.random.Generator:
        """Generator for this clip's degradation."""
        s = self.slot
        return np.random.default_rng([seed, _stable_id(s.kind), int(s.duration_s * 1000),
                                      s.index, _stable_id(self.condition)])


def _set_dir(condition: str, duration_s: float, expected: bool) -> str:
    """Folder name of a clip set, e.g. ``noise_0db_5s`` or ``clean_5s_fp``."""
    return f"{condition}_{duration_s:g}s" + ("" if expected else "_fp")


def plan_slots(kind: str, tracks: Sequence[Track], duration_s: float, n: int,
               span_s: float, seed: int, by_duration: bool = False) -> list[Slot]:
    """``n`` slots over ``tracks`` (in a seeded shuffled order).

    Round-robin (a few slots per track), or with ``by_duration`` in
    proportion to track length (long tracks give more, less overlapping,
    clips).  Either way every prefix of the list is spread over the tracks,
    so a small set is the start of a big one.
    """
    if not tracks:
        return []
    rng = np.random.default_rng([seed, _stable_id(kind), int(duration_s * 1000)])
    order = [tracks[i] for i in rng.permutation(len(tracks))]
    if not by_duration:
        picks = [order[i % len(order)] for i in range(n)]
    else:
        edges = np.cumsum([t.duration_s for t in order])
        golden = (np.sqrt(5.0) - 1.0) / 2.0  # low-discrepancy: every prefix spreads evenly
        points = ((np.arange(n) * golden + rng.uniform()) % 1.0) * edges[-1]
        picks = [order[int(k)] for k in np.searchsorted(edges, points, side="right")]
    return [Slot(kind, duration_s, i, track, span_s) for i, track in enumerate(picks)]


def plan_clips(slots: Iterable[Slot], conditions: Sequence[Condition],
               expected: bool) -> list[ClipSpec]:
    """Every slot under every condition; clean clips rotate over ``CLEAN_FORMATS``."""
    specs = []
    for slot in slots:
        for cond in conditions:
            ext = CLEAN_FORMATS[slot.index % len(CLEAN_FORMATS)] if cond.name == "clean" else ".wav"
            rel = f"{_set_dir(cond.name, slot.duration_s, expected)}/{slot.index:04d}{ext}"
            specs.append(ClipSpec(rel, slot, cond.name, expected))
    return specs


def _span(conditions: Sequence[Condition], duration_s: float) -> float:
    """Source seconds needed to render ``duration_s`` of clip under every condition."""
    return duration_s * max(c.time_scale for c in conditions) + max(c.pre_roll_s for c in conditions)


# --------------------------------------------------------------------------
# Rendering (runs in worker processes)
# --------------------------------------------------------------------------


def pick_offset(audio: np.ndarray, slot: Slot, seed: int) -> tuple[float, float]:
    """Draw the slot's start (s) in ``audio``; return (offset_s, clean RMS in dBFS).

    Offsets keep ``EDGE_S`` from both ends and leave room for the pre-roll;
    slots quieter than ``MIN_RMS_DBFS`` are redrawn up to ``MAX_DRAWS`` times
    (the loudest draw is kept if all are quiet).
    """
    rng = slot.rng(seed)
    length_s = len(audio) / SR
    low = EDGE_S + PRE_ROLL_S
    high = max(low, length_s - EDGE_S - slot.span_s)
    best = (-math.inf, low)
    for _ in range(MAX_DRAWS):
        offset = float(rng.uniform(low, high))
        seg = audio[int(offset * SR): int((offset + slot.duration_s) * SR)]
        level = degrade.db(degrade.rms(seg))
        if level >= MIN_RMS_DBFS:
            return round(offset, 4), level
        best = max(best, (level, offset))
    return round(best[1], 4), best[0]


def render_clip(audio: np.ndarray, offset_s: float, cond: Condition, duration_s: float,
                rng: np.random.Generator, pool: Pool) -> np.ndarray:
    """Cut and degrade one clip of ``duration_s`` seconds starting at ``offset_s`` of ``audio``."""
    start = int(round((offset_s - cond.pre_roll_s) * SR))
    stop = int(round((offset_s + duration_s * cond.time_scale) * SR))
    y = cond.render(audio[start:stop], rng, pool)
    return degrade.fit_length(y, int(round(duration_s * SR)))


def _entry(spec: ClipSpec, clips_root: Path, offset_s: float, level_dbfs: float,
           seed: int) -> dict:
    """The manifest entry of a rendered clip."""
    cond = ALL_CONDITIONS[spec.condition]
    return {
        "path": str(clips_root / spec.rel),
        "condition": spec.condition,
        "duration_s": spec.slot.duration_s,
        "source": str(spec.slot.track.path),
        "offset_s": offset_s,
        "expected": spec.expected,
        "speed": cond.speed,
        "tempo": cond.tempo,
        "pitch_cents": cond.pitch_cents,
        "time_scale": cond.time_scale,
        "source_rms_dbfs": round(level_dbfs, 2),
        "seed": seed,
    }


def render_track(track_path: Path, specs: Sequence[ClipSpec], seed: int,
                 speech_paths: Sequence[Path], clips_root: Path) -> list[dict]:
    """Decode one source track once and render all ``specs`` cut from it."""
    audio = degrade.load_segment(track_path)
    pool = [degrade.load_segment(p) for p in speech_paths]
    by_slot: dict[Slot, list[ClipSpec]] = defaultdict(list)
    for spec in specs:
        by_slot[spec.slot].append(spec)
    entries = []
    for slot, slot_specs in by_slot.items():
        offset, level = pick_offset(audio, slot, seed)
        for spec in slot_specs:
            clip = render_clip(audio, offset, ALL_CONDITIONS[spec.condition],
                               slot.duration_s, spec.rng(seed), pool)
            out = clips_root / spec.rel
            out.parent.mkdir(parents=True, exist_ok=True)
            degrade.write_audio(out, clip)
            entries.append(_entry(spec, clips_root, offset, level, seed))
    return entries


# --------------------------------------------------------------------------
# Cache of generated clips
# --------------------------------------------------------------------------


def _load_store(path: Path) -> dict[str, dict]:
    """Entries of clips made so far, by path relative to clips/ (empty if stale)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return data["entries"] if data.get("version") == CLIPS_VERSION else {}


def _save_json(path: Path, data: object) -> None:
    """Write JSON atomically (temporary file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=0))
    tmp.replace(path)


def _is_current(spec: ClipSpec, entry: dict | None, clips_root: Path, seed: int) -> bool:
    """Whether ``entry`` is a clip of ``spec`` made with ``seed`` that is still on disk."""
    return (entry is not None and entry.get("seed") == seed
            and entry["source"] == str(spec.slot.track.path)
            and (clips_root / spec.rel).exists())


def generate(specs: Sequence[ClipSpec], cache: Path, seed: int, manifest_name: str,
             workers: int = WORKERS, log: Callable[[str], None] = print) -> Path:
    """Render the missing clips of ``specs`` and write ``clips/<manifest_name>``.

    Work is grouped by source track (one decode per track) and spread over
    ``workers`` processes.  ``generated.json`` is updated as tracks finish, so
    an interrupted run resumes where it stopped.
    """
    clips_root = cache / "clips"
    clips_root.mkdir(parents=True, exist_ok=True)
    store_path = clips_root / "generated.json"
    store = _load_store(store_path)
    todo: dict[Path, list[ClipSpec]] = defaultdict(list)
    for spec in specs:
        if not _is_current(spec, store.get(spec.rel), clips_root, seed):
            todo[spec.slot.track.path].append(spec)
    if todo:
        n_missing = sum(len(v) for v in todo.values())
        log(f"rendering {n_missing} of {len(specs)} clips from {len(todo)} tracks "
            f"with {workers} workers ...")
        started = time.monotonic()
        pool = speech_pool(cache)
        _render_all(todo, seed, pool, clips_root, store, store_path, workers)
        log(f"rendered {n_missing} clips in {time.monotonic() - started:.1f} s")
    manifest = [store[spec.rel] for spec in specs]
    out = clips_root / manifest_name
    _save_json(out, manifest)
    return out


def _render_all(todo: dict[Path, list[ClipSpec]], seed: int, pool: Sequence[Path],
                clips_root: Path, store: dict[str, dict], store_path: Path,
                workers: int) -> None:
    """Run ``render_track`` for every track of ``todo``; record results in ``store``."""
    last_save = time.monotonic()
    # longest lists first, so the two workers finish at about the same time
    jobs = sorted(todo.items(), key=lambda kv: -len(kv[1]))
    with ProcessPoolExecutor(workers) as ex:
        futures = [ex.submit(render_track, path, specs, seed, pool, clips_root)
                   for path, specs in jobs]
        for fut in as_completed(futures):
            for entry in fut.result():
                store[str(Path(entry["path"]).relative_to(clips_root))] = entry
            if time.monotonic() - last_save > 10:
                _save_json(store_path, {"version": CLIPS_VERSION, "entries": store})
                last_save = time.monotonic()
    _save_json(store_path, {"version": CLIPS_VERSION, "entries": store})


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def make_clip_sets(corpus: Corpus, cache: Path, *, durations: Sequence[float] = DURATIONS,
                   conditions: Sequence[str] = tuple(c.name for c in MAIN_CONDITIONS),
                   per_set: int = PER_SET, fp_per_condition: int = FP_PER_CONDITION,
                   seed: int = 0, workers: int = WORKERS,
                   log: Callable[[str], None] = print) -> Path:
    """Make the main clip sets; return the path of ``clips/manifest.json``.

    ``per_set`` positive clips per (condition, duration) from indexed tracks,
    and ``fp_per_condition`` clips of ``FP_DURATION`` s per condition from
    unindexed tracks.  Only clips not already in the cache are rendered.
    """
    conds = [ALL_CONDITIONS[name] for name in conditions]
    specs: list[ClipSpec] = []
    for dur in durations:
        slots = plan_slots("main", corpus.indexed, dur, per_set, _span(conds, dur), seed)
        specs += plan_clips(slots, conds, expected=True)
    fp_slots = plan_slots("fp", corpus.unindexed, FP_DURATION, fp_per_condition,
                          _span(conds, FP_DURATION), seed, by_duration=True)
    specs += plan_clips(fp_slots, conds, expected=False)
    return generate(specs, cache, seed, "manifest.json", workers, log)


def make_speed_sets(corpus: Corpus, cache: Path, *,
                    durations: Sequence[float] = SPEED_DURATIONS,
                    conditions: Sequence[str] = tuple(c.name for c in SPEED_CONDITIONS),
                    per_set: int = SPEED_PER_SET, seed: int = 0, workers: int = WORKERS,
                    log: Callable[[str], None] = print) -> Path:
    """Make the speed/tempo/pitch clip sets; return the path of ``clips/manifest_speed.json``.

    All conditions of a duration share slots; a slot reserves
    ``duration * max(time_scale)`` seconds of source.
    """
    conds = [ALL_CONDITIONS[name] for name in conditions]
    specs: list[ClipSpec] = []
    for dur in durations:
        slots = plan_slots("speed", corpus.indexed, dur, per_set, _span(conds, dur), seed)
        specs += plan_clips(slots, conds, expected=True)
    return generate(specs, cache, seed, "manifest_speed.json", workers, log)


def load_manifest(path: Path) -> list[dict]:
    """Entries of a manifest written by ``make_clip_sets`` / ``make_speed_sets``."""
    return json.loads(Path(path).read_text())


def generated_entries(cache: Path) -> list[dict]:
    """Every clip ever rendered into ``cache`` (``clips/generated.json``), sorted by path; exits with
    a message when ``python -m benchmarks.identify_bench`` has not run there yet."""
    store = Path(cache) / "clips" / "generated.json"
    if not store.exists():
        raise SystemExit(f"{store} not found: run `python -m benchmarks.identify_bench` once first")
    return sorted(json.loads(store.read_text())["entries"].values(), key=lambda e: e["path"])


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``python -m benchmarks.clips [--quick] [--speed] [--cache DIR] [--seed N]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sets (for a smoke run)")
    ap.add_argument("--speed", action="store_true", help="also make the speed/tempo/pitch sets")
    ap.add_argument("--cache", type=Path, default=None, help="cache dir (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cache = args.cache or cache_dir()
    corpus = build_corpus(cache)
    started = time.monotonic()
    main_path = make_clip_sets(
        corpus, cache, seed=args.seed,
        per_set=QUICK_PER_SET if args.quick else PER_SET,
        fp_per_condition=QUICK_FP_PER_CONDITION if args.quick else FP_PER_CONDITION)
    print(f"{len(load_manifest(main_path))} clips in {main_path}")
    if args.speed:
        speed_path = make_speed_sets(
            corpus, cache, seed=args.seed,
            per_set=QUICK_SPEED_PER_SET if args.quick else SPEED_PER_SET)
        print(f"{len(load_manifest(speed_path))} clips in {speed_path}")
    print(f"total {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
