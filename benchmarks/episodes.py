"""Synthetic TV episodes with exact ground truth, for the scan benchmark.

Each episode is a mono mix at 22050 Hz of

* a continuous espeak-ng **dialogue bed** (sentences from the speech pool with
  0.3-3 s pauses and some longer silent stretches) at about -20 dBFS RMS,
* **room tone** (pink or brown noise, -50 to -40 dBFS RMS),
* 2-4 **score** cues cut from never-indexed tracks (must *not* be reported),
* 6-12 **song** cues from indexed tracks, of the kinds in :data:`SONG_KINDS`,

then optionally sped up (PAL, 4.17 %) or passed through the phone chain, and
encoded with ffmpeg (Matroska/Opus, MP4 video + AAC, M4A, Ogg Vorbis).  The
ground truth is written next to each episode as ``<name>.truth.json``.

Planning (which song goes where) only needs track durations and is cheap; it is
redone on every call and compared (by digest) with the cached truth, so only
missing or stale episodes are rendered.

Usage::

    python -m benchmarks.episodes [--quick] [--cache DIR] [--seed N] [-n N] [--jobs N] [--verify]

Library use::

    from benchmarks.corpus import build_corpus, cache_dir
    from benchmarks.episodes import make_episodes
    truths = make_episodes(build_corpus(), cache_dir())

Conventions: times are seconds, levels are dB (dBFS for absolute RMS levels,
dB relative to the dialogue level for ``level_db_vs_dialogue``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
from scipy import fft as sp_fft
from scipy import signal

from benchmarks import corpus as bench_corpus
from benchmarks import degrade
from benchmarks.corpus import Corpus, Track

SR = degrade.SR
GENERATOR_VERSION = 2               # bump to re-render cached episodes after a change
PAL_SPEED = 1.0417

SONG_KINDS = ("full", "interrupted", "mid_start", "crossfade", "mashup", "background", "sting")
PAIR_KINDS = ("crossfade", "mashup")          # these place two songs per group
# extra cues on top of one of each kind, weighted towards the kinds with recall targets
EXTRA_KINDS = {"sting": 0.3, "interrupted": 0.2, "background": 0.2, "mashup": 0.15,
               "mid_start": 0.075, "crossfade": 0.075}
MAX_SONG_CUES = 12

DIALOGUE_DBFS = -20.0                # RMS of speech while talking
FOREGROUND_DBFS = (-20.0, -16.0)     # RMS of foreground music
MASHUP_DBFS = (-22.0, -19.0)         # RMS of each of the two mashed songs
MASHUP_MAX_DIFF_DB = 1.5
BACKGROUND_VS_DIALOGUE_DB = (-18.0, -12.0)
SCORE_VS_DIALOGUE_DB = (-12.0, -6.0)
ROOM_TONE_DBFS = (-50.0, -40.0)
MAX_GAIN_DB = 24.0                   # never boost a quiet source more than this
LIMIT_THRESHOLD = 0.75               # soft limiter: knee and ceiling (linear full scale);
LIMIT_CEILING = 0.9                  # headroom for codec overshoot
EDGE_SILENCE_DB = 40.0               # edges this far below a cue's level are trimmed

MIN_GAP_S = 6.0                      # dialogue-only stretch between cue groups
PHONE_CHUNK_S = 60.0
SPEECH_LINES = 60                    # distinct dialogue lines drawn from the speech pool


# --------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class CueLengths:
    """Ranges ``(low, high)`` in seconds for cue and episode lengths."""

    full: tuple[float, float] = (60.0, 180.0)
    interrupted: tuple[float, float] = (15.0, 40.0)
    mid_start: tuple[float, float] = (20.0, 60.0)
    crossfade_part: tuple[float, float] = (30.0, 75.0)
    crossfade_overlap: tuple[float, float] = (3.0, 6.0)
    mashup: tuple[float, float] = (20.0, 60.0)
    background: tuple[float, float] = (30.0, 90.0)
    sting: tuple[float, float] = (5.0, 10.0)
    score: tuple[float, float] = (20.0, 90.0)
    n_score: tuple[int, int] = (2, 4)
    episode: tuple[float, float] = (12 * 60.0, 20 * 60.0)


FULL_LENGTHS = CueLengths()
QUICK_LENGTHS = CueLengths(
    full=(60.0, 75.0), mid_start=(20.0, 35.0), crossfade_part=(25.0, 35.0), mashup=(20.0, 30.0),
    background=(30.0, 40.0), score=(20.0, 35.0), n_score=(1, 1), episode=(3.5 * 60.0, 4.5 * 60.0),
)


@dataclass(frozen=True)
class VariantSpec:
    """How an episode is post-processed and encoded."""

    variant: str                     # "clean" | "video" | "pal" | "phone"
    ext: str                         # container file extension
    audio_args: tuple[str, ...]      # ffmpeg audio encoder arguments
    video: bool = False

    @property
    def speed(self) -> float:
        """Playback speed factor applied to the whole mix."""
        return PAL_SPEED if self.variant == "pal" else 1.0


AAC = ("-c:a", "aac", "-b:a", "128k")
VARIANTS = (
    VariantSpec("clean", "mkv", ("-c:a", "libopus", "-b:a", "96k")),
    VariantSpec("video", "mp4", AAC, video=True),
    VariantSpec("pal", "m4a", AAC),
    VariantSpec("phone", "ogg", ("-c:a", "libvorbis", "-q:a", "4")),
    VariantSpec("clean", "mkv", ("-c:a", "aac", "-b:a", "160k")),
    VariantSpec("clean", "m4a", AAC),
)


# --------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Placement:
    """One source segment placed in the (pre-speed) episode timeline."""

    kind: str                  # a SONG_KINDS entry or "score"
    recording: str             # absolute path of the source file
    start_s: float             # episode time where the segment starts
    rec_start_s: float         # recording time of its first sample
    dur_s: float               # length
    level_db: float            # RMS relative to DIALOGUE_DBFS
    fade_in_s: float
    fade_out_s: float
    dialogue: str              # "paused" | "light" | "normal" | "dense" during the cue
    group: int                 # cues of one group were placed together
    expected: bool             # True: song the scanner must report

    @property
    def end_s(self) -> float:
        return self.start_s + self.dur_s


@dataclass(frozen=True)
class EpisodePlan:
    """Everything needed to render one episode deterministically."""

    name: str
    index: int
    seed: int
    quick: bool
    variant: VariantSpec
    duration_s: float          # before any speed change
    room_tone_color: str       # "pink" | "brown"
    room_tone_dbfs: float
    placements: tuple[Placement, ...]
    speech: tuple[str, ...]    # dialogue line WAVs (their folder names the pool version)

    def digest(self) -> str:
        """Stable hash of the plan, stored in the truth to detect stale caches."""
        blob = json.dumps([GENERATOR_VERSION, asdict(self)], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class CueTruth:
    """Ground truth of one music cue, in final episode time (after any speed change).

    ``recording_*`` are positions in the source recording (unchanged by speed);
    ``episode_end_s - episode_start_s == (recording_end_s - recording_start_s) / speed``.
    Fades are in episode seconds; ``level_db_vs_dialogue`` is the cue's gated
    RMS minus the dialogue level (-20 dBFS).
    """

    kind: str
    recording: str
    episode_start_s: float
    episode_end_s: float
    recording_start_s: float
    recording_end_s: float
    level_db_vs_dialogue: float
    overlaps_with: list[int]
    expected: bool
    speed: float = 1.0
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    dialogue: str = "normal"
    group: int = 0


@dataclass
class EpisodeTruth:
    """Ground truth of one episode, as stored in ``<name>.truth.json``."""

    name: str
    episode: str               # absolute path of the episode file
    duration_s: float          # of the final file's audio
    speed: float
    variant: str
    container: str
    audio_codec: str
    cues: list[CueTruth]
    seed: int = 0
    index: int = 0
    quick: bool = False
    plan_digest: str = ""
    generator_version: int = GENERATOR_VERSION
    dialogue_dbfs: float = DIALOGUE_DBFS
    room_tone_color: str = "pink"
    room_tone_dbfs: float = -45.0
    limited_fraction: float = 0.0   # share of samples touched by the soft limiter
    offset_s: float = 0.0           # measured delay of the decoded file vs the mix (codec, phone)
    render_seconds: float = 0.0

    @property
    def songs(self) -> list[CueTruth]:
        """Cues the scanner must report."""
        return [c for c in self.cues if c.expected]

    @property
    def truth_path(self) -> Path:
        return truth_path_for(Path(self.episode))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> EpisodeTruth:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["cues"] = [CueTruth(**c) for c in d.get("cues", [])]
        return cls(**d)

    def save(self) -> None:
        """Write the truth JSON atomically next to the episode."""
        _atomic_write_text(self.truth_path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: Path) -> EpisodeTruth:
        return cls.from_dict(json.loads(Path(path).read_text()))


def truth_path_for(episode: Path) -> Path:
    """``<dir>/<name>.truth.json`` for ``<dir>/<name>.<ext>``."""
    return episode.with_name(episode.name.rsplit(".", 1)[0] + ".truth.json")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- planning

@dataclass
class _Group:
    """Placements with times relative to the group start, and the group length (s)."""

    placements: list[Placement]
    length_s: float
    optional: bool = False     # may be dropped if the episode gets too long


def _u(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(*lo_hi))


def _episode_kinds(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Song kinds for a full-size episode: every kind once, plus extras.

    Returns ``(required, extras)``; total song cues stay <= MAX_SONG_CUES.
    """
    required = list(SONG_KINDS)
    n_cues = sum(2 if k in PAIR_KINDS else 1 for k in required)
    extras = []
    names, weights = list(EXTRA_KINDS), list(EXTRA_KINDS.values())
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(names, p=weights))
        size = 2 if kind in PAIR_KINDS else 1
        if n_cues + size <= MAX_SONG_CUES:
            extras.append(kind)
            n_cues += size
    return required, extras


