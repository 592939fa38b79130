"""Listen to a track's recording next to the episode: where its edges really are, how loud it is.

The fingerprint finds a song, its alignment, and where its landmarks survive. Where they are
thin (a song fading in or out, under dialogue, the quieter song of a mashup, a phone recording)
the edges it gives can be seconds inside the real ones. So around each edge of a confirmed track
the recording's own audio is decoded (a seek, a few seconds) and compared with the episode audio
still held in the ring (:func:`soundtrack.scan.compare.presence`): the edge moves outwards while
the episode keeps following the recording. What is heard inside the cue also measures the music
against the dialogue, for the cue's usage (:func:`soundtrack.scan.compare.balance_db`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .. import verify
from ..audio import StreamResampler, load_span
from ..errors import AudioError
from ..models import Recording
from ..params import FingerprintParams
from . import compare
from .stream import AudioRing, Warp

#: Each edge is probed with an excerpt reaching :data:`INSIDE_S` into the cue and
#: :data:`OUTSIDE_S` beyond it; while the music goes on at the excerpt's outer end, the search
#: goes on in steps growing from :data:`EXTEND_STEP_S` (most edges the fingerprint misses are a
#: fade of a few seconds) to :data:`EXTEND_STEP_MAX_S` (a buried stretch), up to
#: :data:`EXTEND_MAX_S` from the edge.
INSIDE_S = 2.0
OUTSIDE_S = 2.0
EXTEND_STEP_S = 3.0
EXTEND_STEP_MAX_S = 12.0
EXTEND_MAX_S = 40.0
#: Short blocks are searched with when the recording's median score inside the cue is above this
#: (see :meth:`Listener._hear`); twice the chance threshold.
CLEAR_SIGMAS = 2 * compare.CHANCE_SIGMAS
#: A candidate track is checked on at least this long (s) of audio around its landmarks.
VERIFY_MIN_S = 4.0
#: A search stops once this many block lengths of consecutive blocks show no music.
ABSENT_BLOCKS = 2
#: The decoded recording is aligned with the episode to the sample within ±this (s): the track's
#: offset (±2 frames) and container timestamps after a seek are that close.
ALIGN_S = 0.05
#: Usage is measured on an excerpt this long (s) from the middle of the part of the cue still in
#: the ring (its edges are often unlike the rest: a fade, a pause before the dialogue starts).
USAGE_S = 3.0


@dataclass(frozen=True)
class Alignment:
    """Where and how a recording sounds in the episode: recording time = episode time × ``speed``
    + ``offset_s``, with the pitch of ``warp``."""

    recording: Recording
    warp: Warp
    offset_s: float

    @property
    def speed(self) -> float:
        """Recording seconds per episode second."""
        return self.warp.speed

    def recording_time(self, episode_s: float) -> float:
        return episode_s * self.speed + self.offset_s

    def episode_time(self, recording_s: float) -> float:
        return (recording_s - self.offset_s) / self.speed


@dataclass(frozen=True)
class Loudness:
    """A recording against everything else in the middle of a cue (dB).

    ``balance_db`` is the balance measured where the recording is heard through a coherent
    channel (:func:`compare.balance_db`), None where it is not heard. ``at_most_db`` bounds it
    from above either way: the measured balance, or for a recording not heard, the quietest
    balance at which it would have been (:func:`compare.audible_from_db`). ``peak_rho`` is the
    highest correlation of one block there: near 1 where the recording is heard alone (in a pause
    of the dialogue) through a channel that keeps its waveform, far less through a room and a
    speech codec, which the balance then underrates."""

    balance_db: float | None
    at_most_db: float
    peak_rho: float = 0.0


@dataclass(frozen=True)
class Excerpt:
    """Episode samples from absolute sample ``first`` and the recording's, aligned with them."""

    first: int
    episode: np.ndarray
    recording: np.ndarray


@dataclass(frozen=True)
class Probe:
    """What listening at one edge found: the edge (episode frame), and whether the recording
    was heard at all."""

    edge: int
    heard: bool = False


