"""A picture of a :class:`~soundtrack.export.Soundtrack` (needs matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .scan.compare import share_of

if TYPE_CHECKING:
    from .export import Soundtrack


#: Approximate width of one label character at font size 8 (points).
LABEL_CHAR_PT = 5.0


def plot_soundtrack(soundtrack: Soundtrack, path: Path) -> Path:
    """Cues as labelled bars, one lane per overlapping cue (foreground cues solid, background ones
    pale), above the episode's level in dBFS and, during each cue whose balance was measured, the
    music's share of it (:func:`music_level_db`) in the cue's colour."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'soundtrack[plot]'") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .export import lanes

    width_in = max(8.0, min(24.0, soundtrack.duration_s / 60))
    s_per_char = soundtrack.duration_s / (width_in * 72 / LABEL_CHAR_PT)  # label width on the time axis
    labels = [f"{c.number}. {c.recording.title}" for c in soundtrack.cues]
    cue_lanes = lanes(soundtrack.cues, [(len(label) + 2) * s_per_char for label in labels])
    n_lanes = max(cue_lanes, default=0) + 1
    fig, (ax_cues, ax_rms) = plt.subplots(
        2, 1, sharex=True, figsize=(width_in, 1.6 + 0.5 * n_lanes + 1.6),
        gridspec_kw={"height_ratios": [max(1, n_lanes), 2]})
    colors = plt.get_cmap("tab10")
    rms = np.asarray(soundtrack.rms, dtype=np.float64)
    t = np.arange(rms.size) * soundtrack.envelope_s
    level = 20 * np.log10(np.maximum(rms, 1e-4))
    ax_rms.plot(t, level, lw=0.7, color="0.3", label="episode")
    for cue, lane, label in zip(soundtrack.cues, cue_lanes, labels, strict=True):
        color = colors((cue.number - 1) % 10)
        ax_cues.barh(lane, cue.duration_s, left=cue.episode_start_s, height=0.8,
                     color=color, alpha=0.85 if cue.foreground else 0.4)
        ax_cues.text(cue.episode_start_s + 0.5, lane, label, va="center", fontsize=8, clip_on=True)
        if cue.balance_db is not None:
            inside = (t >= cue.episode_start_s) & (t <= cue.episode_end_s)
            ax_rms.plot(t[inside], music_level_db(level[inside], cue.balance_db), lw=0.9, color=color)
    ax_cues.set_yticks([])
    ax_cues.set_ylim(n_lanes - 0.4, -0.6)
    ax_cues.set_title(Path(soundtrack.path).name, fontsize=10, loc="left")
    ax_rms.set_ylabel("level (dBFS)")
    ax_rms.set_title("episode level (grey); the music's measured share of it during each cue (colour)",
                     fontsize=8, loc="left")
    ax_rms.set_xlabel("episode time (s)")
    ax_rms.set_xlim(0, max(1.0, soundtrack.duration_s))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def music_level_db(level_db: np.ndarray, balance_db: float) -> np.ndarray:
    """The music's part (dBFS) of an episode level ``level_db`` when the music stands
    ``balance_db`` against everything else: its share of the power is b / (1 + b), b = 10^(dB/10).

    >>> float(music_level_db(np.array([-20.0]), 0.0)[0])  # as loud as the rest: half the power
    -23.01...
    """
    return level_db + 10.0 * np.log10(share_of(balance_db))
