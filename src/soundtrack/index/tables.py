"""The library database schema (SQLAlchemy Core): recordings, segments and settings.

The database is the index's manifest: a segment's hashes count only once a committed transaction
names the segment and its recordings, so a track is either fully indexed or absent.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("n_hashes", Integer, nullable=False),
    Column("n_frames", Integer, nullable=False),
    Column("nbytes", Integer, nullable=False),
)

recordings = Table(
    "recordings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("segment_id", Integer, ForeignKey("segments.id"), nullable=False, index=True),
    Column("start_frame", Integer, nullable=False),  # first position in the segment (frames)
    Column("n_frames", Integer, nullable=False),
    Column("n_hashes", Integer, nullable=False),
    Column("path", Text, nullable=False, index=True),
    Column("file_size", Integer, nullable=False),
    Column("file_mtime", Float, nullable=False),
    Column("file_sha1", String(40), nullable=False, index=True),
    Column("duration_s", Float, nullable=False),
    Column("title", Text, nullable=False),
    Column("artist", Text),
    Column("album", Text),
    Column("composer", Text),
    Column("publisher", Text),
    Column("musicbrainz_recording_id", String(36)),
    Column("musicbrainz_release_id", String(36)),
    Column("musicbrainz_artist_id", String(36)),
    Column("added_at", Float, nullable=False),
    # ids are never reused: the catalog's cues refer to recordings by id, so a removed recording's
    # id must not come back as another song's (libraries created before this keep SQLite's reuse)
    sqlite_autoincrement=True,
)
