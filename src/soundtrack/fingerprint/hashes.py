"""Landmark hashes: triplets of peaks packed into 32-bit integers.

An anchor peak ``a = (t1, f1)`` is grouped with two later peaks ``b`` and ``c`` from its target zone
(``1 <= t - t1 <= max_dt`` frames, ``|f - f1| <= max_df`` bins): the ``fan_out`` nearest such
peaks in time are taken, and every pair of them with the anchor forms one triplet. Each becomes

    hash = f1 << 24 | (fb - f1 + 31) << 18 | (fc - f1 + 31) << 12 | (tb - t1) << 6 | (tc - t1)

(8 + 6 + 6 + 6 + 6 = 32 bits), stored with the anchor's frame ``t1``. A triplet carries far more
information than a pair (Wang 2003 used pairs with ~20 useful bits, which in a library of a few
hours already gives thousands of chance hits per query); the price is that all three peaks must
survive noise, which the density of peaks makes up for. :func:`pack` and :func:`unpack` are exact
inverses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..params import FingerprintParams
from .peaks import Peaks

F1_BITS, DF_BITS, DT_BITS = 8, 6, 6
_DF_OFFSET = (1 << (DF_BITS - 1)) - 1  # 31: df in [-31, 31] maps to [0, 62]
_DF_MASK = (1 << DF_BITS) - 1
_DT_MASK = (1 << DT_BITS) - 1


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
    if not 1 <= params.min_dt <= params.max_dt <= _DT_MASK:
        raise ValueError(f"need 1 <= min_dt <= max_dt <= {_DT_MASK}, got {params.min_dt}..{params.max_dt}")


def pack(f1: np.ndarray, dfb: np.ndarray, dfc: np.ndarray, dtb: np.ndarray, dtc: np.ndarray) -> np.ndarray:
    """Pack anchor bin, the two bin differences and the two frame differences into uint32 hashes."""
    u = np.uint32
    return (
        (np.asarray(f1).astype(u) << u(24))
        | ((np.asarray(dfb) + _DF_OFFSET).astype(u) << u(18))
        | ((np.asarray(dfc) + _DF_OFFSET).astype(u) << u(12))
        | (np.asarray(dtb).astype(u) << u(6))
        | np.asarray(dtc).astype(u)
    )


def unpack(hashes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Inverse of :func:`pack`: ``(f1, dfb, dfc, dtb, dtc)`` as int32 arrays."""
    h = np.asarray(hashes, dtype=np.uint32)
    f1 = (h >> 24).astype(np.int32)
    dfb = ((h >> 18) & _DF_MASK).astype(np.int32) - _DF_OFFSET
    dfc = ((h >> 12) & _DF_MASK).astype(np.int32) - _DF_OFFSET
    dtb = ((h >> 6) & _DT_MASK).astype(np.int32)
    dtc = (h & _DT_MASK).astype(np.int32)
    return f1, dfb, dfc, dtb, dtc


def landmarks(peaks: Peaks, params: FingerprintParams, *, fan_out: int | None = None) -> Landmarks:
    """Group each peak with pairs of its ``fan_out`` nearest later peaks in the target zone (default
    ``params.fan_out``); hash the triplets."""
    if len(peaks) < 3:
        return Landmarks(np.zeros(0, np.uint32), np.zeros(0, np.int32))
    fan = params.fan_out if fan_out is None else fan_out
    a, b, c = _triplet_indices(peaks.frame, peaks.bin, fan, params.min_dt, params.max_dt, params.max_df)
    f, t = peaks.bin, peaks.frame
    hashes = pack(f[a], f[b] - f[a], f[c] - f[a], t[b] - t[a], t[c] - t[a])
    return Landmarks(hashes, t[a].astype(np.int32))


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
