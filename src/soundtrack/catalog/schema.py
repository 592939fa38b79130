"""The catalog's tables (SQLAlchemy 2 ORM). The migrations in ``migrations/versions`` build exactly this.

::

    shows ─< seasons ─< episodes ─< cues >─ recordings          api_tokens

Times are seconds (floats); instants are UTC. A recording row mirrors the fingerprint library's
recording with the same id (see :meth:`Catalog.sync_recordings`) and adds what only the catalog
knows: synced lyrics (LRC text) and the explicit flag. Changing a class here needs a new migration
(``tests/test_catalog_migrations.py`` fails until models and migrations agree).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Cue-sheet usage codes: background/featured/visual × instrumental/vocal, main title, end title
#: (``scan`` writes BI or FI from the measured music-to-dialogue balance; a person sets the rest).
USAGE_CODES = ("BI", "BV", "FI", "FV", "VI", "VV", "MT", "ET")

#: Constraint names that are the same on every backend (migrations refer to them by name).
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ShowRow(Base):
    __tablename__ = "shows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    seasons: Mapped[list[SeasonRow]] = relationship(back_populates="show", cascade="all, delete-orphan",
                                                    order_by="SeasonRow.number")


class SeasonRow(Base):
    __tablename__ = "seasons"
    __table_args__ = (UniqueConstraint("show_id", "number", name="uq_seasons_show_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)

    show: Mapped[ShowRow] = relationship(back_populates="seasons")
    episodes: Mapped[list[EpisodeRow]] = relationship(back_populates="season", cascade="all, delete-orphan",
                                                      order_by="EpisodeRow.number")


class EpisodeRow(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("season_id", "number", name="uq_episodes_season_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    media_path: Mapped[str | None] = mapped_column(Text)
    timeline_png: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None] = mapped_column(Float)
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    season: Mapped[SeasonRow] = relationship(back_populates="episodes")
    cues: Mapped[list[CueRow]] = relationship(back_populates="episode", cascade="all, delete-orphan",
                                              order_by="(CueRow.episode_start_s, CueRow.id)")


class RecordingRow(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # the library's id
    title: Mapped[str] = mapped_column(Text)
    artist: Mapped[str | None] = mapped_column(Text, index=True)
    album: Mapped[str | None] = mapped_column(Text)
    composer: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    musicbrainz_recording_id: Mapped[str | None] = mapped_column(String(36))
    musicbrainz_release_id: Mapped[str | None] = mapped_column(String(36))
    musicbrainz_artist_id: Mapped[str | None] = mapped_column(String(36))
    path: Mapped[str | None] = mapped_column(Text)
    lrc: Mapped[str | None] = mapped_column(Text)  # synced lyrics, validated LRC text
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    in_library: Mapped[bool] = mapped_column(Boolean, default=True)  # False once removed from the library
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    cues: Mapped[list[CueRow]] = relationship(back_populates="recording")


class CueRow(Base):
    __tablename__ = "cues"
    __table_args__ = (
        CheckConstraint("episode_end_s >= episode_start_s AND episode_start_s >= 0", name="episode_times"),
        CheckConstraint("usage IN ('BI', 'BV', 'FI', 'FV', 'VI', 'VV', 'MT', 'ET')", name="usage_code"),
        CheckConstraint("source IN ('scan', 'manual')", name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="RESTRICT"), index=True)
    episode_start_s: Mapped[float] = mapped_column(Float)
    episode_end_s: Mapped[float] = mapped_column(Float)
    recording_start_s: Mapped[float] = mapped_column(Float)
    recording_end_s: Mapped[float] = mapped_column(Float)
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    pitch: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")
    score: Mapped[int | None] = mapped_column(Integer)  # scan evidence; None for a cue a person added
    confidence: Mapped[float | None] = mapped_column(Float)
    coverage: Mapped[float | None] = mapped_column(Float)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    partial_start: Mapped[bool] = mapped_column(Boolean, default=False)
    foreground: Mapped[bool] = mapped_column(Boolean, default=False)
    usage: Mapped[str] = mapped_column(String(2), default="BI")
    source: Mapped[str] = mapped_column(String(8), default="scan")  # "scan" or "manual"
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    scene_note: Mapped[str | None] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    episode: Mapped[EpisodeRow] = relationship(back_populates="cues")
    recording: Mapped[RecordingRow] = relationship(back_populates="cues")


class TokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
