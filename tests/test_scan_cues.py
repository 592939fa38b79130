"""From tracks to cues without audio: pieces of a song at another tempo are joined, other
pieces are not; a chance track far below a dominant song is dropped, a mashup's quieter song is
not."""

from __future__ import annotations

import numpy as np
import pytest

from soundtrack.export import Cue
from soundtrack.models import Recording
from soundtrack.params import FingerprintParams
from soundtrack.scan.cues import MASKED_DB, Span, join_tempo_pieces, spans
from soundtrack.scan.hits import Hits
from soundtrack.scan.listen import Loudness
from soundtrack.scan.scanner import (
    COHERENT_MIN_RHO,
    ENVELOPE_S,
    FOREGROUND_MIN_BALANCE_DB,
    _blurred,
    _coherent,
    _set_usage,
    music_balance_db,
)
from soundtrack.scan.stream import WARPS, Warp, source_of
from soundtrack.scan.tracks import Track

P = FingerprintParams()
FPS = 1 / P.frame_s  # frames per second


def _piece(recording_id: int, start_s: float, end_s: float, record_at_start_s: float, tempo: float) -> Span:
    """A confirmed track heard at normal speed over episode seconds ``[start_s, end_s)``, whose music is
    the recording from ``record_at_start_s`` on, really played at ``tempo``: its hits agree with
    the offset of the piece's middle (the piece drifts off it at its ends, as a real one does)."""
    frames = np.arange(round(start_s * FPS), round(end_s * FPS), 3, dtype=np.int64)
    recording = record_at_start_s * FPS + (frames - frames[0]) * tempo
    offset = int(round(np.median(recording - frames)))
    hits = Hits(source=np.full(frames.size, source_of(recording_id, WARPS.index(Warp(1.0, 1.0)))),
                offset=np.full(frames.size, offset), frame=frames, last=frames + 10,
                qid=np.arange(frames.size) + recording_id * 10**6 + int(start_s) * 1000)
    track = Track(source=int(hits.source[0]), offset=offset, windows=3, best_score=30, is_confirmed=True)
    track.add(hits)
    return Span(track, frames, int(frames[0]), int(frames[-1]) + 10, np.unique(hits.qid))


def test_pieces_of_a_song_at_another_tempo_become_one_cue_at_that_tempo() -> None:
    tempo = 1.06
    pieces = [_piece(7, 100 + a, 100 + b, (a * tempo), tempo) for a, b in ((0, 4), (6, 9), (12, 20))]
    joined = join_tempo_pieces(pieces, P)
    assert len(joined) == 1
    cue = joined[0]
    assert cue.track.warp == Warp(1.06, 1.0) and cue.track.recording_id == 7
    assert cue.start == pieces[0].start and cue.end == pieces[-1].end
    # the recording's time at the cue's edges, in seconds: 0 at 100 s and 20 × 1.06 at 120 s
    rec_start = (cue.start * cue.track.speed + cue.track.offset) / FPS
    rec_end = (cue.end * cue.track.speed + cue.track.offset) / FPS
    assert abs(rec_start - 0.0) < 0.3 and abs(rec_end - 20 * tempo) < 0.3
    assert [s.track.warp for s in spans([p.track for p in pieces], P, min_score=5)] == [Warp(1.06, 1.0)]


def test_pieces_that_are_not_one_song_at_another_tempo_stay_apart() -> None:
    # the same song used twice at its own speed, 10 s apart: two cues, not one at another tempo
    twice = [_piece(3, 50, 70, 0.0, 1.0), _piece(3, 80, 95, 40.0, 1.0)]
    assert len(join_tempo_pieces(twice, P)) == 2
    # too far apart in the episode, or another recording
    far = [_piece(3, 0, 10, 0.0, 1.06), _piece(3, 40, 50, 42.4, 1.06)]
    assert len(join_tempo_pieces(far, P)) == 2
    others = [_piece(3, 0, 10, 0.0, 1.06), _piece(4, 11, 20, 11.66, 1.06)]
    assert len(join_tempo_pieces(others, P)) == 2
    # a tempo beyond the searched ±10 %
    fast = [_piece(5, 0, 5, 0.0, 1.2), _piece(5, 7, 12, 8.4, 1.2)]
    assert len(join_tempo_pieces(fast, P)) == 2


