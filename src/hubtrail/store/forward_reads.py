"""What the forwarder reads to build its requests: the current state of what the outbox names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.delivery import is_sendable_property
from hubtrail.core.properties import ObjectType
from hubtrail.store.properties import load_definitions
from hubtrail.store.schema import (
    companies,
    contacts,
    event_definition_properties,
    event_definitions,
    event_occurrences,
    page_views,
    property_values,
    visitors,
)


@dataclass(frozen=True, slots=True)
class Record:
    """A live contact or company with its sendable property values (no empty ones)."""

    id: int
    key: str  # a contact's email, a company's domain ("" when it has none)
    properties: dict[str, str]


@dataclass(frozen=True, slots=True)
class Gone:
    """Why a contact or company is no longer live."""

    merged_into: int | None = None  # merged away into this one
    deleted: bool = False  # deleted for good (GDPR): nothing of it is left; else archived


async def gone(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, ids: Sequence[int]
) -> dict[int, Gone]:
    """The ids that are archived, merged away or deleted, with which."""
    table = contacts if object_type is ObjectType.CONTACT else companies
    rows = await conn.execute(
        select(table.c.id, table.c.merged_into_id, table.c.archived_at_ms).where(
            table.c.portal_id == portal_id, table.c.id.in_(list(ids))
        )
    )
    found = {row.id: row for row in rows}
    reasons = {}
    for object_id in ids:
        row = found.get(object_id)
        if row is None:
            reasons[object_id] = Gone(deleted=True)
        elif row.merged_into_id is not None:
            reasons[object_id] = Gone(merged_into=row.merged_into_id)
        elif row.archived_at_ms is not None:
            reasons[object_id] = Gone()
    return reasons


async def records(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, ids: Sequence[int]
) -> dict[int, Record]:
    """Live, unmerged records by id; archived, merged or deleted ones are left out."""
    table = contacts if object_type is ObjectType.CONTACT else companies
    key_column = contacts.c.email if object_type is ObjectType.CONTACT else companies.c.domain_key
    rows = await conn.execute(
        select(table.c.id, key_column.label("key")).where(
            table.c.portal_id == portal_id,
            table.c.id.in_(list(ids)),
            table.c.archived_at_ms.is_(None),
            table.c.merged_into_id.is_(None),
        )
    )
    keys = {row.id: row.key or "" for row in rows}
    if not keys:
        return {}
    definitions = await load_definitions(conn, portal_id, object_type)
    pv = property_values
    values: dict[int, dict[str, str]] = {object_id: {} for object_id in keys}
    query = select(pv.c.object_id, pv.c.name, pv.c.value).where(
        pv.c.portal_id == portal_id,
        pv.c.object_type == object_type.value,
        pv.c.object_id.in_(list(keys)),
    )
    for row in await conn.execute(query):
        if row.value not in (None, "") and is_sendable_property(
            row.name, definitions.get(row.name)
        ):
            values[row.object_id][row.name] = row.value
    found = {}
    for object_id, key in keys.items():
        props = values[object_id]
        if object_type is ObjectType.CONTACT and key:
            props["email"] = key
        found[object_id] = Record(object_id, props.get("domain", key).lower(), props)
    return found


@dataclass(frozen=True, slots=True)
class Activity:
    """An event occurrence or page view to send, with who it belongs to."""

    message_id: str
    occurred_at_ms: int
    definition_id: int | None  # None for a page view
    properties: dict[str, Any]
    contact_id: int | None
    email: str | None
    visitor_key: str | None


async def occurrences(
    conn: AsyncConnection, portal_id: int, message_ids: Sequence[str]
) -> dict[str, Activity]:
    o = event_occurrences
    query = (
        select(
            o.c.message_id,
            o.c.occurred_at_ms,
            o.c.definition_id,
            o.c.properties,
            o.c.contact_id,
            contacts.c.email,
            visitors.c.visitor_key,
        )
        .select_from(
            o.outerjoin(contacts, contacts.c.id == o.c.contact_id).outerjoin(
                visitors, visitors.c.id == o.c.visitor_id
            )
        )
        .join(event_definitions, event_definitions.c.id == o.c.definition_id)
        .where(
            o.c.portal_id == portal_id,
            o.c.message_id.in_(list(message_ids)),
            event_definitions.c.archived_at_ms.is_(None),
        )
    )
    return {
        row.message_id: Activity(
            row.message_id,
            row.occurred_at_ms,
            row.definition_id,
            orjson.loads(row.properties or "{}"),
            row.contact_id,
            row.email,
            row.visitor_key,
        )
        for row in await conn.execute(query)
    }


async def views(
    conn: AsyncConnection, portal_id: int, message_ids: Sequence[str]
) -> dict[str, Activity]:
    v = page_views
    query = (
        select(
            v.c.message_id,
            v.c.occurred_at_ms,
            v.c.url,
            v.c.title,
            v.c.referrer,
            v.c.contact_id,
            contacts.c.email,
            visitors.c.visitor_key,
        )
        .select_from(
            v.outerjoin(contacts, contacts.c.id == v.c.contact_id).outerjoin(
                visitors, visitors.c.id == v.c.visitor_id
            )
        )
        .where(v.c.portal_id == portal_id, v.c.message_id.in_(list(message_ids)))
    )
    return {
        row.message_id: Activity(
            row.message_id,
            row.occurred_at_ms,
            None,
            {"url": row.url, "title": row.title, "referrer": row.referrer},
            row.contact_id,
            row.email,
            row.visitor_key,
        )
        for row in await conn.execute(query)
    }


@dataclass(frozen=True, slots=True)
class EventDefinitionInfo:
    id: int
    name: str
    label: str
    properties: dict[str, tuple[str, str]]  # name → (label, type)


async def event_definitions_by_id(
    conn: AsyncConnection, portal_id: int, ids: Sequence[int]
) -> dict[int, EventDefinitionInfo]:
    d, p = event_definitions, event_definition_properties
    rows = await conn.execute(
        select(d.c.id, d.c.name, d.c.label).where(d.c.portal_id == portal_id, d.c.id.in_(list(ids)))
    )
    found = {row.id: EventDefinitionInfo(row.id, row.name, row.label, {}) for row in rows}
    props = await conn.execute(
        select(p.c.definition_id, p.c.name, p.c.label, p.c.type).where(
            p.c.definition_id.in_(list(found)), p.c.archived_at_ms.is_(None)
        )
    )
    for row in props:
        found[row.definition_id].properties[row.name] = (row.label, row.type)
    return found
