"""Warp scan benchmark: episodes whose songs play changed in speed, tempo or pitch.

Synthetic episodes (4 of 6-8 minutes; ``--quick``: 1 of about 4) are built like those of
:mod:`benchmarks.episodes`: a continuous espeak-ng dialogue bed, room tone, 1-2 score cues from
never-indexed tracks under the dialogue (must *not* be reported), and song cues of 20-40 s from
indexed tracks at foreground level while the dialogue pauses or is light. Each song is changed by
one sox effect before it is mixed in:

* ``speed f`` (tape speed: tempo and pitch together) for f in :data:`SPEED_FACTORS`,
* ``tempo -m f`` (tempo only, pitch kept) for f in :data:`TEMPO_FACTORS`,
* ``pitch c`` (pitch only, by c cents, tempo kept) for c in :data:`PITCH_CENTS`,

each twice over the episodes, plus :data:`N_UNCHANGED` unchanged songs. The truth of a cue holds
its ``speed`` (recording seconds per episode second: f for ``speed`` and ``tempo``, 1 for
``pitch``), its ``pitch`` (episode Hz per recording Hz: f for ``speed``, 2**(c/1200) for
``pitch``, 1 for ``tempo``), the episode span where the changed song sounds and the recording span
in the *original* recording's time. Episodes and truths are cached in ``<cache>/warp-episodes/``,
deterministic from ``--seed``, and re-rendered when their plan or :data:`GENERATOR_VERSION` changes.

Each episode is scanned (in-process, one at a time) twice against the benchmark library
(:func:`benchmarks.scan_bench.open_library`): with ``max_speed_change`` (``--max-speed-change``,
default 0.1) and with the default (0: normal speed and the PAL speed-up only). Cues are matched
with :func:`benchmarks.scan_metrics.score_scan` (same recording, temporal IoU >= 0.5). Reported
per setting: recall per change kind (speed, tempo, pitch, none) and per change, precision, score
music reported, the median absolute error (%) of the reported ``speed`` and ``pitch`` of the
found cues against the truth, how often the reported ``change`` is the truth's kind, the median
start / end boundary error, and speed as episode seconds per CPU second (``time.process_time``
around ``Library.scan``: user + system of all threads) and per wall second; plus the ratio of the
CPU times of the two settings. Songs the wider scan misses are listed with the nearest cue it
reported.

Usage::

    python -m benchmarks.scan_warp_bench [--quick] [--cache DIR] [--seed N] [--max-speed-change X] [--jobs N]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

from benchmarks import degrade
from benchmarks import episodes as ep
from benchmarks.corpus import Corpus, Track, build_corpus, cache_dir, speech_pool
from benchmarks.scan_bench import open_library
from benchmarks.scan_metrics import score_scan, temporal_iou
from soundtrack import Library

SR = degrade.SR
GENERATOR_VERSION = 1               # bump to re-render cached warp episodes after a change

SPEED_FACTORS = (0.90, 0.95, 0.97, 1.03, 1.0417, 1.05, 1.10)   # sox speed: tempo and pitch
TEMPO_FACTORS = (0.92, 0.96, 1.04, 1.08)                        # sox tempo: pitch kept
PITCH_CENTS = (-100, 100)                                       # sox pitch: tempo kept
COPIES = 2                          # songs per change over the full set of episodes
N_UNCHANGED = 4
N_EPISODES = 4
KINDS = ("speed", "tempo", "pitch", "none")

SONG_S = (20.0, 40.0)               # episode seconds of one song cue
QUICK_SONG_S = (20.0, 25.0)
FULL_LENGTHS = ep.CueLengths(score=(20.0, 40.0), n_score=(1, 2), episode=(6 * 60.0, 8 * 60.0))
QUICK_LENGTHS = ep.CueLengths(score=(20.0, 30.0), n_score=(1, 1), episode=(3.5 * 60.0, 4.5 * 60.0))
#: Encodings the episodes take in turn (the plain ones of benchmarks.episodes: no PAL, phone, video).
WARP_VARIANTS = tuple(v for v in ep.VARIANTS if v.variant == "clean" and not v.video)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- changes

@dataclass(frozen=True)
class Change:
    """How one cue's audio is changed: ``kind`` "speed", "tempo", "pitch", "none" or "score";
    ``amount`` is the factor of a speed or tempo change, the cents of a pitch shift."""

    kind: str
    amount: float = 1.0

    @property
    def speed(self) -> float:
        """Recording seconds per episode second."""
        return self.amount if self.kind in ("speed", "tempo") else 1.0

    @property
    def pitch(self) -> float:
        """Episode Hz per recording Hz."""
        if self.kind == "speed":
            return self.amount
        return 2.0 ** (self.amount / 1200.0) if self.kind == "pitch" else 1.0

    @property
    def effect(self) -> list[str]:
        """The sox effect (empty: unchanged)."""
        if self.kind == "speed":
            return ["speed", f"{self.amount:g}"]
        if self.kind == "tempo":
            return ["tempo", "-m", f"{self.amount:g}"]
        if self.kind == "pitch":
            return ["pitch", f"{self.amount:g}"]
        return []

    @property
    def label(self) -> str:
        if self.kind in ("speed", "tempo"):
            digits = f"{self.amount:.4f}".rstrip("0")
            return f"{self.kind} ×{digits if len(digits.split('.')[1]) >= 2 else f'{self.amount:.2f}'}"
        if self.kind == "pitch":
            return f"pitch {self.amount:+.0f} c"
        return self.kind


CHANGES = (tuple(Change("speed", f) for f in SPEED_FACTORS) + tuple(Change("tempo", f) for f in TEMPO_FACTORS)
           + tuple(Change("pitch", c) for c in PITCH_CENTS))
QUICK_CHANGES = (Change("speed", 0.95), Change("speed", 1.10), Change("tempo", 0.92), Change("tempo", 1.04),
                 Change("pitch", -100), Change("pitch", 100), Change("none"))


def _label_order(label: str) -> tuple[int, str]:
    kind = label.split()[0]
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), label)


# --------------------------------------------------------------------------- planning

@dataclass(frozen=True)
class WarpPlacement:
    """A placement of :mod:`benchmarks.episodes` (``start_s`` in episode seconds, ``rec_start_s``
    and ``dur_s`` in seconds of the original recording) and the change applied to it."""

    placement: ep.Placement
    change: Change


@dataclass(frozen=True)
class WarpPlan:
    """Everything needed to render one warp episode deterministically."""

    name: str
    index: int
    seed: int
    quick: bool
    variant: ep.VariantSpec
    duration_s: float
    room_tone_color: str
    room_tone_dbfs: float
    cues: tuple[WarpPlacement, ...]
    speech: tuple[str, ...]

    def digest(self) -> str:
        blob = json.dumps([GENERATOR_VERSION, asdict(self)], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _deal(seed: int, quick: bool) -> list[list[Change]]:
    """The changes of each episode: every change :data:`COPIES` times and the unchanged songs,
    shuffled and dealt round-robin."""
    if quick:
        return [list(QUICK_CHANGES)]
    pool = [c for c in CHANGES for _ in range(COPIES)] + [Change("none")] * N_UNCHANGED
    order = np.random.default_rng([seed, 9001]).permutation(len(pool))
    return [[pool[int(i)] for i in order[k::N_EPISODES]] for k in range(N_EPISODES)]


def _song_group(change: Change, tracks: Sequence[Track], used: set[str], song_s: tuple[float, float],
                rng: np.random.Generator) -> ep._Group:
    """One changed song, foreground, from a track not used yet; the group length is in episode time."""
    dur = ep._u(rng, song_s)
    src_dur = dur * change.speed
    ok = [t for t in tracks if ep._rec(t) not in used and t.duration_s >= src_dur + 1.0]
    if not ok:
        raise RuntimeError(f"no unused indexed track of {src_dur:.0f}+ s left for a {change.label} cue")
    track = ok[int(rng.integers(len(ok)))]
    used.add(ep._rec(track))
    rec_start = 0.0 if rng.random() < 0.4 else ep._random_offset(rng, track.duration_s, src_dur)
    dialogue = "paused" if rng.random() < 0.5 else "light"
    p = ep._song(change.kind, track, rec_start, src_dur, ep._foreground_level(rng),
                 ep._u(rng, (0.05, 0.5)), ep._u(rng, (0.2, 1.0)), dialogue)
    return ep._Group([p], dur)


def plan_episodes(corpus: Corpus, speech: Sequence[Path], *, seed: int = 0, quick: bool = False) -> list[WarpPlan]:
    """Plan every warp episode (only track durations are needed); songs use distinct tracks."""
    L = QUICK_LENGTHS if quick else FULL_LENGTHS
    song_s = QUICK_SONG_S if quick else SONG_S
    rng = np.random.default_rng([seed, int(quick), 31])
    used: set[str] = set()
    plans = []
    for index, changes in enumerate(_deal(seed, quick)):
        groups = [_song_group(c, corpus.indexed, used, song_s, rng) for c in changes]
        change_of = {g.placements[0].recording: c for g, c in zip(groups, changes, strict=True)}
        groups += ep._score_groups(rng, corpus.unindexed, L)
        groups, duration = ep._fit_duration(groups, L, rng)
        placed = ep._layout(groups, duration, rng)
        cues = tuple(WarpPlacement(p, change_of.get(p.recording, Change("score")))
                     for p in sorted(placed, key=lambda p: p.start_s))
        plans.append(WarpPlan(
            name=f"{'quick' if quick else 'warp'}{index + 1:02d}", index=index, seed=seed, quick=quick,
            variant=WARP_VARIANTS[index % len(WARP_VARIANTS)], duration_s=round(duration, 3),
            room_tone_color="pink" if rng.random() < 0.5 else "brown",
            room_tone_dbfs=round(ep._u(rng, ep.ROOM_TONE_DBFS), 2), cues=cues,
            speech=tuple(os.path.abspath(s) for s in speech)))
    return plans


# --------------------------------------------------------------------------- truth

@dataclass
class WarpCue:
    """Ground truth of one cue: episode times (s, of the decoded file) where the changed audio
    sounds, recording times (s) of the original recording heard, and the change (see the module
    docstring). ``kind`` is "speed", "tempo", "pitch", "none" or "score" (expected False)."""

    kind: str
    label: str
    effect: list[str]
    recording: str
    episode_start_s: float
    episode_end_s: float
    recording_start_s: float
    recording_end_s: float
    speed: float
    pitch: float
    level_db_vs_dialogue: float
    dialogue: str
    expected: bool


@dataclass
class WarpTruth:
    """Ground truth of one warp episode, stored in ``<name>.truth.json``."""

    name: str
    episode: str
    duration_s: float
    container: str
    audio_codec: str
    cues: list[WarpCue]
    seed: int = 0
    index: int = 0
    quick: bool = False
    plan_digest: str = ""
    generator_version: int = GENERATOR_VERSION
    offset_s: float = 0.0
    limited_fraction: float = 0.0
    render_seconds: float = 0.0

    @property
    def songs(self) -> list[WarpCue]:
        return [c for c in self.cues if c.expected]

    def save(self) -> None:
        path = ep.truth_path_for(Path(self.episode))
        ep._atomic_write_text(path, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> WarpTruth:
        d = json.loads(Path(path).read_text())
        d = {k: v for k, v in d.items() if k in {f.name for f in fields(cls)}}
        d["cues"] = [WarpCue(**c) for c in d.get("cues", [])]
        return cls(**d)


# --------------------------------------------------------------------------- rendering

def _episode_path(plan: WarpPlan, out_dir: Path) -> Path:
    return out_dir / f"{plan.name}.{plan.variant.ext}"


def _render_cue(wp: WarpPlacement, mix: np.ndarray) -> tuple[ep.Placement, WarpCue] | None:
    """Load, trim silent edges, change, level, fade and add one cue to ``mix``. Returns the cue's
    span as a placement in episode time (for the dialogue zones) and its truth (times in the mix),
    or None if nothing audible is left."""
    p, change = wp.placement, wp.change
    seg = ep.load_source(p.recording, p.rec_start_s, p.dur_s)
    rms = ep.gated_rms_db(seg)
    first, last = ep.audible_edges(seg, max(-75.0, rms - ep.EDGE_SILENCE_DB))
    seg = seg[first:last]
    if len(seg) < SR:
        return None
    y = degrade.sox_effect(seg, change.effect) if change.effect else seg
    start = int(round(p.start_s * SR + first / change.speed))
    y = np.array(y[: max(0, len(mix) - start)], dtype=np.float32)
    if len(y) < SR:
        return None
    rms = ep.gated_rms_db(y)
    gain_db = min(ep.DIALOGUE_DBFS + p.level_db - rms, ep.MAX_GAIN_DB)
    y *= ep.db_to_gain(gain_db)
    ep.apply_fades(y, p.fade_in_s, p.fade_out_s)
    mix[start:start + len(y)] += y
    rec_start = (int(round(p.rec_start_s * SR)) + first) / SR
    rec_len = min(len(seg) / SR, len(y) / SR * change.speed)
    zone = replace(p, start_s=start / SR, dur_s=len(y) / SR)
    cue = WarpCue(kind=change.kind, label=change.label, effect=change.effect, recording=p.recording,
                  episode_start_s=start / SR, episode_end_s=(start + len(y)) / SR,
                  recording_start_s=round(rec_start, 4), recording_end_s=round(rec_start + rec_len, 4),
                  speed=change.speed, pitch=round(change.pitch, 6),
                  level_db_vs_dialogue=round(rms + gain_db - ep.DIALOGUE_DBFS, 2), dialogue=p.dialogue,
                  expected=p.expected)
    return zone, cue


def render_episode(plan: WarpPlan, out_dir: Path) -> WarpTruth:
    """Render, encode and write the truth of one planned warp episode."""
    t0 = time.monotonic()
    rng = np.random.default_rng([plan.seed, plan.index, int(plan.quick), 2])
    mix = np.zeros(int(round(plan.duration_s * SR)), dtype=np.float32)
    zones, cues = [], []
    for wp in plan.cues:
        r = _render_cue(wp, mix)
        if r is None:
            log(f"warning: {plan.name}: nothing audible in the {wp.change.label} cue of {wp.placement.recording}")
            continue
        zones.append(r[0])
        cues.append(r[1])
    ep.render_dialogue(mix, ep.load_speech(plan.speech), ep._dialogue_zones(zones), rng)
    mix += ep.room_tone(len(mix), plan.room_tone_color, plan.room_tone_dbfs, rng)
    limited = ep.soft_limit(mix)
    path = _episode_path(plan, out_dir)
    ep.encode(mix, plan.variant, path)
    decoded = degrade.load_segment(path)
    offset = ep.measure_delay(mix, decoded)
    for c in cues:
        c.episode_start_s = round(c.episode_start_s + offset, 4)
        c.episode_end_s = round(c.episode_end_s + offset, 4)
    truth = WarpTruth(
        name=plan.name, episode=os.path.abspath(path), duration_s=round(len(decoded) / SR, 4),
        container=plan.variant.ext, audio_codec=plan.variant.audio_args[1], cues=cues, seed=plan.seed,
        index=plan.index, quick=plan.quick, plan_digest=plan.digest(), offset_s=round(offset, 5),
        limited_fraction=round(limited, 6), render_seconds=round(time.monotonic() - t0, 2))
    truth.save()
    return truth


def _cached_truth(plan: WarpPlan, out_dir: Path) -> WarpTruth | None:
    path = _episode_path(plan, out_dir)
    tpath = ep.truth_path_for(path)
    if not (path.exists() and tpath.exists()):
        return None
    try:
        truth = WarpTruth.load(tpath)
    except (ValueError, TypeError, KeyError):
        return None
    ok = truth.plan_digest == plan.digest() and truth.generator_version == GENERATOR_VERSION
    return truth if ok else None


def make_warp_episodes(corpus: Corpus, cache: Path, *, seed: int = 0, quick: bool = False) -> list[WarpTruth]:
    """Build (or reuse from ``<cache>/warp-episodes/``) the warp episodes, rendered one at a time."""
    out_dir = cache / "warp-episodes"
    out_dir.mkdir(parents=True, exist_ok=True)
    speech = speech_pool(cache, n=ep.SPEECH_LINES)
    truths = []
    for plan in plan_episodes(corpus, speech, seed=seed, quick=quick):
        truth = _cached_truth(plan, out_dir)
        if truth is None:
            log(f"rendering {plan.name} ({plan.duration_s / 60:.1f} min, {len(plan.cues)} cues)")
            truth = render_episode(plan, out_dir)
            log(f"  {truth.name}: {truth.render_seconds:.1f} s")
        truths.append(truth)
    return truths


# --------------------------------------------------------------------------- scanning + scoring

def scan_episode(lib: Library, truth: WarpTruth, max_speed_change: float) -> dict:
    """Scan once; the predicted cues (as score_scan mappings with speed, pitch and change), CPU and
    wall seconds, the episode's duration and CPU seconds per stage."""
    started, cpu_started = time.perf_counter(), time.process_time()
    soundtrack = lib.scan(truth.episode, max_speed_change=max_speed_change)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    cues = [{"recording": c.recording.path, "title": c.recording.title,
             "episode_start_s": c.episode_start_s, "episode_end_s": c.episode_end_s,
             "recording_start_s": c.recording_start_s, "recording_end_s": c.recording_end_s,
             "speed": c.speed, "pitch": c.pitch, "change": c.change, "score": c.score,
             "foreground": c.foreground} for c in soundtrack.cues]
    return {"cues": cues, "cpu_s": cpu, "wall_s": wall, "duration_s": soundtrack.duration_s,
            "cpu_by_stage_s": dict(soundtrack.cpu_s)}


