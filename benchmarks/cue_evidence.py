"""Landmark evidence at the true alignment of each song cue of the benchmark episodes.

The scan finds a song by voting on index hits in windows :data:`WINDOW_S` long, every
:data:`HOP_S` (:mod:`soundtrack.scan.tracks`): a song whose true alignment gathers no more agreeing
anchor frames in any window than the best alignment of music that is not in the episode cannot be
told from chance by any threshold. This tool measures both, per cue, for two kinds of hashes:

- *triplets*: the index's own hashes, as the scan makes them (:data:`SCAN_FAN_OUT`, expanded);
- *pairs*: an anchor peak and one of its nearest later peaks (Wang 2003), built here from the
  library's audio (fan-out 3, as the index) and the episode's (fan-out 5, expanded). A pair needs
  two peaks to survive where a triplet needs three, but carries fewer bits, so chance hits are
  far more common: the tool says whether that trade finds more songs.

Chance is the best alignment, in each window, of a recording that no cue of the episode plays.
Episodes at another speed (PAL) are skipped: their hits sit on warped grids.

Usage::

    python -m benchmarks.cue_evidence [--seed N] [--variant phone] [--library DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numba
import numpy as np

from benchmarks.corpus import build_corpus, cache_dir
from benchmarks.episodes import EpisodeTruth, make_episodes
from benchmarks.scan_bench import DEFAULT_EPISODES, open_library
from soundtrack import Library
from soundtrack.audio import load_audio
from soundtrack.fingerprint.hashes import LEVEL_TIE_DB, landmarks
from soundtrack.fingerprint.peaks import Peaks, find_peaks
from soundtrack.params import FingerprintParams
from soundtrack.scan.scanner import SCAN_FAN_OUT
from soundtrack.scan.tracks import HOP_S, OFFSET_SLACK, WINDOW_S

#: A longer window, as if votes were pooled over a whole cue of weak but steady evidence.
LONG_WINDOW_S = 30.0
#: Offsets are pooled in bins this many frames wide when looking for the best chance alignment.
CHANCE_POOL = 3
LIBRARY_PAIR_FAN_OUT, EPISODE_PAIR_FAN_OUT = 3, 5


@numba.njit(cache=True)
def _pair_indices(frames: np.ndarray, bins: np.ndarray, fan_out: int, max_dt: int, max_df: int
                  ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Each peak with its ``fan_out`` nearest later peaks in the target zone."""
    n = frames.size
    a, b = np.empty(n * fan_out, np.int64), np.empty(n * fan_out, np.int64)
    k = 0
    for i in range(n):
        found, j = 0, i + 1
        while j < n and found < fan_out and frames[j] - frames[i] <= max_dt:
            if frames[j] > frames[i] and abs(bins[j] - bins[i]) <= max_df:
                a[k], b[k] = i, j
                k += 1
                found += 1
            j += 1
    return a[:k], b[:k]


