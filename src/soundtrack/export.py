"""The result of a scan: a :class:`Soundtrack` of :class:`Cue` s, and its cue sheet, JSON and plot.

Usage codes follow music cue sheets: ``BI``/``BV`` background instrumental/vocal (music under the
scene, not the focus of attention), ``FI``/``FV`` featured instrumental/vocal (music that is the
focus, e.g. over a montage), ``VI``/``VV`` visual instrumental/vocal (performed on screen),
``MT``/``ET`` main/end title. A cue's prominence is measured (the music against the dialogue, see
:data:`soundtrack.scan.scanner.FOREGROUND_MIN_BALANCE_DB`): a background cue is written ``BI``, a
foreground one ``FI``. Vocal against instrumental, and whether the music is seen being performed,
cannot be told from the audio: those codes are for the person who finishes the sheet.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import Recording, change_name

#: Cue-sheet usage codes written for background and foreground cues (see the module docstring).
BACKGROUND_USAGE = "BI"
FOREGROUND_USAGE = "FI"
CSV_COLUMNS = ("cue", "title", "artist", "composer", "publisher", "usage", "prominence", "timecode_in",
               "timecode_out", "duration", "episode_start_s", "episode_end_s", "recording_start_s",
               "recording_end_s", "speed", "pitch", "music_vs_rest_db", "confidence", "flags", "overlaps")


@dataclass
class Cue:
    """One stretch of the episode where a library recording sounds. Times are seconds.

    ``episode_*`` locate the cue in the episode, ``recording_*`` the part of the recording heard.
    ``score`` counts episode anchor frames agreeing with the alignment; ``coverage`` is their rate
    over the rate of the recording's own anchor peaks in the index (near 1: heard clean; small:
    buried or degraded). ``foreground`` says the music is the focus rather than under the scene,
    from ``balance_db``, the recording's level against everything else in the episode during the
    cue (None when it could not be measured: see :mod:`soundtrack.scan.compare`), together with
    that of any other song heard at the same time (a mashup's songs are both music). ``overlaps`` holds
    the numbers of cues sounding at the same time.
    """

    number: int
    recording: Recording
    episode_start_s: float
    episode_end_s: float
    recording_start_s: float
    recording_end_s: float
    score: int
    confidence: float
    speed: float = 1.0
    pitch: float = 1.0
    interrupted: bool = False
    partial_start: bool = False
    coverage: float = 0.0
    foreground: bool = False
    balance_db: float | None = None
    overlaps: list[int] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Length of the cue in the episode (seconds)."""
        return self.episode_end_s - self.episode_start_s

    @property
    def change(self) -> str:
        """How the recording was changed: "none", "speed", "tempo" or "pitch"
        (:func:`soundtrack.models.change_name`)."""
        return change_name(self.speed, self.pitch)

    @property
    def usage(self) -> str:
        """The cue-sheet usage code (see the module docstring)."""
        return FOREGROUND_USAGE if self.foreground else BACKGROUND_USAGE

    @property
    def prominence(self) -> str:
        """``"foreground"`` or ``"background"``."""
        return "foreground" if self.foreground else "background"

    @property
    def flags(self) -> list[str]:
        """Short names of the cue's flags, for tables."""
        names = [("partial_start", self.partial_start), ("interrupted", self.interrupted),
                 ("overlap", bool(self.overlaps)), ("foreground", self.foreground)]
        return [name for name, on in names if on]

    def to_dict(self, fps: float = 25) -> dict[str, Any]:
        """The cue as JSON-ready data; timecodes ``HH:MM:SS:FF`` at ``fps`` frames per second."""
        r = self.recording
        return {
            "number": self.number, "recording_id": r.id, "title": r.title, "artist": r.artist,
            "composer": r.composer, "publisher": r.publisher, "path": r.path,
            "usage": self.usage, "prominence": self.prominence,
            "timecode_in": timecode(self.episode_start_s, fps), "timecode_out": timecode(self.episode_end_s, fps),
            "duration": timecode(self.duration_s, fps),
            "episode_start_s": round(self.episode_start_s, 3), "episode_end_s": round(self.episode_end_s, 3),
            "duration_s": round(self.duration_s, 3),
            "recording_start_s": round(self.recording_start_s, 3),
            "recording_end_s": round(self.recording_end_s, 3),
            "speed": round(self.speed, 5), "pitch": round(self.pitch, 5), "change": self.change,
            "score": self.score, "confidence": round(self.confidence, 4),
            "coverage": round(self.coverage, 4), "foreground": self.foreground,
            "balance_db": None if self.balance_db is None else round(self.balance_db, 1),
            "interrupted": self.interrupted, "partial_start": self.partial_start,
            "overlaps": list(self.overlaps),
        }


@dataclass
class Soundtrack:
    """Every library recording heard in the episode at ``path``, as cues in episode order.

    ``rms`` is the episode's RMS level (linear, full scale = 1) every ``envelope_s`` seconds;
    ``cpu_s`` the CPU seconds the scan spent per stage (decode, fingerprint, lookup, ...).
    """

    path: str
    duration_s: float
    cues: list[Cue]
    envelope_s: float = 0.25
    rms: list[float] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self, fps: float = 25) -> dict[str, Any]:
        """The soundtrack as JSON-ready data (timecodes at ``fps`` frames per second)."""
        return {"episode": self.path, "duration_s": round(self.duration_s, 3), "fps": fps,
                "music_s": round(self.music_s, 3), "cues": [c.to_dict(fps) for c in self.cues]}

    @property
    def music_s(self) -> float:
        """Seconds of the episode during which at least one cue sounds."""
        return covered_s([(c.episode_start_s, c.episode_end_s) for c in self.cues])

    def to_json(self, path: str | Path, fps: float = 25) -> Path:
        """Write :meth:`to_dict` as JSON to ``path``."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(fps), indent=2) + "\n")
        return path

    def to_csv(self, path: str | Path, fps: float = 25) -> Path:
        """Write a cue sheet: one row per cue, timecodes as HH:MM:SS:FF at ``fps`` frames/s."""
        path = Path(path)
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for c in self.cues:
                r = c.recording
                writer.writerow([c.number, r.title, r.artist or "", r.composer or "", r.publisher or "", c.usage,
                                 c.prominence, timecode(c.episode_start_s, fps), timecode(c.episode_end_s, fps),
                                 timecode(c.duration_s, fps), f"{c.episode_start_s:.2f}", f"{c.episode_end_s:.2f}",
                                 f"{c.recording_start_s:.2f}", f"{c.recording_end_s:.2f}", f"{c.speed:.5g}",
                                 f"{c.pitch:.5g}",
                                 "" if c.balance_db is None else f"{c.balance_db:.1f}", f"{c.confidence:.2f}",
                                 " ".join(c.flags), " ".join(map(str, c.overlaps))])
        return path

    def plot(self, path: str | Path) -> Path:
        """Draw the cues (one lane per overlapping cue) over the episode's level curve to ``path``."""
        from .plot import plot_soundtrack  # matplotlib is imported only when plotting

        return plot_soundtrack(self, Path(path))