def _heard(span: Span, balance_db: float | None, at_most_db: float | None = None) -> Span:
    """``span`` with the loudness listening found: heard at ``balance_db`` (None: not heard,
    audible from ``at_most_db``)."""
    span.track.loudness = Loudness(balance_db, balance_db if at_most_db is None else at_most_db)
    return span


def _recordings(found: list[Span]) -> list[int]:
    return sorted(s.track.recording_id for s in spans([f.track for f in found], P, min_score=5))


def test_a_track_far_below_a_dominant_song_in_its_middle_is_dropped() -> None:
    loud = _heard(_piece(1, 0, 60, 0.0, 1.0), 15.0)
    chance = _heard(_piece(2, 20, 30, 80.0, 1.0), -21.0)
    unheard = _heard(_piece(3, 35, 45, 10.0, 1.0), None, at_most_db=-20.0)
    assert _recordings([loud, chance, unheard]) == [1]


def test_tracks_listening_cannot_place_below_the_other_are_kept() -> None:
    # a mashup: the quieter song a few dB under the louder
    mashup = [_heard(_piece(1, 0, 60, 0.0, 1.0), 2.0), _heard(_piece(2, 5, 55, 30.0, 1.0), -6.0)]
    assert _recordings(mashup) == [1, 2]
    # both unheard (a phone's channel), or the weak one not listened to at all (a tempo change)
    phone = [_heard(_piece(1, 0, 60, 0.0, 1.0), None, -20.0), _heard(_piece(2, 20, 30, 0.0, 1.0), None, -20.0)]
    assert _recordings(phone) == [1, 2]
    unlistened = [_heard(_piece(1, 0, 60, 0.0, 1.0), 15.0), _piece(2, 20, 30, 0.0, 1.0)]
    assert _recordings(unlistened) == [1, 2]
    # far below, but only overlapping the dominant song's end: a crossfade, not inside it
    crossfade = [_heard(_piece(1, 0, 60, 0.0, 1.0), 15.0), _heard(_piece(2, 55, 90, 0.0, 1.0), 15.0 - MASKED_DB)]
    assert _recordings(crossfade) == [1, 2]


def test_a_faint_track_yields_to_a_clear_repeat_of_its_recording() -> None:
    # a looped passage: the wrong repeat (more landmarks, confirmed faintly) and the right one
    # (heard clearly) over the same stretch of the episode
    wrong, right = _piece(1, 100, 130, 183.0, 1.0), _piece(1, 110, 130, 63.0, 1.0)
    assert wrong.score > right.score
    assert [s.track.offset for s in spans([wrong.track, right.track], P, 1)] == [wrong.track.offset]
    wrong.track.faint = True
    assert [s.track.offset for s in spans([wrong.track, right.track], P, 1)] == [right.track.offset]


def _cue(number: int, start_s: float, end_s: float, balance_db: float | None, overlaps: list[int]) -> Cue:
    rec = Recording(id=number, path=f"/music/{number}.ogg", title=str(number), duration_s=300.0)
    return Cue(number=number, recording=rec, episode_start_s=start_s, episode_end_s=end_s, recording_start_s=0.0,
               recording_end_s=end_s - start_s, score=100, confidence=0.9, balance_db=balance_db, overlaps=overlaps)


