"""The ``soundtrack`` command: a thin layer over :class:`soundtrack.Library`.

Every command parses its arguments, calls the Python API, and prints a rich table or JSON. Errors
from soundtrack become one line on stderr and exit code 1 (2 for usage errors, from typer).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__, cli_catalog
from .cli_serve import serve
from .errors import SoundtrackError
from .export import Soundtrack, timecode
from .ingest import expand_paths
from .library import DEFAULT_MAX_SPEED_CHANGE, LIBRARY_ENV, MAX_SPEED_CHANGE_LIMIT, Library
from .models import Match
from .season import Season
from .season import summarize as summarize_season

app = typer.Typer(
    help="soundtrack: find every song in every scene. Index music, identify clips.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", "-L", envvar=LIBRARY_ENV, help="Library directory [default: user data dir]."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _open(library: Path | None) -> Library:
    return Library(library)


def _fail(exc: SoundtrackError) -> typer.Exit:
    _console(stderr=True).print(f"[bold red]error:[/] {exc}", markup=True)
    return typer.Exit(1)


@app.command()
def add(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (walked recursively).")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes.")] = 1,
    library: LibraryOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Index music files. Unchanged files are skipped, duplicates reported, bad files listed."""
    try:
        lib = _open(library)
        total = sum(1 for _ in expand_paths(paths))
        err = _console(stderr=True)
        with Progress(
            TextColumn("[bold]indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}"), console=err, disable=as_json or not err.is_terminal,
        ) as progress:
            task = progress.add_task("", total=total)

            def step(path: str, outcome: str) -> None:
                progress.update(task, advance=1, description=f"{outcome}: {Path(path).name}")

            report = lib.add(paths, jobs=jobs, progress=step)
    except SoundtrackError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps({
            "added": [r.to_dict() for r in report.added],
            "unchanged": report.unchanged,
            "duplicates": [{"path": d.path, "existing_id": d.existing.id, "how": d.how} for d in report.duplicates],
            "failed": [{"path": f.path, "reason": f.reason} for f in report.failed],
            "audio_s": round(report.audio_s, 3),
            "wall_s": round(report.wall_s, 3),
        }, indent=2))
    else:
        out = _console()
        speed = report.audio_s / report.wall_s if report.wall_s else 0.0
        out.print(f"added {len(report.added)}, unchanged {len(report.unchanged)}, "
                  f"duplicates {len(report.duplicates)}, failed {len(report.failed)} "
                  f"({report.audio_s / 60:.1f} min of audio in {report.wall_s:.1f} s, {speed:.0f}× real time)")
        for d in report.duplicates:
            out.print(f"duplicate: {d.path} is the {d.how} as #{d.existing.id} {d.existing.title}")
        for f in report.failed:
            _console(stderr=True).print(f"[red]failed:[/] {f.path}: {f.reason}")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def identify(
    clips: Annotated[list[Path], typer.Argument(help="Audio or video files to identify.")],
    library: LibraryOption = None,
    as_json: JsonFlag = False,
    max_results: Annotated[int, typer.Option(min=1, help="Matches to report per clip.")] = 3,
    max_speed_change: Annotated[float, typer.Option(
        min=0, max=MAX_SPEED_CHANGE_LIMIT,
        help="Also find songs played up to this much (relative) faster/slower, tempo-stretched or "
             "pitch-shifted (0.1: ±10 %, a semitone), when nothing matches as is; a clip that matches "
             "nothing then takes about ten times longer to answer.")] = DEFAULT_MAX_SPEED_CHANGE,
) -> None:
    """Say which recording each clip comes from, and where in it."""
    failed = False
    results = []
    try:
        lib = _open(library)
    except SoundtrackError as exc:
        raise _fail(exc) from None
    for clip in clips:
        try:
            matches = lib.identify(clip, max_results=max_results, max_speed_change=max_speed_change)
            results.append({"clip": str(clip), "matched": bool(matches), "matches": [m.to_dict() for m in matches]})
            if not as_json:
                _print_matches(str(clip), matches)
        except SoundtrackError as exc:
            failed = True
            results.append({"clip": str(clip), "matched": False, "matches": [], "error": str(exc)})
            if not as_json:
                _console(stderr=True).print(f"[bold red]error:[/] {exc}")
    if as_json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    if failed:
        raise typer.Exit(1)


