"""Scan jobs: submitted by path or upload (token required), polled to the end, imported into an episode."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from serverkit import World

#: A scan job runs in a fresh worker process: allow for its start-up on a busy machine (seconds).
JOB_TIMEOUT_S = 180.0


def wait_for(client: TestClient, job_id: str) -> dict[str, Any]:
    """Poll the job until it is done or failed; every state seen is checked on the way."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = client.get(f"/api/scans/{job_id}").json()
        assert job["state"] in ("queued", "running", "done", "failed"), job
        if job["state"] == "running":
            assert 0 <= job["done_s"] <= (job["duration_s"] or 1e9)
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"scan job {job_id} did not finish within {JOB_TIMEOUT_S} s: {job}")


def test_scan_of_a_server_file_imported_into_an_episode(client: TestClient, world: World, episode_file: Path,
                                                        auth: dict[str, str]) -> None:
    show = client.post("/api/shows", json={"title": "Scanned show"}, headers=auth).json()
    episode = client.post(f"/api/shows/{show['id']}/episodes", json={"season": 1, "number": 2}, headers=auth).json()
    r = client.post("/api/scans", json={"path": str(episode_file), "episode_id": episode["id"]}, headers=auth)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "queued" and job["name"] == episode_file.name and job["episode_id"] == episode["id"]
    assert "_media" not in job and "_server_pid" not in job  # nothing about the server's files
    done = wait_for(client, job["id"])
    assert done["state"] == "done", done
    assert done["done_s"] == pytest.approx(44.0, abs=0.5) and done["duration_s"] == pytest.approx(44.0, abs=0.5)
    assert done["speed"] and done["finished_at"] >= done["started_at"] >= done["created_at"]
    assert [c["title"] for c in done["cues"]] == ["track0", "track2"]
    imported = client.get(f"/api/episodes/{episode['id']}").json()
    assert [c["recording"]["title"] for c in imported["cues"]] == ["track0", "track2"]
    assert client.get(f"/api/episodes/{episode['id']}/timeline.png").content.startswith(b"\x89PNG")


def test_scan_of_an_upload(client: TestClient, world: World, episode_file: Path, auth: dict[str, str]) -> None:
    r = client.post("/api/scans", files={"file": ("upload.ogg", episode_file.read_bytes())}, headers=auth)
    assert r.status_code == 202, r.text
    done = wait_for(client, r.json()["id"])
    assert done["state"] == "done" and [c["title"] for c in done["cues"]] == ["track0", "track2"]
    assert done["episode_id"] is None
    assert not list(world.data_dir.glob("scans/upload-*"))  # the upload is removed after its scan


def test_a_corrupt_upload_fails_with_the_reason(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post("/api/scans", files={"file": ("bad.mkv", b"not a video" * 100)}, headers=auth)
    done = wait_for(client, r.json()["id"])
    assert done["state"] == "failed" and "not a media file" in done["error"]


def test_scan_requests_are_checked(client: TestClient, episode_file: Path, auth: dict[str, str]) -> None:
    assert client.post("/api/scans", json={"path": str(episode_file)}).status_code == 401
    missing = client.post("/api/scans", json={"path": "/no/such/episode.mkv"}, headers=auth)
    assert missing.status_code == 422 and missing.json()["code"] == "no_such_file"
    relative = client.post("/api/scans", json={"path": "episode.mkv"}, headers=auth)
    assert relative.status_code == 422
    no_episode = client.post("/api/scans", json={"path": str(episode_file), "episode_id": 9999}, headers=auth)
    assert no_episode.status_code == 404
    assert client.post("/api/scans", json={"nothing": 1}, headers=auth).status_code == 422
    assert client.post("/api/scans", files={"other": ("a", b"x")}, headers=auth).json()["code"] == "file_required"
    assert client.get("/api/scans/../../etc").status_code == 404


def test_the_speed_search_is_asked_for_per_scan(client: TestClient, episode_file: Path, auth: dict[str, str]) -> None:
    """``max_speed_change`` reaches the scan (its cues report speed and pitch); a bad value is a 422."""
    r = client.post("/api/scans", json={"path": str(episode_file), "max_speed_change": 0.03}, headers=auth)
    assert r.status_code == 202, r.text
    assert r.json()["max_speed_change"] == 0.03
    done = wait_for(client, r.json()["id"])
    assert done["state"] == "done" and [c["title"] for c in done["cues"]] == ["track0", "track2"]
    assert all(c["speed"] == 1.0 and c["pitch"] == 1.0 and c["change"] == "none" for c in done["cues"])
    for bad in (0.5, -0.1):
        r = client.post("/api/scans", json={"path": str(episode_file), "max_speed_change": bad}, headers=auth)
        assert r.status_code == 422, r.text
    r = client.post("/api/scans", files={"file": ("e.ogg", episode_file.read_bytes())},
                    data={"max_speed_change": "fast"}, headers=auth)
    assert r.status_code == 422 and "max_speed_change" in r.json()["detail"]
