"""The FastAPI application: :func:`create_app` builds it from settings, nothing is global.

The lifespan opens the :class:`~soundtrack.Library` and the catalog once per process and keeps
them on ``app.state`` (requests never reopen them), warms the identification path up (numba
compiles on first use), and syncs the catalog's recordings with the library.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..catalog import Catalog
from ..library import Library
from . import catalog_read, catalog_write, identify, scans
from .errors import install_error_handlers
from .jobs import ScanJobs
from .limits import BodyLimit
from .public import PublicJSONResponse
from .settings import ServerSettings

STATIC_DIR = Path(__file__).parent / "static"
#: Seconds of noise identified at start-up so the first real request does not pay for compilation.
WARM_UP_S = 2.0


def create_app(library_path: str | Path | None = None, database_url: str | None = None, *,
               settings: ServerSettings | None = None, **limits: Any) -> FastAPI:
    """The soundtrack web app for the library at ``library_path`` (and catalog at ``database_url``).

    ``limits`` are further :class:`ServerSettings` fields (``max_upload_mb``, ``max_clip_s``, ...);
    or pass a whole ``settings``.
    """
    if settings is None:
        if library_path is None:
            raise ValueError("create_app needs a library_path or settings")
        settings = ServerSettings(library_path=Path(library_path), database_url=database_url, **limits)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        library = Library(settings.library_path)
        catalog = Catalog(settings.database_url, library_path=settings.library_path)
        with _server_lock(settings):  # one process at a time syncs (uvicorn may start several)
            catalog.sync_recordings(library)
        _warm_up(library)
        app.state.settings = settings
        app.state.library = library
        app.state.catalog = catalog
        app.state.identify_slots = threading.BoundedSemaphore(settings.identify_threads)
        app.state.scan_jobs = ScanJobs(settings.jobs_dir, settings.library_path, settings.database_url,
                                       workers=settings.scan_workers)
        try:
            yield
        finally:
            app.state.scan_jobs.close()
            catalog.close()
            library.close()

    app = FastAPI(title="soundtrack", version=__version__, lifespan=lifespan,
                  default_response_class=PublicJSONResponse,
                  description="Find every song in every scene: identify clips, browse shows, episodes "
                              "and their songs, scan episodes.")
    install_error_handlers(app)
    for module in (identify, scans, catalog_read, catalog_write):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, limits=[
        ("POST", lambda p: p == "/api/identify", settings.max_upload_bytes, "clip"),
        ("POST", lambda p: p == "/api/scans", settings.max_scan_upload_bytes, "episode file"),
    ])

    @app.get("/api/health", tags=["server"], summary="Is the server up, and what does it serve")
    def health() -> dict[str, Any]:
        s = app.state.library.stats()
        return {"ok": True, "version": __version__, "recordings": s.recordings, "hours": round(s.hours, 3),
                "max_upload_mb": settings.max_upload_mb, "max_clip_s": settings.max_clip_s}

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def create_app_from_env() -> FastAPI:
    """The app for the settings in the ``SOUNDTRACK_*`` environment (uvicorn's ``--factory``)."""
    return create_app(settings=ServerSettings.from_env())


class _server_lock:
    """An exclusive ``flock`` on ``<server_dir>/start.lock`` while the block runs."""

    def __init__(self, settings: ServerSettings) -> None:
        self.path = settings.server_dir / "start.lock"

    def __enter__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")  # noqa: SIM115 - closed in __exit__
        fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        self.fh.close()


def _warm_up(library: Library) -> None:
    """Identify a little seeded noise: compiles and loads what the first request would."""
    sr = library.params.sample_rate
    noise = np.random.default_rng(0).standard_normal(int(WARM_UP_S * sr)).astype(np.float32) * 0.1
    library.identify(noise, sample_rate=sr)
