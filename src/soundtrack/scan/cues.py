"""From confirmed tracks to cues: boundaries, chance edges, shared material, repeats, flags.

A cue starts at the first agreeing anchor of its track and ends at the last peak of the latest
agreeing triplet, after stray hits at either end are trimmed (:func:`trim`). Two kinds of track
are not cues of their own:

* *Shared material.* When two library recordings contain the same audio (a common intro, a
  re-used loop), the episode's landmarks there match both. A track most of whose agreeing
  landmarks also agree with a stronger track at the same time is that track's echo
  (:data:`EXPLAINED_SHARE`). Two songs really playing at once (a mashup) match through different
  landmarks, so both stay.
* *Shared audio.* Two recordings can also hold nearly the same audio with few landmarks in
  common (another master or encoding of one passage): a track of one, overlapping a stronger
  track of the other, whose recording plays the same audio there as the stronger one's
  (``same_audio``, :meth:`soundtrack.scan.listen.Listener.same_audio`), is an alias of it.
* *Repeats.* Music that repeats itself (loops, choruses) matches the same episode audio at
  several offsets of one recording, but a recording cannot be heard twice at once: of the
  overlapping tracks of one recording only the strongest is kept.
* *Masked tracks.* A song that dominates the mix leaves many landmarks, and a few of them line
  up by chance with another recording of similar sound (the same synthesizer, the same drums).
  Listening tells these apart: a track heard :data:`MASKED_DB` or more below a stronger track of
  another recording sounding in its middle, or not heard at all where that one would have heard
  it, is not a cue (see :func:`is_masked`). The two songs of a mashup are mixed at similar
  levels, and a song that far under another would not be heard by anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..params import FingerprintParams
from .stream import WARP_STEP, WARPS, source_of
from .tracks import Track

#: Hits at a cue's edges further than this (s) from the next agreeing hit may be chance hits.
EDGE_GAP_S = 1.5
#: A run of agreeing hits with at least this many distinct anchor frames is solid evidence.
SOLID_RUN = 3
#: A track is another's echo when at least this share of its agreeing landmarks agree with the
#: other, stronger, track too. Songs really sounding together share none (0.00 for every mashup
#: of the scan benchmark); tracks echoing shared material shared 0.33-0.67.
EXPLAINED_SHARE = 0.2
#: A track is masked by a stronger track of another recording sounding in its middle when it is
#: heard at least this many dB below it, both against the rest of the episode
#: (:class:`~soundtrack.scan.listen.Loudness`). On the scan benchmark the quieter song of a mashup
#: is 11 dB or less below the louder; chance tracks inside a dominant song, 26 dB or more.
MASKED_DB = 20.0
#: A song played at a tempo no searched warp matches is heard in pieces, wherever its landmarks
#: happen to line up, each at its own offset: pieces of one recording at one warp that follow each
#: other within :data:`JOIN_GAP_S` (s) and lie on one line of recording time against episode time,
#: each within :data:`JOIN_FIT_S` (s) of it on average, with a slope at most
#: :data:`JOIN_MAX_TEMPO_CHANGE` off the warp's speed, are one cue at that tempo.
JOIN_GAP_S = 20.0
JOIN_FIT_S = 0.5
JOIN_MAX_TEMPO_CHANGE = 0.10
#: Tracks of one recording overlapping by more than this (s) are repeats of its own material.
REPEAT_OVERLAP_S = 1.0
#: A track of one recording at another warp, within :data:`REPEAT_OVERLAP_S` of a stronger one,
#: is part of the same cue when it plays the recording within this (s) of where the stronger
#: one's alignment puts it (a 1 % step drifts by 0.3 s over 30 s).
SAME_PLACE_S = 3.0


@dataclass(frozen=True)
class Span:
    """A track's trimmed evidence: its distinct agreeing anchor ``frames`` (sorted), the ids of
    its agreeing landmarks, and the cue's first and end frame (``start``: the first anchor;
    ``end``: the last peak of the latest triplet), both moved outwards where listening to the
    recording found more of it (:class:`Track` ``start_frame``/``end_frame``)."""

    track: Track
    frames: np.ndarray
    start: int
    end: int
    qids: np.ndarray

    @property
    def score(self) -> int:
        return int(self.frames.size)

    @property
    def strength(self) -> tuple[bool, int]:
        """What ranks spans where one explains another: a track confirmed on faint evidence comes
        after every other (the wrong repeat of a looped passage resembles the episode too, and
        must not push out the right one, heard clearly), then the score."""
        return not self.track.faint, self.score


#: Tracks overlapping by less than this (s) are not compared for shared audio (a crossfade).
ALIAS_MIN_OVERLAP_S = 1.0

#: ``same_audio(weak, strong)``: whether the recordings of two overlapping spans, each at its
#: track's alignment, hold the same audio where both sound.
SameAudio = Callable[["Span", "Span"], bool]


def spans(tracks: list[Track], params: FingerprintParams, min_score: int,
          same_audio: SameAudio | None = None) -> list[Span]:
    """The cues among ``tracks``, as spans in episode order (see the module docstring). Without
    ``same_audio``, aliases are not looked for."""
    found = [s for s in (span(t, params) for t in tracks) if s is not None and s.score >= min_score]
    found = keep_strongest(found, is_echo)
    if same_audio is not None:
        found = keep_strongest(found, lambda weak, strong: is_alias(weak, strong, params, same_audio))
    found = keep_strongest(found, is_masked)
    found = join_tempo_pieces(found, params)
    found = keep_strongest(found, lambda weak, strong: is_repeat(weak, strong, params))
    return sorted(found, key=lambda s: s.start)


def join_tempo_pieces(found: list[Span], params: FingerprintParams) -> list[Span]:
    """Join the pieces of a song played at another tempo than any searched (see :func:`tempo_line`)
    into one span at the nearest tempo of :data:`~soundtrack.scan.stream.WARPS`."""
    by_source: dict[int, list[Span]] = {}
    joined: list[Span] = []
    for s in found:
        if s.track.warp.pitch == 1.0:  # tempo warps keep the pitch: join only what plays at its own
            by_source.setdefault(s.track.source, []).append(s)
        else:
            joined.append(s)
    for pieces in by_source.values():
        pieces.sort(key=lambda s: s.start)
        chain = [pieces[0]]
        for s in pieces[1:]:
            if s.start - max(c.end for c in chain) > params.seconds_to_frames(JOIN_GAP_S):
                joined.append(_joined(chain, params))
                chain = [s]
            elif tempo_line(chain + [s], params) is not None:
                chain.append(s)
            else:  # off the line (another part of the recording): a span of its own, the chain goes on
                joined.append(s)
        joined.append(_joined(chain, params))
    return joined


def tempo_line(pieces: list[Span], params: FingerprintParams) -> tuple[float, float] | None:
    """``(slope, intercept)`` of recording frames against episode frames through the agreeing anchors
    of ``pieces`` (one recording, one warp, each at its own offset), when they are one song at
    another tempo: every piece lies within :data:`JOIN_FIT_S` of the line on average, and the
    slope is off the warp's speed by more than half a search step but by at most
    :data:`JOIN_MAX_TEMPO_CHANGE`. ``None`` otherwise."""
    speed = pieces[0].track.speed
    x = np.concatenate([s.frames for s in pieces]).astype(np.float64)
    y = np.concatenate([s.frames * speed + s.track.offset for s in pieces]).astype(np.float64)
    if np.ptp(x) <= 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    change = abs(slope / speed - 1)
    if not WARP_STEP / 2 < change <= JOIN_MAX_TEMPO_CHANGE:
        return None
    tolerance = params.seconds_to_frames(JOIN_FIT_S)
    for s in pieces:
        if np.mean(np.abs(s.frames * speed + s.track.offset - (slope * s.frames + intercept))) > tolerance:
            return None
    return float(slope), float(intercept)


def _joined(chain: list[Span], params: FingerprintParams) -> Span:
    """One span for a chain of tempo pieces (itself when alone), on a track at the chain's tempo."""
    if len(chain) == 1:
        return chain[0]
    line = tempo_line(chain, params)
    assert line is not None
    slope, intercept = line
    first = chain[0].track
    tempo = 1 + round((slope - 1) / WARP_STEP) * WARP_STEP
    warp = min((w for w in WARPS if w.pitch == 1.0), key=lambda w: abs(w.speed - tempo))
    start, end = min(c.start for c in chain), max(c.end for c in chain)
    middle = (start + end) / 2
    offset = round(slope * middle + intercept - warp.speed * middle)  # right at the middle
    track = Track(source=source_of(first.recording_id, WARPS.index(warp)), offset=offset,
                  windows=sum(c.track.windows for c in chain), best_score=max(c.track.best_score for c in chain),
                  last_frame=max(c.track.last_frame for c in chain), parts=[c.track.hits for c in chain],
                  is_confirmed=True, start_frame=start, end_frame=end,
                  loudness=max(chain, key=lambda c: c.score).track.loudness)
    return Span(track, np.unique(np.concatenate([c.frames for c in chain])), start, end,
                np.unique(np.concatenate([c.qids for c in chain])))