def _print_matches(clip: str, matches: list[Match]) -> None:
    out = _console()
    if not matches:
        out.print(f"{clip}: [yellow]no match[/]")
        return
    table = Table(title=clip, title_justify="left")
    changed = any(m.change != "none" for m in matches)
    columns = ["id", "title", "artist", "at (s)", "score", "confidence"] + (["speed", "pitch"] if changed else [])
    for col in columns:
        table.add_column(col, justify="left" if col in ("title", "artist") else "right")
    for m in matches:
        row = [str(m.recording.id), m.recording.title, m.recording.artist or "",
               f"{m.offset_s:.2f}", str(m.score), f"{m.confidence:.2f}"]
        if changed:
            row += [f"{m.speed:.3f}", f"{m.pitch:.3f}"]
        table.add_row(*row)
    out.print(table)


@app.command()
def scan(
    episodes: Annotated[list[Path], typer.Argument(help="Episodes or films (any media file with audio).")],
    library: LibraryOption = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the cues as JSON here.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write a cue sheet (CSV) here.")] = None,
    plot_out: Annotated[Path | None, typer.Option("--plot", help="Draw the cues and level curve (PNG) here.")] = None,
    fps: Annotated[float, typer.Option(min=1, help="Frames per second of the cue sheet timecodes.")] = 25,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write each episode's JSON, CSV cue sheet and PNG into this directory, and a season "
                      "summary (season.json, season-episodes.csv, season-songs.csv).")] = None,
    show: Annotated[str | None, typer.Option(help="Name of the show, for the season summary.")] = None,
    season: Annotated[int | None, typer.Option(min=0, help="Season number, for the season summary.")] = None,
    max_speed_change: cli_catalog.MaxSpeedChangeOption = 0.0,
) -> None:
    """Find every library song in long recordings: cues with timecodes, flags and usage.

    With several episodes, --json/--csv/--plot file names get the episode's name appended before
    the extension; --out DIR names each episode's files after it instead.
    """
    try:
        lib = _open(library)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
    except SoundtrackError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        _console(stderr=True).print(f"[bold red]error:[/] cannot create {out}: {exc.strerror}")
        raise typer.Exit(1) from None
    scanned: list[Soundtrack] = []
    failed: dict[str, str] = {}
    for episode in episodes:
        try:
            soundtrack = _scan_one(lib, episode, max_speed_change)
        except SoundtrackError as exc:
            failed[str(episode)] = getattr(exc, "reason", str(exc))
            _console(stderr=True).print(f"[bold red]error:[/] {exc}")
            continue
        scanned.append(soundtrack)
        _print_cues(soundtrack, fps)
        many = len(episodes) > 1
        if json_out:
            soundtrack.to_json(_per_episode(json_out, episode, many), fps=fps)
        if csv_out:
            soundtrack.to_csv(_per_episode(csv_out, episode, many), fps=fps)
        if plot_out:
            _plot(soundtrack, _per_episode(plot_out, episode, many))
        if out is not None:
            _write_report(soundtrack, out / episode.stem, fps)
    if out is not None:
        summary = summarize_season(scanned, show=show, season=season, failed=failed)
        summary.to_json(out / "season.json")
        summary.to_csv(out / "season-episodes.csv", out / "season-songs.csv")
        _print_season(summary)
    if failed:
        raise typer.Exit(1)


def _write_report(soundtrack: Soundtrack, stem: Path, fps: float) -> None:
    """An episode's JSON, CSV cue sheet and PNG, named ``stem`` + extension."""
    soundtrack.to_json(stem.with_name(stem.name + ".json"), fps=fps)
    soundtrack.to_csv(stem.with_name(stem.name + ".csv"), fps=fps)
    _plot(soundtrack, stem.with_name(stem.name + ".png"))


def _plot(soundtrack: Soundtrack, path: Path) -> None:
    try:
        soundtrack.plot(path)
    except ImportError as exc:  # matplotlib is optional
        _console(stderr=True).print(f"[yellow]warning:[/] no picture written: {exc}")


