"""The catalog: shows → seasons → episodes → cues → recordings, with lyrics, search, playlists and tokens.

One data model (``schema.py``, SQLAlchemy 2 with the Alembic migrations in ``migrations/``) and one
Python API (:class:`Catalog`) used by the command line, the HTTP server and the web page.
"""

from .api import Catalog
from .db import DATABASE_URL_ENV, SQLITE_NAME
from .lyrics import parse_lrc
from .results import (
    Appearance,
    CueInfo,
    Episode,
    EpisodeSummary,
    LyricLine,
    Page,
    RecordingInfo,
    SearchHit,
    Season,
    Show,
    TokenInfo,
)

__all__ = [
    "DATABASE_URL_ENV",
    "SQLITE_NAME",
    "Appearance",
    "Catalog",
    "CueInfo",
    "Episode",
    "EpisodeSummary",
    "LyricLine",
    "Page",
    "RecordingInfo",
    "SearchHit",
    "Season",
    "Show",
    "TokenInfo",
    "parse_lrc",
]
