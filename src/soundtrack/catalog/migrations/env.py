"""Alembic environment for the catalog: runs on the connection that :func:`soundtrack.catalog.db.upgrade`
(or a developer's ``command.revision``) hands over in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from soundtrack.catalog.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the catalog migrations run on a connection given in config.attributes['connection']")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
