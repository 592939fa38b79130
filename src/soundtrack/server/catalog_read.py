"""Public catalog endpoints: shows, episodes with their cues, recordings, search and playlists.

Lists are pages: ``?offset=&limit=`` (and ``?q=`` to filter) answer ``{items, total, offset,
limit}``. Unknown ids answer 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response

from ..errors import NotFoundError
from .deps import Cat, Limit, Offset, SearchQuery

router = APIRouter(tags=["catalog"])

PlaylistFormat = Literal["m3u", "xspf"]
#: Media types of the playlist formats.
PLAYLIST_TYPES = {"m3u": "audio/x-mpegurl", "xspf": "application/xspf+xml"}


@router.get("/api/shows", summary="Shows, by title")
def shows(catalog: Cat, q: SearchQuery = None, offset: Offset = 0, limit: Limit = 50) -> dict[str, Any]:
    return catalog.shows(query=q or None, offset=offset, limit=limit).to_dict()


@router.get("/api/shows/{show_id}", summary="A show with its seasons and episodes")
def show(catalog: Cat, show_id: int) -> dict[str, Any]:
    return catalog.show(show_id).to_dict()


@router.get("/api/episodes/{episode_id}", summary="An episode with its cues in order")
def episode(catalog: Cat, episode_id: int) -> dict[str, Any]:
    body = catalog.episode(episode_id).to_dict()
    body["timeline_url"] = f"/api/episodes/{episode_id}/timeline.png" if _picture(body["timeline_png"]) else None
    return body


@router.get("/api/episodes/{episode_id}/timeline.png", summary="The episode's timeline picture from its scan",
            response_class=FileResponse, responses={200: {"content": {"image/png": {}}}})
def timeline(catalog: Cat, episode_id: int) -> Response:
    picture = _picture(catalog.episode(episode_id).timeline_png)
    if picture is None:
        raise NotFoundError(f"episode {episode_id} has no timeline picture (it was not scanned)")
    return FileResponse(picture, media_type="image/png")


@router.get("/api/episodes/{episode_id}/playlist.{fmt}", summary="The episode's songs as a playlist")
def episode_playlist(catalog: Cat, episode_id: int, fmt: PlaylistFormat) -> Response:
    text = catalog.playlist(episode_id=episode_id, fmt=fmt)
    return _playlist(text, fmt, f"episode-{episode_id}")


@router.get("/api/shows/{show_id}/seasons/{season}/playlist.{fmt}", summary="A season's songs as a playlist")
def season_playlist(catalog: Cat, show_id: int, season: int, fmt: PlaylistFormat) -> Response:
    text = catalog.playlist(show_id=show_id, season=season, fmt=fmt)
    return _playlist(text, fmt, f"show-{show_id}-season-{season}")


@router.get("/api/recordings", summary="Recordings, by title")
def recordings(catalog: Cat, q: SearchQuery = None, offset: Offset = 0, limit: Limit = 50) -> dict[str, Any]:
    return catalog.recordings(query=q or None, offset=offset, limit=limit).to_dict()


@router.get("/api/recordings/{recording_id}", summary="A recording and every episode where it appears")
def recording(catalog: Cat, recording_id: int) -> dict[str, Any]:
    return catalog.recording(recording_id).to_dict()


@router.get("/api/recordings/{recording_id}/lyrics", summary="A recording's synced lyric lines")
def lyrics(catalog: Cat, recording_id: int) -> list[dict[str, Any]]:
    catalog.recording(recording_id)  # 404 for an unknown recording
    return [line.to_dict() for line in catalog.lyrics(recording_id)]


@router.get("/api/search", summary="Search songs, artists, shows, episodes and scene notes")
def search(catalog: Cat, q: str = Query(min_length=1, max_length=200), offset: Offset = 0,
           limit: Limit = 20) -> dict[str, Any]:
    return catalog.search(q, offset=offset, limit=limit).to_dict()


def _playlist(text: str, fmt: str, stem: str) -> Response:
    return Response(text, media_type=PLAYLIST_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})


def _picture(path: str | None) -> Path | None:
    """The timeline picture file, if the episode has one that exists."""
    return Path(path) if path and Path(path).is_file() else None
