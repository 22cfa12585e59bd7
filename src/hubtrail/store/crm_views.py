"""Reading CRM objects the way the API returns them: properties, history and associations.

`load_views` gathers, for a page of objects, everything a response needs in a fixed number of
queries (not one per object).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.properties import ObjectType
from hubtrail.store import associations, objects
from hubtrail.store.associations import Link
from hubtrail.store.batch import Batch
from hubtrail.store.db import Database
from hubtrail.store.objects import HistoryEntry, ObjectRow

T = TypeVar("T")

DEFAULT_PROPERTIES = {
    ObjectType.CONTACT: ("firstname", "lastname", "email"),
    ObjectType.COMPANY: ("name", "domain"),
}


@dataclass(frozen=True, slots=True)
class ObjectView:
    row: ObjectRow
    properties: dict[str, str | None]
    history: dict[str, list[HistoryEntry]] | None = None
    links: dict[ObjectType, list[Link]] = field(default_factory=dict)


async def load_views(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    rows: Sequence[ObjectRow],
    *,
    properties: Sequence[str] | None = None,
    history: Sequence[str] = (),
    associated: Sequence[ObjectType] = (),
) -> list[ObjectView]:
    """Views of `rows` in order: the requested properties (or the defaults), history, links."""
    names = list(properties) if properties else list(DEFAULT_PROPERTIES[object_type])
    values = await objects.values(conn, portal_id, object_type, rows, names)
    ids = [row.id for row in rows]
    histories = (
        await objects.histories(conn, portal_id, object_type, ids, history) if history else {}
    )
    links: dict[ObjectType, dict[int, list[Link]]] = {}
    for to_type in associated:
        links[to_type] = await associations.links(conn, portal_id, object_type, ids, to_type)
    return [
        ObjectView(
            row=row,
            properties=values[row.id],
            history={name: histories.get(row.id, {}).get(name, []) for name in history}
            if history
            else None,
            links={to_type: found.get(row.id, []) for to_type, found in links.items()},
        )
        for row in rows
    ]


async def write_then_view(
    db: Database,
    at_ms: int,
    portal_id: int,
    object_type: ObjectType,
    change: Callable[[Batch], Awaitable[list[int]]],
    *,
    properties: Sequence[str] | None = None,
) -> list[ObjectView]:
    """Run `change` in one write transaction and return views of the objects it names."""

    async def run(conn: AsyncConnection) -> list[ObjectView]:
        batch = Batch(conn, at_ms)
        ids = await change(batch)
        await batch.flush()
        rows = await objects.fetch(conn, portal_id, object_type, ids)
        return await load_views(
            conn, portal_id, object_type, [rows[i] for i in ids if i in rows], properties=properties
        )

    return await db.write(run)