def _quick_kinds(seed: int, index: int, n: int) -> list[str]:
    """Quick mode: the kinds are dealt round-robin over the episodes, plus a sting each."""
    order = list(np.random.default_rng([seed, 7919]).permutation(SONG_KINDS))
    kinds = [str(k) for k in order[index::n]] if n else []
    if "sting" not in kinds:
        kinds.append("sting")
    return kinds


def _min_duration(kind: str, L: CueLengths) -> float:
    """Shortest source recording (s) usable for one song of ``kind``."""
    return {
        "full": L.full[0],
        "interrupted": L.interrupted[1] + 5.0,
        "mid_start": (L.mid_start[0] + 1.0) / 0.4 + 1.0,   # enters <= 60 % in
        "crossfade": L.crossfade_part[0] + 2.0,
        "mashup": L.mashup[0] + 2.0,
        "background": L.background[0] + 2.0,
        "sting": L.sting[1] + 2.0,
    }[kind]


def _pick_tracks(kinds: Sequence[str], tracks: Sequence[Track], L: CueLengths,
                 rng: np.random.Generator) -> list[tuple[str, list[Track]] | None]:
    """Choose distinct recordings for each kind (two for pair kinds).

    The most demanding kinds pick first.  An entry is None when no eligible
    track is left (the group is then skipped).
    """
    used: set[int] = set()
    chosen: list[tuple[str, list] | None] = [None] * len(kinds)
    for i in sorted(range(len(kinds)), key=lambda i: -_min_duration(kinds[i], L)):
        need = 2 if kinds[i] in PAIR_KINDS else 1
        ok = [j for j, t in enumerate(tracks)
              if j not in used and t.duration_s >= _min_duration(kinds[i], L)]
        if len(ok) < need:
            continue
        picks = [int(j) for j in rng.choice(ok, size=need, replace=False)]
        used.update(picks)
        chosen[i] = (kinds[i], [tracks[j] for j in picks])
    return chosen


def _rec(track: Track) -> str:
    """Absolute path of a track, as recorded in the truth."""
    return os.path.abspath(os.fspath(track.path))


