"""The web page in headless Chromium (Debian's chromium + chromium-driver, through Selenium).

The real server runs in a thread (uvicorn) over the test world. Chromium's fake microphone plays
an excerpt of an indexed song, so "What's playing?" goes the whole way: MediaRecorder, upload,
identification, the song and its lyric line on the page. Screenshots go to
``$SOUNDTRACK_TEST_ARTIFACTS`` (default ``tests/artifacts``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverkit import LRC, World, clip_of, write_audio

from soundtrack.server import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("browser tests need Debian's chromium and chromium-driver (apt-get install chromium "
                "chromium-driver; scripts/install.sh tries to)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="browser tests need selenium (pip install selenium)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

#: Identification and the page do not depend on the catalog's database: SQLite is enough.
pytestmark = pytest.mark.parametrize("world", ["sqlite"], indirect=True)

#: Seconds to wait for anything the page does (generous: the machine may be busy).
WAIT_S = 60
LYRIC_LINES = [line.split("]", 1)[1] for line in LRC.splitlines() if line.startswith("[0")]


def artifacts_dir() -> Path:
    path = Path(os.environ.get("SOUNDTRACK_TEST_ARTIFACTS") or Path(__file__).parents[1] / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    """The real server (uvicorn) on a free port, in a thread."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(world.library, world.database_url, data_dir=world.data_dir)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(WAIT_S)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium whose microphone plays track0 from its start (lyrics: one line per 5 s)."""
    mic = write_audio(tmp_path_factory.mktemp("mic") / "clip.wav", clip_of(0, 0.0, 24.0))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={mic}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


def wait(driver: webdriver.Chrome):
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1)


def test_browse_to_an_episode_and_see_its_songs(browser: webdriver.Chrome, base_url: str, world: World) -> None:
    browser.get(f"{base_url}/#/")
    wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, "Soundtrack"))).click()
    wait(browser).until(ec.element_to_be_clickable((By.PARTIAL_LINK_TEXT, "Nellie and Sam"))).click()
    rows = wait(browser).until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "#cues tbody tr")))
    songs = [row.find_element(By.CSS_SELECTOR, "a.song").text for row in rows]
    assert songs[:2] == ["track0", "track2"]
    assert "Sam gets fired" in rows[0].text
    assert re.search(r"0:0[34]–0:1[89]", rows[0].text), rows[0].text  # the cue's times in the episode
    img = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "img.timeline")))
    wait(browser).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img))
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".links a")}
    assert links["M3U"].endswith(f"/api/episodes/{world.episode_id}/playlist.m3u")
    browser.save_screenshot(str(artifacts_dir() / "episode.png"))
    browser.set_window_size(390, 844)  # a phone
    try:
        browser.save_screenshot(str(artifacts_dir() / "episode-phone.png"))
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        browser.set_window_size(1280, 900)


def test_search_then_open_a_recording(browser: webdriver.Chrome, base_url: str, world: World) -> None:
    browser.get(f"{base_url}/#/")
    box = wait(browser).until(ec.element_to_be_clickable((By.ID, "search-input")))
    box.send_keys("fired")
    browser.find_element(By.CSS_SELECTOR, "#search-form button").click()
    hit = wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#results .hit a")))
    assert "scene" in browser.find_element(By.CSS_SELECTOR, "#results .hit").text
    hit.click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#cues")))
    browser.find_element(By.LINK_TEXT, "track0").click()
    heading = wait(browser).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "track0"))
    assert heading
    assert "Sam gets fired" in browser.find_element(By.CSS_SELECTOR, ".appearances").text
    browser.get(f"{base_url}/#/search?q=zzzz-nothing")
    wait(browser).until(ec.presence_of_element_located((By.ID, "no-results")))


def test_whats_playing_names_the_song_and_the_lyric_line(browser: webdriver.Chrome, base_url: str) -> None:
    browser.get(f"{base_url}/?listen_s=6#/")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "listen-button"))).click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "listen-status"), "Listening"))
    title = wait(browser).until(ec.visibility_of_element_located((By.ID, "match-title")))
    status = browser.find_element(By.ID, "listen-status").text
    assert title.text == "track0", status
    assert status == "Found it."
    lyric = browser.find_element(By.ID, "lyric-line").text
    assert lyric in LYRIC_LINES, lyric
    assert "Sam gets fired" in browser.find_element(By.ID, "listen-result").text  # the scene that uses it
    browser.save_screenshot(str(artifacts_dir() / "whats-playing.png"))
    # the line advances with the song: within 6 s it changes
    wait(browser).until(lambda d: d.find_element(By.ID, "lyric-line").text not in ("", lyric))


def test_whats_playing_without_a_microphone_says_so(browser: webdriver.Chrome, base_url: str) -> None:
    browser.get(f"{base_url}/#/")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "listen-button")))
    browser.execute_script("""
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("denied", "NotAllowedError"));""")
    browser.find_element(By.ID, "listen-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "listen-status"), "permission was denied"))
    browser.execute_script("""
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("none", "NotFoundError"));""")
    browser.find_element(By.ID, "listen-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "listen-status"), "No microphone"))


@pytest.mark.parametrize(("answer", "words"), [
    ("new Response(JSON.stringify({matched: false, match: null}), {status: 200})", "No match"),
    ("new Response('{\"detail\": \"boom\"}', {status: 500})", "The server had a problem"),
    ("new Response(JSON.stringify({detail: 'the clip is silent: is the microphone muted?', code: 'clip_silent'}), "
     "{status: 422})", "the clip is silent"),
])
def test_whats_playing_explains_no_match_and_errors(browser: webdriver.Chrome, base_url: str, answer: str,
                                                    words: str) -> None:
    browser.get(f"{base_url}/?listen_s=1#/")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "listen-button")))
    browser.execute_script(f"""
        const real = window.fetch;
        window.fetch = (url, opts) => url === "/api/identify" ? Promise.resolve({answer}) : real(url, opts);""")
    browser.find_element(By.ID, "listen-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "listen-status"), words))
    assert not browser.find_element(By.ID, "listen-result").is_displayed()
    assert browser.find_element(By.ID, "listen-button").is_enabled()
