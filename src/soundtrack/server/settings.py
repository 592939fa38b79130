"""Settings of the HTTP server: one frozen dataclass, passed to :func:`create_app`.

Every limit is in physical units. :meth:`ServerSettings.from_env` reads the ``SOUNDTRACK_*``
environment variables; ``soundtrack serve`` uses them to hand settings to each uvicorn worker
process (uvicorn starts workers from an import string, not from an object).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

#: Environment variables read by :meth:`ServerSettings.from_env` (field name → variable).
ENV = {
    "library_path": "SOUNDTRACK_LIBRARY",
    "database_url": "SOUNDTRACK_DATABASE_URL",
    "max_upload_mb": "SOUNDTRACK_MAX_UPLOAD_MB",
    "max_clip_s": "SOUNDTRACK_MAX_CLIP_S",
    "max_scan_upload_mb": "SOUNDTRACK_MAX_SCAN_UPLOAD_MB",
    "scan_workers": "SOUNDTRACK_SCAN_WORKERS",
    "identify_threads": "SOUNDTRACK_IDENTIFY_THREADS",
    "max_speed_change": "SOUNDTRACK_MAX_SPEED_CHANGE",
    "data_dir": "SOUNDTRACK_SERVER_DATA",
}


@dataclass(frozen=True)
class ServerSettings:
    """What one server process needs to know.

    - ``library_path``: the fingerprint library directory (the catalog's SQLite file lives there
      too unless ``database_url`` names another database, e.g. ``postgresql://...``).
    - ``max_upload_mb``: largest clip upload for ``/api/identify`` (megabytes, 10⁶ bytes).
    - ``max_clip_s``: longest clip accepted for ``/api/identify`` (seconds of audio).
    - ``max_scan_upload_mb``: largest episode upload for ``/api/scans`` (megabytes).
    - ``scan_workers``: scans run at once on this machine (each in its own process).
    - ``identify_threads``: identifications run at once in one server process; more requests wait
      their turn (the work is CPU-bound: more threads than cores only adds latency).
    - ``max_speed_change``: ``/api/identify`` also finds songs sped up, slowed down or pitch-shifted
      by up to this much (relative; see :meth:`soundtrack.Library.identify`); 0, the default, is
      the plain search (a clip that matches nothing costs about ten times more with it).
    - ``data_dir``: scan jobs and their uploads (default: ``<library>/server``).
    """

    library_path: Path
    database_url: str | None = None
    max_upload_mb: float = 10.0
    max_clip_s: float = 30.0
    max_scan_upload_mb: float = 4096.0
    scan_workers: int = 1
    identify_threads: int = 2
    max_speed_change: float = 0.0
    data_dir: Path | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "library_path", Path(self.library_path).expanduser())
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser())
        for name in ("max_upload_mb", "max_clip_s", "max_scan_upload_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be a positive number")
        from ..library import MAX_SPEED_CHANGE_LIMIT

        if not 0 <= self.max_speed_change <= MAX_SPEED_CHANGE_LIMIT:
            raise ValueError(f"max_speed_change={self.max_speed_change!r} must be within 0..{MAX_SPEED_CHANGE_LIMIT}")
        for name in ("scan_workers", "identify_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)!r} must be at least 1")

    @property
    def server_dir(self) -> Path:
        """The server's own files: ``data_dir``, by default ``<library>/server``."""
        return self.data_dir or self.library_path / "server"

    @property
    def jobs_dir(self) -> Path:
        """Where scan jobs keep their state and uploaded files."""
        return self.server_dir / "scans"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1e6)

    @property
    def max_scan_upload_bytes(self) -> int:
        return int(self.max_scan_upload_mb * 1e6)

    def to_env(self) -> dict[str, str]:
        """The environment variables that make :meth:`from_env` return these settings."""
        return {ENV[f.name]: str(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerSettings:
        """Settings from ``SOUNDTRACK_*`` variables (see :data:`ENV`); the library path is required."""
        env = os.environ if environ is None else environ
        if not env.get(ENV["library_path"]):
            from ..library import default_library_path

            library = default_library_path()
        else:
            library = Path(env[ENV["library_path"]])
        kwargs: dict[str, object] = {"library_path": library}
        for f in fields(cls):
            var = ENV[f.name]
            if f.name == "library_path" or not env.get(var):
                continue
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            raw = env[var]
            kwargs[f.name] = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
        return cls(**kwargs)  # type: ignore[arg-type]
