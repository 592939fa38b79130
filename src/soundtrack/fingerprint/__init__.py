"""Samples → spectrogram → peaks → landmark hashes, for a clip or a stream of any length."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..params import FingerprintParams
from .hashes import Landmarks, landmarks
from .peaks import Peaks, PeakStream

__all__ = ["Fingerprinter", "Landmarks", "Pairer", "Peaks", "fingerprint", "fingerprint_stream"]


class Pairer:
    """Streaming landmark maker: takes peaks as a :class:`PeakStream` makes them final and returns
    the landmarks whose anchors can gain no more partners.

    ``frame_scale`` stretches the peaks' frames first (rounded to whole frames): the landmarks of
    the same peaks played ``frame_scale`` times slower with the pitch kept (a tempo change undone).
    The last ``max_dt`` frames of peaks are held back until their partners are known, so the
    landmarks of a stream equal those of the whole signal.
    """

    def __init__(self, params: FingerprintParams, *, fan_out: int | None = None, expand: bool = False,
                 frame_scale: float = 1.0) -> None:
        self.params = params
        self.fan_out = fan_out
        self.expand = expand
        self.frame_scale = frame_scale
        self.pending = Peaks.empty()

    def push(self, new: Peaks, done: int, *, final: bool = False) -> Landmarks:
        """Add ``new`` peaks (frames of the stream); ``done``: stream frames before this have all
        their peaks. Returns landmarks with anchor frames in the scaled timeline."""
        if self.frame_scale != 1.0 and len(new):
            new = Peaks(np.rint(new.frame * self.frame_scale).astype(np.int32), new.bin, new.level)
        peaks = Peaks.concat([self.pending, new]) if len(self.pending) else new
        if len(peaks) == 0:
            return Landmarks.concat([])
        marks = landmarks(peaks, self.params, fan_out=self.fan_out, expand=self.expand)
        if final:
            self.pending = Peaks.empty()
            return marks
        # anchors this close to the judged edge may still gain partners: keep them for later
        edge = int(done * self.frame_scale) - self.params.max_dt
        keep = peaks.frame >= edge
        first_kept = int(np.argmax(keep)) if keep.any() else len(peaks)
        self.pending = Peaks(peaks.frame[first_kept:], peaks.bin[first_kept:], peaks.level[first_kept:])
        ready = marks.frame < edge
        return Landmarks(marks.hash[ready], marks.frame[ready])


class Fingerprinter:
    """Streaming fingerprinter: push sample blocks, get the landmarks that are final so far
    (peaks from a :class:`PeakStream`, grouped by a :class:`Pairer`)."""

    def __init__(self, params: FingerprintParams, *, fan_out: int | None = None, expand: bool = False) -> None:
        self.params = params
        self.peaks = PeakStream(params)
        self.pairer = Pairer(params, fan_out=fan_out, expand=expand)
        self.n_samples = 0
        self.n_peaks = 0

    def push(self, y: np.ndarray) -> Landmarks:
        """Add mono samples at ``params.sample_rate``; return newly final landmarks."""
        self.n_samples += y.size
        return self._pair(self.peaks.push(y), final=False)

    def flush(self) -> Landmarks:
        """End of the audio: return the remaining landmarks."""
        return self._pair(self.peaks.flush(), final=True)

    def _pair(self, new: Peaks, *, final: bool) -> Landmarks:
        self.n_peaks += len(new)
        return self.pairer.push(new, self.peaks.done, final=final)


def fingerprint_stream(
    blocks: Iterable[np.ndarray], params: FingerprintParams, *, fan_out: int | None = None, expand: bool = False
) -> Iterator[Landmarks]:
    """Landmarks of a stream of sample blocks, as they become final."""
    fp = Fingerprinter(params, fan_out=fan_out, expand=expand)
    for block in blocks:
        marks = fp.push(block)
        if len(marks):
            yield marks
    yield fp.flush()


def fingerprint(
    y: np.ndarray, params: FingerprintParams, *, fan_out: int | None = None, expand: bool = False
) -> Landmarks:
    """Landmarks of a whole mono signal ``y`` at ``params.sample_rate`` (``fan_out``: see
    :func:`~soundtrack.fingerprint.hashes.landmarks`)."""
    return Landmarks.concat(list(fingerprint_stream([y], params, fan_out=fan_out, expand=expand)))
