"""Scan jobs over HTTP: ``POST /api/scans`` (token), ``GET /api/scans/{id}`` (public)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..library import MAX_SPEED_CHANGE_LIMIT
from .clips import move_upload
from .deps import Cat, Token
from .errors import ApiError

router = APIRouter(tags=["scans"])


class ScanRequest(BaseModel):
    """Scan a media file that is already on the server."""

    path: str = Field(description="Absolute path of an episode or film on the server.")
    episode_id: int | None = Field(None, description="Import the cues into this catalog episode when done.")
    max_speed_change: float = Field(0.0, ge=0.0, le=MAX_SPEED_CHANGE_LIMIT,
                                    description="Also find songs sped up, slowed down or pitch-shifted by up to "
                                                "this much (relative, in 1 % steps); costs several times the scan.")


_UPLOAD_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": ScanRequest.model_json_schema()},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary", "description": "The episode file."},
                               "episode_id": {"type": "integer"}, "max_speed_change": {"type": "number"}},
            }},
        },
        "required": True,
    },
}


@router.post("/api/scans", status_code=202, dependencies=[Token], openapi_extra=_UPLOAD_DOC,
             summary="Start a scan of an episode")
async def create_scan(request: Request, catalog: Cat) -> dict[str, Any]:
    """Scan an uploaded episode (multipart field ``file``) or a file on the server (JSON ``{"path"}``).

    Answers 202 with the job (``id``, ``state``); poll ``GET /api/scans/{id}``. With ``episode_id``
    the cues and the timeline picture are imported into that episode when the scan is done.
    """
    jobs = request.app.state.scan_jobs
    settings = request.app.state.settings
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ApiError(422, "file_required", "send the episode as the multipart field 'file'")
            episode_id = _episode_id(form.get("episode_id"), catalog)
            max_speed_change = _max_speed_change(form.get("max_speed_change"))
            name = Path(upload.filename or "episode").name
            jobs.dir.mkdir(parents=True, exist_ok=True)
            dest = jobs.dir / f"upload-{uuid.uuid4().hex[:12]}{Path(name).suffix[:10]}"
            await run_in_threadpool(move_upload, upload, dest, max_bytes=settings.max_scan_upload_bytes,
                                    what="episode file")
        return jobs.submit(dest, episode_id=episode_id, uploaded=True, name=name, max_speed_change=max_speed_change)
    try:
        body = ScanRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise ApiError(422, "bad_request", "send JSON {\"path\": ..., \"episode_id\": ...} or a multipart "
                       f"upload: {exc.errors()[0]['msg']}") from None
    media = Path(body.path).expanduser()
    if not media.is_absolute() or not media.is_file():
        raise ApiError(422, "no_such_file", f"{body.path}: no such file on the server (give an absolute path)")
    episode_id = _episode_id(body.episode_id, catalog)
    return jobs.submit(media, episode_id=episode_id, name=media.name, max_speed_change=body.max_speed_change)


@router.get("/api/scans/{job_id}", summary="State of a scan job")
def scan_state(request: Request, job_id: str) -> dict[str, Any]:
    """``state`` (queued, running, done, failed), ``done_s`` of ``duration_s`` seconds scanned,
    ``speed`` (× real time), ``error`` when failed, ``cues`` when done."""
    return request.app.state.scan_jobs.get(job_id)


def _max_speed_change(raw: Any) -> float:
    """The multipart field ``max_speed_change`` (default 0), checked."""
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ApiError(422, "bad_request", f"max_speed_change={raw!r} is not a number") from None
    if not 0.0 <= value <= MAX_SPEED_CHANGE_LIMIT:
        raise ApiError(422, "bad_request", f"max_speed_change={value} must be within 0..{MAX_SPEED_CHANGE_LIMIT}")
    return value


def _episode_id(raw: Any, catalog: Any) -> int | None:
    """The episode to import into, checked to exist (404 otherwise)."""
    if raw in (None, ""):
        return None
    try:
        episode_id = int(raw)
    except (TypeError, ValueError):
        raise ApiError(422, "bad_request", f"episode_id={raw!r} is not a number") from None
    catalog.episode(episode_id)  # NotFoundError → 404
    return episode_id
