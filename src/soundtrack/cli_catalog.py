"""Catalog commands of ``soundtrack``: show, episode, cue, lyrics, export, token (thin, over
:class:`soundtrack.catalog.Catalog`). :func:`register` adds them to the main typer app.

Every command takes ``--library`` (the default SQLite catalog lives there) and ``--database-url``
(``$SOUNDTRACK_DATABASE_URL``; e.g. ``postgresql://user:password@host/db``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from .catalog import DATABASE_URL_ENV, Catalog, Episode
from .errors import CatalogError, NotFoundError, SoundtrackError
from .export import timecode
from .library import LIBRARY_ENV, MAX_SPEED_CHANGE_LIMIT, Library, default_library_path

LibraryOption = Annotated[Path | None, typer.Option(
    "--library", "-L", envvar=LIBRARY_ENV, help="Library directory (the SQLite catalog lives in it).")]
DatabaseOption = Annotated[str | None, typer.Option(
    "--database-url", envvar=DATABASE_URL_ENV, help="Catalog database URL (default: SQLite in the library directory).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
#: ``scan``'s speed search, shared by every command that scans.
MaxSpeedChangeOption = Annotated[float, typer.Option(
    min=0, max=MAX_SPEED_CHANGE_LIMIT,
    help="Also find songs played up to this much (relative) faster or slower (tempo and pitch "
         "together, or tempo alone), or shifted in pitch (up to a semitone), in 1 %% steps; this costs "
         "several times the scan's time (see README). Normal speed and PAL are always searched.")]

show_app = typer.Typer(help="Shows (series or films) in the catalog.", no_args_is_help=True)
episode_app = typer.Typer(help="Episodes: add, scan for songs, show their cues.", no_args_is_help=True)
cue_app = typer.Typer(help="Edit the songs (cues) of an episode.", no_args_is_help=True)
lyrics_app = typer.Typer(help="Synced lyrics (LRC files) of recordings.", no_args_is_help=True)
export_app = typer.Typer(help="Export playlists.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for the server's write endpoints.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the catalog command groups to ``app``."""
    for name, sub in (("show", show_app), ("episode", episode_app), ("cue", cue_app), ("lyrics", lyrics_app),
                      ("export", export_app), ("token", token_app)):
        app.add_typer(sub, name=name)


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


@contextmanager
def _catalog(library: Path | None, database_url: str | None) -> Iterator[Catalog]:
    """The catalog, with any soundtrack error printed as one line and exit status 1."""
    try:
        with Catalog(database_url, library_path=library or default_library_path()) as cat:
            yield cat
    except SoundtrackError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from None


def _sync(cat: Catalog, library: Path | None) -> None:
    """Mirror the fingerprint library's recordings, if there is a library."""
    path = library or default_library_path()
    if (path / "library.db").exists():
        with Library(path) as lib:
            cat.sync_recordings(lib)


# -- show ----------------------------------------------------------------------------------

@show_app.command("add")
def show_add(title: Annotated[str, typer.Argument(help="The show's title.")],
             description: Annotated[str | None, typer.Option(help="A line about the show.")] = None,
             library: LibraryOption = None, database_url: DatabaseOption = None) -> None:
    """Add a show."""
    with _catalog(library, database_url) as cat:
        show = cat.add_show(title, description=description)
    _out().print(f"show {show.id}: {show.title}")


