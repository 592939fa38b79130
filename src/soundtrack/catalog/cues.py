"""Cues: importing a scan into an episode, and the edits people make (confirm, correct, note, add, delete).

A re-import replaces what the machine said before and keeps what people said: cues that are
confirmed, added by hand, or edited are kept, and a scanned cue of the same recording overlapping a
kept one is not added again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..errors import CatalogError
from ..export import Soundtrack
from . import convert
from .recordings import mirror
from .results import CueInfo, Episode
from .schema import CueRow, EpisodeRow, RecordingRow, utcnow
from .shows import episode_row


def import_scan(session: Session, episode_id: int, soundtrack: Soundtrack, timeline_png: str | None) -> Episode:
    """Replace the episode's machine cues by those of ``soundtrack`` (see the module docstring); the
    episode takes the scan's duration, its media path (unless it has one) and ``timeline_png``."""
    ep = episode_row(session, episode_id)
    # in id order, so that two imports at once take the recordings' row locks in one order (no deadlock)
    for rec in sorted({c.recording.id: c.recording for c in soundtrack.cues}.values(), key=lambda r: r.id):
        mirror(session, rec)
    kept = [c for c in ep.cues if _by_people(c)]
    for cue in [c for c in ep.cues if not _by_people(c)]:
        ep.cues.remove(cue)  # delete-orphan: the row goes
    for c in soundtrack.cues:
        start, end = max(0.0, c.episode_start_s), max(0.0, c.episode_end_s)
        if end <= start or any(k.recording_id == c.recording.id and _overlap(k, start, end) for k in kept):
            continue
        ep.cues.append(CueRow(
            recording_id=c.recording.id, episode_start_s=start, episode_end_s=end,
            recording_start_s=c.recording_start_s, recording_end_s=c.recording_end_s, speed=c.speed, pitch=c.pitch,
            score=c.score, confidence=c.confidence, coverage=c.coverage, interrupted=c.interrupted,
            partial_start=c.partial_start, foreground=c.foreground, usage=convert.check_usage(c.usage),
            source="scan", confirmed=False))
    ep.duration_s = soundtrack.duration_s
    ep.media_path = ep.media_path or soundtrack.path
    if timeline_png is not None:
        ep.timeline_png = timeline_png
    ep.scanned_at = utcnow()
    session.flush()
    return convert.episode(episode_row(session, episode_id))


def update_cue(session: Session, cue_id: int, *, confirmed: bool | None, scene_note: str | None,
               usage: str | None, visual_vocal: bool | None, episode_start_s: float | None,
               episode_end_s: float | None, recording_id: int | None, recording_start_s: float | None) -> CueInfo:
    """Apply a person's edits to a cue (None leaves a field as it is; see :meth:`Catalog.update_cue`)."""
    cue = convert.get(session, CueRow, cue_id, "cue")
    if confirmed is not None:
        cue.confirmed = confirmed
    if scene_note is not None:
        cue.scene_note = scene_note.strip() or None
    new_usage = _usage(cue.usage, usage, visual_vocal)
    if new_usage != cue.usage:
        cue.usage = new_usage
    if recording_id is not None and recording_id != cue.recording_id:
        convert.get(session, RecordingRow, recording_id, "recording")
        cue.recording_id = recording_id
    _retime(cue, episode_start_s, episode_end_s, recording_start_s)
    edits = (scene_note, usage, visual_vocal, episode_start_s, episode_end_s, recording_id, recording_start_s)
    if any(e is not None for e in edits):  # a person's correction: later imports keep the cue
        cue.edited_at = utcnow()
    session.flush()
    return _info(session, cue)


def add_cue(session: Session, episode_id: int, recording_id: int, episode_start_s: float, episode_end_s: float,
            recording_start_s: float, scene_note: str | None, usage: str) -> CueInfo:
    """A cue a person adds (the scan missed it): confirmed, with no scan evidence."""
    ep = convert.get(session, EpisodeRow, episode_id, "episode")
    rec = convert.get(session, RecordingRow, recording_id, "recording")
    convert.check_times(episode_start_s, episode_end_s, ep.duration_s)
    if recording_start_s < 0:
        raise CatalogError(f"recording_start_s must be 0 or more, not {recording_start_s}")
    cue = CueRow(episode_id=ep.id, recording_id=rec.id, episode_start_s=episode_start_s, episode_end_s=episode_end_s,
                 recording_start_s=recording_start_s,
                 recording_end_s=recording_start_s + (episode_end_s - episode_start_s), speed=1.0, pitch=1.0,
                 usage=convert.check_usage(usage), source="manual", confirmed=True,
                 scene_note=(scene_note or "").strip() or None, edited_at=utcnow())
    session.add(cue)
    session.flush()
    return _info(session, cue)


def delete_cue(session: Session, cue_id: int) -> None:
    session.delete(convert.get(session, CueRow, cue_id, "cue"))


def _info(session: Session, cue: CueRow) -> CueInfo:
    """The cue as a result: numbered and with its overlaps among its episode's cues."""
    session.expire(cue)
    ep = episode_row(session, cue.episode_id)
    return next(c for c in convert.cue_infos(ep.cues) if c.id == cue.id)


def _by_people(cue: CueRow) -> bool:
    return cue.confirmed or cue.source == "manual" or cue.edited_at is not None


def _overlap(cue: CueRow, start_s: float, end_s: float) -> bool:
    return min(cue.episode_end_s, end_s) > max(cue.episode_start_s, start_s)


def _usage(current: str, usage: str | None, visual_vocal: bool | None) -> str:
    """The usage after an edit: ``usage`` if given; ``visual_vocal=True`` means VV, and False turns VV
    into BV (still sung, not on screen) and leaves other codes alone."""
    code = convert.check_usage(usage) if usage is not None else current
    if visual_vocal is None:
        return code
    if usage is not None and visual_vocal != (code == "VV"):
        raise CatalogError(f"usage {code!r} contradicts visual_vocal={visual_vocal}")
    if visual_vocal:
        return "VV"
    return "BV" if code == "VV" else code


def _retime(cue: CueRow, start_s: float | None, end_s: float | None, recording_start_s: float | None) -> None:
    """Move the cue's episode times, keeping its alignment with the recording: moving the start by
    d seconds moves ``recording_start_s`` by d × speed, unless a new ``recording_start_s`` is given."""
    if start_s is None and end_s is None and recording_start_s is None:
        return
    new_start = cue.episode_start_s if start_s is None else start_s
    new_end = cue.episode_end_s if end_s is None else end_s
    convert.check_times(new_start, new_end, cue.episode.duration_s)
    if recording_start_s is None:
        recording_start_s = max(0.0, cue.recording_start_s + (new_start - cue.episode_start_s) * cue.speed)
    elif recording_start_s < 0:
        raise CatalogError(f"recording_start_s must be 0 or more, not {recording_start_s}")
    cue.episode_start_s, cue.episode_end_s = new_start, new_end
    cue.recording_start_s = recording_start_s
    cue.recording_end_s = recording_start_s + (new_end - new_start) * cue.speed
