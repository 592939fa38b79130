"""The catalog API on SQLite and PostgreSQL: shows → episodes → imported cues, people's edits, re-imports,
recordings and where they appear, errors."""

from __future__ import annotations

import json
import threading

import pytest
from catalog_fixtures import FakeLibrary, recording, scan_result

from soundtrack.catalog import Catalog
from soundtrack.errors import CatalogError, NotFoundError, SoundtrackError


def _episode(cat: Catalog, season: int = 1, number: int = 1, show: str = "Soundtrack") -> int:
    found = cat.find_show(show) or cat.add_show(show)
    return cat.add_episode(found.id, season, number, title=f"Track {number}").id


def test_show_episode_and_import(catalog: Catalog) -> None:
    show = catalog.add_show("Soundtrack", description="Musical drama")
    ep = catalog.add_episode(show.id, 1, 1, title="Track 1: Nellie and Sam")
    assert (ep.show_title, ep.season, ep.number, ep.code, ep.cues) == ("Soundtrack", 1, 1, "S01E01", [])
    scan = scan_result((2, 50.0, 80.0), (1, 10.0, 40.0), (3, 30.5, 45.25))
    ep = catalog.import_scan(ep.id, scan, timeline_png="/lib/timelines/episode-1.png")
    assert [c.recording.title for c in ep.cues] == ["Song 1", "Song 3", "Song 2"]  # episode order
    assert [c.number for c in ep.cues] == [1, 2, 3]
    first, second, third = ep.cues
    assert first.overlaps == [second.id] and second.overlaps == [first.id] and third.overlaps == []
    assert (second.episode_start_s, second.episode_end_s, second.recording_start_s) == (30.5, 45.25, 5.0)
    assert second.confidence == 0.9 and second.score == 30 and second.source == "scan" and not second.confirmed
    assert second.recording.path == "/music/song3.mp3" and second.recording.in_library
    assert ep.duration_s == 1500.0 and ep.media_path == "/tv/s01e01.mkv"
    assert ep.timeline_png == "/lib/timelines/episode-1.png" and ep.scanned_at is not None
    assert catalog.episode(ep.id) == ep

    tree = catalog.show(show.id)
    assert tree.description == "Musical drama"
    assert [(s.number, [(e.number, e.title, e.n_cues) for e in s.episodes]) for s in tree.seasons] == [
        (1, [(1, "Track 1: Nellie and Sam", 3)])]
    catalog.add_episode(show.id, 2, 1)
    catalog.add_episode(show.id, 1, 2)
    assert [(s.number, [e.number for e in s.episodes]) for s in catalog.show(show.id).seasons] == [
        (1, [1, 2]), (2, [1])]


def test_reimport_replaces_machine_cues_and_keeps_peoples(catalog: Catalog) -> None:
    ep_id = _episode(catalog)
    ep = catalog.import_scan(ep_id, scan_result((1, 10, 40), (2, 50, 80), (3, 100, 130), (6, 140, 150)))
    confirmed, noted, plain, unconfirmed = ep.cues
    catalog.update_cue(confirmed.id, confirmed=True)
    catalog.update_cue(noted.id, scene_note="Sam gets fired")  # an edit, not confirmed
    catalog.update_cue(unconfirmed.id, confirmed=True)
    catalog.update_cue(unconfirmed.id, confirmed=False)  # back to what the machine said
    catalog.sync_recordings(FakeLibrary([recording(i) for i in range(1, 7)]))
    manual = catalog.add_cue(ep_id, 4, 200, 220, scene_note="Nellie sings")

    ep = catalog.import_scan(ep_id, scan_result((1, 11, 41), (3, 101, 131), (5, 300, 330)))
    by_title = {c.recording.title: c for c in ep.cues}
    assert sorted(by_title) == ["Song 1", "Song 2", "Song 3", "Song 4", "Song 5"]
    assert len(ep.cues) == 5  # Song 1 is not added twice; Song 6 is gone
    assert by_title["Song 1"].id == confirmed.id and by_title["Song 1"].episode_start_s == 10
    assert by_title["Song 2"].id == noted.id and by_title["Song 2"].scene_note == "Sam gets fired"
    assert by_title["Song 3"].id != plain.id and by_title["Song 3"].episode_start_s == 101
    assert by_title["Song 4"].id == manual.id and by_title["Song 4"].source == "manual"
    assert not by_title["Song 5"].confirmed


