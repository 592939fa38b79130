"""Load test of ``POST /api/identify`` on the server as deployed (``soundtrack serve``, uvicorn).

Starts the server on a free port over the benchmark library, then runs an asyncio/httpx load
generator with N concurrent clients sending 5 s clips of the benchmark's clip sets (encoded as
WebM/Opus by default, what a browser's MediaRecorder uploads):

- *closed loop*: every client sends its next clip as soon as the last answer arrives (saturation);
- *open loop*: every client sends a clip, then waits 5–7 s (people pressing the button).

Reports latency median/p95/p99/max (ms, client side, upload included), errors, throughput, and
the share of answers naming the clip's source recording. The load generator runs on the same
machine and takes CPU from the server; the numbers are an upper bound of the server's latency.

    python -m benchmarks.server_load   # 16 clients, 30 s closed + 60 s open; 1 process, a thread per core
    python -m benchmarks.server_load --workers 2 --identify-threads 1   # one process per core instead
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from .corpus import cache_dir

CONDITIONS = ("clean", "speech_10db", "phone", "noise_0db", "mp3_32k")


@dataclass
class Run:
    """Latencies (ms) and outcomes of one load phase."""

    name: str
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    right: int = 0
    wall_s: float = 0.0
    server_cpu_s: float | None = None

    def summary(self) -> dict[str, object]:
        lat = np.array(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        n = len(self.latencies_ms)
        cpu = self.server_cpu_s
        return {"phase": self.name, "requests": n, "errors": sum(self.errors.values()), "error_kinds": self.errors,
                "median_ms": round(float(np.median(lat)), 1), "p95_ms": round(float(np.percentile(lat, 95)), 1),
                "p99_ms": round(float(np.percentile(lat, 99)), 1), "max_ms": round(float(lat.max()), 1),
                "server_median_ms": round(float(np.median(self.server_ms)), 1) if self.server_ms else None,
                "requests_per_s": round(n / self.wall_s, 2) if self.wall_s else None,
                "server_cpu_ms_per_request": round(cpu * 1000 / n, 1) if n and cpu else None,
                "server_cores_used": round(cpu / self.wall_s, 2) if cpu and self.wall_s else None,
                "right_recording": round(self.right / n, 3) if n else None}


def load_clips(n: int, fmt: str, seed: int) -> list[tuple[bytes, str, str]]:
    """``n`` 5 s clips of indexed music (all conditions) as (bytes, file name, source path)."""
    manifest = json.loads((cache_dir() / "clips" / "manifest.json").read_text())
    entries = [e for e in manifest if e["expected"] and float(e["duration_s"]) == 5 and e["condition"] in CONDITIONS]
    if not entries:
        sys.exit("no 5 s clips in the benchmark cache: run python -m benchmarks.identify_bench --quick first")
    random.Random(seed).shuffle(entries)
    encoded = cache_dir() / "clips" / f"server_{fmt}"  # encodings are kept for the next run
    encoded.mkdir(exist_ok=True)
    clips = []
    for e in entries[:n]:
        src = Path(e["path"])
        if fmt == "wav" and src.suffix == ".wav":
            clips.append((src.read_bytes(), src.name, e["source"]))
            continue
        out = encoded / f"{src.parent.name}_{src.stem}.{fmt}"
        if not out.exists():
            codec = {"webm": ["-c:a", "libopus", "-b:a", "32k"], "ogg": ["-c:a", "libopus", "-b:a", "32k"],
                     "m4a": ["-c:a", "aac", "-b:a", "64k"], "wav": []}[fmt]
            tmp = out.with_name(f"tmp-{out.name}")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-ac", "1", "-ar", "48000", *codec,
                            str(tmp)], check=True)
            tmp.rename(out)
        clips.append((out.read_bytes(), out.name, e["source"]))
    return clips


def snapshot_library(src: Path, dest: Path) -> Path:
    """A copy of the library at ``src``, taken under its write lock (other benchmarks may re-index
    the shared one while this runs)."""
    from soundtrack import Library

    with Library(src) as lib, lib.store.write_lock():
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("write.lock", "server"))
    return dest


def with_recording_ids(clips: list[tuple[bytes, str, str]], library: Path) -> list[tuple[bytes, str, int | None]]:
    """The clips with the id of their source recording in ``library`` instead of its path."""
    from soundtrack import Library

    with Library(library) as lib:
        ids = {str(Path(r.path).resolve()): r.id for r in lib.recordings()}
    return [(data, name, ids.get(str(Path(source).resolve()))) for data, name, source in clips]


def process_tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(library: Path, database_url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    """``soundtrack serve`` in a subprocess; returns once ``/api/health`` answers."""
    cmd = [sys.executable, "-m", "soundtrack.cli", "serve", "--library", str(library), "--database-url",
           database_url, "--port", str(port), "--workers", str(workers), "--identify-threads", str(threads),
           "--log-level", "warning"]
    env = os.environ | {"PYTHONUNBUFFERED": "1", "SOUNDTRACK_SERVER_DATA": str(library.parent / "server")}
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with status {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                time.sleep(1.0 * workers)  # let every worker process finish its start-up
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    sys.exit("the server did not start within 120 s")


async def client(http: httpx.AsyncClient, url: str, clips: list, run: Run, stop_at: float,
                 think_s: tuple[float, float] | None, rng: random.Random) -> None:
    """Send clips until ``stop_at``; wait ``think_s`` (min, max) seconds between them if given."""
    if think_s:
        await asyncio.sleep(rng.uniform(0, think_s[1]))  # people do not all press at once
    while time.monotonic() < stop_at:
        data, name, source = rng.choice(clips)
        started = time.perf_counter()
        try:
            r = await http.post(url, files={"clip": (name, data)})
            elapsed = (time.perf_counter() - started) * 1000
            if r.status_code != 200:
                run.errors[f"http {r.status_code}"] = run.errors.get(f"http {r.status_code}", 0) + 1
            else:
                body = r.json()
                run.latencies_ms.append(elapsed)
                run.server_ms.append(body.get("elapsed_ms", 0.0))
                if body["matched"] and body["match"]["recording_id"] == source:
                    run.right += 1
        except httpx.HTTPError as exc:
            run.errors[type(exc).__name__] = run.errors.get(type(exc).__name__, 0) + 1
        if think_s:
            await asyncio.sleep(rng.uniform(*think_s))


async def phase(name: str, url: str, clips: list, clients: int, seconds: float,
                think_s: tuple[float, float] | None, seed: int, server_pid: int | None = None) -> Run:
    run = Run(name)
    cpu_before = process_tree_cpu_s(server_pid) if server_pid else 0.0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(http, url, clips, run, started + seconds, think_s, random.Random(seed + i))
                               for i in range(clients)))
        run.wall_s = time.monotonic() - started
    if server_pid:
        run.server_cpu_s = process_tree_cpu_s(server_pid) - cpu_before
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, default=None, help="default: <bench cache>/library")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--identify-threads", type=int, default=os.cpu_count() or 1,
                    help="identifications at once per worker process")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--closed-s", type=float, default=30.0, help="seconds of closed-loop load (0: skip)")
    ap.add_argument("--open-s", type=float, default=60.0, help="seconds of open-loop load (0: skip)")
    ap.add_argument("--think-s", type=float, nargs=2, default=(5.0, 7.0), help="open loop: pause between clips")
    ap.add_argument("--format", choices=("webm", "ogg", "m4a", "wav"), default="webm")
    ap.add_argument("--clips", type=int, default=200, help="distinct clips to draw from")
    ap.add_argument("--url", default=None, help="load a server that is already running instead")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    clips = load_clips(args.clips, args.format, args.seed)  # (bytes, name, source path)
    print(f"{len(clips)} clips of 5 s as {args.format}, mean {np.mean([len(c[0]) for c in clips]) / 1e3:.0f} kB",
          file=sys.stderr)
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url is None:
            port = free_port()
            library = snapshot_library(args.library or cache_dir() / "library", Path(tmp) / "library")
            clips = with_recording_ids(clips, library)
            proc = start_server(library, f"sqlite:///{tmp}/catalog.db", port, args.workers, args.identify_threads)
            base = f"http://127.0.0.1:{port}"
        else:  # the running server is assumed to serve this library
            clips = with_recording_ids(clips, args.library or cache_dir() / "library")
            base = args.url.rstrip("/")
        pid = proc.pid if proc is not None else None
        try:
            url = f"{base}/api/identify"
            asyncio.run(phase("warm-up", url, clips, 2, 5.0, None, args.seed))
            results = []
            if args.closed_s > 0:
                results.append(asyncio.run(phase("closed loop", url, clips, args.clients, args.closed_s, None,
                                                 args.seed, pid)).summary())
            if args.open_s > 0:
                results.append(asyncio.run(phase(f"open loop ({args.think_s[0]:g}-{args.think_s[1]:g} s pauses)",
                                                 url, clips, args.clients, args.open_s, tuple(args.think_s),
                                                 args.seed, pid)).summary())
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(30)
    config = {"workers": args.workers, "identify_threads": args.identify_threads, "clients": args.clients,
              "format": args.format, "cores": os.cpu_count(), "load_average": os.getloadavg()}
    print(json.dumps({"config": config, "results": results}, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"config": config, "results": results}, indent=2))
    head = ("phase", "req", "err", "median", "p95", "p99", "max", "req/s", "right", "cpu/req", "cores")
    print("\n{:<34} {:>5} {:>4} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>8} {:>6}".format(*head))
    for r in results:
        print(f"{r['phase']:<34} {r['requests']:>5} {r['errors']:>4} {r['median_ms']:>6.0f}ms {r['p95_ms']:>6.0f}ms "
              f"{r['p99_ms']:>6.0f}ms {r['max_ms']:>6.0f}ms {r['requests_per_s']:>6} {r['right_recording']:>6} "
              f"{r['server_cpu_ms_per_request'] or 0:>6.1f}ms {r['server_cores_used'] or 0:>6}")


if __name__ == "__main__":
    main()