def _pct(reported: float, truth: float) -> float:
    return abs(reported / truth - 1.0) * 100.0


def _name(path: str) -> str:
    return "/".join(Path(path).parts[-2:])


def _describe_pred(c: dict, iou: float | None = None) -> str:
    s = (f"{_name(c['recording'])} @{c['episode_start_s']:.1f}-{c['episode_end_s']:.1f} "
         f"speed {c['speed']:.4f} pitch {c['pitch']:.4f} ({c['change']}, score {c['score']})")
    return s if iou is None else f"{s}, IoU {iou:.2f}"


def _nearest(cue: WarpCue, preds: Sequence[dict]) -> str:
    """The predicted cue nearest a missed truth cue: of its recording (best IoU), else the one
    overlapping it most in time."""
    span = (cue.episode_start_s, cue.episode_end_s)
    same = [(temporal_iou(span, (p["episode_start_s"], p["episode_end_s"])), p)
            for p in preds if os.path.normpath(p["recording"]) == os.path.normpath(cue.recording)]
    if same:
        iou, p = max(same, key=lambda x: x[0])
        return "same recording: " + _describe_pred(p, iou)
    over = [(min(span[1], p["episode_end_s"]) - max(span[0], p["episode_start_s"]), p) for p in preds]
    over = [(o, p) for o, p in over if o > 0]
    if over:
        return "other recording: " + _describe_pred(max(over, key=lambda x: x[0])[1])
    return "nothing reported there"


