"""Samples → spectrogram → peaks → landmark hashes, for a clip or a stream of any length."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..params import FingerprintParams
from .hashes import Landmarks, landmarks
from .peaks import Peaks, PeakStream

__all__ = ["Fingerprinter", "Landmarks", "Peaks", "fingerprint", "fingerprint_stream"]


class Fingerprinter:
    """Streaming fingerprinter: push sample blocks, get the landmarks that are final so far.

    Peaks come from :class:`PeakStream`; the last ``max_dt`` frames of peaks are held back until
    their pair partners are known, so the landmarks of a stream equal those of the whole signal.
    """

    def __init__(self, params: FingerprintParams, *, fan_out: int | None = None, expand: bool = False) -> None:
        self.params = params
        self.fan_out = fan_out
        self.expand = expand
        self.peaks = PeakStream(params)
        self.pending = Peaks.empty()
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
        peaks = Peaks.concat([self.pending, new]) if len(self.pending) else new
        if len(peaks) == 0:
            return Landmarks.concat([])
        marks = landmarks(peaks, self.params, fan_out=self.fan_out, expand=self.expand)
        if final:
            self.pending = Peaks.empty()
            return marks
        # anchors this close to the judged edge may still gain partners: keep them for later
        edge = self.peaks.done - self.params.max_dt
        keep = peaks.frame >= edge
        first_kept = int(np.argmax(keep)) if keep.any() else len(peaks)
        self.pending = Peaks(peaks.frame[first_kept:], peaks.bin[first_kept:], peaks.level[first_kept:])
        ready = marks.frame < edge
        return Landmarks(marks.hash[ready], marks.frame[ready])


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