def span(track: Track, params: FingerprintParams) -> Span | None:
    """The trimmed evidence of ``track`` (None if nothing is left)."""
    hits = track.hits
    frames = trim(np.unique(hits.frame), params.seconds_to_frames(EDGE_GAP_S))
    if frames.size == 0:
        return None
    inside = (hits.frame >= frames[0]) & (hits.frame <= frames[-1])
    tail = inside & (hits.frame >= frames[max(0, frames.size - 20)])  # the latest triplets
    start, end = int(frames[0]), int(hits.last[tail].max())
    return Span(track, frames, min(start, track.start_frame if track.start_frame is not None else start),
                max(end, track.end_frame if track.end_frame is not None else end), np.unique(hits.qid[inside]))


def trim(frames: np.ndarray, max_gap: float) -> np.ndarray:
    """Drop isolated hits at either end of sorted ``frames``: keep every run (consecutive hits at
    most ``max_gap`` frames apart) from the first to the last run of at least :data:`SOLID_RUN`
    distinct frames. A cue may contain quiet stretches where the music is drowned, but its edges
    should not be stray hits."""
    if frames.size < 2:
        return frames
    runs = np.split(frames, np.flatnonzero(np.diff(frames) > max_gap) + 1)
    solid = [i for i, r in enumerate(runs) if np.unique(r).size >= SOLID_RUN]
    if not solid:
        return max(runs, key=len)
    return np.concatenate(runs[solid[0] : solid[-1] + 1])