def _is_fragment(pred: dict, songs: Sequence[WarpCue]) -> bool:
    """Whether an unmatched prediction names a song sounding at that time (a piece or a duplicate
    of it) rather than music that is not there."""
    key = os.path.normpath(pred["recording"])
    return any(os.path.normpath(c.recording) == key and min(c.episode_end_s, pred["episode_end_s"])
               > max(c.episode_start_s, pred["episode_start_s"]) for c in songs)


def score_episode(truth: WarpTruth, scan: dict) -> dict:
    """Score one scan of one episode: score_scan's counts plus factor errors per matched cue."""
    preds = scan["cues"]
    m = score_scan(truth.cues, preds)
    matched = []
    for t, j, iou in m["matches"]:
        tc, pc = truth.cues[t], preds[j]
        matched.append({
            "label": tc.label, "kind": tc.kind, "iou": round(iou, 3),
            "speed_err_pct": round(_pct(pc["speed"], tc.speed), 3),
            "pitch_err_pct": round(_pct(pc["pitch"], tc.pitch), 3),
            "change_right": pc["change"] == tc.kind,
            "start_err_s": round(abs(pc["episode_start_s"] - tc.episode_start_s), 3),
            "end_err_s": round(abs(pc["episode_end_s"] - tc.episode_end_s), 3),
            "reported_speed": round(pc["speed"], 5), "reported_pitch": round(pc["pitch"], 5)})
    missed = [{"label": truth.cues[i].label, "kind": truth.cues[i].kind,
               "truth": f"{_name(truth.cues[i].recording)} @{truth.cues[i].episode_start_s:.1f}-"
                        f"{truth.cues[i].episode_end_s:.1f} rec {truth.cues[i].recording_start_s:.1f}-"
                        f"{truth.cues[i].recording_end_s:.1f}",
               "nearest": _nearest(truth.cues[i], preds)} for i in m["missed"]]
    false = [{"cue": _describe_pred(preds[j]), "fragment": _is_fragment(preds[j], truth.songs)}
             for j in m["false_positives"]]
    return {
        "episode": truth.name, "duration_s": round(scan["duration_s"], 1), "cpu_s": round(scan["cpu_s"], 3),
        "wall_s": round(scan["wall_s"], 3),
        "cpu_by_stage_s": {k: round(v, 3) for k, v in scan["cpu_by_stage_s"].items()},
        "n_truth": m["n_truth"], "n_predicted": m["n_predicted"], "n_matched": m["n_matched"],
        "score_reported": m["score_reported"],
        "truth_labels": [c.label for c in truth.songs], "matched": matched, "missed": missed,
        "false_positives": false, "predicted": preds,
    }


