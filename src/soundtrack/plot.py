"""A picture of a :class:`~soundtrack.export.Soundtrack` (needs matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .export import Soundtrack


def plot_soundtrack(soundtrack: Soundtrack, path: Path) -> Path:
    """Cues as labelled bars, one lane per overlapping cue, above the episode's level in dBFS."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .export import lanes

    cue_lanes = lanes(soundtrack.cues)
    n_lanes = max(cue_lanes, default=0) + 1
    fig, (ax_cues, ax_rms) = plt.subplots(
        2, 1, sharex=True, figsize=(max(8.0, min(24.0, soundtrack.duration_s / 60)), 1.6 + 0.5 * n_lanes + 1.6),
        gridspec_kw={"height_ratios": [max(1, n_lanes), 2]})
    colors = plt.get_cmap("tab10")
    for cue, lane in zip(soundtrack.cues, cue_lanes, strict=True):
        ax_cues.barh(lane, cue.duration_s, left=cue.episode_start_s, height=0.8,
                     color=colors(cue.recording.id % 10), alpha=0.85 if cue.foreground else 0.5)
        ax_cues.text(cue.episode_start_s + 0.5, lane, f"{cue.number}. {cue.recording.title}",
                     va="center", fontsize=8, clip_on=True)
    ax_cues.set_yticks([])
    ax_cues.set_ylim(n_lanes - 0.4, -0.6)
    ax_cues.set_title(Path(soundtrack.path).name, fontsize=10, loc="left")
    rms = np.asarray(soundtrack.rms, dtype=np.float64)
    t = np.arange(rms.size) * soundtrack.envelope_s
    ax_rms.plot(t, 20 * np.log10(np.maximum(rms, 1e-4)), lw=0.7, color="0.3")
    ax_rms.set_ylabel("level (dBFS)")
    ax_rms.set_xlabel("episode time (s)")
    ax_rms.set_xlim(0, max(1.0, soundtrack.duration_s))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