def _foreground_level(rng: np.random.Generator) -> float:
    """Foreground music level in dB relative to the dialogue."""
    return _u(rng, FOREGROUND_DBFS) - DIALOGUE_DBFS


def _fg_dialogue(rng: np.random.Generator) -> str:
    return "light" if rng.random() < 0.5 else "normal"


def _random_offset(rng: np.random.Generator, duration_s: float, length_s: float) -> float:
    """A start position (s) leaving ``length_s`` plus 0.5 s of margin."""
    return _u(rng, (0.0, max(0.0, duration_s - length_s - 0.5)))


def _song(kind: str, track: Track, rec_start: float, dur: float, level: float, fin: float,
          fout: float, dialogue: str, start: float = 0.0) -> Placement:
    """A song placement (times in s, ``level`` in dB vs dialogue, group set by the layout)."""
    return Placement(kind, _rec(track), start, rec_start, dur, level, fin, fout, dialogue, 0, True)


def _group_full(rng: np.random.Generator, tracks: Sequence[Track], L: CueLengths) -> _Group:
    """A whole track (if 60-180 s) or a long stretch from its start, foreground."""
    t = tracks[0]
    dialogue = "paused" if rng.random() < 0.5 else "light"
    if L.full[0] <= t.duration_s <= L.full[1]:
        dur, fout = t.duration_s, 0.05
    else:
        dur, fout = _u(rng, (L.full[0], min(L.full[1], t.duration_s))), _u(rng, (0.5, 1.0))
    p = _song("full", t, 0.0, dur, _foreground_level(rng), _u(rng, (0.05, 0.5)), fout, dialogue)
    return _Group([p], dur)


def _group_interrupted(rng: np.random.Generator, tracks: Sequence[Track], L: CueLengths) -> _Group:
    """Enters at the recording start, cut off hard after 15-40 s."""
    dur = _u(rng, L.interrupted)
    p = _song("interrupted", tracks[0], 0.0, dur, _foreground_level(rng),
              _u(rng, (0.05, 0.3)), 0.05, _fg_dialogue(rng))
    return _Group([p], dur)


def _group_mid_start(rng: np.random.Generator, tracks: Sequence[Track], L: CueLengths) -> _Group:
    """Enters at the 'chorus', 30-60 % into the recording, with a 0.5 s fade-in."""
    t = tracks[0]
    rec_start = _u(rng, (0.3, 0.6)) * t.duration_s
    dur = _u(rng, (L.mid_start[0], min(L.mid_start[1], t.duration_s - rec_start - 1.0)))
    p = _song("mid_start", t, rec_start, dur, _foreground_level(rng), 0.5,
              _u(rng, (0.3, 1.0)), _fg_dialogue(rng))
    return _Group([p], dur)


def _group_crossfade(rng: np.random.Generator, tracks: Sequence[Track], L: CueLengths) -> _Group:
    """Song A fades out over 3-6 s while song B fades in."""
    a, b = tracks
    overlap = _u(rng, L.crossfade_overlap)
    dialogue = _fg_dialogue(rng)
    dur_a = _u(rng, (L.crossfade_part[0], min(L.crossfade_part[1], a.duration_s - 0.5)))
    dur_b = _u(rng, (L.crossfade_part[0], min(L.crossfade_part[1], b.duration_s - 0.5)))
    start_a = 0.0 if rng.random() < 0.5 else _random_offset(rng, a.duration_s, dur_a)
    start_b = 0.0 if rng.random() < 0.5 else _random_offset(rng, b.duration_s, dur_b)
    pa = _song("crossfade", a, start_a, dur_a, _foreground_level(rng),
               _u(rng, (0.05, 1.0)), overlap, dialogue)
    pb = _song("crossfade", b, start_b, dur_b, _foreground_level(rng),
               overlap, _u(rng, (0.3, 1.0)), dialogue, start=dur_a - overlap)
    return _Group([pa, pb], dur_a - overlap + dur_b)


def _group_mashup(rng: np.random.Generator, tracks: Sequence[Track], L: CueLengths) -> _Group:
    """Two songs at similar levels playing at once for 20-60 s."""
    a, b = tracks
    dur = _u(rng, (L.mashup[0], min(L.mashup[1], a.duration_s - 1.0, b.duration_s - 1.0)))
    lead, tail = _u(rng, (0.0, 2.0)), _u(rng, (0.0, 2.0))
    level_a = _u(rng, MASHUP_DBFS) - DIALOGUE_DBFS
    level_b = level_a + _u(rng, (-MASHUP_MAX_DIFF_DB, MASHUP_MAX_DIFF_DB))
    dialogue = _fg_dialogue(rng)
    pa = _song("mashup", a, _random_offset(rng, a.duration_s, dur), dur, level_a,
               _u(rng, (0.1, 1.0)), _u(rng, (0.1, 1.0)), dialogue)
    dur_b = dur - lead - tail
    pb = _song("mashup", b, _random_offset(rng, b.duration_s, dur_b), dur_b, level_b,
               _u(rng, (0.1, 1.0)), _u(rng, (0.1, 1.0)), dialogue, start=lead)
    return _Group([pa, pb], dur)


def _group_background(rng: np.random.Generator, tracks: Sequence[Track], L: CueLengths) -> _Group:
    """A song 12-18 dB below the dialogue, under continuous talking."""
    t = tracks[0]
    dur = _u(rng, (L.background[0], min(L.background[1], t.duration_s - 1.0)))
    p = _song("background", t, _random_offset(rng, t.duration_s, dur), dur,
              _u(rng, BACKGROUND_VS_DIALOGUE_DB), _u(rng, (0.5, 1.0)), _u(rng, (0.5, 1.0)), "dense")
    return _Group([p], dur)


def _group_sting(rng: np.random.Generator, tracks: Sequence[Track], L: CueLengths) -> _Group:
    """A 5-10 s sting, from the recording start or from anywhere."""
    t = tracks[0]
    dur = _u(rng, L.sting)
    rec_start = 0.0 if rng.random() < 0.5 else _random_offset(rng, t.duration_s, dur)
    p = _song("sting", t, rec_start, dur, _foreground_level(rng),
              _u(rng, (0.05, 0.2)), _u(rng, (0.2, 1.0)), _fg_dialogue(rng))
    return _Group([p], dur)