class Listener:
    """Compare tracks with their recordings over the episode audio held in ``ring``."""

    def __init__(self, params: FingerprintParams, ring: AudioRing) -> None:
        self.params = params
        self.ring = ring
        self.unreadable: set[str] = set()

    def probe_start(self, align: Alignment, start: int) -> Probe:
        """Where the music begins, at or before episode frame ``start``."""
        first = max(self.ring.start, round(align.episode_time(0.0) * self.params.sample_rate), 0)
        return self._probe(align, start * self.params.hop, first, -1)

    def probe_end(self, align: Alignment, end: int) -> Probe:
        """Where the music stops, at or after episode frame ``end``."""
        p = self.params
        last = min(self.ring.end, round(align.episode_time(align.recording.duration_s) * p.sample_rate))
        return self._probe(align, end * p.hop, last, +1)

    def excerpt(self, align: Alignment, first: int, end: int) -> Excerpt | None:
        """Episode samples ``[first, end)`` (as far as the ring still holds them) and the recording
        aligned with them to the sample; None if either cannot be had."""
        episode, at = self.ring.get(first, end)
        if episode.size < self.params.sample_rate:
            return None
        recording = self._aligned_with(align, episode, at)
        return None if recording is None else Excerpt(at, episode, recording)

    def heard_clearly(self, align: Alignment, first: int, end: int) -> bool:
        """Whether the recording clearly sounds in episode frames ``[first, end)`` (:meth:`hearing`
        over :data:`CLEAR_SIGMAS`), which a chance alignment of the fingerprint never does."""
        return self.hearing(align, first, end) > CLEAR_SIGMAS

    def hearing(self, align: Alignment, first: int, end: int) -> float:
        """How clearly the recording sounds in episode frames ``[first, end)`` (at least
        :data:`VERIFY_MIN_S` around their middle): its median block score, in chance deviations,
        in short blocks, or in long ones where short ones do not pass :data:`CLEAR_SIGMAS`
        (whichever is higher); 0 where it cannot be listened to."""
        x = self._around(align, first, end)
        level = 0.0
        if x is None:
            return level
        for block_s in (compare.BLOCK_S, compare.LONG_BLOCK_S):
            pres = compare.presence(x.episode, x.recording, self.params.sample_rate, block_s)
            if pres.score.size:
                level = max(level, float(np.median(pres.score)))
            if level > CLEAR_SIGMAS:
                break
        return level

    def resembles(self, align: Alignment, first: int, end: int) -> bool:
        """Whether the recording's spectral peaks and band bits agree with the episode's in frames
        ``[first, end)`` (as :meth:`hearing` takes them), as :mod:`soundtrack.verify` confirms a
        phone clip the landmarks only rank: far more than with the alignment moved by a fraction
        of a second. Through a phone's room and speech codec these survive where the waveform
        does not."""
        episode, at = self.ring.get(*self._widened(first, end))
        if episode.size < self.params.sample_rate:
            return False
        hop = self.params.hop
        margin = verify.margin_frames(self.params)
        recording = self._recording_audio(align, at - margin * hop, episode.size + 2 * margin * hop)
        if recording is None:
            return False
        query = verify.query_features(episode, self.params)
        return verify.evidence_in(query, recording, margin, self.params).z >= verify.MIN_Z

    def _around(self, align: Alignment, first: int, end: int) -> Excerpt | None:
        """The :meth:`excerpt` of episode frames ``[first, end)`` (:meth:`_widened`)."""
        return self.excerpt(align, *self._widened(first, end))

    def _widened(self, first: int, end: int) -> tuple[int, int]:
        """Episode samples of frames ``[first, end)``, widened about their middle to
        :data:`VERIFY_MIN_S`."""
        p = self.params
        middle = (first + end) * p.hop // 2
        half = max((end - first) * p.hop // 2, round(VERIFY_MIN_S * p.sample_rate / 2))
        return middle - half, middle + half

    def same_audio(self, a: Alignment, b: Alignment, first: int, end: int) -> bool:
        """Whether recordings ``a`` and ``b``, each at its alignment, hold the same audio in
        episode frames ``[first, end)`` (the middle :data:`VERIFY_MIN_S` of them): ``b``'s own
        audio is clearly heard in ``a``'s (median block score over :data:`CLEAR_SIGMAS`). Two
        recordings sharing a passage (a re-used loop, another master of one take) do; the two
        songs of a mashup, heard at once but each its own audio, do not. The episode is not
        needed: this compares the recordings' files."""
        sr, hop = self.params.sample_rate, self.params.hop
        middle = (first + end) * hop // 2
        half = min((end - first) * hop // 2, round(VERIFY_MIN_S * sr / 2))
        if half < sr // 2:
            return False
        heard = self._recording_audio(a, middle - half, 2 * half)
        if heard is None or not heard.any():
            return False
        other = self._aligned_with(b, heard, middle - half)
        if other is None or not other.any():
            return False
        pres = compare.presence(heard, other, sr)
        return bool(pres.score.size and np.median(pres.score) > CLEAR_SIGMAS)

    def _probe(self, align: Alignment, edge: int, limit: int, direction: int) -> Probe:
        """Move ``edge`` (a sample) outwards (``direction`` -1: earlier, +1: later) while the music
        goes on, no further than ``limit``; return it as a frame."""
        sr, hop = self.params.sample_rate, self.params.hop
        if direction * (limit - edge) <= 0:  # the recording's own start or end: nothing beyond
            return Probe(edge // hop)
        inside, outside = round(INSIDE_S * sr), round(OUTSIDE_S * sr)
        reach = _towards(edge + direction * outside, limit, direction)
        x = self.excerpt(align, *sorted((edge - direction * inside, reach)))
        if x is None:
            return Probe(edge // hop)
        heard = self._hear(x, edge, direction)
        if heard is None:  # not heard even inside the cue
            return Probe(edge // hop)
        pres, block_s = heard
        found, stopped = _music_edge(x.first + pres.center, pres.score, edge, direction, block_s, sr)
        step, context = round(EXTEND_STEP_S * sr), round(block_s * sr)
        while not stopped and direction * (limit - reach) > 0 and abs(reach - edge) < EXTEND_MAX_S * sr:
            outer = _towards(reach + direction * step, limit, direction)
            step = min(2 * step, round(EXTEND_STEP_MAX_S * sr))
            more = self.excerpt(align, *sorted((reach - direction * context, outer)))
            if more is None:
                break
            more_pres = compare.presence(more.episode, more.recording, sr, block_s)
            found, stopped = _music_edge(more.first + more_pres.center, more_pres.score, found, direction,
                                         block_s, sr)
            reach = outer
        return Probe(found // hop, heard=True)

    def _hear(self, x: Excerpt, edge: int, direction: int) -> tuple[compare.Presence, float] | None:
        """Presence in ``x`` and the block length (s) to search with; None if the recording is
        not heard inside the cue (the side of ``edge`` away from ``direction``). Short blocks
        place an edge best; where they only just hear the recording (median score under
        :data:`CLEAR_SIGMAS`), long ones follow it further."""
        heard = None
        for block_s in (compare.BLOCK_S, compare.LONG_BLOCK_S):
            pres = compare.presence(x.episode, x.recording, self.params.sample_rate, block_s)
            inside = pres.score[direction * (x.first + pres.center - edge) <= 0]
            level = float(np.median(inside)) if inside.size else 0.0
            if level > compare.CHANCE_SIGMAS:
                heard = pres, block_s
            if level > CLEAR_SIGMAS or (heard is not None and block_s > compare.BLOCK_S):
                break
        return heard

    def loudness(self, align: Alignment, first: int, end: int) -> Loudness | None:
        """How loud the recording is against everything else (:class:`Loudness`) in the middle of
        the part of episode frames ``[first, end)`` still in the ring; None if it cannot be
        listened to there (no audio to compare)."""
        p = self.params
        lo, hi = max(first * p.hop, self.ring.start), min(end * p.hop, self.ring.end)
        half = round(USAGE_S * p.sample_rate / 2)
        middle = (lo + hi) // 2
        x = self.excerpt(align, max(lo, middle - half), min(hi, middle + half))
        if x is None:
            return None
        pres = compare.presence(x.episode, x.recording, p.sample_rate)
        audible_from = compare.audible_from_db(pres)
        if audible_from is None:
            return None
        peak_rho = float(pres.rho.max())
        if np.median(pres.score) <= compare.CHANCE_SIGMAS:
            # not heard, or only through an incoherent channel: rho² is no share then
            return Loudness(None, audible_from, peak_rho)
        balance = compare.balance_db(pres)
        return Loudness(balance, audible_from if balance is None else balance, peak_rho)

    def _aligned_with(self, align: Alignment, samples: np.ndarray, at: int) -> np.ndarray | None:
        """The recording as heard from absolute episode sample ``at``, aligned to the sample with
        ``samples`` (which start there) within ±:data:`ALIGN_S`; None if it cannot be decoded."""
        margin = round(ALIGN_S * self.params.sample_rate)
        recording = self._recording_audio(align, at - margin, samples.size + 2 * margin)
        if recording is None:
            return None
        k, _ = compare.best_match(samples, recording)
        return recording[k : k + samples.size]

    def _recording_audio(self, align: Alignment, at: int, n: int) -> np.ndarray | None:
        """``n`` samples of the recording as heard from episode sample ``at`` (silence outside the
        recording); None if its file cannot be decoded."""
        rec, sr = align.recording, self.params.sample_rate
        if rec.path in self.unreadable or align.warp.speed != align.warp.pitch:
            return None  # a tempo or pitch change alone: resampling cannot play it at the episode's pace
        start_s, end_s = align.recording_time(at / sr), align.recording_time((at + n) / sr)
        try:
            y, t0 = load_span(rec.path, max(0.0, start_s - 0.05), end_s + 0.05, sr)
        except (AudioError, OSError):
            self.unreadable.add(rec.path)
            return None
        if align.speed != 1.0:  # heard faster: play the recording at the episode's pace
            ratio = Fraction(align.speed).limit_denominator(1000)
            stretch = StreamResampler(ratio.numerator, ratio.denominator)
            y = np.concatenate([stretch.push(y), stretch.flush()])
        first = round(align.episode_time(t0) * sr) - at  # where y[0] falls in the excerpt
        out = np.zeros(n, np.float32)
        lo, hi = max(0, first), min(n, first + y.size)
        if hi > lo:
            out[lo:hi] = y[lo - first : hi - first]
        return out


def _towards(sample: int, limit: int, direction: int) -> int:
    """``sample``, but not past ``limit`` in ``direction``."""
    return min(sample, limit) if direction > 0 else max(sample, limit)


def _music_edge(center: np.ndarray, score: np.ndarray, edge: int, direction: int, block_s: float,
                sample_rate: int) -> tuple[int, bool]:
    """Where the music ends going outwards from sample ``edge``, from blocks centred on samples
    ``center`` with presence ``score`` (:attr:`compare.Presence.score`): ``(sample, stopped)``;
    ``stopped`` is False when the music still plays at the outermost block. The edge is half a
    step (a quarter block) beyond the centre of the last block with music."""
    order = np.argsort(direction * center)
    absent_for = ABSENT_BLOCKS * block_s * sample_rate
    half_step = round(block_s * sample_rate / 4)  # blocks overlap by half
    last_music, gap_from = edge, None
    for c, r in zip(center[order], score[order], strict=True):
        if direction * (c - edge) < 0:
            continue
        if r > compare.CHANCE_SIGMAS:
            last_music, gap_from = int(c) + direction * half_step, None
        elif gap_from is None:
            gap_from = int(c)
        elif abs(c - gap_from) >= absent_for:
            return last_music, True
    return last_music, False
