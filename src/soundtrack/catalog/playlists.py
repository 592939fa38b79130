"""Playlists of the songs of an episode or a season: extended M3U and XSPF 1 (https://xspf.org/spec).

Pure formatting: :func:`render` turns a title and a list of :class:`PlaylistTrack` into text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import CatalogError

FORMATS = ("m3u", "xspf")
XSPF_NS = "http://xspf.org/ns/0/"


@dataclass(frozen=True)
class PlaylistTrack:
    """A song in a playlist: its file, tags, length (seconds) and where the show uses it (``note``)."""

    path: str | None
    title: str
    artist: str | None
    album: str | None
    duration_s: float
    musicbrainz_recording_id: str | None = None
    note: str | None = None


def render(title: str, tracks: list[PlaylistTrack], fmt: str) -> str:
    """The playlist as ``fmt`` ("m3u" or "xspf") text."""
    if fmt == "m3u":
        return to_m3u(title, tracks)
    if fmt == "xspf":
        return to_xspf(title, tracks)
    raise CatalogError(f"playlist format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def to_m3u(title: str, tracks: list[PlaylistTrack]) -> str:
    """Extended M3U: ``#EXTINF:<whole seconds>,<artist> - <title>`` then the file's path, per track.
    A track with no known file is kept as a comment."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(title)}"]
    for t in tracks:
        name = _one_line(f"{t.artist} - {t.title}" if t.artist else t.title)
        lines.append(f"#EXTINF:{round(t.duration_s)},{name}")
        if t.album:
            lines.append(f"#EXTALB:{_one_line(t.album)}")
        lines.append(t.path if t.path else f"# no file for {name}")
    return "\n".join(lines) + "\n"


def to_xspf(title: str, tracks: list[PlaylistTrack]) -> str:
    """XSPF version 1: one ``<track>`` per song with a ``file://`` location, tags, duration in
    milliseconds, the scene as annotation and the MusicBrainz recording as identifier."""
    root = ET.Element("playlist", version="1", xmlns=XSPF_NS)
    _child(root, "title", title)
    track_list = ET.SubElement(root, "trackList")
    for t in tracks:  # children in the order of the specification
        track = ET.SubElement(track_list, "track")
        if t.path:
            _child(track, "location", _uri(t.path))
        if t.musicbrainz_recording_id:
            _child(track, "identifier", f"https://musicbrainz.org/recording/{t.musicbrainz_recording_id}")
        _child(track, "title", t.title)
        if t.artist:
            _child(track, "creator", t.artist)
        if t.note:
            _child(track, "annotation", t.note)
        if t.album:
            _child(track, "album", t.album)
        _child(track, "duration", str(round(t.duration_s * 1000)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _child(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _uri(path: str) -> str:
    """``file://`` URI of an absolute path (percent-encoded); a relative path as a relative URI."""
    p = Path(path)
    return p.as_uri() if p.is_absolute() else quote(path)


def _one_line(text: str) -> str:
    return " ".join(text.split())
