"""Property definitions and values, with every change kept in property history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.messages import Source
from hubtrail.core.properties import (
    ObjectType,
    Option,
    PropertyDefinition,
    PropertyType,
    value_key,
    value_number,
)
from hubtrail.store.schema import property_definitions, property_history, property_values
from hubtrail.store.sql import upsert


async def load_definitions(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType
) -> dict[str, PropertyDefinition]:
    """The portal's live property definitions for one object type, by name."""
    t = property_definitions
    query = select(t).where(
        t.c.portal_id == portal_id,
        t.c.object_type == object_type.value,
        t.c.archived_at_ms.is_(None),
    )
    return {row.name: _definition(row) for row in await conn.execute(query)}


def _definition(row: object) -> PropertyDefinition:
    r = row._mapping  # type: ignore[attr-defined]
    return PropertyDefinition(
        name=r["name"],
        label=r["label"],
        type=PropertyType(r["type"]),
        field_type=r["field_type"],
        group_name=r["group_name"],
        description=r["description"],
        options=tuple(
            Option(o["label"], o["value"], o.get("hidden", False), o.get("displayOrder", 0))
            for o in orjson.loads(r["options"])
        ),
        read_only_value=r["read_only_value"],
        hubspot_defined=r["hubspot_defined"],
        has_unique_value=r["has_unique_value"],
    )


async def current_values(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    object_id: int,
    names: Iterable[str] | None = None,
) -> dict[str, str]:
    t = property_values
    query = select(t.c.name, t.c.value).where(
        t.c.portal_id == portal_id,
        t.c.object_type == object_type.value,
        t.c.object_id == object_id,
    )
    if names is not None:
        query = query.where(t.c.name.in_(list(names)))
    return {row.name: row.value for row in await conn.execute(query)}


async def save_changes(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    object_id: int,
    changed: Mapping[str, str],
    *,
    types: Mapping[str, PropertyType],
    source: Source,
    source_id: str | None,
    at_ms: int,
) -> None:
    """Store values already known to differ from the current ones, with their history rows.

    `types` gives each property's type, for the numeric search column.
    """
    if not changed:
        return
    key = {"portal_id": portal_id, "object_type": object_type.value, "object_id": object_id}
    await conn.execute(
        upsert(
            conn,
            property_values,
            ["portal_id", "object_type", "object_id", "name"],
            ["value", "value_key", "value_num", "updated_at_ms", "source"],
        ),
        [
            {
                **key,
                "name": name,
                "value": value,
                "value_key": value_key(types.get(name, PropertyType.STRING), value),
                "value_num": value_number(types.get(name, PropertyType.STRING), value),
                "updated_at_ms": at_ms,
                "source": source.value,
            }
            for name, value in changed.items()
        ],
    )
    await conn.execute(
        insert(property_history),
        [
            {
                **key,
                "name": name,
                "value": value,
                "timestamp_ms": at_ms,
                "source": source.value,
                "source_id": source_id,
            }
            for name, value in changed.items()
        ],
    )


async def history(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, object_id: int, name: str
) -> list[tuple[str, int, str]]:
    """(value, timestamp ms, source) of every change to one property, newest first."""
    t = property_history
    query = (
        select(t.c.value, t.c.timestamp_ms, t.c.source)
        .where(
            t.c.portal_id == portal_id,
            t.c.object_type == object_type.value,
            t.c.object_id == object_id,
            t.c.name == name,
        )
        .order_by(t.c.timestamp_ms.desc(), t.c.id.desc())
    )
    return [(row.value, row.timestamp_ms, row.source) for row in await conn.execute(query)]
