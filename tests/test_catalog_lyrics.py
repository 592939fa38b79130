"""Synced lyrics: LRC parsing and its edge cases, the line playing at a time, lyrics stored in the catalog."""

from __future__ import annotations

import pytest
from catalog_fixtures import scan_result

from soundtrack.catalog import Catalog, LyricLine, parse_lrc
from soundtrack.catalog.lyrics import MAX_LRC_CHARS, line_at
from soundtrack.errors import CatalogError

SONG = """\ufeff[ti:Nellie's Song]
[ar:Nellie]
[length: 03:20]
[#:a comment]

[00:01.00]First line
[00:05.5][01:10.250]Chorus, again
[00:09:50]Colon before the hundredths
[00:12.00]
[00:14.00]<00:14.00>Word <00:14.50>by <00:15.00>word
"""


def _starts(lines: list[LyricLine]) -> list[tuple[float, str]]:
    return [(round(line.start_s, 3), line.text) for line in lines]


def test_parse_lrc() -> None:
    lines = parse_lrc(SONG.replace("\n", "\r\n"))
    assert _starts(lines) == [(1.0, "First line"), (5.5, "Chorus, again"), (9.5, "Colon before the hundredths"),
                              (12.0, ""), (14.0, "Word by word"), (70.25, "Chorus, again")]
    assert [line.next_start_s for line in lines] == [5.5, 9.5, 12.0, 14.0, 70.25, None]


def test_tags_out_of_order_are_sorted_and_minutes_may_exceed_59() -> None:
    lines = parse_lrc("[75:00.00]late\n[00:02.00]early\n[00:02.00]same time, later in the file\n")
    assert _starts(lines) == [(2.0, "early"), (2.0, "same time, later in the file"), (4500.0, "late")]


@pytest.mark.parametrize(("offset", "starts"), [("+500", [0.5, 9.5]), ("-250", [1.25, 10.25]),
                                                 ("2000", [0.0, 8.0])])
def test_offset_tag_shifts_every_line(offset: str, starts: list[float]) -> None:
    """A positive offset (ms) shows lyrics sooner; times never go below 0."""
    lines = parse_lrc(f"[00:01.00]a\n[offset:{offset}]\n[00:10.00]b\n")
    assert [line.start_s for line in lines] == pytest.approx(starts)


@pytest.mark.parametrize(("text", "message"), [
    ("just some words\nwithout times", "line 1 has no \\[mm:ss.xx\\] time tag"),
    ("[00:01.00]ok\n[01:75.00]bad seconds", "line 2: \\[01:75.00\\] has 75 seconds"),
    ("[ti:Only tags]\n[ar:Someone]\n", "no timed lines"),
    ("", "no timed lines"),
    ("[00:01.00]ok\n[offset:soon]", "offset must be whole milliseconds"),
    ("[00:01.00]ok\nfree text in the middle", "line 2 has no"),
    ("[00:01.00]" + "x" * MAX_LRC_CHARS, "too long"),
])
def test_bad_lrc_is_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_lrc(text)


def test_line_at() -> None:
    lines = parse_lrc("[00:01.00]one\n[00:05.00]two\n[00:09.00]three\n")
    assert line_at(lines, 0.99) is None
    assert line_at(lines, 1.0).text == "one"
    assert line_at(lines, 4.999).text == "one"
    assert line_at(lines, 5.0) == LyricLine("two", 5.0, 9.0)
    assert line_at(lines, 500.0) == LyricLine("three", 9.0, None)
    assert line_at([], 3.0) is None


def test_lyrics_in_the_catalog(catalog: Catalog) -> None:
    ep = catalog.add_episode(catalog.add_show("Soundtrack").id, 1, 1)
    catalog.import_scan(ep.id, scan_result((1, 10, 40), (2, 50, 80)))
    assert catalog.lyrics(1) == [] and catalog.lyric_line(1, 3.0) is None
    assert not catalog.recording(1).has_lyrics

    rec = catalog.set_lyrics(1, SONG, explicit=True)
    assert rec.has_lyrics and rec.explicit
    assert _starts(catalog.lyrics(1)) == _starts(parse_lrc(SONG))
    line = catalog.lyric_line(1, 6.0)
    assert (line.text, line.start_s, line.next_start_s) == ("Chorus, again", 5.5, 9.5)
    assert catalog.lyric_line(1, 0.5) is None
    assert catalog.lyric_line(1, 100.0).text == "Chorus, again"
    assert catalog.lyrics(2) == []

    assert catalog.set_lyrics(1, "[00:02.00]New words").explicit  # explicit=None leaves the flag
    assert not catalog.set_lyrics(1, "[00:02.00]New words", explicit=False).explicit
    with pytest.raises(CatalogError, match="line 1"):
        catalog.set_lyrics(1, "not lyrics")
    assert _starts(catalog.lyrics(1)) == [(2.0, "New words")]  # a refused file changes nothing