def _print_season(summary: Season) -> None:
    out = _console()
    name = " ".join(x for x in (summary.show, None if summary.season is None else f"season {summary.season}") if x)
    table = Table(title=f"{name or 'season'}: {len(summary.episodes)} episodes, {len(summary.songs)} songs",
                  title_justify="left")
    for col in ("episode", "cues", "songs", "music (min)"):
        table.add_column(col, justify="left" if col == "episode" else "right")
    for e in summary.episodes:
        table.add_row(e.name, str(e.cues), str(e.songs), f"{e.music_s / 60:.1f}")
    out.print(table)
    for song in summary.recurring:
        out.print(f"in {len(song.episodes)} episodes: {song.recording.title} ({', '.join(song.episodes)})")


def _scan_one(lib: Library, episode: Path, max_speed_change: float = 0.0) -> Soundtrack:
    """Scan with a progress bar on stderr (when it is a terminal)."""
    err = _console(stderr=True)
    with Progress(TextColumn(f"[bold]scanning[/] {episode.name}"), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task("", total=None)

        def step(done_s: float, speed: float) -> None:
            progress.update(task, description=f"{_clock(done_s)} ({speed:.0f}× real time)")

        return lib.scan(episode, progress=step, max_speed_change=max_speed_change)


def _per_episode(path: Path, episode: Path, many: bool) -> Path:
    return path.with_name(f"{path.stem}.{episode.stem}{path.suffix}") if many else path


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _print_cues(soundtrack: Soundtrack, fps: float) -> None:
    out = _console()
    if not out.is_terminal:
        out.width = max(out.width, 150)  # a file or pipe: one line per cue
    title = f"{soundtrack.path} ({_clock(soundtrack.duration_s)})"
    if not soundtrack.cues:
        out.print(f"{title}: [yellow]no songs found[/]")
        return
    table = Table(title=title, title_justify="left")
    for col in ("#", "title", "artist", "in", "out", "duration", "from (s)", "to (s)", "usage", "conf.", "flags"):
        table.add_column(col, min_width=len(col) + (8 if col == "title" else 0), overflow="fold")
    for c in soundtrack.cues:
        table.add_row(str(c.number), c.recording.title, c.recording.artist or "",
                      timecode(c.episode_start_s, fps), timecode(c.episode_end_s, fps), f"{c.duration_s:.1f} s",
                      f"{c.recording_start_s:.1f}", f"{c.recording_end_s:.1f}", c.usage, f"{c.confidence:.2f}",
                      " ".join(c.flags) + (f" with {', '.join(map(str, c.overlaps))}" if c.overlaps else ""))
    out.print(table)


@app.command("list")
def list_(library: LibraryOption = None, as_json: JsonFlag = False) -> None:
    """List the recordings in the library."""
    try:
        recordings = _open(library).recordings()
    except SoundtrackError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps([r.to_dict() for r in recordings], indent=2))
        return
    table = Table()
    for col in ("id", "title", "artist", "album", "duration", "path"):
        table.add_column(col)
    for r in recordings:
        table.add_row(str(r.id), r.title, r.artist or "", r.album or "",
                      f"{int(r.duration_s // 60)}:{int(r.duration_s % 60):02d}", r.path)
    _console().print(table)


@app.command()
def remove(
    recording_ids: Annotated[list[int], typer.Argument(help="Recording ids (see `soundtrack list`).")],
    library: LibraryOption = None,
) -> None:
    """Remove recordings from the library."""
    try:
        lib = _open(library)
        for rid in recording_ids:
            rec = lib.remove(rid)
            _console().print(f"removed #{rec.id} {rec.title}")
    except SoundtrackError as exc:
        raise _fail(exc) from None


@app.command()
def stats(library: LibraryOption = None, as_json: JsonFlag = False) -> None:
    """Size of the library: recordings, hours indexed, index size."""
    try:
        s = _open(library).stats()
    except SoundtrackError as exc:
        raise _fail(exc) from None
    data = {"path": s.path, "recordings": s.recordings, "hours": round(s.hours, 3), "hashes": s.hashes,
            "segments": s.segments, "index_bytes": s.index_bytes, "database_bytes": s.database_bytes,
            "index_mb_per_hour": round(s.mb_per_hour, 3)}
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        for k, v in data.items():
            _console().print(f"{k:>18}: {v}")


app.command()(serve)


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


cli_catalog.register(app)  # show, episode, cue, lyrics, export, token


def main() -> None:
    """Entry point of the ``soundtrack`` console script."""
    app(prog_name="soundtrack")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