def test_edit_cue(catalog: Catalog) -> None:
    ep_id = _episode(catalog)
    cue = catalog.import_scan(ep_id, scan_result((1, 10, 40), (2, 60, 90))).cues[0]
    edited = catalog.update_cue(cue.id, confirmed=True, scene_note="  Sam gets fired ", visual_vocal=True)
    assert edited.confirmed and edited.scene_note == "Sam gets fired" and edited.usage == "VV" and edited.visual_vocal
    assert catalog.update_cue(cue.id, visual_vocal=False).usage == "BV"  # still sung, not on screen
    assert catalog.update_cue(cue.id, usage="mt").usage == "MT"
    assert catalog.update_cue(cue.id, visual_vocal=False).usage == "MT"
    with pytest.raises(CatalogError, match="contradicts"):
        catalog.update_cue(cue.id, usage="BI", visual_vocal=True)
    with pytest.raises(CatalogError, match="usage must be one of"):
        catalog.update_cue(cue.id, usage="XX")
    assert catalog.update_cue(cue.id, scene_note="").scene_note is None

    moved = catalog.update_cue(cue.id, episode_start_s=12.0, episode_end_s=38.5)
    assert (moved.episode_start_s, moved.episode_end_s) == (12.0, 38.5)
    assert moved.recording_start_s == pytest.approx(7.0) and moved.recording_end_s == pytest.approx(33.5)
    for start, end in ((30.0, 20.0), (-1.0, 5.0), (10.0, 1500.5)):
        with pytest.raises(CatalogError):
            catalog.update_cue(cue.id, episode_start_s=start, episode_end_s=end)
    assert catalog.episode(ep_id).cues[0].episode_start_s == 12.0  # a refused edit changes nothing

    with pytest.raises(NotFoundError, match="no recording with id 99"):
        catalog.update_cue(cue.id, recording_id=99)
    swapped = catalog.update_cue(cue.id, recording_id=2, recording_start_s=0.0)
    assert swapped.recording.title == "Song 2" and swapped.recording_start_s == 0.0
    assert swapped.recording_end_s == pytest.approx(26.5)


def test_add_and_delete_cue(catalog: Catalog) -> None:
    ep_id = _episode(catalog)
    catalog.import_scan(ep_id, scan_result((1, 10, 40), (2, 60, 90)))
    cue = catalog.add_cue(ep_id, 2, 30.0, 50.0, recording_start_s=12.0, scene_note="Nellie hums", usage="vi")
    assert cue.confirmed and cue.source == "manual" and cue.usage == "VI" and cue.number == 2
    assert cue.score is None and cue.confidence is None and cue.recording_end_s == 32.0
    assert len(cue.overlaps) == 1
    with pytest.raises(CatalogError):
        catalog.add_cue(ep_id, 2, 50.0, 50.0)
    with pytest.raises(CatalogError):
        catalog.add_cue(ep_id, 2, 5.0, 6.0, usage="loud")
    with pytest.raises(NotFoundError):
        catalog.add_cue(ep_id, 77, 5.0, 6.0)
    catalog.delete_cue(cue.id)
    assert cue.id not in [c.id for c in catalog.episode(ep_id).cues] and len(catalog.episode(ep_id).cues) == 2
    with pytest.raises(NotFoundError, match=f"no cue with id {cue.id}"):
        catalog.delete_cue(cue.id)


