"""The two statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert


def _insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring(conn: AsyncConnection, table: Table, keys: Sequence[str]) -> Insert:
    """INSERT that skips rows whose `keys` already exist (dedupe, create-if-missing)."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))


def upsert(
    conn: AsyncConnection, table: Table, keys: Sequence[str], update: Sequence[str]
) -> Insert:
    """INSERT that overwrites the `update` columns of a row whose `keys` already exist."""
    stmt = _insert(conn, table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in update}
    )
