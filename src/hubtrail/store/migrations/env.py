"""Alembic environment: runs on the connection handed over by `hubtrail.store.migrate`."""

from __future__ import annotations

from alembic import context

from hubtrail.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hubtrail db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
