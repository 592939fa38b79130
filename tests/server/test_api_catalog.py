"""Catalog endpoints: public reads (pages, search, playlists, timeline), token-guarded writes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from serverkit import World

#: A resource loaded from another site: src/href attributes, ES module imports, CSS url().
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//"""
                      r"""|from\s+["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//""")


def test_episode_lists_its_songs_in_order(client: TestClient, world: World) -> None:
    ep = client.get(f"/api/episodes/{world.episode_id}").json()
    assert ep["title"] == "Track 1: Nellie and Sam" and ep["show_title"] == "Soundtrack"
    assert [c["recording"]["title"] for c in ep["cues"]] == ["track0", "track2"]
    first, second = ep["cues"]
    assert first["episode_start_s"] == pytest.approx(4.0, abs=0.5)
    assert second["episode_start_s"] == pytest.approx(24.0, abs=0.5)
    assert first["scene_note"] == "Sam gets fired" and first["confirmed"] is True
    assert ep["timeline_url"] == f"/api/episodes/{world.episode_id}/timeline.png"


def test_timeline_picture_is_served(client: TestClient, world: World) -> None:
    r = client.get(f"/api/episodes/{world.episode_id}/timeline.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")


def test_show_has_seasons_and_episodes(client: TestClient, world: World) -> None:
    show = client.get(f"/api/shows/{world.show_id}").json()
    assert show["title"] == "Soundtrack"
    (season,) = show["seasons"]
    assert season["number"] == 1 and [e["id"] for e in season["episodes"]] == [world.episode_id]