GROUP_BUILDERS: dict[str, Callable[..., _Group]] = {
    "full": _group_full, "interrupted": _group_interrupted, "mid_start": _group_mid_start,
    "crossfade": _group_crossfade, "mashup": _group_mashup, "background": _group_background,
    "sting": _group_sting,
}


def _score_groups(rng: np.random.Generator, unindexed: Sequence[Track], L: CueLengths) -> list[_Group]:
    """2-4 score cues (1 in quick mode) from distinct never-indexed tracks, under dialogue."""
    eligible = [t for t in unindexed if t.duration_s >= L.score[0] + 1.0]
    n = min(len(eligible), int(rng.integers(L.n_score[0], L.n_score[1] + 1)))
    groups = []
    for k, j in enumerate(rng.choice(len(eligible), size=n, replace=False) if n else []):
        t = eligible[int(j)]
        dur = _u(rng, (L.score[0], min(L.score[1], t.duration_s - 0.5)))
        p = Placement("score", _rec(t), 0.0, _random_offset(rng, t.duration_s, dur), dur,
                      _u(rng, SCORE_VS_DIALOGUE_DB), _u(rng, (0.5, 1.0)), _u(rng, (0.5, 1.0)),
                      "normal", 0, False)
        groups.append(_Group([p], dur, optional=k >= 2))
    return groups


def _fit_duration(groups: list[_Group], L: CueLengths, rng: np.random.Generator) -> tuple[list[_Group], float]:
    """Choose the episode length (s), dropping optional groups if they don't fit."""
    def needed(gs):
        return sum(g.length_s for g in gs) + (len(gs) + 1) * MIN_GAP_S

    target = _u(rng, L.episode)
    groups = list(groups)
    while needed(groups) > L.episode[1] and any(g.optional for g in groups):
        longest = max((g for g in groups if g.optional), key=lambda g: g.length_s)
        groups.remove(longest)
    return groups, max(target, needed(groups))


def _layout(groups: list[_Group], duration_s: float, rng: np.random.Generator) -> list[Placement]:
    """Shuffle groups and spread them with random dialogue-only gaps >= MIN_GAP_S."""
    order = rng.permutation(len(groups))
    free = duration_s - sum(g.length_s for g in groups) - (len(groups) + 1) * MIN_GAP_S
    gaps = MIN_GAP_S + max(0.0, free) * rng.dirichlet(np.ones(len(groups) + 1))
    t, out = float(gaps[0]), []
    for gid, (gi, gap) in enumerate(zip(order, gaps[1:], strict=True), start=1):
        g = groups[int(gi)]
        out += [replace(p, start_s=round(t + p.start_s, 3), group=gid) for p in g.placements]
        t += g.length_s + float(gap)
    return out


def plan_episode(corpus: Corpus, index: int, speech: Sequence[Path], *, n: int = 6, seed: int = 0,
                 quick: bool = False) -> EpisodePlan:
    """Plan episode ``index`` (0-based) of a set of ``n``; needs only track durations.

    ``speech`` are the dialogue line WAVs (``corpus.speech_pool``).
    """
    L = QUICK_LENGTHS if quick else FULL_LENGTHS
    rng = np.random.default_rng([seed, index, int(quick)])
    if quick:
        required, extras = _quick_kinds(seed, index, n), []
    else:
        required, extras = _episode_kinds(rng)
    picks = _pick_tracks(required + extras, corpus.indexed, L, rng)
    groups = []
    for i, pick in enumerate(picks):
        if pick is None:
            print(f"warning: no eligible track for a {(required + extras)[i]} cue", file=sys.stderr)
            continue
        g = GROUP_BUILDERS[pick[0]](rng, pick[1], L)
        g.optional = i >= len(required)
        groups.append(g)
    groups += _score_groups(rng, corpus.unindexed, L)
    groups, duration = _fit_duration(groups, L, rng)
    placements = _layout(groups, duration, rng)
    variant = VARIANTS[index % len(VARIANTS)]
    prefix = "quick" if quick else "ep"
    return EpisodePlan(
        name=f"{prefix}{index + 1:02d}_{variant.variant}", index=index, seed=seed, quick=quick,
        variant=variant, duration_s=round(duration, 3),
        room_tone_color="pink" if rng.random() < 0.5 else "brown",
        room_tone_dbfs=round(_u(rng, ROOM_TONE_DBFS), 2),
        placements=tuple(sorted(placements, key=lambda p: (p.start_s, p.group))),
        speech=tuple(os.path.abspath(s) for s in speech),
    )


# --------------------------------------------------------------------------- signal helpers

def db_to_gain(db: float) -> float:
    """Linear amplitude factor for ``db`` decibels."""
    return float(10.0 ** (db / 20.0))


def gated_rms_db(x: np.ndarray, sr: int = SR, block_s: float = 0.4) -> float:
    """Loudness-style RMS in dBFS: mean power of 0.4 s blocks above -70 dBFS and
    above (ungated mean - 10 dB), so silences and pauses don't drag it down."""
    n = int(block_s * sr)
    if len(x) < n:
        blocks = np.asarray([np.mean(np.square(x, dtype=np.float64))]) if len(x) else np.zeros(1)
    else:
        m = len(x) // n
        blocks = np.mean(np.square(x[: m * n].reshape(m, n), dtype=np.float64), axis=1)
    blocks = blocks[blocks > 1e-7]
    if not len(blocks):
        return -120.0
    blocks = blocks[blocks > np.mean(blocks) * 0.1]
    return float(10 * np.log10(np.mean(blocks)))


