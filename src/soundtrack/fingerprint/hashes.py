"""Landmark hashes: triplets of peaks packed into 32-bit integers.

An anchor peak ``a = (t1, f1)`` is grouped with two later peaks ``b`` and ``c`` from its target zone
(``1 <= t - t1 <= max_dt`` frames, ``|f - f1| <= max_df`` bins): the ``fan_out`` nearest such
peaks in time are taken, and every pair of them with the anchor forms one triplet. Each becomes

    hash = f1 << 24 | (fb - f1 + 31) << 18 | (fc - f1 + 31) << 12 | (tb - t1) << 6 | (tc - t1)

(8 + 6 + 6 + 6 + 6 = 32 bits), stored with the anchor's frame ``t1``. With the default parameters
the time offsets are divided by ``hash_frame_step`` (2) and bit 5 of each time field says whether
``b`` is louder than ``a`` (``c`` than ``b``); see :func:`landmarks`. A triplet carries far more
information than a pair (Wang 2003 used pairs with ~20 useful bits, which in a library of a few
hours already gives thousands of chance hits per query); the price is that all three peaks must
survive noise, which the density of peaks makes up for. :func:`pack` and :func:`unpack` are exact
inverses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numba
import numpy as np

from ..params import FingerprintParams
from .peaks import Peaks

F1_BITS, DF_BITS, DT_BITS = 8, 6, 6
_DF_OFFSET = (1 << (DF_BITS - 1)) - 1  # 31: df in [-31, 31] maps to [0, 62]
_DF_MASK = (1 << DF_BITS) - 1
_DT_MASK = (1 << DT_BITS) - 1
#: Peaks closer in level than this (dB) may swap loudness order between recording and query.
LEVEL_TIE_DB = 1.5


@dataclass(frozen=True)
class Landmarks:
    """Hashes (uint32) and the STFT frame of each hash's anchor peak (int32), sorted by frame."""

    hash: np.ndarray
    frame: np.ndarray

    def __len__(self) -> int:
        return int(self.hash.size)

    @staticmethod
    def concat(parts: list[Landmarks]) -> Landmarks:
        if not parts:
            return Landmarks(np.zeros(0, np.uint32), np.zeros(0, np.int32))
        return Landmarks(np.concatenate([p.hash for p in parts]), np.concatenate([p.frame for p in parts]))


def check_params(params: FingerprintParams) -> None:
    """Raise ``ValueError`` if the target zone does not fit the hash's bit fields."""
    if params.max_bin >= 1 << F1_BITS:
        raise ValueError(f"max_bin={params.max_bin} must be < {1 << F1_BITS} to fit the hash")
    if params.max_df > _DF_OFFSET:
        raise ValueError(f"max_df={params.max_df} must be <= {_DF_OFFSET}")
    if params.hash_level_bits and params.hash_frame_step < 2:
        raise ValueError("hash_level_bits needs hash_frame_step >= 2 (the bits use the freed space)")
    if not 1 <= params.min_dt <= params.max_dt <= _DT_MASK:
        raise ValueError(f"need 1 <= min_dt <= max_dt <= {_DT_MASK}, got {params.min_dt}..{params.max_dt}")


def pack(f1: np.ndarray, dfb: np.ndarray, dfc: np.ndarray, dtb: np.ndarray, dtc: np.ndarray) -> np.ndarray:
    """Pack stored fields into uint32 hashes: anchor bin (8 bits), the two bin offsets as stored
    (``f - f1 + 31``, divided by ``hash_bin_step``; 6 bits each) and the two time fields as stored
    (frame offset divided by ``hash_frame_step``, plus a loudness-order bit in bit 5 when
    ``hash_level_bits``; 6 bits each)."""
    u = np.uint32
    return (
        (np.asarray(f1).astype(u) << u(24))
        | (np.asarray(dfb).astype(u) << u(18))
        | (np.asarray(dfc).astype(u) << u(12))
        | (np.asarray(dtb).astype(u) << u(6))
        | np.asarray(dtc).astype(u)
    )