def test_recording_appearances_and_listing(catalog: Catalog) -> None:
    s1e1 = _episode(catalog, 1, 1)
    s1e2 = _episode(catalog, 1, 2)
    other = _episode(catalog, 1, 1, show="Another Show")
    catalog.import_scan(s1e2, scan_result((1, 300, 320), (2, 5, 25)))
    catalog.import_scan(s1e1, scan_result((1, 100, 130), (1, 10, 40)))
    catalog.import_scan(other, scan_result((1, 50, 60)))
    cue = catalog.episode(s1e1).cues[0]
    catalog.update_cue(cue.id, scene_note="Sam gets fired", confirmed=True)

    rec = catalog.recording(1)
    assert rec.title == "Song 1" and rec.artist == "Nellie"
    assert [(a.show_title, a.season, a.episode_number, a.episode_start_s) for a in rec.appearances] == [
        ("Another Show", 1, 1, 50), ("Soundtrack", 1, 1, 10), ("Soundtrack", 1, 1, 100), ("Soundtrack", 1, 2, 300)]
    first = rec.appearances[1]
    assert (first.cue_id, first.scene_note, first.confirmed, first.episode_id) == (cue.id, "Sam gets fired", True, s1e1)
    assert catalog.recording(2).appearances[0].episode_id == s1e2

    page = catalog.recordings()
    assert [r.id for r in page.items] == [1, 2] and page.total == 2
    assert len(page.items[0].appearances) == 4
    assert [r.id for r in catalog.recordings(query="sam").items] == [2]  # artist
    assert catalog.recordings(offset=1, limit=1).items[0].id == 2


def test_sync_recordings(catalog: Catalog) -> None:
    assert catalog.sync_recordings(FakeLibrary([recording(1), recording(2), recording(3)])) == 3
    assert catalog.sync_recordings(FakeLibrary([recording(1), recording(2), recording(3)])) == 0
    renamed = recording(2, title="Better Title", musicbrainz_recording_id="b1b2c3d4-0000-0000-0000-000000000000")
    assert catalog.sync_recordings(FakeLibrary([recording(1), renamed])) == 2  # renamed, and 3 removed
    assert catalog.recording(2).title == "Better Title"
    assert catalog.recording(2).musicbrainz_recording_id.startswith("b1b2")
    assert not catalog.recording(3).in_library and catalog.recording(1).in_library
    assert catalog.sync_recordings(FakeLibrary([recording(1), renamed, recording(3)])) == 1
    assert catalog.recording(3).in_library


def test_missing_ids_raise_not_found(catalog: Catalog) -> None:
    ep_id = _episode(catalog)
    calls = [
        ("show", lambda: catalog.show(404)), ("episode", lambda: catalog.episode(404)),
        ("recording", lambda: catalog.recording(404)), ("cue", lambda: catalog.update_cue(404, confirmed=True)),
        ("show", lambda: catalog.add_episode(404, 1, 1)), ("episode", lambda: catalog.import_scan(404, scan_result())),
        ("recording", lambda: catalog.set_lyrics(404, "[00:01.00]x")), ("recording", lambda: catalog.lyrics(404)),
        ("episode", lambda: catalog.playlist(episode_id=404)), ("show", lambda: catalog.playlist(show_id=404)),
        ("cue", lambda: catalog.delete_cue(404)), ("recording", lambda: catalog.add_cue(ep_id, 404, 1, 2)),
        ("episode", lambda: catalog.add_cue(404, 1, 1, 2)),
    ]
    for what, call in calls:
        with pytest.raises(NotFoundError, match=f"^no {what} with id 404$"):
            call()
    with pytest.raises(NotFoundError, match="no token named 'nope'"):
        catalog.revoke_token("nope")
    with pytest.raises(NotFoundError, match="has no season 9"):
        catalog.playlist(show_id=catalog.find_show("Soundtrack").id, season=9)
    err = pytest.raises(NotFoundError, catalog.show, 404).value
    assert isinstance(err, SoundtrackError) and isinstance(err, KeyError) and str(err) == "no show with id 404"