def test_unknown_ids_are_404_json(client: TestClient) -> None:
    for path in ("/api/shows/9999", "/api/episodes/9999", "/api/recordings/9999", "/api/scans/nosuchjob",
                 "/api/episodes/9999/playlist.m3u"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["code"] == "not_found" and r.json()["detail"]


def test_recording_lists_its_appearances(client: TestClient, world: World) -> None:
    rec = client.get(f"/api/recordings/{world.recordings['track0']}").json()
    assert rec["title"] == "track0" and rec["has_lyrics"] is True
    (a,) = rec["appearances"]
    assert a["episode_id"] == world.episode_id and a["scene_note"] == "Sam gets fired"
    lines = client.get(f"/api/recordings/{world.recordings['track0']}/lyrics").json()
    assert lines[2] == {"text": "Third line, the chorus", "start_s": 10.0, "next_start_s": 15.0}


def test_recordings_are_paginated(client: TestClient) -> None:
    first = client.get("/api/recordings?limit=2").json()
    assert first["total"] == 5 and first["limit"] == 2 and len(first["items"]) == 2
    rest = client.get("/api/recordings?limit=2&offset=4").json()
    assert len(rest["items"]) == 1 and rest["offset"] == 4
    seen = {r["id"] for r in first["items"]} | {r["id"] for r in client.get("/api/recordings?limit=2&offset=2")
                                                 .json()["items"]} | {r["id"] for r in rest["items"]}
    assert len(seen) == 5
    assert client.get("/api/recordings?limit=0").status_code == 422
    assert client.get("/api/recordings?offset=-1").status_code == 422


@pytest.mark.parametrize(("q", "kind"), [("track2", "song"), ("fired", "scene"), ("Soundtrack", "show"),
                                         ("Nellie", "episode")])
def test_search_finds_songs_scenes_shows_and_episodes(client: TestClient, world: World, q: str, kind: str) -> None:
    page = client.get("/api/search", params={"q": q}).json()
    hits = [h for h in page["items"] if h["kind"] == kind]
    assert hits, page
    if kind == "scene":
        assert hits[0]["episode_id"] == world.episode_id
    if kind == "song":
        assert hits[0]["recording_id"] == world.recordings["track2"]


def test_search_needs_a_query(client: TestClient) -> None:
    assert client.get("/api/search").status_code == 422
    assert client.get("/api/search", params={"q": "zzzz-nothing"}).json()["items"] == []


def test_playlists_of_an_episode_and_a_season(client: TestClient, world: World) -> None:
    m3u = client.get(f"/api/episodes/{world.episode_id}/playlist.m3u")
    assert m3u.status_code == 200 and m3u.headers["content-type"].startswith("audio/x-mpegurl")
    assert m3u.text.startswith("#EXTM3U") and m3u.text.index("track0") < m3u.text.index("track2")
    xspf = client.get(f"/api/shows/{world.show_id}/seasons/1/playlist.xspf")
    assert xspf.headers["content-type"].startswith("application/xspf+xml")
    assert "<playlist" in xspf.text and "track2" in xspf.text
    assert client.get(f"/api/episodes/{world.episode_id}/playlist.pls").status_code == 422


def test_writes_need_a_valid_token(client: TestClient, world: World) -> None:
    r = client.post("/api/shows", json={"title": "Nope"})
    assert r.status_code == 401 and r.json()["code"] == "token_required"
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.post("/api/shows", json={"title": "Nope"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["code"] == "token_invalid"
    for method, path in (("PATCH", "/api/cues/1"), ("DELETE", "/api/cues/1"),
                         ("PUT", f"/api/recordings/{world.recordings['track1']}/lyrics"),
                         ("POST", f"/api/episodes/{world.episode_id}/cues"), ("POST", "/api/scans")):
        assert client.request(method, path, json={}).status_code == 401, path
    assert client.get("/api/shows?q=Nope").json()["total"] == 0


def test_shows_and_episodes_are_created_and_paginated(client: TestClient, auth: dict[str, str]) -> None:
    ids = [client.post("/api/shows", json={"title": f"Paged {i}"}, headers=auth).json()["id"] for i in range(3)]
    page = client.get("/api/shows", params={"q": "Paged", "limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    second = client.get("/api/shows", params={"q": "Paged", "limit": 2, "offset": 2}).json()
    assert {s["id"] for s in page["items"] + second["items"]} == set(ids)
    r = client.post(f"/api/shows/{ids[0]}/episodes", json={"season": 2, "number": 3, "title": "Pilot"}, headers=auth)
    assert r.status_code == 201
    show = client.get(f"/api/shows/{ids[0]}").json()
    assert show["seasons"][0]["number"] == 2 and show["seasons"][0]["episodes"][0]["title"] == "Pilot"
    assert client.post("/api/shows", json={"title": ""}, headers=auth).status_code == 422
    assert client.post("/api/shows/9999/episodes", json={"season": 1, "number": 1}, headers=auth).status_code == 404


def test_cues_are_added_edited_and_deleted(client: TestClient, world: World, auth: dict[str, str]) -> None:
    ep = f"/api/episodes/{world.episode_id}"
    new = {"recording_id": world.recordings["track3"], "episode_start_s": 41.0, "episode_end_s": 43.5,
           "scene_note": "Credits", "usage": "ET"}
    r = client.post(f"{ep}/cues", json=new, headers=auth)
    assert r.status_code == 201, r.text
    cue = r.json()
    assert cue["usage"] == "ET" and cue["source"] == "manual"
    assert [c["recording"]["title"] for c in client.get(ep).json()["cues"]][-1] == "track3"
    r = client.patch(f"/api/cues/{cue['id']}", json={"usage": "VV", "scene_note": "Nellie sings"}, headers=auth)
    assert r.status_code == 200 and r.json()["visual_vocal"] is True and r.json()["scene_note"] == "Nellie sings"
    assert client.get("/api/search", params={"q": "Nellie sings"}).json()["items"][0]["kind"] == "scene"
    bad = client.post(f"{ep}/cues", json=new | {"episode_end_s": 40.0}, headers=auth)
    assert bad.status_code == 400 and "episode_end_s" in bad.json()["detail"]
    assert client.patch(f"/api/cues/{cue['id']}", json={"usage": "XX"}, headers=auth).status_code == 422
    assert client.delete(f"/api/cues/{cue['id']}", headers=auth).status_code == 204
    assert len(client.get(ep).json()["cues"]) == 2
    assert client.delete(f"/api/cues/{cue['id']}", headers=auth).status_code == 404


def test_lyrics_are_set_and_bad_lrc_is_400(client: TestClient, world: World, auth: dict[str, str]) -> None:
    path = f"/api/recordings/{world.recordings['track1']}/lyrics"
    r = client.put(path, json={"lrc": "[00:01.00]Hello\n[00:03.50]World\n", "explicit": True}, headers=auth)
    assert r.status_code == 200, r.text
    assert [line["text"] for line in r.json()["lines"]] == ["Hello", "World"]
    assert client.get(f"/api/recordings/{world.recordings['track1']}").json()["explicit"] is True
    bad = client.put(path, json={"lrc": "no timestamps here"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["detail"]


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/identify", "/api/scans", "/api/search", "/api/episodes/{episode_id}"} <= set(paths)


def test_the_page_and_its_modules_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="listen-button"' in page.text
    assert not EXTERNAL.search(page.text)
    for name in ("app.js", "views.js", "listen.js", "dom.js", "style.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert not EXTERNAL.search(r.text), name  # no CDN: everything the page loads is served here
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_answers_do_not_show_server_file_paths(client: TestClient, world: World) -> None:
    def keys(value: object) -> set[str]:
        if isinstance(value, dict):
            return set(value) | set().union(*(keys(v) for v in value.values()))
        if isinstance(value, list):
            return set().union(*(keys(v) for v in value)) if value else set()
        return set()

    for path in (f"/api/episodes/{world.episode_id}", f"/api/shows/{world.show_id}", "/api/recordings",
                 f"/api/recordings/{world.recordings['track0']}"):
        body = client.get(path).json()
        assert not keys(body) & {"path", "media_path", "timeline_png"}, path
        assert str(world.library) not in str(body)
