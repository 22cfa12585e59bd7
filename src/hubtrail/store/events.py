"""Event definitions (created once per name, never recreated after deletion) and occurrences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.store.schema import event_definitions, event_occurrences
from hubtrail.store.sql import insert_ignoring


@dataclass(frozen=True, slots=True)
class EventDefinition:
    id: int
    name: str
    label: str
    archived: bool


async def _one(conn: AsyncConnection, *where: Any) -> EventDefinition | None:
    t = event_definitions
    query = select(t.c.id, t.c.name, t.c.label, t.c.archived_at_ms).where(*where)
    row = (await conn.execute(query)).first()
    return (
        EventDefinition(row.id, row.name, row.label, row.archived_at_ms is not None)
        if row
        else None
    )


async def get_definition(
    conn: AsyncConnection, portal_id: int, definition_id: int
) -> EventDefinition | None:
    t = event_definitions
    return await _one(conn, t.c.portal_id == portal_id, t.c.id == definition_id)


async def find_definition(
    conn: AsyncConnection, portal_id: int, name: str
) -> EventDefinition | None:
    """The definition with this internal name, archived ones included."""
    t = event_definitions
    return await _one(conn, t.c.portal_id == portal_id, t.c.name == name)


async def get_or_create_definition(
    conn: AsyncConnection, portal_id: int, name: str, label: str, created_by: str, at_ms: int
) -> tuple[EventDefinition, bool]:
    """The definition named `name`, created on first use; True when this call created it."""
    existing = await find_definition(conn, portal_id, name)
    if existing:
        return existing, False
    stmt = insert_ignoring(conn, event_definitions, ["portal_id", "name"]).values(
        portal_id=portal_id, name=name, label=label, created_by=created_by, created_at_ms=at_ms
    )
    inserted = (await conn.execute(stmt)).rowcount == 1
    definition = await find_definition(conn, portal_id, name)
    assert definition is not None, "event definition vanished between insert and select"
    return definition, inserted


async def add_occurrences(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(event_occurrences), list(rows))
