"""Catalog edits, each requiring an API token (``Authorization: Bearer <token>``): 401 without one,
403 with one that is not valid. Bodies are JSON; times are seconds."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from .deps import Cat, Token
from .errors import ApiError

router = APIRouter(tags=["catalog (write)"], dependencies=[Token])

#: Cue-sheet usage codes (see :mod:`soundtrack.export`).
Usage = Literal["BI", "BV", "VI", "VV", "MT", "ET"]


class NewShow(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    description: str | None = None


class NewEpisode(BaseModel):
    season: int = Field(ge=0, description="Season number (0 for specials).")
    number: int = Field(ge=0, description="Episode number within the season.")
    title: str | None = Field(None, max_length=300)
    media_path: str | None = Field(None, description="The episode's media file on the server.")


class NewCue(BaseModel):
    recording_id: int
    episode_start_s: float = Field(ge=0)
    episode_end_s: float = Field(gt=0)
    recording_start_s: float = Field(0.0, ge=0)
    scene_note: str | None = Field(None, max_length=2000)
    usage: Usage = "BI"


class CueChanges(BaseModel):
    """Only the fields given are changed."""

    confirmed: bool | None = None
    scene_note: str | None = Field(None, max_length=2000)
    usage: Usage | None = None
    visual_vocal: bool | None = None
    episode_start_s: float | None = Field(None, ge=0)
    episode_end_s: float | None = Field(None, gt=0)
    recording_id: int | None = None


class Lyrics(BaseModel):
    lrc: str = Field(description="Synced lyrics in LRC format ([mm:ss.xx] text per line).", max_length=200_000)
    explicit: bool | None = Field(None, description="Whether the lyrics are explicit.")


@router.post("/api/shows", status_code=201, summary="Add a show")
def add_show(catalog: Cat, body: NewShow) -> dict[str, Any]:
    return catalog.add_show(body.title, description=body.description).to_dict()


@router.post("/api/shows/{show_id}/episodes", status_code=201, summary="Add an episode to a show")
def add_episode(catalog: Cat, show_id: int, body: NewEpisode) -> dict[str, Any]:
    catalog.show(show_id)  # 404 for an unknown show
    return catalog.add_episode(show_id, body.season, body.number, title=body.title,
                               media_path=body.media_path).to_dict()


@router.post("/api/episodes/{episode_id}/cues", status_code=201, summary="Add a cue to an episode")
def add_cue(catalog: Cat, episode_id: int, body: NewCue) -> dict[str, Any]:
    _check_span(body.episode_start_s, body.episode_end_s)
    return catalog.add_cue(episode_id, body.recording_id, body.episode_start_s, body.episode_end_s,
                           recording_start_s=body.recording_start_s, scene_note=body.scene_note,
                           usage=body.usage).to_dict()


@router.patch("/api/cues/{cue_id}", summary="Edit a cue: confirm, correct, note the scene, set usage")
def update_cue(catalog: Cat, cue_id: int, body: CueChanges) -> dict[str, Any]:
    if body.episode_start_s is not None and body.episode_end_s is not None:
        _check_span(body.episode_start_s, body.episode_end_s)
    return catalog.update_cue(cue_id, **body.model_dump(exclude_unset=True)).to_dict()


@router.delete("/api/cues/{cue_id}", status_code=204, summary="Delete a cue")
def delete_cue(catalog: Cat, cue_id: int) -> Response:
    catalog.delete_cue(cue_id)
    return Response(status_code=204)


@router.put("/api/recordings/{recording_id}/lyrics", summary="Set a recording's synced lyrics (LRC)")
def set_lyrics(catalog: Cat, recording_id: int, body: Lyrics) -> dict[str, Any]:
    catalog.set_lyrics(recording_id, body.lrc, explicit=body.explicit)
    return {"recording_id": recording_id, "lines": [line.to_dict() for line in catalog.lyrics(recording_id)]}


def _check_span(start_s: float, end_s: float) -> None:
    if end_s <= start_s:
        raise ApiError(400, "bad_request", f"episode_end_s={end_s} must be after episode_start_s={start_s}")
