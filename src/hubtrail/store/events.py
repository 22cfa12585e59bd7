"""Event definitions (created once per name, never recreated after deletion) and occurrences.

The processor finds or creates definitions and adds occurrences; the events read API pages
through occurrences with keyset paging on `(occurred_at_ms, id)`, so a page never repeats or
skips a row while new events arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, Text, case, cast, func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.store import contacts
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
    # FOR SHARE (PostgreSQL; SQLite has one writer anyway): a definition the processor is about to
    # record an occurrence under cannot be archived, and its occurrences deleted, until it commits.
    query = select(t.c.id, t.c.name, t.c.label, t.c.archived_at_ms).where(*where)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(read=True)
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


# --- reading occurrences (GET /events/v3/events) -------------------------------------------------

_occ = event_occurrences
_defs = event_definitions


@dataclass(frozen=True, slots=True)
class OccurrenceFilter:
    """What `GET /events/v3/events` asked for; every field set narrows the result."""

    limit: int
    descending: bool = True
    after: tuple[int, int] | None = None  # (occurred_at_ms, id) of the previous page's last row
    event_name: str | None = None
    object_type_id: str | None = None
    contact_id: int | None = None
    contact_email: str | None = None
    ids: tuple[int, ...] | None = None
    occurred_after_ms: int | None = None
    occurred_before_ms: int | None = None
    properties: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Occurrence:
    id: int
    event_name: str
    contact_id: int
    occurred_at_ms: int
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OccurrencePage:
    occurrences: list[Occurrence]
    has_more: bool


def _property_equals(conn: AsyncConnection, name: str, value: str) -> ColumnElement[bool]:
    """`properties[name]`, as the API renders it (JSON booleans as true/false), equals `value`."""
    text: ColumnElement[Any]
    if conn.dialect.name == "postgresql":
        text = cast(_occ.c.properties, JSONB)[name].astext
    else:
        path = f'$."{name}"'
        kind = func.json_type(_occ.c.properties, path)
        text = case(
            (kind == "true", "true"),
            (kind == "false", "false"),
            else_=cast(func.json_extract(_occ.c.properties, path), Text),
        )
    return text == value


def _occurrence_query(conn: AsyncConnection, portal_id: int, f: OccurrenceFilter) -> Select[Any]:
    columns = (_occ.c.id, _occ.c.contact_id, _occ.c.occurred_at_ms, _occ.c.properties)
    query = (
        select(*columns, _defs.c.name)
        .join(_defs, _defs.c.id == _occ.c.definition_id)
        .where(
            _occ.c.portal_id == portal_id,
            _occ.c.contact_id.is_not(None),  # HubSpot returns record-bound occurrences only
            _defs.c.archived_at_ms.is_(None),
        )
    )
    if f.event_name is not None:
        query = query.where(_defs.c.name == f.event_name)
    if f.contact_id is not None:
        query = query.where(_occ.c.contact_id == f.contact_id)
    if f.ids is not None:
        query = query.where(_occ.c.id.in_(f.ids))
    if f.occurred_after_ms is not None:
        query = query.where(_occ.c.occurred_at_ms > f.occurred_after_ms)
    if f.occurred_before_ms is not None:
        query = query.where(_occ.c.occurred_at_ms < f.occurred_before_ms)
    for name, value in f.properties:
        query = query.where(_property_equals(conn, name, value))
    key = tuple_(_occ.c.occurred_at_ms, _occ.c.id)
    if f.after is not None:
        query = query.where(key < tuple_(*f.after) if f.descending else key > tuple_(*f.after))
    if f.descending:
        return query.order_by(_occ.c.occurred_at_ms.desc(), _occ.c.id.desc())
    return query.order_by(_occ.c.occurred_at_ms, _occ.c.id)


async def find_occurrences(
    conn: AsyncConnection, portal_id: int, f: OccurrenceFilter
) -> OccurrencePage:
    """One page of the portal's contact-bound occurrences of live definitions matching `f`.

    Only contacts carry occurrences here, so another object type matches nothing.
    """
    if f.object_type_id not in (None, "0-1") or f.ids == ():
        return OccurrencePage([], False)
    if f.contact_email is not None:
        contact = await contacts.find_by_email(conn, portal_id, f.contact_email)
        if contact is None or f.contact_id not in (None, contact.id):
            return OccurrencePage([], False)
        f = replace(f, contact_id=contact.id, contact_email=None)
    rows = list(await conn.execute(_occurrence_query(conn, portal_id, f).limit(f.limit + 1)))
    found = [
        Occurrence(r.id, r.name, r.contact_id, r.occurred_at_ms, orjson.loads(r.properties))
        for r in rows[: f.limit]
    ]
    return OccurrencePage(found, len(rows) > f.limit)
