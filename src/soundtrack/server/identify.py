"""``POST /api/identify``: which song is this clip from, where in it, and which lyric line is playing."""

from __future__ import annotations

import time
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, File, Request, UploadFile

from ..catalog import Catalog
from ..errors import NotFoundError
from ..library import MIN_QUERY_S
from ..models import Match
from .clips import decode_clip, saved_upload
from .deps import Cat, Lib, Settings
from .errors import ApiError

#: Lyric lines after the current one sent with a match, so the page can advance the line in time.
LYRICS_AHEAD = 12
#: A clip whose loudest sample is below this (full scale = 1) is silence: the microphone is off.
SILENCE_PEAK = 1e-4

router = APIRouter(tags=["identify"])


@router.post("/api/identify", summary="Identify a recorded clip")
def identify(
    request: Request,
    library: Lib,
    catalog: Cat,
    settings: Settings,
    clip: Annotated[UploadFile, File(description="A few seconds of audio: webm/opus, ogg, m4a, wav, mp3...")],
) -> dict[str, Any]:
    """Identify an uploaded clip.

    Answers ``{matched, match, position_s, lyric, lyrics_ahead, appearances, clip_duration_s,
    elapsed_ms}``. ``match`` is the best match in the form of ``soundtrack identify --json``
    (``offset_s``: where in the recording the clip starts, seconds); ``position_s`` is where in the
    recording the clip *ends* (offset + duration × speed): ``lyric`` is the line playing there,
    ``lyrics_ahead`` the following lines with their start times. ``appearances`` lists the
    catalog's cues of the recording (episode, times, scene note). 413 for an upload over the size
    limit, 422 for a clip too long, too short, silent or unreadable.
    """
    started = time.perf_counter()
    # the work is CPU-bound: no more requests at once than the settings allow, the others wait in
    # line (decoding included, so that a queue of requests does not share the cores thinly)
    with request.app.state.identify_slots:
        sr = library.params.sample_rate
        with saved_upload(clip, max_bytes=settings.max_upload_bytes) as path:
            samples = decode_clip(path, sr, max_clip_s=settings.max_clip_s)
        duration_s = samples.size / sr
        if duration_s < MIN_QUERY_S:
            raise ApiError(422, "clip_too_short",
                           f"the clip is too short: {duration_s:.1f} s; at least {MIN_QUERY_S:g} s is needed")
        if float(np.abs(samples).max()) < SILENCE_PEAK:
            raise ApiError(422, "clip_silent", "the clip is silent: is the microphone muted?")
        matches = library.identify(samples, sample_rate=sr, max_results=3, max_speed_change=settings.max_speed_change)
        body = describe(matches, catalog, duration_s)
    body["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return body


def describe(matches: list[Match], catalog: Catalog, duration_s: float) -> dict[str, Any]:
    """The answer for ``matches`` of a clip of ``duration_s`` seconds (see :func:`identify`)."""
    body: dict[str, Any] = {"matched": bool(matches), "clip_duration_s": round(duration_s, 3), "match": None,
                            "others": [m.to_dict() for m in matches[1:]], "position_s": None, "lyric": None,
                            "lyrics_ahead": [], "appearances": []}
    if not matches:
        return body
    best = matches[0]
    position_s = best.offset_s + duration_s * best.speed
    body["match"] = best.to_dict() | {"recording": best.recording.to_dict()}
    body["position_s"] = round(position_s, 3)
    rid = best.recording.id
    try:
        info = catalog.recording(rid)
    except NotFoundError:  # indexed after the catalog last synced its recordings
        return body
    body["match"]["recording"] = info.to_dict()
    body["appearances"] = [a.to_dict() for a in getattr(info, "appearances", [])]
    line = catalog.lyric_line(rid, position_s)
    if line is not None:
        body["lyric"] = line.to_dict()
    after_s = line.start_s if line is not None else position_s  # before the first line: all lie ahead
    body["lyrics_ahead"] = [x.to_dict() for x in catalog.lyrics(rid) if x.start_s > after_s][:LYRICS_AHEAD]
    return body
