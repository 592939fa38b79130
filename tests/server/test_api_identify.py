"""``POST /api/identify``: browser formats, the lyric line at the end of the clip, limits, bad clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from serverkit import SR, World, clip_of, encode, synth_music

from soundtrack.server import create_app


@pytest.mark.parametrize("ext", [".wav", ".ogg", ".m4a", ".webm"])
def test_identifies_a_clip_in_each_browser_format(client: TestClient, world: World, tmp_path: Path, ext: str) -> None:
    # track0 from 6 s to 13 s: the line playing at 13 s is "Third line" (10–15 s)
    data = encode(tmp_path, clip_of(0, 6.0, 7.0), ext)
    r = client.post("/api/identify", files={"clip": (f"clip{ext}", data)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched"] is True
    match = body["match"]
    assert match["recording_id"] == world.recordings["track0"]
    assert match["title"] == "track0"
    assert "path" not in match and "path" not in match["recording"]  # server files stay private
    assert match["offset_s"] == pytest.approx(6.0, abs=0.15)
    assert body["position_s"] == pytest.approx(13.0, abs=0.2)
    assert body["clip_duration_s"] == pytest.approx(7.0, abs=0.1)
    assert body["lyric"] == {"text": "Third line, the chorus", "start_s": 10.0, "next_start_s": 15.0}
    assert [x["text"] for x in body["lyrics_ahead"]] == ["Fourth line", "Last line"]
    assert body["lyrics_ahead"][0]["start_s"] == 15.0
    (appearance,) = body["appearances"]
    assert appearance["episode_id"] == world.episode_id
    assert appearance["scene_note"] == "Sam gets fired"
    assert appearance["episode_start_s"] == pytest.approx(4.0, abs=0.5)


#: Identification and the page do not depend on the catalog's database: SQLite is enough.
pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)

def test_a_match_without_lyrics_or_scenes(client: TestClient, world: World, tmp_path: Path) -> None:
    r = client.post("/api/identify", files={"clip": ("clip.wav", encode(tmp_path, clip_of(4, 3.0, 5.0), ".wav"))})
    body = r.json()
    assert body["match"]["recording_id"] == world.recordings["track4"]
    assert body["lyric"] is None and body["lyrics_ahead"] == [] and body["appearances"] == []


def test_unknown_music_is_no_match(client: TestClient, tmp_path: Path) -> None:
    y = synth_music(999, 6.0)
    r = client.post("/api/identify", files={"clip": ("clip.ogg", encode(tmp_path, y, ".ogg"))})
    assert r.status_code == 200
    assert r.json()["matched"] is False and r.json()["match"] is None


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"this is not audio at all" * 40, "unreadable_audio", "not a media file"),
    (b"", "empty_upload", "empty"),
])
def test_unreadable_clips_are_422_with_the_reason(client: TestClient, data: bytes, code: str, words: str) -> None:
    r = client.post("/api/identify", files={"clip": ("clip.webm", data)})
    assert r.status_code == 422
    assert r.json()["code"] == code and words in r.json()["detail"]


def test_silent_and_short_clips_are_422(client: TestClient, tmp_path: Path) -> None:
    zeros = encode(tmp_path, np.zeros(5 * SR, np.float32), ".wav")
    silent = client.post("/api/identify", files={"clip": ("s.wav", zeros)})
    assert silent.status_code == 422 and silent.json()["code"] == "clip_silent"
    short = client.post("/api/identify", files={"clip": ("s.wav", encode(tmp_path, clip_of(1, 0, 0.5), ".wav"))})
    assert short.status_code == 422 and short.json()["code"] == "clip_too_short"


def test_clip_longer_than_the_limit_is_422(client: TestClient, tmp_path: Path) -> None:
    y = np.concatenate([synth_music(100 + i, 24.0) for i in range(2)])[: 21 * SR]  # limit: 20 s
    r = client.post("/api/identify", files={"clip": ("long.ogg", encode(tmp_path, y, ".ogg"))})
    assert r.status_code == 422
    assert r.json() == {"detail": "the clip is too long: the limit is 20 s of audio", "code": "clip_too_long"}


def test_upload_over_the_size_limit_is_413(client: TestClient, tmp_path: Path) -> None:
    data = encode(tmp_path, synth_music(7, 60.0), ".wav")  # 2.6 MB, limit 2 MB
    r = client.post("/api/identify", files={"clip": ("big.wav", data)})
    assert r.status_code == 413
    assert r.json() == {"detail": "the clip is too large: the limit is 2 MB", "code": "too_large"}


def test_upload_without_a_length_is_cut_off_at_the_limit(client: TestClient) -> None:
    """A chunked body (no Content-Length) is counted as it arrives."""
    boundary = "xyz"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"clip\"; filename=\"a.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(40):
            yield b"\0" * 100_000  # 4 MB in all
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = client.post("/api/identify", content=body(), headers=headers)
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_missing_clip_field_is_422(client: TestClient) -> None:
    r = client.post("/api/identify", files={"other": ("a.wav", b"x")})
    assert r.status_code == 422


def test_limits_come_from_create_app(world: World, tmp_path: Path) -> None:
    app = create_app(world.library, world.database_url, data_dir=world.data_dir, max_upload_mb=0.05, max_clip_s=3)
    with TestClient(app) as c:
        assert c.get("/api/health").json()["max_clip_s"] == 3
        small = encode(tmp_path, clip_of(0, 0, 4.0), ".ogg")  # 4 s of Opus: under 50 kB, over 3 s
        assert len(small) < 50_000
        assert c.post("/api/identify", files={"clip": ("a.ogg", small)}).json()["code"] == "clip_too_long"
        big = encode(tmp_path, clip_of(0, 0, 2.0), ".wav")  # 88 kB
        assert c.post("/api/identify", files={"clip": ("a.wav", big)}).status_code == 413


def test_the_speed_search_is_a_server_setting(world: World, client: TestClient, tmp_path: Path) -> None:
    """A clip sped up 5 % (pitch too) is found when the server searches speed changes, with its
    speed; the default server answers no match."""
    from scipy.signal import resample_poly

    fast = resample_poly(clip_of(2, 8.0, 6.3), 20, 21).astype(np.float32)  # played 1.05 times faster
    data = encode(tmp_path, fast, ".wav")
    assert client.post("/api/identify", files={"clip": ("fast.wav", data)}).json()["matched"] is False
    app = create_app(world.library, world.database_url, data_dir=world.data_dir, max_speed_change=0.1)
    with TestClient(app) as c:
        body = c.post("/api/identify", files={"clip": ("fast.wav", data)}).json()
    assert body["match"]["recording_id"] == world.recordings["track2"]
    assert body["match"]["change"] == "speed" and abs(body["match"]["speed"] - 1.05) < 0.005
