"""Compare the episode with a recording's own audio at a known alignment.

* :func:`presence`: where the recording sounds. Per block of :data:`BLOCK_S`, the normalised
  correlation of the episode's samples with the recording's (the best of a few samples' lag
  either way, which absorbs container timestamps and a speed-up rounded differently). Unrelated
  sound correlates near 0 (a few hundredths over 4000 samples), so even a song 15 dB under the
  dialogue, the quieter song of a mashup (whose spectral peaks the louder one masks) or a song
  through a phone's reverb stands out. What counts as chance is worked out per block. Write the
  episode as e = g r + n (the recording at gain g, plus the rest n; g from the measured
  correlation). The rest correlates with the recording by chance with a standard deviation of
  sqrt(sum P_n P_r) / sqrt(sum P_e * sum P_r) over power spectra P (white noise: 1/sqrt(N); a
  tone against the same tone: near 1), so a block is music when its correlation is
  :data:`CHANCE_SIGMAS` such deviations above zero. Music that repeats itself cannot fool this,
  as it fools the usual null of a shifted copy of the recording (which correlates with itself).
* :func:`balance_db`: music against everything else. A block's squared correlation is the share
  of its energy that is the recording: e = g r + n gives rho² = g²|r|² / |e|². This holds where
  the recording reaches the episode intact (a broadcast codec, a PAL speed-up); a phone's room
  and speech codec keep too little of it coherent, and the recording is then not heard at all.
* :func:`audible_from_db`: the quietest balance at which the recording would have been heard in
  the same blocks (where its correlation reaches :data:`CHANCE_SIGMAS` chance deviations), an
  upper bound on the balance of a recording that was not heard.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Presence is measured in blocks this long (seconds), every half block, each at the best lag
#: within ±:data:`MAX_LAG_S`. Where the recording reaches the episode only partly coherent (a
#: phone's room and codec), blocks of :data:`LONG_BLOCK_S` are needed to hear it: chance
#: correlation shrinks with the square root of the block's length.
BLOCK_S = 0.5
LONG_BLOCK_S = 2.0
MAX_LAG_S = 0.00025
#: A block is music when its correlation is this many chance standard deviations above zero.
CHANCE_SIGMAS = 4.0


@dataclasses.dataclass(frozen=True)
class Presence:
    """Per block ``k`` (centred on sample ``center[k]`` of the excerpt): the correlation ``rho``,
    its chance standard deviation ``sigma`` (see the module docstring) and the episode's
    ``energy`` (sum of squares)."""

    rho: np.ndarray
    sigma: np.ndarray
    center: np.ndarray
    energy: np.ndarray

    @property
    def score(self) -> np.ndarray:
        """Correlation in chance standard deviations: above :data:`CHANCE_SIGMAS` is music."""
        return self.rho / np.maximum(self.sigma, 1e-9)


def presence(episode: np.ndarray, recording: np.ndarray, sample_rate: int, block_s: float = BLOCK_S) -> Presence:
    """Where in an excerpt the recording sounds (see the module docstring), in blocks of
    ``block_s`` seconds. ``episode`` and ``recording`` are aligned samples at ``sample_rate`` (Hz).
    Each block takes the best correlation within ±:data:`MAX_LAG_S`."""
    block, step = round(block_s * sample_rate), round(block_s * sample_rate / 2)
    lag = max(1, round(MAX_LAG_S * sample_rate))
    n = min(episode.size, recording.size)
    starts = np.arange(lag, n - block - lag + 1, step)
    if starts.size == 0:
        return Presence(np.zeros(0), np.ones(0), np.zeros(0, int), np.zeros(0))
    e_blocks = sliding_window_view(episode[:n].astype(np.float64), block)
    r_blocks = sliding_window_view(recording[:n].astype(np.float64), block)
    seg, ref = e_blocks[starts], r_blocks[starts]
    seg_energy = np.einsum("ij,ij->i", seg, seg)
    rho = np.full(starts.size, -1.0)
    for shift in range(-lag, lag + 1):
        other = r_blocks[starts + shift]
        dots = np.einsum("ij,ij->i", seg, other)
        norms = np.sqrt(seg_energy * np.einsum("ij,ij->i", other, other))
        rho = np.maximum(rho, np.where(norms > 0, dots / np.maximum(norms, 1e-20), 0.0))
    pe, pr = np.abs(np.fft.rfft(seg, axis=1)) ** 2, np.abs(np.fft.rfft(ref, axis=1)) ** 2
    weights = np.full(pe.shape[1], 2.0)
    weights[[0, -1]] = 1.0  # one-sided spectrum: interior bins stand for two
    ref_energy = np.einsum("ij,ij->i", ref, ref)
    gain2 = np.maximum(rho, 0.0) ** 2 * seg_energy / np.maximum(ref_energy, 1e-20)
    rest = np.maximum(pe - gain2[:, None] * pr, 0.0)
    # (no matrix products here: BLAS threads would spin on the cores the scan shares)
    sigma = np.sqrt((rest * pr * weights).sum(axis=1)
                    / np.maximum((pe * weights).sum(axis=1) * (pr * weights).sum(axis=1), 1e-30))
    return Presence(rho, sigma, starts + block // 2, seg_energy)


def best_match(episode: np.ndarray, recording: np.ndarray) -> tuple[int, float]:
    """Where in ``recording`` (longer) the stretch best matching ``episode`` starts (samples),
    and the normalised correlation there."""
    from scipy.signal import correlate

    n = episode.size
    dots = correlate(recording.astype(np.float64), episode.astype(np.float64), mode="valid", method="fft")
    energy = np.concatenate([[0.0], np.cumsum(recording.astype(np.float64) ** 2)])
    norms = np.sqrt((energy[n:] - energy[:-n]) * float(np.square(episode, dtype=np.float64).sum()))
    rho = np.where(norms > 0, dots / np.maximum(norms, 1e-20), 0.0)
    k = int(np.argmax(rho))
    return k, float(rho[k])


def balance_db(presence: Presence) -> float | None:
    """Music against everything else (dB) over the blocks of ``presence`` (see the module
    docstring); None without any."""
    if presence.rho.size == 0:
        return None
    share = np.clip(presence.rho, 0.0, 1.0) ** 2
    total = float(presence.energy.sum())
    if total <= 0:
        return None
    return share_db(float((share * presence.energy).sum()) / total)


def share_db(share: float) -> float:
    """The balance (dB) of a recording that is ``share`` of the episode's energy: the share
    against the rest, kept within ±40 dB."""
    share = min(max(share, 1e-4), 1 - 1e-4)
    return float(10.0 * np.log10(share / (1.0 - share)))


def share_of(balance_db: float) -> float:
    """Inverse of :func:`share_db`: the share of the episode's energy a balance (dB) stands for."""
    ratio = 10.0 ** (balance_db / 10.0)
    return ratio / (1.0 + ratio)


def audible_from_db(presence: Presence) -> float | None:
    """The quietest balance (dB, as :func:`balance_db`) at which a recording would have been heard
    in the blocks of ``presence``: where its correlation reaches :data:`CHANCE_SIGMAS` times the
    blocks' median chance deviation. None without any block."""
    if presence.sigma.size == 0:
        return None
    return share_db((CHANCE_SIGMAS * float(np.median(presence.sigma))) ** 2)