def timecode(seconds: float, fps: float = 25) -> str:
    """``HH:MM:SS:FF`` for ``seconds`` at ``fps`` frames per second (non-drop-frame).

    >>> timecode(3723.5, 25)
    '01:02:03:12'
    """
    frames_per_s = round(fps)
    total = int(max(0.0, seconds) * fps + 1e-6)  # the frame in which the instant falls
    ff = total % frames_per_s
    s = total // frames_per_s
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{ff:02d}"


def covered_s(spans: list[tuple[float, float]]) -> float:
    """Total length (s) of the union of ``(start, end)`` spans: overlaps count once.

    >>> covered_s([(0, 10), (5, 12), (20, 21)])
    13.0
    """
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def lanes(cues: list[Cue], label_s: list[float] | None = None) -> list[int]:
    """A lane per cue so that cues sounding together never share one (greedy, first free lane).

    ``label_s`` optionally gives, per cue, the seconds its label takes on a plot: a cue then also
    occupies its lane until its label ends.
    """
    widths = label_s or [0.0] * len(cues)
    ends: list[float] = []
    by_number: dict[int, int] = {}
    for c, width in sorted(zip(cues, widths, strict=True), key=lambda cw: cw[0].episode_start_s):
        lane = next((i for i, end in enumerate(ends) if end <= c.episode_start_s), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = max(c.episode_end_s, c.episode_start_s + width)
        by_number[c.number] = lane
    return [by_number[c.number] for c in cues]