def _median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summarize(rows: Sequence[dict]) -> dict:
    """Pooled over the episodes of one setting."""
    n_truth, n_pred, n_match = (sum(r[k] for r in rows) for k in ("n_truth", "n_predicted", "n_matched"))
    matched = [m for r in rows for m in r["matched"]]
    total_kind = Counter(label.split()[0] for r in rows for label in r["truth_labels"])
    total_label = Counter(label for r in rows for label in r["truth_labels"])
    found_kind = Counter(m["kind"] for m in matched)
    found_label = Counter(m["label"] for m in matched)
    changed = [m for m in matched if m["kind"] != "none"]
    stages = Counter()
    for r in rows:
        stages.update(r["cpu_by_stage_s"])
    audio, cpu, wall = (sum(r[k] for r in rows) for k in ("duration_s", "cpu_s", "wall_s"))
    return {
        "n_truth": n_truth, "n_predicted": n_pred, "n_matched": n_match,
        "recall": n_match / n_truth if n_truth else 1.0,
        "precision": n_match / n_pred if n_pred else 1.0,
        "false_reports": n_pred - n_match,
        "false_fragments": sum(f["fragment"] for r in rows for f in r["false_positives"]),
        "score_reported": sum(r["score_reported"] for r in rows),
        "recall_by_kind": {k: (found_kind[k], total_kind[k]) for k in KINDS if total_kind[k]},
        "recall_by_change": {k: (found_label[k], total_label[k]) for k in sorted(total_label, key=_label_order)},
        "median_speed_err_pct": _median([m["speed_err_pct"] for m in matched]),
        "median_pitch_err_pct": _median([m["pitch_err_pct"] for m in matched]),
        "median_speed_err_pct_changed": _median([m["speed_err_pct"] for m in changed]),
        "median_pitch_err_pct_changed": _median([m["pitch_err_pct"] for m in changed]),
        "change_right": (sum(m["change_right"] for m in matched), len(matched)),
        "median_start_error_s": _median([m["start_err_s"] for m in matched]),
        "median_end_error_s": _median([m["end_err_s"] for m in matched]),
        "boundary_error_by_kind_s": {k: (_median([m["start_err_s"] for m in matched if m["kind"] == k]),
                                         _median([m["end_err_s"] for m in matched if m["kind"] == k]))
                                     for k in KINDS if found_kind[k]},
        "audio_s": audio, "cpu_s": cpu, "wall_s": wall,
        "x_realtime_cpu": audio / cpu if cpu else None, "x_realtime": audio / wall if wall else None,
        "cpu_by_stage_s": {k: round(v, 2) for k, v in stages.most_common()},
    }