def test_the_music_of_a_mashup_is_both_songs() -> None:
    # each song alone under a third of the energy; together, more than the dialogue
    a, b = _cue(1, 10.0, 50.0, -9.0, [2]), _cue(2, 12.0, 48.0, -1.5, [1])
    together = music_balance_db(a, [a, b])
    assert together is not None and together > FOREGROUND_MIN_BALANCE_DB > a.balance_db
    assert 0.0 < together < 1.0  # shares 0.112 and 0.415 of the energy: 0.53 of it, +0.5 dB
    # a crossfade partner not sounding in the cue's middle, or one not heard, does not count
    a.overlaps = [3, 4]
    fading, unheard = _cue(3, 45.0, 90.0, 3.0, [1]), _cue(4, 20.0, 40.0, None, [1])
    assert music_balance_db(a, [a, fading, unheard]) == pytest.approx(-9.0)
    assert music_balance_db(unheard, [a, unheard]) is None


def test_usage_comes_from_the_level_dips_where_the_episode_does_not_keep_the_waveforms() -> None:
    # a phone's room and codec: a song as loud as the dialogue correlates so little with its
    # recording that its balance reads -15 dB, but the episode's level hardly dips during it
    steady = [0.1] * round(60 / ENVELOPE_S)
    through_phone = [_track_heard(-15.0, peak_rho=0.4), _track_heard(-12.0, peak_rho=COHERENT_MIN_RHO - 0.1)]
    broadcast = through_phone + [_track_heard(2.0, peak_rho=COHERENT_MIN_RHO + 0.05)]
    assert not _coherent(through_phone) and _coherent(broadcast)
    assert _blurred(through_phone) and not _blurred(broadcast)
    assert not _blurred([]) and not _blurred([Track(source=1, offset=0)])  # nothing listened to yet: not known
    for coherent, foreground in ((True, False), (False, True)):
        cue = _cue(1, 10.0, 50.0, -15.0, [])
        _set_usage([cue], steady, coherent=coherent)
        assert cue.foreground is foreground
    # background music: the level falls by the dialogue's lead in every pause
    pauses = [0.1 if k % 8 else 0.01 for k in range(round(60 / ENVELOPE_S))]
    cue = _cue(1, 10.0, 50.0, -15.0, [])
    _set_usage([cue], pauses, coherent=False)
    assert cue.foreground is False


def _track_heard(balance_db: float, *, peak_rho: float) -> Track:
    track = Track(source=1, offset=0)
    track.loudness = Loudness(balance_db, balance_db, peak_rho)
    return track


def test_subtracting_the_found_song_leaves_the_other() -> None:
    """The found recording, at a gain that drifts, comes out of the mix; what is left is the rest."""
    from soundtrack.scan.unmask import subtract, worth_unmasking

    rng = np.random.default_rng(1)
    found, other = rng.standard_normal(48000), rng.standard_normal(48000)
    gain = np.linspace(0.6, 0.9, found.size)  # a fade
    rest = subtract(gain * found + other, found, block=4000)
    assert float(np.mean((rest - other) ** 2)) < 0.01 * float(np.mean(other**2))
    assert worth_unmasking(0.0) and worth_unmasking(-5.0)
    assert not worth_unmasking(12.0) and not worth_unmasking(-15.0) and not worth_unmasking(None)


def test_a_track_playing_the_same_audio_as_a_stronger_one_is_its_alias() -> None:
    # two recordings sharing a passage with few landmarks in common: not an echo, but the same audio
    strong, alias, partner = _piece(1, 0, 60, 0.0, 1.0), _piece(2, 20, 35, 50.0, 1.0), _piece(3, 10, 50, 0.0, 1.0)
    alias_of_1 = {(2, 1)}

    def same_audio(weak: Span, loud: Span) -> bool:
        return (weak.track.recording_id, loud.track.recording_id) in alias_of_1

    tracks = [s.track for s in (strong, alias, partner)]
    assert sorted(s.track.recording_id for s in spans(tracks, P, min_score=5, same_audio=same_audio)) == [1, 3]
    assert sorted(s.track.recording_id for s in spans(tracks, P, min_score=5)) == [1, 2, 3]
    # overlapping by less than a second (the end of a crossfade): not compared
    brief = _piece(2, 59.5, 80, 50.0, 1.0)
    assert sorted(s.track.recording_id for s in spans([strong.track, brief.track], P, min_score=5,
                                                     same_audio=same_audio)) == [1, 2]