def audible_edges(x: np.ndarray, threshold_dbfs: float, sr: int = SR,
                  frame_s: float = 0.05) -> tuple[int, int]:
    """(first, last+1) sample of the span whose 50 ms frames exceed ``threshold_dbfs``."""
    n = max(1, int(frame_s * sr))
    m = len(x) // n
    if m == 0:
        return 0, len(x)
    power = np.mean(np.square(x[: m * n].reshape(m, n), dtype=np.float64), axis=1)
    loud = np.flatnonzero(power > 10 ** (threshold_dbfs / 10))
    if not len(loud):
        return 0, 0
    last = len(x) if loud[-1] == m - 1 else (loud[-1] + 1) * n
    return int(loud[0] * n), int(last)


def apply_fades(x: np.ndarray, fade_in_s: float, fade_out_s: float, sr: int = SR) -> np.ndarray:
    """Equal-power (sine) fade-in and fade-out, in place; fades are capped at half the length."""
    half = len(x) // 2
    for length_s, at_end in ((fade_in_s, False), (fade_out_s, True)):
        k = min(half, int(round(length_s * sr)))
        if k <= 0:
            continue
        ramp = np.sin(0.5 * np.pi * (np.arange(k, dtype=np.float32) + 0.5) / k).astype(np.float32)
        if at_end:
            x[len(x) - k:] *= ramp[::-1]
        else:
            x[:k] *= ramp
    return x