@show_app.command("list")
def show_list(library: LibraryOption = None, database_url: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """List shows with their seasons and episodes."""
    with _catalog(library, database_url) as cat:
        page = cat.shows(limit=500)
    if as_json:
        print(json.dumps(page.to_dict(), indent=2))
        return
    out = _out()
    if not page.items:
        out.print("no shows yet: add one with `soundtrack show add TITLE`")
    for show in page.items:
        tree = Tree(f"[bold]{show.title}[/] (show {show.id})")
        for season in show.seasons:
            branch = tree.add(f"season {season.number}")
            for e in season.episodes:
                branch.add(f"{e.code} {e.title or ''} (episode {e.id}, {e.n_cues} cues)")
        out.print(tree)


# -- episode -------------------------------------------------------------------------------

@episode_app.command("add")
def episode_add(
    show: Annotated[str, typer.Option("--show", help="Title of the show (see `soundtrack show list`).")],
    season: Annotated[int, typer.Option(min=0, help="Season number.")],
    number: Annotated[int, typer.Option(min=0, help="Episode number in the season.")],
    title: Annotated[str | None, typer.Option(help='Episode title, e.g. "Track 1: Nellie and Sam".')] = None,
    scan: Annotated[Path | None, typer.Option(help="Scan this media file for songs and import its cues.")] = None,
    media: Annotated[str | None, typer.Option(help="Media file of the episode [default: the --scan file].")] = None,
    max_speed_change: MaxSpeedChangeOption = 0.0,
    library: LibraryOption = None, database_url: DatabaseOption = None, as_json: JsonFlag = False,
) -> None:
    """Add an episode to a show, optionally scanning its media file for songs."""
    with _catalog(library, database_url) as cat:
        found = cat.find_show(show)
        if found is None:
            raise NotFoundError(f"no show titled {show!r}: add it with `soundtrack show add {show!r}`")
        media_path = media or (str(scan.resolve()) if scan else None)
        ep = cat.add_episode(found.id, season, number, title=title, media_path=media_path)
        if scan is not None:
            ep = _scan_into(cat, ep.id, scan, library, max_speed_change)
    _print_episode(ep, as_json)


@episode_app.command("scan")
def episode_scan(
    episode_id: Annotated[int, typer.Argument(help="Episode id.")],
    media: Annotated[Path | None, typer.Argument(help="Media file [default: the episode's].")] = None,
    max_speed_change: MaxSpeedChangeOption = 0.0,
    library: LibraryOption = None, database_url: DatabaseOption = None, as_json: JsonFlag = False,
) -> None:
    """Scan an episode again: scanned cues are replaced, cues people confirmed or edited are kept."""
    with _catalog(library, database_url) as cat:
        path = media or (Path(p) if (p := cat.episode(episode_id).media_path) else None)
        if path is None:
            raise CatalogError(f"episode {episode_id} has no media file: give one")
        ep = _scan_into(cat, episode_id, path, library, max_speed_change)
    _print_episode(ep, as_json)


def _scan_into(cat: Catalog, episode_id: int, media: Path, library: Path | None,
               max_speed_change: float = 0.0) -> Episode:
    """Scan ``media`` with the library, draw its timeline next to the catalog, import the cues."""
    lib_path = library or default_library_path()
    err = Console(stderr=True, highlight=False)
    with Library(lib_path) as lib:
        cat.sync_recordings(lib)
        if not lib.recordings():
            err.print(f"[yellow]warning:[/] the library at {lib_path} is empty: add music with `soundtrack add`")
        err.print(f"scanning {media} …")
        soundtrack = lib.scan(media.resolve(), max_speed_change=max_speed_change)
    png = lib_path / "timelines" / f"episode-{episode_id}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    try:
        timeline: str | None = str(soundtrack.plot(png))
    except ImportError as exc:  # matplotlib is optional
        err.print(f"[yellow]warning:[/] no timeline picture ({exc})")
        timeline = None
    return cat.import_scan(episode_id, soundtrack, timeline_png=timeline)


@episode_app.command("show")
def episode_show(episode_id: Annotated[int, typer.Argument(help="Episode id.")],
                 fps: Annotated[float, typer.Option(min=1, help="Frames per second of the timecodes.")] = 25,
                 library: LibraryOption = None, database_url: DatabaseOption = None,
                 as_json: JsonFlag = False) -> None:
    """Show an episode's songs in order, with times, usage and scene notes."""
    with _catalog(library, database_url) as cat:
        ep = cat.episode(episode_id)
    _print_episode(ep, as_json, fps)


def _print_episode(ep: Episode, as_json: bool, fps: float = 25) -> None:
    if as_json:
        print(json.dumps(ep.to_dict(), indent=2))
        return
    out = _out()
    if not out.is_terminal:
        out.width = max(out.width, 150)
    table = Table(title=f"{ep.show_title} {ep.code} {ep.title or ''} (episode {ep.id})", title_justify="left")
    for col in ("#", "cue", "in", "out", "title", "artist", "usage", "conf.", "ok", "scene"):
        table.add_column(col, overflow="fold")
    for c in ep.cues:
        table.add_row(str(c.number), str(c.id), timecode(c.episode_start_s, fps), timecode(c.episode_end_s, fps),
                      c.recording.title, c.recording.artist or "", c.usage,
                      "" if c.confidence is None else f"{c.confidence:.2f}", "✓" if c.confirmed else "",
                      c.scene_note or "")
    out.print(table if ep.cues else f"{table.title}: no cues")
    if ep.timeline_png:
        out.print(f"timeline: {ep.timeline_png}")


# -- cue -----------------------------------------------------------------------------------

@cue_app.command("edit")
def cue_edit(
    cue_id: Annotated[int, typer.Argument(help="Cue id (see `soundtrack episode show`).")],
    confirm: Annotated[bool | None, typer.Option("--confirm/--unconfirm", help="A person checked it.")] = None,
    note: Annotated[str | None, typer.Option("--note", help='Scene note, e.g. "Sam gets fired" ("" clears).')] = None,
    visual_vocal: Annotated[bool | None, typer.Option("--visual-vocal/--not-visual-vocal",
                                                      help="Sung on screen (usage VV).")] = None,
    usage: Annotated[str | None, typer.Option(help="Cue-sheet usage: BI BV VI VV MT ET.")] = None,
    start: Annotated[float | None, typer.Option(help="Corrected start in the episode (s).")] = None,
    end: Annotated[float | None, typer.Option(help="Corrected end in the episode (s).")] = None,
    recording: Annotated[int | None, typer.Option(help="Corrected recording id.")] = None,
    library: LibraryOption = None, database_url: DatabaseOption = None, as_json: JsonFlag = False,
) -> None:
    """Confirm or correct a cue, add a scene note, mark it visual vocal."""
    with _catalog(library, database_url) as cat:
        if recording is not None:
            _sync(cat, library)
        cue = cat.update_cue(cue_id, confirmed=confirm, scene_note=note, usage=usage, visual_vocal=visual_vocal,
                             episode_start_s=start, episode_end_s=end, recording_id=recording)
    if as_json:
        print(json.dumps(cue.to_dict(), indent=2))
    else:
        _out().print(f"cue {cue.id}: {cue.recording.title} {cue.episode_start_s:.1f}–{cue.episode_end_s:.1f} s, "
                     f"{cue.usage}{', confirmed' if cue.confirmed else ''}"
                     + (f", {cue.scene_note!r}" if cue.scene_note else ""))


@cue_app.command("add")
def cue_add(
    episode_id: Annotated[int, typer.Argument(help="Episode id.")],
    recording_id: Annotated[int, typer.Argument(help="Recording id (see `soundtrack list`).")],
    start: Annotated[float, typer.Option(help="Start in the episode (s).")],
    end: Annotated[float, typer.Option(help="End in the episode (s).")],
    recording_start: Annotated[float, typer.Option(help="Where in the recording it starts (s).")] = 0.0,
    note: Annotated[str | None, typer.Option(help="Scene note.")] = None,
    usage: Annotated[str, typer.Option(help="Cue-sheet usage: BI BV VI VV MT ET.")] = "BI",
    library: LibraryOption = None, database_url: DatabaseOption = None,
) -> None:
    """Add a cue the scan missed."""
    with _catalog(library, database_url) as cat:
        _sync(cat, library)
        cue = cat.add_cue(episode_id, recording_id, start, end, recording_start_s=recording_start, scene_note=note,
                          usage=usage)
    _out().print(f"cue {cue.id}: {cue.recording.title} at {cue.episode_start_s:.1f} s")


@cue_app.command("delete")
def cue_delete(cue_id: Annotated[int, typer.Argument(help="Cue id.")],
               library: LibraryOption = None, database_url: DatabaseOption = None) -> None:
    """Delete a cue (a song the scan got wrong)."""
    with _catalog(library, database_url) as cat:
        cat.delete_cue(cue_id)
    _out().print(f"deleted cue {cue_id}")


# -- lyrics --------------------------------------------------------------------------------

@lyrics_app.command("set")
def lyrics_set(
    recording_id: Annotated[int, typer.Argument(help="Recording id (see `soundtrack list`).")],
    lrc: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Synced lyrics (.lrc).")],
    explicit: Annotated[bool | None, typer.Option("--explicit/--clean", help="Explicit lyrics.")] = None,
    library: LibraryOption = None, database_url: DatabaseOption = None,
) -> None:
    """Attach synced lyrics (an LRC file) to a recording."""
    text = lrc.read_text(encoding="utf-8-sig", errors="replace")
    with _catalog(library, database_url) as cat:
        _sync(cat, library)
        rec = cat.set_lyrics(recording_id, text, explicit=explicit)
        n = len(cat.lyrics(recording_id))
    _out().print(f"{rec.title}: {n} timed lines{' (explicit)' if rec.explicit else ''}")


@lyrics_app.command("show")
def lyrics_show(recording_id: Annotated[int, typer.Argument(help="Recording id.")],
                at: Annotated[float | None, typer.Option(help="Only the line sung at this time (s).")] = None,
                library: LibraryOption = None, database_url: DatabaseOption = None) -> None:
    """Print a recording's synced lyrics with their times."""
    with _catalog(library, database_url) as cat:
        lines = cat.lyrics(recording_id) if at is None else [x for x in [cat.lyric_line(recording_id, at)] if x]
    for line in lines:
        print(f"[{int(line.start_s // 60):02d}:{line.start_s % 60:05.2f}] {line.text}")


# -- export --------------------------------------------------------------------------------

@export_app.command("playlist")
def export_playlist(
    episode: Annotated[int | None, typer.Option("--episode", help="Episode id.")] = None,
    show: Annotated[str | None, typer.Option("--show", help="Show title (with --season, or the whole show).")] = None,
    season: Annotated[int | None, typer.Option("--season", help="Season number.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="m3u or xspf.")] = "m3u",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here [default: stdout].")] = None,
    library: LibraryOption = None, database_url: DatabaseOption = None,
) -> None:
    """The songs of an episode or a season as an M3U or XSPF playlist."""
    with _catalog(library, database_url) as cat:
        show_id = None
        if show is not None:
            found = cat.find_show(show)
            if found is None:
                raise NotFoundError(f"no show titled {show!r}")
            show_id = found.id
        text = cat.playlist(episode_id=episode, show_id=show_id, season=season, fmt=fmt.lower())
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        _out().print(f"wrote {output}")


# -- token ---------------------------------------------------------------------------------

@token_app.command("create")
def token_create(name: Annotated[str, typer.Argument(help="What the token is for, e.g. the user's name.")],
                 library: LibraryOption = None, database_url: DatabaseOption = None) -> None:
    """Create an API token and print it (once: only its hash is stored)."""
    with _catalog(library, database_url) as cat:
        token = cat.create_token(name)
    print(token)


@token_app.command("list")
def token_list(library: LibraryOption = None, database_url: DatabaseOption = None, as_json: JsonFlag = False) -> None:
    """List API tokens (names and use; the tokens themselves are not stored)."""
    with _catalog(library, database_url) as cat:
        tokens = cat.tokens()
    if as_json:
        print(json.dumps([t.to_dict() for t in tokens], indent=2))
        return
    table = Table()
    for col in ("name", "created", "last used"):
        table.add_column(col)
    for t in tokens:
        table.add_row(t.name, f"{t.created_at:%Y-%m-%d %H:%M}",
                      f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never")
    _out().print(table)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="Token name.")],
                 library: LibraryOption = None, database_url: DatabaseOption = None) -> None:
    """Revoke an API token."""
    with _catalog(library, database_url) as cat:
        cat.revoke_token(name)
    _out().print(f"revoked {name}")