# --------------------------------------------------------------------------- report

def _frac(pair: tuple[int, int]) -> str:
    found, total = pair
    return f"{found}/{total} {found / total:4.2f}" if total else "-"


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def _pair(x: tuple[float | None, float | None] | None) -> str:
    return "-" if x is None else f"{_num(x[0], '.2f')} / {_num(x[1], '.2f')}"


def print_report(truths: Sequence[WarpTruth], results: dict[str, list[dict]], totals: dict[str, dict],
                 settings: Sequence[str]) -> None:
    """The table of both settings, recall per change, and the misses of the wider scan."""
    songs = [c for t in truths for c in t.songs]
    n_score = sum(1 for t in truths for c in t.cues if not c.expected)
    minutes = sum(t.duration_s for t in truths) / 60
    print(f"warp scan benchmark: {len(truths)} episode(s), {minutes:.1f} min, {len(songs)} song cues "
          f"({sum(c.kind != 'none' for c in songs)} changed), {n_score} score cue(s)")
    a, b = (totals[s] for s in settings)
    w = 22
    rows: list[tuple[str, str, str]] = []
    for kind in KINDS:
        if kind in a["recall_by_kind"]:
            rows.append((f"recall {kind} ({a['recall_by_kind'][kind][1]})",
                         _frac(a["recall_by_kind"][kind]), _frac(b["recall_by_kind"][kind])))
    rows += [
        ("recall, all songs", _frac((a["n_matched"], a["n_truth"])), _frac((b["n_matched"], b["n_truth"]))),
        ("precision", f"{a['precision']:.2f} ({a['n_predicted']} cues)",
         f"{b['precision']:.2f} ({b['n_predicted']} cues)"),
        ("false reports", str(a["false_reports"]), str(b["false_reports"])),
        ("  of them pieces of a song", str(a["false_fragments"]), str(b["false_fragments"])),
        ("score music reported", str(a["score_reported"]), str(b["score_reported"])),
        ("change kind right", _frac(a["change_right"]), _frac(b["change_right"])),
        ("median speed error %", _num(a["median_speed_err_pct"], ".2f"), _num(b["median_speed_err_pct"], ".2f")),
        ("  changed songs only", _num(a["median_speed_err_pct_changed"], ".2f"),
         _num(b["median_speed_err_pct_changed"], ".2f")),
        ("median pitch error %", _num(a["median_pitch_err_pct"], ".2f"), _num(b["median_pitch_err_pct"], ".2f")),
        ("  changed songs only", _num(a["median_pitch_err_pct_changed"], ".2f"),
         _num(b["median_pitch_err_pct_changed"], ".2f")),
        ("median start error s", _num(a["median_start_error_s"], ".2f"), _num(b["median_start_error_s"], ".2f")),
        ("median end error s", _num(a["median_end_error_s"], ".2f"), _num(b["median_end_error_s"], ".2f")),
        *[(f"  start / end, {k}", _pair(a["boundary_error_by_kind_s"].get(k)),
           _pair(b["boundary_error_by_kind_s"].get(k))) for k in KINDS],
        ("CPU s / wall s", f"{a['cpu_s']:.1f} / {a['wall_s']:.1f}", f"{b['cpu_s']:.1f} / {b['wall_s']:.1f}"),
        ("× real time, CPU", _num(a["x_realtime_cpu"], ".0f"), _num(b["x_realtime_cpu"], ".0f")),
        ("× real time, wall", _num(a["x_realtime"], ".0f"), _num(b["x_realtime"], ".0f")),
    ]
    print(f"\n{'measure':<26}{settings[0]:>{w}}{settings[1]:>{w}}")
    for name, x, y in rows:
        print(f"{name:<26}{x:>{w}}{y:>{w}}")
    ratio = a["cpu_s"] / b["cpu_s"] if b["cpu_s"] else float("nan")
    print(f"CPU time ratio {settings[0]} / {settings[1]}: {ratio:.2f}")

    print(f"\n{'change':<16}{settings[0]:>{w}}{settings[1]:>{w}}   reported speed/pitch ({settings[0]})")
    for label, pair in a["recall_by_change"].items():
        reported = [f"{m['reported_speed']:.3f}/{m['reported_pitch']:.3f}"
                    for r in results[settings[0]] for m in r["matched"] if m["label"] == label]
        print(f"{label:<16}{_frac(pair):>{w}}{_frac(b['recall_by_change'][label]):>{w}}   {' '.join(reported)}")

    for s in settings:
        shares = ", ".join(f"{k} {v:.1f} s ({v / totals[s]['cpu_s']:.0%})"
                           for k, v in totals[s]["cpu_by_stage_s"].items())
        print(f"\nCPU by stage, {s}: {shares}")
    print("\nper episode (found/songs, false, CPU s):")
    for i, t in enumerate(truths):
        parts = [f"{s}: {results[s][i]['n_matched']}/{results[s][i]['n_truth']}, "
                 f"{results[s][i]['n_predicted'] - results[s][i]['n_matched']} false, {results[s][i]['cpu_s']:.1f} s"
                 for s in settings]
        print(f"  {t.name} ({t.container}, {t.duration_s / 60:.1f} min): " + "; ".join(parts))
    for s in settings:
        missed = [m for r in results[s] for m in r["missed"]]
        false = [(r["episode"], f) for r in results[s] for f in r["false_positives"]]
        if s == settings[0]:
            print(f"\nmissed with {s}: {len(missed)}")
            for r in results[s]:
                for m in r["missed"]:
                    print(f"  {r['episode']} {m['label']:<14} truth {m['truth']}\n{'':<24}nearest: {m['nearest']}")
        else:
            labels = Counter(m["label"] for m in missed)
            print(f"\nmissed with {s}: {len(missed)} "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(labels.items(), key=lambda kv: _label_order(kv[0])))})")
        for name, f in false:
            kind = "piece of a sounding song" if f["fragment"] else "music not there"
            print(f"  false report ({s}) {name}: {f['cue']} [{kind}]")


