"""The schema comes from the shipped migrations, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from soundtrack.catalog import Catalog
from soundtrack.catalog.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from soundtrack.catalog.schema import Base
from soundtrack.errors import CatalogError, CatalogUnavailableError

TABLES = {"alembic_version", "api_tokens", "cues", "episodes", "recordings", "seasons", "shows"}


def test_migrations_build_the_schema_from_empty(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) == set()
        with Catalog(database_url) as cat:
            assert cat.shows().total == 0
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) == TABLES
        with Catalog(database_url):  # already at head: nothing to do
            pass
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_match_migrations(database_url: str) -> None:
    """What `alembic check` does: autogenerate finds nothing to change after upgrading to head."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_empty_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_after_migrating(tmp_path: Path) -> None:
    """The migration runs with foreign keys off (so batch table copies cannot cascade); the
    connections the catalog then uses have them on."""
    with Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}") as cat:
        for _ in range(3):
            with cat._engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_processes_opening_a_new_database_together_migrate_it_once(database_url: str) -> None:
    opened: list[str] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            with Catalog(database_url) as cat:
                opened.append(cat.dialect)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(opened) == 4


def test_default_is_sqlite_in_the_library_directory(tmp_path: Path) -> None:
    library = tmp_path / "new" / "library"
    with Catalog(library_path=library) as cat:
        cat.add_show("Soundtrack")
        assert cat.dialect == "sqlite"
    assert (library / "catalog.sqlite").is_file()
    with Catalog(f"sqlite:///{library / 'catalog.sqlite'}") as cat:
        assert cat.find_show("Soundtrack") is not None


def test_unusable_urls() -> None:
    with pytest.raises(CatalogError, match="not a database URL"):
        Catalog("not a url")
    with pytest.raises(CatalogError, match="not a database soundtrack can use"):
        Catalog("oracle+nothing://u@host/db")
    with pytest.raises(CatalogUnavailableError, match=r"cannot open the catalog at postgresql\+psycopg://u:\*\*\*@"):
        Catalog("postgresql://u:secret@127.0.0.1:1/db")  # nothing listens on port 1
