"""Search over every kind, playlists (M3U and XSPF, parsed back), API tokens stored hashed."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from catalog_fixtures import FakeLibrary, recording, scan_result
from sqlalchemy import create_engine, text

from soundtrack.catalog import Catalog
from soundtrack.catalog.playlists import XSPF_NS
from soundtrack.errors import CatalogError

NS = {"x": XSPF_NS}


@pytest.fixture
def filled(catalog: Catalog) -> Catalog:
    """Two shows; Soundtrack S01E01 and S01E02 and S02E01 with cues; a scene note; tagged recordings."""
    library = FakeLibrary([
        recording(1, title="Fired Up", artist="Nellie Keys", album="Sessions",
                  musicbrainz_recording_id="11111111-2222-3333-4444-555555555555"),
        recording(2, title="Sam's Theme", artist="The Band"),
        recording(3, title="100% Cotton", artist="Nellie Keys", path="/music/100% cotton.mp3"),
        recording(4, title="Rain_Dance", artist=None),
    ])
    catalog.sync_recordings(library)
    soundtrack = catalog.add_show("Soundtrack", description="A musical drama")
    other = catalog.add_show("Fire Station")
    e1 = catalog.add_episode(soundtrack.id, 1, 1, title="Track 1: Nellie and Sam")
    e2 = catalog.add_episode(soundtrack.id, 1, 2, title="Track 2: The Fire")
    e3 = catalog.add_episode(soundtrack.id, 2, 1, title="Track 9")
    catalog.add_episode(other.id, 1, 1, title="Pilot")
    cue = catalog.import_scan(e1.id, scan_result((1, 10, 40), (2, 50, 80), (1, 200, 230), library=library)).cues[0]
    catalog.update_cue(cue.id, scene_note="Sam gets fired", confirmed=True)
    catalog.import_scan(e2.id, scan_result((3, 5, 25), (1, 60, 90), library=library))
    catalog.import_scan(e3.id, scan_result((4, 5, 25), library=library))
    return catalog


def _hits(cat: Catalog, q: str, **kw: int) -> list[tuple[str, str]]:
    return [(h.kind, h.title) for h in cat.search(q, **kw).items]


def test_search_finds_every_kind(filled: Catalog) -> None:
    assert _hits(filled, "fire") == [
        ("show", "Fire Station"), ("episode", "Track 2: The Fire"), ("song", "Fired Up"),
        ("scene", "Sam gets fired")]
    assert _hits(filled, "NELLIE") == [("episode", "Track 1: Nellie and Sam"), ("artist", "Nellie Keys")]
    scene = filled.search("gets fired").items[0]
    assert (scene.kind, scene.recording_id) == ("scene", 1)
    assert scene.episode_id == filled.find_show("Soundtrack").seasons[0].episodes[0].id
    assert scene.subtitle == "Soundtrack S01E01 · Fired Up"
    artist = filled.search("keys").items[0]
    assert (artist.kind, artist.id, artist.subtitle) == ("artist", None, "2 recordings")
    episode = filled.search("track 2").items[0]
    assert (episode.kind, episode.subtitle, episode.episode_id) == ("episode", "Soundtrack S01E02", episode.id)
    song = filled.search("theme").items[0]
    assert (song.kind, song.id, song.recording_id, song.subtitle) == ("song", 2, 2, "The Band")
    assert filled.search("nothing like this").total == 0


def test_search_ranks_prefix_matches_first_and_pages_across_kinds(filled: Catalog) -> None:
    assert _hits(filled, "track") == [("show", "Soundtrack"), ("episode", "Track 1: Nellie and Sam"),
                                      ("episode", "Track 2: The Fire"), ("episode", "Track 9")]
    assert _hits(filled, "a")[:3] == [("show", "Fire Station"), ("show", "Soundtrack"),
                                       ("episode", "Track 1: Nellie and Sam")]  # no prefix match: by title
    assert [t for _k, t in _hits(filled, "s")][:2] == ["Soundtrack", "Fire Station"]  # "S…" first
    everything = filled.search("e", limit=100)
    assert everything.total == len(everything.items) > 6
    pages = [filled.search("e", offset=i, limit=3) for i in range(0, everything.total, 3)]
    assert [h for p in pages for h in p.items] == everything.items
    assert all(p.total == everything.total for p in pages)


def test_search_wildcards_match_themselves(filled: Catalog) -> None:
    assert _hits(filled, "100%") == [("song", "100% Cotton")]
    assert _hits(filled, "%") == [("song", "100% Cotton")]
    assert _hits(filled, "n_d") == [("song", "Rain_Dance")]


def test_m3u_playlist(filled: Catalog) -> None:
    e1 = filled.find_show("Soundtrack").seasons[0].episodes[0].id
    text = filled.playlist(episode_id=e1)
    assert text.splitlines() == [
        "#EXTM3U", "#PLAYLIST:Soundtrack S01E01 Track 1: Nellie and Sam",
        "#EXTINF:181,Nellie Keys - Fired Up", "#EXTALB:Sessions", "/music/song1.mp3",  # once, though used twice
        "#EXTINF:182,The Band - Sam's Theme", "/music/song2.mp3"]
    season = filled.playlist(show_id=filled.find_show("Soundtrack").id, season=1, fmt="m3u")
    assert [line for line in season.splitlines() if not line.startswith("#")] == [
        "/music/song1.mp3", "/music/song2.mp3", "/music/100% cotton.mp3"]
    whole = filled.playlist(show_id=filled.find_show("Soundtrack").id)
    assert whole.splitlines()[1] == "#PLAYLIST:Soundtrack" and whole.count("#EXTINF") == 4


def test_xspf_playlist_is_valid_xspf(filled: Catalog, tmp_path: Path) -> None:
    show = filled.find_show("Soundtrack")
    path = tmp_path / "season1.xspf"
    path.write_text(filled.playlist(show_id=show.id, season=1, fmt="xspf"), encoding="utf-8")
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{XSPF_NS}}}playlist" and root.get("version") == "1"
    assert root.findtext("x:title", namespaces=NS) == "Soundtrack season 1"
    tracks = root.findall("x:trackList/x:track", NS)
    assert [t.findtext("x:title", namespaces=NS) for t in tracks] == ["Fired Up", "Sam's Theme", "100% Cotton"]
    first, _, third = tracks
    assert first.findtext("x:location", namespaces=NS) == "file:///music/song1.mp3"
    assert third.findtext("x:location", namespaces=NS) == "file:///music/100%25%20cotton.mp3"
    assert first.findtext("x:creator", namespaces=NS) == "Nellie Keys"
    assert first.findtext("x:album", namespaces=NS) == "Sessions"
    assert first.findtext("x:duration", namespaces=NS) == "181000"  # milliseconds
    assert first.findtext("x:annotation", namespaces=NS) == "S01E01 at 0:10: Sam gets fired"
    assert first.findtext("x:identifier", namespaces=NS).endswith("/recording/11111111-2222-3333-4444-555555555555")
    order = ["location", "identifier", "title", "creator", "annotation", "album", "duration"]  # the spec's order
    tags = [child.tag.split("}")[1] for child in first]
    assert tags == sorted(tags, key=order.index)


def test_tokens_are_stored_hashed(catalog: Catalog, database_url: str) -> None:
    token = catalog.create_token("web editor")
    assert token.startswith("st_") and len(token) > 40
    assert catalog.create_token("ci") != token
    with pytest.raises(CatalogError, match="exists already"):
        catalog.create_token("ci")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, token_hash FROM api_tokens ORDER BY name")).all()
    engine.dispose()
    stored = dict(rows)
    assert stored["web editor"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in value for value in stored.values())

    assert [(t.name, t.last_used_at) for t in catalog.tokens()] == [("ci", None), ("web editor", None)]
    assert catalog.verify_token(token)
    for wrong in ("", token[:-1], token + "x", "st_" + "A" * 43, stored["web editor"]):
        assert not catalog.verify_token(wrong)
    used = {t.name: t for t in catalog.tokens()}["web editor"]
    assert used.last_used_at is not None and used.last_used_at >= used.created_at
    assert used.to_dict()["last_used_at"].endswith("+00:00")

    catalog.revoke_token("web editor")
    assert not catalog.verify_token(token)
    assert [t.name for t in catalog.tokens()] == ["ci"]
