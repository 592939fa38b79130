"""Scan jobs: each scan runs in a worker process; its state is a JSON file any server process reads.

Several uvicorn worker processes serve one library, and a poll for a job may reach any of them, so
a job's state lives on disk (``<jobs_dir>/<id>.json``, replaced atomically), not in memory. A scan
waits for one of ``scan_workers`` lock files (``flock``) before it starts, which bounds the scans
running on the machine whatever process accepted them. States: ``queued`` → ``running`` →
``done`` | ``failed``.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import AudioError, NotFoundError

if TYPE_CHECKING:
    from ..export import Soundtrack
    from ..library import Library

#: Seconds between two writes of a running job's progress.
PROGRESS_EVERY_S = 0.5
#: Seconds between two tries for a free scan slot.
SLOT_POLL_S = 0.2


class ScanJobs:
    """Submit scans and read their state. ``close()`` stops the worker processes."""

    def __init__(self, jobs_dir: Path, library_path: Path, database_url: str | None, *, workers: int = 1) -> None:
        self.dir = jobs_dir
        self.library_path = library_path
        self.database_url = database_url
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._fail_orphans()

    def submit(self, media: Path, *, episode_id: int | None = None, uploaded: bool = False,
               name: str | None = None, max_speed_change: float = 0.0) -> dict[str, Any]:
        """Queue a scan of ``media`` (deleted afterwards when ``uploaded``) with ``max_speed_change``
        (see :meth:`soundtrack.Library.scan`); results are imported into ``episode_id`` when given.
        Returns the job's state."""
        job_id = uuid.uuid4().hex[:16]
        self.dir.mkdir(parents=True, exist_ok=True)
        state = {"id": job_id, "state": "queued", "name": name or media.name, "episode_id": episode_id,
                 "max_speed_change": max_speed_change,
                 "created_at": time.time(), "started_at": None, "finished_at": None,
                 "done_s": 0.0, "duration_s": None, "speed": None, "error": None, "cues": None,
                 "_server_pid": os.getpid(), "_worker_pid": None, "_media": str(media), "_uploaded": uploaded}
        write_state(self.dir / f"{job_id}.json", state)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
        self._pool.submit(run_job, str(self.dir / f"{job_id}.json"), str(media), uploaded,
                          str(self.library_path), self.database_url, self.workers)
        return public(state)

    def get(self, job_id: str) -> dict[str, Any]:
        """The state of job ``job_id``; :class:`NotFoundError` if there is none."""
        if not job_id.isalnum():
            raise NotFoundError(f"no scan job {job_id!r}")
        try:
            return public(json.loads((self.dir / f"{job_id}.json").read_text()))
        except FileNotFoundError:
            raise NotFoundError(f"no scan job {job_id!r}") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _fail_orphans(self) -> None:
        """Jobs whose server process is gone will never finish: mark them failed."""
        for file in self.dir.glob("*.json"):
            try:
                state = json.loads(file.read_text())
            except (OSError, ValueError):
                continue
            if state.get("state") in ("queued", "running") and not _alive(state.get("_worker_pid")) \
                    and not _alive(state.get("_server_pid")):
                update_state(file, state="failed", error="the server stopped before the scan finished",
                             finished_at=time.time())
                if state.get("_uploaded"):
                    Path(state["_media"]).unlink(missing_ok=True)


def public(state: dict[str, Any]) -> dict[str, Any]:
    """A job's state as the API shows it (without process ids and file names on the server)."""
    return {k: v for k, v in state.items() if not k.startswith("_")}


def write_state(file: Path, state: dict[str, Any]) -> None:
    tmp = file.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, file)


def update_state(file: Path, **changes: Any) -> dict[str, Any]:
    state = json.loads(file.read_text()) | changes
    write_state(file, state)
    return state


def run_job(job_file: str, media: str, uploaded: bool, library_path: str, database_url: str | None,
            slots: int) -> None:
    """Run one scan job in a worker process (module-level so that it can be pickled)."""
    file = Path(job_file)
    try:
        with _slot(file.parent, slots):
            _scan(file, Path(media), Path(library_path), database_url)
    except AudioError as exc:  # the reason only: the path is the server's business
        update_state(file, state="failed", error=f"the episode file cannot be used: {exc.reason}",
                     finished_at=time.time())
    except Exception as exc:  # noqa: BLE001 - any failure ends the job, with its message
        update_state(file, state="failed", error=str(exc) or type(exc).__name__, finished_at=time.time())
    finally:
        if uploaded:
            Path(media).unlink(missing_ok=True)


def _scan(file: Path, media: Path, library_path: Path, database_url: str | None) -> None:
    from ..audio import probe
    from ..library import Library

    info = probe(media)
    update_state(file, state="running", started_at=time.time(), duration_s=info.duration_s, _worker_pid=os.getpid())
    last = 0.0

    def progress(done_s: float, speed: float) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            update_state(file, done_s=round(done_s, 1), speed=round(speed, 1))

    with Library(library_path) as library:
        wanted = json.loads(file.read_text()).get("max_speed_change") or 0.0
        soundtrack = library.scan(media, progress=progress, max_speed_change=wanted)
        state = json.loads(file.read_text())
        if state.get("episode_id") is not None:
            _import(library, soundtrack, state["episode_id"], file.with_suffix(".png"), database_url)
    update_state(file, state="done", finished_at=time.time(), done_s=round(soundtrack.duration_s, 1),
                 duration_s=round(soundtrack.duration_s, 1), cues=[c.to_dict() for c in soundtrack.cues])


def _import(library: Library, soundtrack: Soundtrack, episode_id: int, png: Path, database_url: str | None) -> None:
    """Import the scan's cues into the episode, with a timeline picture when matplotlib is there."""
    from ..catalog import Catalog

    picture: str | None = str(png)
    try:
        soundtrack.plot(png)
    except ImportError:  # matplotlib is optional
        picture = None
    with Catalog(database_url, library_path=library.path) as catalog:
        catalog.sync_recordings(library)
        catalog.import_scan(episode_id, soundtrack, timeline_png=picture)


class _slot:
    """Hold one of ``n`` scan slots (lock files in ``directory``), waiting until one is free."""

    def __init__(self, directory: Path, n: int) -> None:
        self.paths = [directory / f"slot{i}.lock" for i in range(n)]
        self.fh: IO[str] | None = None

    def __enter__(self) -> None:
        while True:
            for path in self.paths:
                fh = open(path, "a+")  # noqa: SIM115 - held until __exit__
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self.fh = fh
                    return
                except BlockingIOError:
                    fh.close()
            time.sleep(SLOT_POLL_S)

    def __exit__(self, *_exc: object) -> None:
        if self.fh is not None:
            self.fh.close()


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
