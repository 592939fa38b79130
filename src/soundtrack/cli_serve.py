"""``soundtrack serve``: the HTTP API and web page (uvicorn), registered in :mod:`soundtrack.cli`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .library import LIBRARY_ENV, default_library_path


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    library: Annotated[Path | None, typer.Option("--library", "-L", envvar=LIBRARY_ENV,
                                                 help="Library directory [default: user data dir].")] = None,
    database_url: Annotated[str | None, typer.Option(envvar="SOUNDTRACK_DATABASE_URL",
                                                     help="Catalog database [default: SQLite in the library].")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (one per core is a good start).")] = 1,
    identify_threads: Annotated[int, typer.Option(min=1, help="Identifications at once per process.")] = 2,
    max_upload_mb: Annotated[float, typer.Option(min=0.01, help="Largest clip upload (MB).")] = 10.0,
    max_clip_s: Annotated[float, typer.Option(min=1, help="Longest clip to identify (seconds).")] = 30.0,
    scan_workers: Annotated[int, typer.Option(min=1, help="Episode scans at once.")] = 1,
    max_speed_change: Annotated[float, typer.Option(
        min=0, max=0.25, help="/api/identify also finds songs up to this much faster, slower or "
                              "pitch-shifted (0.1: ±10 %); clips that match nothing cost more.")] = 0.0,
    data_dir: Annotated[Path | None, typer.Option(envvar="SOUNDTRACK_SERVER_DATA",
                                                  help="Scan jobs and uploads [default: LIBRARY/server].")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the web page at http://HOST:PORT/."""
    import uvicorn

    from .server.settings import ServerSettings

    settings = ServerSettings(library_path=library or default_library_path(), database_url=database_url,
                              max_upload_mb=max_upload_mb, max_clip_s=max_clip_s, scan_workers=scan_workers,
                              identify_threads=identify_threads, max_speed_change=max_speed_change,
                              data_dir=data_dir)
    os.environ.update(settings.to_env())  # each worker process builds its app from these
    typer.echo(f"soundtrack: serving {settings.library_path} at http://{host}:{port}/ (API docs at /docs)", err=True)
    uvicorn.run("soundtrack.server:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level)
