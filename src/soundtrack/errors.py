"""Exceptions raised by soundtrack.

::

    SoundtrackError                 the root: catch this to handle anything soundtrack raises
    ├── AudioError                  a file that cannot serve as audio; names the file and the reason
    │   ├── DecodeError             unreadable: missing, corrupt, unsupported, no audio stream
    │   └── UnusableAudioError      decodable but useless: empty, silent, too short
    ├── LibraryError                the library directory cannot be used
    │   ├── IndexMismatchError      built with other fingerprint parameters or format version
    │   └── LibraryLockedError      another process holds the write lock too long
    ├── CatalogError                bad input to the catalog (also a ValueError): a duplicate, a bad
    │                               time or usage code, a malformed LRC file
    ├── CatalogUnavailableError     the catalog database cannot be reached or opened
    └── NotFoundError               no recording (or other object) with that id
"""

from __future__ import annotations

from pathlib import Path


class SoundtrackError(Exception):
    """Root of every error soundtrack raises on purpose."""


class AudioError(SoundtrackError):
    """A file that cannot be used as audio. ``str(err)`` is ``"<path>: <reason>"``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DecodeError(AudioError):
    """The file is missing, corrupt, in an unsupported format, or has no audio stream."""


class UnusableAudioError(AudioError):
    """The file decodes, but is empty, silent or too short to fingerprint."""


class LibraryError(SoundtrackError):
    """The library directory cannot be opened or written."""


class IndexMismatchError(LibraryError):
    """The library was built with different fingerprint parameters or an older format."""


class LibraryLockedError(LibraryError):
    """Another process has held the library's write lock for longer than the timeout."""


class CatalogError(SoundtrackError, ValueError):
    """Bad input to the catalog: the message names the bad value and what was expected."""


class CatalogUnavailableError(SoundtrackError):
    """The catalog database cannot be reached or opened (server down, wrong password, no driver)."""


class NotFoundError(SoundtrackError, KeyError):
    """No object with the given id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"
