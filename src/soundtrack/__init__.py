"""soundtrack: find every song in every scene.

Index a music library, identify noisy clips, scan episodes for the songs they use.
"""

from .errors import (
    AudioError,
    CatalogError,
    CatalogUnavailableError,
    DecodeError,
    IndexMismatchError,
    LibraryError,
    LibraryLockedError,
    NotFoundError,
    SoundtrackError,
    UnusableAudioError,
)
from .export import Cue, Soundtrack
from .library import Library, default_library_path
from .models import AddReport, Duplicate, FileFailure, LibraryStats, Match, Recording
from .params import DEFAULT_PARAMS, FingerprintParams

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PARAMS",
    "AddReport",
    "AudioError",
    "CatalogError",
    "CatalogUnavailableError",
    "Cue",
    "DecodeError",
    "Duplicate",
    "FileFailure",
    "FingerprintParams",
    "IndexMismatchError",
    "Library",
    "LibraryError",
    "LibraryLockedError",
    "LibraryStats",
    "Match",
    "NotFoundError",
    "Recording",
    "Soundtrack",
    "SoundtrackError",
    "UnusableAudioError",
    "__version__",
    "default_library_path",
]