def pair_hashes(peaks: Peaks, params: FingerprintParams, fan_out: int, *, expand: bool
                ) -> tuple[np.ndarray, np.ndarray]:
    """(hash, anchor frame) of every pair: anchor bin, bin offset, frame offset divided by
    ``hash_frame_step`` and a loudness-order bit; ``expand`` also emits the neighbouring time
    cell and both orders of near-equal peaks, as queries do for triplets."""
    a, b = _pair_indices(peaks.frame.astype(np.int64), peaks.bin.astype(np.int64), fan_out,
                         params.max_dt, params.max_df)
    f1 = peaks.bin[a].astype(np.int64)
    df = (peaks.bin[b] - peaks.bin[a]).astype(np.int64) + 31
    dt = (peaks.frame[b] - peaks.frame[a]).astype(np.int64)
    louder = peaks.level[b] - peaks.level[a]
    step = params.hash_frame_step

    def pack(dt_field: np.ndarray, order: np.ndarray) -> np.ndarray:
        return (f1 << 12) | (df << 6) | (dt_field << 1) | order

    if not expand:
        return pack(dt // step, (louder > 0).astype(np.int64)), peaks.frame[a].astype(np.int64)
    variants = np.stack([pack(t, o) for t in ((dt - 1) // step, (dt + 1) // step)
                         for o in (np.where(louder > LEVEL_TIE_DB, 1, 0), np.where(louder < -LEVEL_TIE_DB, 0, 1))],
                        axis=1)
    variants.sort(axis=1)
    keep = np.concatenate([np.ones((len(variants), 1), bool), variants[:, 1:] != variants[:, :-1]], axis=1)
    return variants[keep], np.repeat(peaks.frame[a].astype(np.int64), keep.sum(axis=1))


class PairIndex:
    """Pair hashes of every recording of a library, sorted for lookup (built in memory)."""

    def __init__(self, lib: Library) -> None:
        hashes, recs, frames = [], [], []
        for rec in lib.recordings():
            peaks = find_peaks(load_audio(rec.path, lib.params.sample_rate), lib.params)
            h, f = pair_hashes(peaks, lib.params, LIBRARY_PAIR_FAN_OUT, expand=False)
            hashes.append(h)
            frames.append(f)
            recs.append(np.full(h.size, rec.id, np.int64))
        h = np.concatenate(hashes)
        order = np.argsort(h, kind="stable")
        self.hash, self.rec, self.frame = h[order], np.concatenate(recs)[order], np.concatenate(frames)[order]

    def lookup(self, hashes: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(episode frame, recording id, recording frame) of every hit."""
        lo, hi = np.searchsorted(self.hash, hashes, "left"), np.searchsorted(self.hash, hashes, "right")
        n = hi - lo
        at = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(n.sum())
        return np.repeat(frames, n), self.rec[at], self.frame[at]


def triplet_hits(lib: Library, peaks: Peaks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(episode frame, recording id, recording frame) of the index hits of the scan's triplets."""
    query = landmarks(peaks, lib.params, fan_out=SCAN_FAN_OUT, expand=True)
    qi, rec, ref = lib.store.snapshot().lookup(query.hash)
    return query.frame[qi].astype(np.int64), rec.astype(np.int64), ref.astype(np.int64)


def window_scores(hits: tuple[np.ndarray, np.ndarray, np.ndarray], truth: EpisodeTruth,
                  ids: dict[str, int], params: FingerprintParams, window_s: float = WINDOW_S
                  ) -> tuple[list[list[int]], list[int]]:
    """Per cue (in ``truth.cues`` order) its agreeing anchor frames in every window (``window_s``
    long, every :data:`HOP_S`) it overlaps, and per window of the episode the best chance
    alignment's."""
    frame, rec, ref = hits
    order = np.argsort(frame, kind="stable")
    frame, rec, offset = frame[order], rec[order], ref[order] - frame[order]
    fps = params.sample_rate / params.hop
    win, hop = round(window_s * fps), round(HOP_S * fps)
    playing = np.array(sorted({ids[c.recording] for c in truth.cues if c.recording in ids}), np.int64)
    cues = [(ids.get(c.recording), round((c.recording_start_s - c.episode_start_s * c.speed) * fps),
             c.episode_start_s * fps, c.episode_end_s * fps) for c in truth.cues]
    per_cue: list[list[int]] = [[] for _ in cues]
    chance: list[int] = []
    for start in range(0, int(frame.max(initial=0)) + 1, hop):
        lo, hi = np.searchsorted(frame, [start, start + win])
        f, r, o = frame[lo:hi], rec[lo:hi], offset[lo:hi]
        for i, (rid, true_offset, first, last) in enumerate(cues):
            if rid is not None and start + win > first and start < last:
                agree = (r == rid) & (np.abs(o - true_offset) <= OFFSET_SLACK)
                per_cue[i].append(int(np.unique(f[agree]).size))
        other = ~np.isin(r, playing)
        key = (r[other] << 22) | ((o[other] // CHANCE_POOL + (1 << 21)) & ((1 << 22) - 1))
        pairs = np.unique((key << 20) | (f[other] - start))
        chance.append(int(np.unique(pairs >> 20, return_counts=True)[1].max(initial=0)))
    return per_cue, chance


def report(lib: Library, truths: Sequence[EpisodeTruth], pairs: PairIndex) -> None:
    """Print, per episode, the best chance alignment and, per song cue, its true alignment's most
    agreeing anchor frames in one window, for triplets and pairs, in windows of
    :data:`WINDOW_S` and :data:`LONG_WINDOW_S`."""
    ids = {rec.path: rec.id for rec in lib.recordings()}
    p = lib.params
    for truth in truths:
        peaks = find_peaks(load_audio(truth.episode, p.sample_rate), p)
        hashes, frames = pair_hashes(peaks, p, EPISODE_PAIR_FAN_OUT, expand=True)
        kinds = {"triplets": triplet_hits(lib, peaks), "pairs": pairs.lookup(hashes, frames)}
        columns = {f"{name} {w:.0f} s": window_scores(hits, truth, ids, p, w)
                   for name, hits in kinds.items() for w in (WINDOW_S, LONG_WINDOW_S)}
        print(f"{truth.name}: most agreeing anchor frames in a window (true alignment; chance: best alignment "
              "of a recording the episode does not play)")
        print(f"  {'kind':<11} {'recording':<26} {'dB':>6} " + " ".join(f"{c:>13}" for c in columns))
        for i, c in enumerate(truth.cues):
            if c.expected:
                print(f"  {c.kind:<11} {Path(c.recording).name[:26]:<26} {c.level_db_vs_dialogue:6.1f} "
                      + " ".join(f"{max(cues[i], default=0):>13}" for cues, _ in columns.values()))
        print(f"  {'chance, median / max':<45} "
              + " ".join(f"{f'{np.median(ch):.0f} / {max(ch)}':>13}" for _, ch in columns.values()))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="episodes of this seed (as scan_bench)")
    ap.add_argument("--variant", default="phone", help="episodes of this variant (clean, video, phone)")
    ap.add_argument("--library", type=Path, default=None, help="scan against this library")
    args = ap.parse_args(argv)
    cache = cache_dir()
    corpus = build_corpus(cache)
    truths = [t for t in make_episodes(corpus, cache, n=DEFAULT_EPISODES, seed=args.seed)
              if t.variant == args.variant and t.speed == 1.0]
    if not truths:
        print(f"no episode of variant {args.variant!r} at normal speed", file=sys.stderr)
        return 1
    with open_library(corpus, cache, args.library, jobs=2) as lib:
        report(lib, truths, PairIndex(lib))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
