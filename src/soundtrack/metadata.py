"""Tags of a media file (mutagen): title, artist, album, composer, publisher, MusicBrainz ids."""

from __future__ import annotations

from pathlib import Path

import mutagen

#: Our field name → the "easy" tag keys mutagen may use for it, in order of preference.
_TAG_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "artist": ("artist", "albumartist", "performer"),
    "album": ("album",),
    "composer": ("composer",),
    "publisher": ("organization", "label", "publisher", "copyright"),
    "musicbrainz_recording_id": ("musicbrainz_trackid", "musicbrainz_recordingid"),
    "musicbrainz_release_id": ("musicbrainz_albumid",),
    "musicbrainz_artist_id": ("musicbrainz_artistid",),
}


def read_tags(path: str | Path) -> dict[str, str | None]:
    """Read the tags of ``path``; the title falls back to the file name without its extension.

    Never raises for a file mutagen cannot parse: tags are a nicety, the audio is what matters.
    """
    easy = _easy_tags(path)
    tags: dict[str, str | None] = {}
    for field, keys in _TAG_KEYS.items():
        tags[field] = next((easy[k] for k in keys if easy.get(k)), None)
    if not tags["title"]:
        tags["title"] = Path(path).stem
    return tags


def _easy_tags(path: str | Path) -> dict[str, str]:
    try:
        f = mutagen.File(str(path), easy=True)
    except Exception:  # noqa: BLE001 - mutagen raises many types for odd files; tags are optional
        return {}
    if f is None or f.tags is None:
        return {}
    out: dict[str, str] = {}
    try:
        items = list(f.tags.items())
    except Exception:  # noqa: BLE001
        return {}
    for key, value in items:
        text = value[0] if isinstance(value, list) and value else value
        if isinstance(text, str) and text.strip():
            out[key.lower()] = text.strip()
    return out