def keep_strongest(found: list[Span], explains: Callable[[Span, Span], bool]) -> list[Span]:
    """``found`` without the spans that a stronger kept span explains (``explains(weak, strong)``:
    an echo, a masked track, a repeat), strongest first."""
    kept: list[Span] = []
    for s in sorted(found, key=lambda s: s.strength, reverse=True):
        if not any(explains(s, k) for k in kept):
            kept.append(s)
    return kept


def is_echo(weak: Span, strong: Span) -> bool:
    """Whether ``weak`` sounds with ``strong`` (another recording) through the same landmarks."""
    return (weak.track.recording_id != strong.track.recording_id and _overlap(weak, strong) > 0
            and float(np.isin(weak.qids, strong.qids, assume_unique=True).mean()) >= EXPLAINED_SHARE)


def is_alias(weak: Span, strong: Span, params: FingerprintParams, same_audio: SameAudio) -> bool:
    """Whether ``weak``, overlapping ``strong`` (another recording) by at least
    :data:`ALIAS_MIN_OVERLAP_S`, plays the same audio as ``strong`` there (``same_audio``)."""
    return (weak.track.recording_id != strong.track.recording_id
            and _overlap(weak, strong) >= params.seconds_to_frames(ALIAS_MIN_OVERLAP_S)
            and same_audio(weak, strong))


def is_repeat(weak: Span, strong: Span, params: FingerprintParams) -> bool:
    """Whether ``weak`` is ``strong``'s recording again at the same time (overlapping by more than
    :data:`REPEAT_OVERLAP_S`, at another offset), or the same part of it heard at another warp
    (:func:`is_same_place`)."""
    near = round(params.seconds_to_frames(REPEAT_OVERLAP_S))
    return weak.track.recording_id == strong.track.recording_id and (
        _overlap(weak, strong) > near or is_same_place(weak, strong, params))


def is_same_place(weak: Span, strong: Span, params: FingerprintParams) -> bool:
    """Whether ``weak``, at another warp than ``strong``, overlaps it or comes within
    :data:`REPEAT_OVERLAP_S` of it, and plays the part of the recording that ``strong``'s alignment
    puts there (to within :data:`SAME_PLACE_S`): the edge of a changed song that also matched at
    the next speed, tempo or pitch step of the search."""
    near = params.seconds_to_frames(REPEAT_OVERLAP_S)
    if weak.track.warp == strong.track.warp or _overlap(weak, strong) < -near:
        return False
    middle = (weak.start + weak.end) / 2
    heard = middle * weak.track.speed + weak.track.offset  # recording frames
    expected = middle * strong.track.speed + strong.track.offset
    return abs(heard - expected) <= params.seconds_to_frames(SAME_PLACE_S)


def is_masked(weak: Span, strong: Span) -> bool:
    """Whether ``weak`` is at least :data:`MASKED_DB` below ``strong``, a track of another
    recording heard in the middle of it (see the module docstring). Tracks that could not be
    listened to are never masked."""
    quiet, loud = weak.track.loudness, strong.track.loudness
    if quiet is None or loud is None or loud.balance_db is None:
        return False
    middle = (weak.start + weak.end) / 2
    return (weak.track.recording_id != strong.track.recording_id and strong.start <= middle <= strong.end
            and quiet.at_most_db <= loud.balance_db - MASKED_DB)


def explained(weak: Span, others: list[Span], params: FingerprintParams) -> bool:
    """Whether a stronger span among ``others`` makes ``weak`` an echo or a repeat."""
    return any(o.strength > weak.strength and (is_echo(weak, o) or is_repeat(weak, o, params)) for o in others)


def _overlap(a: Span, b: Span) -> int:
    """Frames during which both spans sound (negative: the gap between them)."""
    return min(a.end, b.end) - max(a.start, b.start)