def room_tone(n: int, color: str, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of pink or brown noise at ``dbfs`` RMS (float32)."""
    if color == "pink":  # FFT-shaped; a 5-smooth length keeps the FFT fast
        y = degrade.pink_noise(sp_fft.next_fast_len(n, real=True), rng)[:n].astype(np.float64)
    else:  # brown: leaky integrator of white noise, 1/f^2 above ~20 Hz
        y = signal.lfilter([1.0], [1.0, -0.995], rng.standard_normal(n))
    y *= db_to_gain(dbfs) / np.sqrt(np.mean(y * y))
    return y.astype(np.float32)


def soft_limit(x: np.ndarray, threshold: float = LIMIT_THRESHOLD, ceiling: float = LIMIT_CEILING) -> float:
    """Memoryless tanh soft-knee above ``threshold``, in place; returns the share of
    samples that were touched (output stays below ``ceiling``)."""
    idx = np.flatnonzero(np.abs(x) > threshold)
    if len(idx):
        knee = ceiling - threshold
        mag = np.abs(x[idx])
        x[idx] = np.sign(x[idx]) * (threshold + knee * np.tanh((mag - threshold) / knee))
    return len(idx) / max(1, len(x))


# --------------------------------------------------------------------------- rendering

def load_source(path: str | Path, start_s: float, dur_s: float) -> np.ndarray:
    """``dur_s`` seconds of ``path`` from ``start_s``, counted in decoded samples.

    Decodes from the file start and slices rather than letting ffmpeg seek:
    seeking goes by container timestamps, which for some Ogg files are off by
    ~0.1 s, whereas a fingerprint index counts samples from the first one.
    """
    a = int(round(start_s * SR))
    x = degrade.load_segment(path, 0.0, start_s + dur_s + 0.05)
    return np.asarray(x[a:a + int(round(dur_s * SR))], dtype=np.float32)


def _render_placement(p: Placement, mix: np.ndarray) -> Placement | None:
    """Load, trim silent edges, level, fade and add one segment to ``mix``.

    Returns the placement as actually rendered (times and level may move a bit
    when the source starts or ends in silence), or None if nothing audible.
    """
    seg = load_source(p.recording, p.rec_start_s, p.dur_s)
    rec_first = int(round(p.rec_start_s * SR))          # sample index of seg[0] in the recording
    rms = gated_rms_db(seg)
    first, last = audible_edges(seg, max(-75.0, rms - EDGE_SILENCE_DB))
    seg = seg[first:last].copy()
    start = int(round(p.start_s * SR)) + first
    seg = seg[: max(0, len(mix) - start)]
    if len(seg) < SR:
        return None
    rms = gated_rms_db(seg)
    gain_db = min(DIALOGUE_DBFS + p.level_db - rms, MAX_GAIN_DB)
    seg *= db_to_gain(gain_db)
    apply_fades(seg, p.fade_in_s, p.fade_out_s)
    mix[start:start + len(seg)] += seg
    return replace(p, start_s=start / SR, rec_start_s=(rec_first + first) / SR,
                   dur_s=len(seg) / SR, level_db=rms + gain_db - DIALOGUE_DBFS)


@dataclass(frozen=True)
class _Zone:
    start_s: float
    end_s: float
    mode: str


def _dialogue_zones(placements: Sequence[Placement]) -> list[_Zone]:
    """Dialogue modes imposed by the cues; 'paused' zones get 0.3 s margins."""
    zones = []
    for p in placements:
        margin = 0.3 if p.dialogue == "paused" else 0.0
        zones.append(_Zone(p.start_s - margin, p.end_s + margin, p.dialogue))
    return sorted(zones, key=lambda z: z.start_s)


_MODE_RANK = {"normal": 0, "dense": 1, "light": 2, "paused": 3}


def _mode_at(zones: Sequence[_Zone], t: float) -> tuple[str, float]:
    """Dialogue mode at time ``t`` (the most restrictive zone wins) and when it ends."""
    active = [z for z in zones if z.start_s <= t < z.end_s]
    if not active:
        return "normal", float("inf")
    z = max(active, key=lambda z: _MODE_RANK[z.mode])
    return z.mode, z.end_s


def _next_pause_start(zones: Sequence[_Zone], t: float) -> float:
    return min((z.start_s for z in zones if z.mode == "paused" and z.start_s > t), default=float("inf"))


def _pause_after(mode: str, rng: np.random.Generator) -> float:
    """Silence (s) after a sentence: 0.3-3 s, sometimes a 5-20 s stretch in normal talk."""
    if mode == "dense":
        return _u(rng, (0.3, 1.5))
    if mode == "light":
        return _u(rng, (4.0, 12.0))
    return _u(rng, (5.0, 20.0)) if rng.random() < 0.06 else _u(rng, (0.3, 3.0))


def load_speech(paths: Sequence[Path]) -> list[np.ndarray]:
    """Speech clips trimmed of silent edges and levelled to DIALOGUE_DBFS (RMS)."""
    clips = []
    for path in paths:
        x = np.asarray(degrade.load_segment(path), dtype=np.float32)
        rms = gated_rms_db(x)
        first, last = audible_edges(x, rms - EDGE_SILENCE_DB, frame_s=0.01)
        x = x[first:last]
        if len(x) > SR // 4:
            clips.append(x * db_to_gain(DIALOGUE_DBFS - gated_rms_db(x)))
    return clips


def render_dialogue(mix: np.ndarray, clips: Sequence[np.ndarray], zones: Sequence[_Zone],
                    rng: np.random.Generator) -> float:
    """Add the dialogue bed to ``mix`` in place; returns seconds of speech placed."""
    end = len(mix) / SR - 0.5
    t, spoken = _u(rng, (0.5, 3.0)), 0.0
    while t < end:
        mode, mode_end = _mode_at(zones, t)
        if mode == "paused":
            t = mode_end + _u(rng, (0.3, 1.5))
            continue
        clip = clips[int(rng.integers(len(clips)))]
        dur = len(clip) / SR
        if t + dur > _next_pause_start(zones, t):
            t = _next_pause_start(zones, t)
            continue
        if t + dur > end:
            break
        i = int(round(t * SR))
        mix[i:i + len(clip)] += clip * db_to_gain(_u(rng, (-1.5, 1.5)))
        spoken += dur
        t = _next_sentence_time(zones, t + dur, _pause_after(mode, rng), rng)
    return spoken


def _next_sentence_time(zones: Sequence[_Zone], t_end: float, pause_s: float,
                        rng: np.random.Generator) -> float:
    """Start of the next sentence: after ``pause_s``, but a pause never runs more
    than ~1 s into a 'dense' zone (background songs must be talked over)."""
    dense = min((z.start_s for z in zones if z.mode == "dense" and z.start_s > t_end),
                default=float("inf"))
    return min(t_end + pause_s, max(t_end + 0.3, dense + _u(rng, (0.0, 0.8))))


def _apply_variant(mix: np.ndarray, variant: VariantSpec, rng: np.random.Generator) -> np.ndarray:
    """PAL speed-up of the whole mix, or the phone chain in chunks."""
    if variant.variant == "pal":
        out = np.asarray(degrade.sox_effect(mix, ["speed", f"{PAL_SPEED}"]), dtype=np.float32)
        return out
    if variant.variant == "phone":
        return _phone_in_chunks(mix, rng)
    return mix


def _phone_in_chunks(mix: np.ndarray, rng: np.random.Generator, chunk_s: float = PHONE_CHUNK_S,
                     overlap_s: float = 0.5) -> np.ndarray:
    """``degrade.phone_chain`` over ``chunk_s`` pieces, joined with short crossfades."""
    n, hop, ov = len(mix), int(chunk_s * SR), int(overlap_s * SR)
    out = np.zeros(n, dtype=np.float32)
    ramp = np.sin(0.5 * np.pi * (np.arange(ov) + 0.5) / ov).astype(np.float32) ** 2
    for a in range(0, n, hop):
        lo, hi = max(0, a - ov), min(n, a + hop)
        y = np.asarray(degrade.phone_chain(mix[lo:hi].copy(), rng), dtype=np.float32)
        y = np.pad(y[: hi - lo], (0, max(0, hi - lo - len(y))))
        if lo < a:  # crossfade over the overlap with the previous chunk's tail
            y[:ov] *= ramp
            out[lo:a] *= ramp[::-1]
        out[lo:hi] += y
    return out


def measure_delay(reference: np.ndarray, delayed: np.ndarray, *, n_probes: int = 7,
                  probe_s: float = 6.0, search_s: float = 0.1) -> float:
    """Delay (s) of ``delayed`` relative to ``reference`` (both at SR): the median
    cross-correlation lag of ``n_probes`` windows spread over the signal."""
    n, m = int(probe_s * SR), int(search_s * SR)
    length = min(len(reference), len(delayed)) - n - 2 * m
    if length <= 0:
        return 0.0
    lags = []
    for frac in np.linspace(0.1, 0.9, n_probes):
        a = int(frac * length) + m
        corr = signal.correlate(delayed[a - m:a + n + m], reference[a:a + n], mode="valid", method="fft")
        lags.append(int(np.argmax(corr)) - m)
    return float(np.median(lags)) / SR


def _ffmpeg_command(variant: VariantSpec, out: Path) -> list[str]:
    """ffmpeg reading float32 mono PCM at SR on stdin and writing ``out``."""
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
    if variant.video:
        cmd += ["-f", "lavfi", "-i", "color=c=black:s=320x240:r=25"]
    cmd += ["-f", "f32le", "-ar", str(SR), "-ac", "1", "-i", "pipe:0"]
    if variant.video:
        cmd += ["-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
                "-tune", "stillimage", "-pix_fmt", "yuv420p", "-shortest"]
    cmd += [*variant.audio_args, "-ar", "48000", "-ac", "1"]
    if variant.ext in ("mp4", "m4a"):
        cmd += ["-movflags", "+faststart"]
    return cmd + [str(out)]


def encode(mix: np.ndarray, variant: VariantSpec, path: Path) -> None:
    """Encode ``mix`` to ``path`` atomically (via a temporary file)."""
    tmp = path.with_name(path.stem + ".partial." + variant.ext)
    proc = subprocess.run(_ffmpeg_command(variant, tmp), input=mix.astype("<f4").tobytes(),
                          capture_output=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed for {path.name}: {proc.stderr.decode()[-2000:]}")
    os.replace(tmp, path)


def _truth_cues(placements: Sequence[Placement], speed: float, offset_s: float = 0.0) -> list[CueTruth]:
    """Truth records sorted by start: mix times divided by ``speed``, plus the
    measured delay ``offset_s`` of the decoded file relative to the mix."""
    ps = sorted(placements, key=lambda p: (p.start_s, p.group))
    spans = [(p.start_s / speed + offset_s, p.end_s / speed + offset_s) for p in ps]
    cues = []
    for i, p in enumerate(ps):
        a, b = spans[i]
        cues.append(CueTruth(
            kind=p.kind, recording=p.recording,
            episode_start_s=round(a, 4), episode_end_s=round(b, 4),
            recording_start_s=round(p.rec_start_s, 4), recording_end_s=round(p.rec_start_s + p.dur_s, 4),
            level_db_vs_dialogue=round(p.level_db, 2),
            overlaps_with=[j for j, (c, d) in enumerate(spans) if j != i and min(b, d) > max(a, c)],
            expected=p.expected, speed=speed,
            fade_in_s=round(p.fade_in_s / speed, 3), fade_out_s=round(p.fade_out_s / speed, 3),
            dialogue=p.dialogue, group=p.group,
        ))
    return cues


def episode_path(plan: EpisodePlan, out_dir: Path) -> Path:
    return out_dir / f"{plan.name}.{plan.variant.ext}"


def render_episode(plan: EpisodePlan, out_dir: Path) -> EpisodeTruth:
    """Render, encode and write the truth of one planned episode."""
    t0 = time.monotonic()
    rng = np.random.default_rng([plan.seed, plan.index, int(plan.quick), 1])
    mix = np.zeros(int(round(plan.duration_s * SR)), dtype=np.float32)
    rendered = []
    for p in plan.placements:
        r = _render_placement(p, mix)
        if r is None:
            print(f"warning: {plan.name}: nothing audible in {p.kind} cue of {p.recording}", file=sys.stderr)
        else:
            rendered.append(r)
    render_dialogue(mix, load_speech(plan.speech), _dialogue_zones(rendered), rng)
    mix += room_tone(len(mix), plan.room_tone_color, plan.room_tone_dbfs, rng)
    limited = soft_limit(mix)
    final = _apply_variant(mix, plan.variant, rng)
    variant_delay = measure_delay(mix, final) if plan.variant.variant == "phone" else 0.0
    del mix
    path = episode_path(plan, out_dir)
    encode(final, plan.variant, path)
    decoded = degrade.load_segment(path)
    offset = variant_delay + measure_delay(final, decoded)
    truth = EpisodeTruth(
        name=plan.name, episode=os.path.abspath(path), duration_s=round(len(decoded) / SR, 4),
        speed=plan.variant.speed, variant=plan.variant.variant, container=plan.variant.ext,
        audio_codec=plan.variant.audio_args[1], cues=_truth_cues(rendered, plan.variant.speed, offset),
        seed=plan.seed, index=plan.index, quick=plan.quick, plan_digest=plan.digest(),
        room_tone_color=plan.room_tone_color, room_tone_dbfs=plan.room_tone_dbfs,
        limited_fraction=round(limited, 6), offset_s=round(offset, 5),
        render_seconds=round(time.monotonic() - t0, 2),
    )
    truth.save()
    return truth


# --------------------------------------------------------------------------- cache + entry point

def _cached_truth(plan: EpisodePlan, out_dir: Path) -> EpisodeTruth | None:
    """The stored truth if the episode file exists and was made from this plan."""
    path = episode_path(plan, out_dir)
    tpath = truth_path_for(path)
    if not (path.exists() and tpath.exists()):
        return None
    try:
        truth = EpisodeTruth.load(tpath)
    except (ValueError, TypeError, KeyError):
        return None
    ok = truth.plan_digest == plan.digest() and truth.generator_version == GENERATOR_VERSION
    return truth if ok else None


def episodes_dir(cache: Path, seed: int = 0) -> Path:
    """Where the episodes of ``seed`` are kept: ``cache/episodes``, or ``cache/episodes-seed<N>``
    for another seed (the episodes of each seed have the same names)."""
    return cache / ("episodes" if seed == 0 else f"episodes-seed{seed}")


def make_episodes(corpus: Corpus, cache: Path | None = None, *, n: int = 6, seed: int = 0,
                  quick: bool = False, jobs: int | None = None,
                  log: Callable[[str], None] | None = None) -> list[EpisodeTruth]:
    """Build (or reuse from ``cache/episodes/``) ``n`` synthetic episodes.

    ``quick`` makes short (~4 min) episodes with fewer cues for development.
    Missing or stale episodes are rendered in ``jobs`` worker processes
    (default: up to 2).  Returns the truths in episode order.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    cache = Path(cache) if cache is not None else bench_corpus.cache_dir()
    out_dir = episodes_dir(cache, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    speech = bench_corpus.speech_pool(cache, n=SPEECH_LINES)
    plans = [plan_episode(corpus, i, speech, n=n, seed=seed, quick=quick) for i in range(n)]
    truths: dict[int, EpisodeTruth] = {}
    todo = []
    for plan in plans:
        cached = _cached_truth(plan, out_dir)
        if cached is not None:
            truths[plan.index] = cached
        else:
            todo.append(plan)
    if todo:
        workers = max(1, min(jobs or min(2, os.cpu_count() or 1), len(todo)))
        log(f"rendering {len(todo)} episode(s) with {workers} worker(s)")
        for truth in _render_all(todo, out_dir, workers):
            truths[truth.index] = truth
            log(f"  {truth.name}: {truth.render_seconds:.1f} s")
    return [truths[i] for i in range(n)]


def _render_all(plans: Sequence[EpisodePlan], out_dir: Path, workers: int):
    """Yield the truths of ``plans`` in order, rendered in-process or in a pool."""
    if workers == 1:
        yield from (render_episode(p, out_dir) for p in plans)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(render_episode, plans, [out_dir] * len(plans))


def load_episode_truths(cache: Path | None = None, *, seed: int = 0, quick: bool = False) -> list[EpisodeTruth]:
    """All stored truths of full (or quick) episodes of ``seed`` (:func:`episodes_dir`)."""
    cache = Path(cache) if cache is not None else bench_corpus.cache_dir()
    prefix = "quick" if quick else "ep"
    paths = sorted(episodes_dir(cache, seed).glob(f"{prefix}[0-9]*.truth.json"))
    return [EpisodeTruth.load(p) for p in paths]


# --------------------------------------------------------------------------- verification

def _stretch(x: np.ndarray, speed: float, n_out: int) -> np.ndarray:
    """Play ``x`` ``speed`` times faster (linear interpolation), ``n_out`` samples."""
    pos = np.arange(n_out) * speed
    return np.interp(pos, np.arange(len(x)), x).astype(np.float32)


def cue_alignment(episode: np.ndarray, cue: CueTruth, *, band_limited: bool = False,
                  probe_s: float = 4.0, search_s: float = 0.5) -> tuple[float, float, float]:
    """Check one cue against the decoded episode audio by cross-correlation.

    ``episode`` is the whole decoded file at SR (decoded linearly: ffmpeg's
    seek into Opus-in-Matroska lands ~8 ms off).  Returns ``(lag_s,
    best_corr, truth_corr)``: where a ``probe_s`` window from the middle of the
    cue's source best matches the episode relative to the truth (0 when exact),
    the normalised correlation there and at the truth's position.  Strongly
    periodic music can peak a beat away with ``truth_corr`` about as high.
    ``band_limited`` compares only 300-3400 Hz (for the phone variant).
    """
    mid = 0.5 * (cue.episode_start_s + cue.episode_end_s)
    t0 = max(0.0, mid - probe_s / 2)
    r0 = cue.recording_start_s + (t0 - cue.episode_start_s) * cue.speed
    n = int(probe_s * SR)
    src = load_source(cue.recording, r0, probe_s * cue.speed + 0.1)
    src = _stretch(src, cue.speed, n) if cue.speed != 1.0 else src[:n]
    lo = max(0, int(round((t0 - search_s) * SR)))
    ep = episode[lo:lo + n + 2 * int(search_s * SR)]
    if band_limited:
        src, ep = degrade.band_pass(src), degrade.band_pass(ep)
    corr = signal.correlate(ep, src, mode="valid", method="fft")
    csum = np.concatenate([[0.0], np.cumsum(ep.astype(np.float64) ** 2)])
    window = csum[len(src):] - csum[: len(csum) - len(src)]          # sliding energy of ep
    energy = np.sqrt(np.maximum(window, 0.0) * np.sum(src.astype(np.float64) ** 2)) + 1e-12
    norm = corr / energy
    k, k0 = int(np.argmax(norm)), min(len(norm) - 1, max(0, int(round(t0 * SR)) - lo))
    return (lo + k) / SR - t0, float(norm[k]), float(norm[k0])


def verify_episode(truth: EpisodeTruth) -> list[tuple[int, float, float, float]]:
    """``(cue_index, lag_s, best_corr, truth_corr)`` (see :func:`cue_alignment`)
    for every cue of at least 5 s."""
    episode = degrade.load_segment(truth.episode)
    phone = truth.variant == "phone"
    return [(i, *cue_alignment(episode, c, band_limited=phone)) for i, c in enumerate(truth.cues)
            if c.episode_end_s - c.episode_start_s >= 5.0]


# --------------------------------------------------------------------------- summary + CLI

def _mmss(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def summarize(truths: Sequence[EpisodeTruth]) -> str:
    """Human-readable table of the episodes and their cue counts per kind."""
    kinds = list(SONG_KINDS) + ["score"]
    head = f"{'episode':<16}{'file':<6}{'len':>6}{'speed':>7} " + " ".join(f"{k[:6]:>6}" for k in kinds) + "  songs"
    lines, total = [head], Counter()
    for t in truths:
        c = Counter(cue.kind for cue in t.cues)
        total.update(c)
        lines.append(f"{t.name:<16}{t.container:<6}{_mmss(t.duration_s):>6}{t.speed:>7.4f} "
                     + " ".join(f"{c[k]:>6}" for k in kinds) + f"  {len(t.songs):>5}")
    lines.append(f"{'total':<16}{'':<6}{_mmss(sum(t.duration_s for t in truths)):>6}{'':>7} "
                 + " ".join(f"{total[k]:>6}" for k in kinds)
                 + f"  {sum(len(t.songs) for t in truths):>5}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 short (~4 min) episodes for development")
    ap.add_argument("--cache", type=Path, default=None, help="cache directory (default: corpus cache)")
    ap.add_argument("-n", type=int, default=None, help="number of episodes (default 6, quick 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=None, help="parallel renders (default 2)")
    ap.add_argument("--verify", action="store_true",
                    help="cross-correlate every cue against the encoded file")
    args = ap.parse_args(argv)
    n = args.n if args.n is not None else (2 if args.quick else 6)
    cache = args.cache or bench_corpus.cache_dir()

    t0 = time.monotonic()
    corpus = bench_corpus.build_corpus(cache)
    t1 = time.monotonic()
    truths = make_episodes(corpus, cache, n=n, seed=args.seed, quick=args.quick, jobs=args.jobs)
    t2 = time.monotonic()
    print(summarize(truths))
    print(f"\ncorpus: {t1 - t0:.1f} s, episodes: {t2 - t1:.1f} s wall "
          f"(render time of episodes made now or before: {sum(t.render_seconds for t in truths):.1f} s)")
    print(f"episodes in {episodes_dir(cache, args.seed)}")
    if args.verify:
        _print_verification(truths)
    return 0


def _print_verification(truths: Sequence[EpisodeTruth]) -> None:
    """One line per episode: how many cues sit where the truth says (within
    1 ms, or a periodic look-alike no better than at the truth's position)."""
    for t in truths:
        res = verify_episode(t)
        exact = [i for i, lag, best, at in res if abs(lag) <= 0.001 or at >= 0.95 * best]
        off = [(i, round(lag * 1000, 1), round(best, 2), round(at, 2))
               for i, lag, best, at in res if i not in exact]
        note = " (phone: reverb + noise blur the peak)" if t.variant == "phone" and off else ""
        print(f"verify {t.name}: {len(exact)}/{len(res)} cues exact; "
              f"others (cue, lag ms, best corr, corr at truth): {off}{note}")


if __name__ == "__main__":
    raise SystemExit(main())
