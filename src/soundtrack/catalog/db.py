"""Where the catalog lives and how it is opened: the database URL, the engine, the migrations.

SQLite (``catalog.sqlite`` in the library directory) by default; any SQLAlchemy URL otherwise, in
practice PostgreSQL through psycopg 3 (``postgresql://`` is read as ``postgresql+psycopg://``).
Opening a catalog upgrades its schema to the newest migration shipped in ``migrations/``, under a
lock so that two processes opening the same new database do not both create it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError

from ..errors import CatalogError, CatalogUnavailableError

#: Environment variable with the database URL, read by the command line (``--database-url``).
DATABASE_URL_ENV = "SOUNDTRACK_DATABASE_URL"
#: File name of the default SQLite catalog inside the library directory.
SQLITE_NAME = "catalog.sqlite"
#: How long a SQLite writer waits for another one to finish (milliseconds).
SQLITE_BUSY_MS = 30_000
#: PostgreSQL advisory lock key held while migrating (any constant shared by every process).
PG_MIGRATION_LOCK = 0x50_55_4E_44  # "SOUND"
MIGRATIONS = Path(__file__).parent / "migrations"


def resolve_url(url: str | None, library_path: Path | None) -> str:
    """The SQLAlchemy URL to open: ``url`` (``postgresql://`` → psycopg 3), or SQLite in ``library_path``
    (the default library directory when that is None too)."""
    if url:
        try:
            parsed = make_url(url)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises ArgumentError and others
            raise CatalogError(f"not a database URL: {url!r} ({exc})") from None
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    if library_path is None:
        from ..library import default_library_path

        library_path = default_library_path()
    library_path = Path(library_path).expanduser()
    library_path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{library_path / SQLITE_NAME}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL, a busy timeout, and real transactions:
    ``BEGIN`` for reads and ``BEGIN IMMEDIATE`` for connections opened with ``write=True`` in their
    execution options (so two writers queue instead of failing with "database is locked")."""
    is_sqlite = url.startswith("sqlite")
    try:
        engine = create_engine(url, pool_pre_ping=not is_sqlite)
    except NoSuchModuleError:
        raise CatalogError(f"not a database soundtrack can use: {_masked(url)} "
                           "(use sqlite:// or postgresql://)") from None
    except ImportError as exc:
        raise CatalogUnavailableError(f"no driver for {_masked(url)}: {exc}") from None
    if is_sqlite:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            cur.close()
            _use_wal(dbapi_conn)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")
    return engine


def _use_wal(dbapi_conn) -> None:  # noqa: ANN001 - a sqlite3 connection
    """Switch the database file to write-ahead logging (it stays so: later connections only read it).

    Switching needs the file to itself and SQLite answers "database is locked" at once, without the
    busy timeout, while another connection is opening the same new file; so it is retried, with a
    short growing pause, for up to :data:`SQLITE_BUSY_MS`."""
    deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
    pause_s = 0.005
    while True:
        try:
            mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal":
                dbapi_conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause_s)
            pause_s = min(pause_s * 2, 0.2)


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic Alembic configuration (no alembic.ini) for the migrations in this package.

    Developers add a migration after changing ``schema.py`` with, for example::

        from alembic import command
        from soundtrack.catalog.db import alembic_config, make_engine
        with make_engine("sqlite:////tmp/head.sqlite").begin() as conn:   # a database at head
            command.revision(alembic_config(conn), "what changed", autogenerate=True)
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version of soundtrack."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database at ``engine`` is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to :func:`head_revision`, in one transaction that holds a lock against other
    processes migrating too (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock). Costs one
    query when the database is already at head."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    is_sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        conn.execution_options(write=True)
        if is_sqlite:  # batch migrations copy and drop tables: a DROP must not cascade-delete child rows
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys = OFF")  # before BEGIN (it is ignored inside a transaction)
        try:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
            if MigrationContext.configure(conn).get_current_revision() != head:  # not done while we waited
                command.upgrade(alembic_config(conn), "head")
            conn.commit()
        finally:
            if is_sqlite:
                conn.invalidate()  # its foreign keys are off: never hand it out again


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