def unpack(hashes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Inverse of :func:`pack`: the stored fields ``(f1, dfb, dfc, dtb, dtc)`` as int32 arrays."""
    h = np.asarray(hashes, dtype=np.uint32)
    f1 = (h >> 24).astype(np.int32)
    dfb = ((h >> 18) & _DF_MASK).astype(np.int32)
    dfc = ((h >> 12) & _DF_MASK).astype(np.int32)
    dtb = ((h >> 6) & _DT_MASK).astype(np.int32)
    dtc = (h & _DT_MASK).astype(np.int32)
    return f1, dfb, dfc, dtb, dtc


def last_peak_offset(hashes: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """Frames from each hash's anchor to its triplet's last peak (to within ``hash_frame_step``)."""
    dtc = unpack(hashes)[4]
    if params.hash_level_bits:
        dtc = dtc & 0b11111
    return dtc * params.hash_frame_step


def landmarks(peaks: Peaks, params: FingerprintParams, *, fan_out: int | None = None,
              expand: bool = False) -> Landmarks:
    """Group each peak with pairs of its ``fan_out`` nearest later peaks in the target zone (default
    ``params.fan_out``); hash the triplets.

    With ``params.hash_frame_step`` (``hash_bin_step``) > 1 the two time (frequency) offsets are
    stored divided by that step, so a peak that moved by a frame (a bin) between recording and query
    keeps its hash most of the time; ``expand=True`` (queries) also emits the neighbouring cells,
    so it always does, and both loudness orders of peaks within :data:`LEVEL_TIE_DB` of each other.
    """
    if len(peaks) < 3:
        return Landmarks(np.zeros(0, np.uint32), np.zeros(0, np.int32))
    fan = params.fan_out if fan_out is None else fan_out
    a, b, c = _triplet_indices(peaks.frame, peaks.bin, fan, params.min_dt, params.max_dt, params.max_df)
    f, t, level = peaks.bin, peaks.frame, peaks.level
    fields = [f[b] - f[a] + _DF_OFFSET, f[c] - f[a] + _DF_OFFSET, t[b] - t[a], t[c] - t[a]]
    steps = [params.hash_bin_step] * 2 + [params.hash_frame_step] * 2
    louder = [level[b] - level[a], level[c] - level[b]]  # dB
    use_levels = params.hash_level_bits
    anchor_frames = t[a].astype(np.int32)
    if not expand:
        orders = [(d > 0).astype(np.int64) if use_levels else np.zeros_like(d, np.int64) for d in louder]
        return Landmarks(_pack_offsets(f[a], [v // s for v, s in zip(fields, steps)] + orders), anchor_frames)
    # each coarse field: the cells of value-1 and value+1 (the same cell when both fall in one);
    # each loudness order: both answers when the two levels are within LEVEL_TIE_DB
    options = [((v - 1) // s, (v + 1) // s) if s > 1 else (v // s,) for v, s in zip(fields, steps)]
    if use_levels:
        options += [(np.where(d > LEVEL_TIE_DB, 1, 0), np.where(d < -LEVEL_TIE_DB, 0, 1)) for d in louder]
    else:
        options += [(np.zeros(len(a), np.int64),)] * 2
    variants = [_pack_offsets(f[a], list(combo)) for combo in itertools.product(*options)]
    sorted_h = np.sort(np.stack(variants, axis=1), axis=1)  # one row per triplet; drop repeats
    keep = np.concatenate([np.ones((sorted_h.shape[0], 1), bool), sorted_h[:, 1:] != sorted_h[:, :-1]], axis=1)
    return Landmarks(sorted_h[keep], np.repeat(anchor_frames, keep.sum(axis=1)))


def _pack_offsets(f1: np.ndarray, fields: list[np.ndarray]) -> np.ndarray:
    """:func:`pack` the (possibly coarsened) offsets; loudness-order bits go in bit 5 of the two
    time fields, which coarse time offsets (at most 31) leave free."""
    dfb, dfc, dtb, dtc, order_b, order_c = (np.maximum(v, 0) for v in fields)
    return pack(f1, dfb, dfc, dtb | (order_b << 5), dtc | (order_c << 5))


@numba.njit(cache=True, nogil=True)
def _triplet_indices(
    frames: np.ndarray, bins: np.ndarray, fan_out: int, min_dt: int, max_dt: int, max_df: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = frames.size
    per_anchor = fan_out * (fan_out - 1) // 2
    a_out = np.empty(n * per_anchor, dtype=np.int64)
    b_out = np.empty(n * per_anchor, dtype=np.int64)
    c_out = np.empty(n * per_anchor, dtype=np.int64)
    chosen = np.empty(fan_out, dtype=np.int64)
    k = 0
    for i in range(n):
        found = 0
        j = i + 1
        while j < n and found < fan_out:
            dt = frames[j] - frames[i]
            if dt > max_dt:
                break
            if dt >= min_dt and abs(bins[j] - bins[i]) <= max_df:
                chosen[found] = j
                found += 1
            j += 1
        for x in range(found):
            for y in range(x + 1, found):
                if frames[chosen[y]] == frames[chosen[x]] and bins[chosen[y]] < bins[chosen[x]]:
                    a_out[k], b_out[k], c_out[k] = i, chosen[y], chosen[x]
                else:
                    a_out[k], b_out[k], c_out[k] = i, chosen[x], chosen[y]
                k += 1
    return a_out[:k], b_out[:k], c_out[:k]