# --------------------------------------------------------------------------- entry point

def run(lib: Library, truths: Sequence[WarpTruth], settings: dict[str, float],
        progress: Callable[[str], None] = log) -> dict[str, list[dict]]:
    """Scan every episode with every setting, one scan at a time; rows per setting."""
    results: dict[str, list[dict]] = {s: [] for s in settings}
    for t in truths:
        for s, x in settings.items():
            row = score_episode(t, scan_episode(lib, t, x))
            results[s].append(row)
            progress(f"{t.name} {s}: {row['n_matched']}/{row['n_truth']} found, "
                     f"{row['n_predicted'] - row['n_matched']} false, {row['cpu_s']:.1f} s CPU")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 short (~4 min) episode")
    ap.add_argument("--cache", type=Path, default=None, help="benchmark cache (default: corpus cache)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-speed-change", type=float, default=0.1,
                    help="the wider scan's max_speed_change (the other scan uses 0)")
    ap.add_argument("--jobs", type=int, default=2, help="workers if a library must be built")
    ap.add_argument("--json", type=Path, default=None, help="write rows and totals here")
    args = ap.parse_args(argv)
    cache = args.cache or cache_dir()
    corpus = build_corpus(cache)
    truths = make_warp_episodes(corpus, cache, seed=args.seed, quick=args.quick)
    settings = {f"max_speed_change={args.max_speed_change:g}": args.max_speed_change, "default (0)": 0.0}
    with open_library(corpus, cache, None, args.jobs) as lib:
        results = run(lib, truths, settings)
    totals = {s: summarize(rows) for s, rows in results.items()}
    names = list(settings)
    print_report(truths, results, totals, names)
    if args.json:
        a, b = (totals[s] for s in names)
        out = {"settings": settings, "all": totals, "episodes": results,
               "cpu_ratio": a["cpu_s"] / b["cpu_s"] if b["cpu_s"] else None,
               "truths": [asdict(t) for t in truths]}
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