def test_bad_input_raises_catalog_error(catalog: Catalog) -> None:
    show = catalog.add_show("Soundtrack")
    catalog.add_episode(show.id, 1, 1)
    bad = [
        lambda: catalog.add_show("Soundtrack"), lambda: catalog.add_show("  "), lambda: catalog.add_show("x" * 301),
        lambda: catalog.add_episode(show.id, 1, 1), lambda: catalog.add_episode(show.id, -1, 1),
        lambda: catalog.shows(limit=0), lambda: catalog.shows(limit=501), lambda: catalog.recordings(offset=-1),
        lambda: catalog.playlist(), lambda: catalog.playlist(episode_id=1, show_id=show.id),
        lambda: catalog.playlist(episode_id=1, fmt="pls"), lambda: catalog.search(" "),
        lambda: catalog.create_token(""),
    ]
    for call in bad:
        with pytest.raises(CatalogError) as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, SoundtrackError)
    assert catalog.shows().total == 1 and len(catalog.show(show.id).seasons) == 1


def test_shows_listing_and_find(catalog: Catalog) -> None:
    for title in ("The Wire", "Soundtrack", "soundtrack live", "Atlanta"):
        catalog.add_show(title)
    page = catalog.shows()
    assert [s.title for s in page.items] == ["Atlanta", "Soundtrack", "soundtrack live", "The Wire"]
    assert (page.total, page.offset, page.limit) == (4, 0, 50)
    assert [s.title for s in catalog.shows(query="SOUND").items] == ["Soundtrack", "soundtrack live"]
    second = catalog.shows(offset=1, limit=2)
    assert [s.title for s in second.items] == ["Soundtrack", "soundtrack live"] and second.total == 4
    assert catalog.find_show("Soundtrack").title == "Soundtrack"
    assert catalog.find_show("the wire").title == "The Wire"  # unambiguous, ignoring case
    assert catalog.find_show("Missing") is None


def test_results_are_json_ready(catalog: Catalog) -> None:
    ep_id = _episode(catalog)
    catalog.import_scan(ep_id, scan_result((1, 10.123456, 40.987654)))
    data = json.loads(json.dumps({"episode": catalog.episode(ep_id).to_dict(), "shows": catalog.shows().to_dict(),
                                  "recording": catalog.recording(1).to_dict(),
                                  "search": catalog.search("song").to_dict()}))
    cue = data["episode"]["cues"][0]
    assert cue["episode_start_s"] == 10.123 and cue["episode_end_s"] == 40.988 and cue["duration_s"] == 30.864
    assert cue["recording"]["title"] == "Song 1" and "appearances" not in cue["recording"]
    assert cue["visual_vocal"] is False and cue["usage"] == "BI"
    assert data["episode"]["code"] == "S01E01" and data["episode"]["scanned_at"].endswith("+00:00")
    assert data["shows"]["items"][0]["seasons"][0]["episodes"][0]["n_cues"] == 1
    assert data["recording"]["appearances"][0]["episode_code"] == "S01E01"
    assert data["search"]["total"] == 1 and data["search"]["items"][0]["kind"] == "song"


def test_concurrent_writers(database_url: str) -> None:
    """Two catalogs on one database (as a server and a CLI would be) and several threads each, writing
    at once: every write lands, none fails with a lock error."""
    errors: list[BaseException] = []
    with Catalog(database_url) as a, Catalog(database_url) as b:
        show_id = a.add_show("Soundtrack").id

        def work(cat: Catalog, season: int) -> None:
            try:
                for number in range(1, 6):
                    ep = cat.add_episode(show_id, season, number)
                    cat.import_scan(ep.id, scan_result((season, 10, 40), (number + 10, 50, 80)))
                    cat.verify_token("st_nothing")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(cat, season))
                   for season, cat in enumerate((a, b, a, b), start=1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert [len(s.episodes) for s in b.show(show_id).seasons] == [5, 5, 5, 5]
