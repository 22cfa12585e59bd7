"""What the event definitions API asks of the store: definitions and their custom properties.

Definitions are found by internal name among a portal's live ones; archived names stay in the table
for good, which is how a deleted name is never reused (by this API or by the processor). Deleting a
definition deletes its occurrences in the same transaction. Reading occurrences lives beside
writing them, in `store.events`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from hubtrail.core.errors import ConflictError, NotFoundError, ValidationError
from hubtrail.core.events import (
    MAX_DEFINITIONS_PER_PORTAL,
    MAX_PROPERTIES_PER_DEFINITION,
    EventDefinitionSpec,
    EventOption,
    EventPropertySpec,
    EventPropertyType,
    check_definition_label,
    check_property_patch,
)
from hubtrail.core.messages import Source
from hubtrail.store.schema import event_definition_properties, event_definitions, event_occurrences
from hubtrail.store.sql import insert_ignoring

_defs = event_definitions
_props = event_definition_properties
_occ = event_occurrences


@dataclass(frozen=True, slots=True)
class EventProperty:
    name: str
    label: str
    type: EventPropertyType
    description: str
    options: tuple[EventOption, ...]
    created_at_ms: int


@dataclass(frozen=True, slots=True)
class EventDefinitionRecord:
    """A live definition with its live custom properties (empty unless asked for in a list)."""

    id: int
    name: str
    label: str
    description: str
    primary_object: str
    created_by: str
    created_at_ms: int
    properties: tuple[EventProperty, ...] = ()


@dataclass(frozen=True, slots=True)
class DefinitionPage:
    total: int
    definitions: list[EventDefinitionRecord]
    last_name: str | None  # the keyset cursor for the next page; None on the last page


# --- definitions -------------------------------------------------------------------------------


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(f"Event definition {name} does not exist")


def _record(row: Any, properties: tuple[EventProperty, ...] = ()) -> EventDefinitionRecord:
    return EventDefinitionRecord(
        row.id,
        row.name,
        row.label,
        row.description,
        row.primary_object,
        row.created_by,
        row.created_at_ms,
        properties,
    )


def _property(row: Any) -> EventProperty:
    options = tuple(EventOption(**option) for option in orjson.loads(row.options))
    return EventProperty(
        row.name,
        row.label,
        EventPropertyType(row.type),
        row.description,
        options,
        row.created_at_ms,
    )


def _options_json(options: tuple[EventOption, ...]) -> str:
    return orjson.dumps([asdict(option) for option in options]).decode()


async def _properties_of(
    conn: AsyncConnection, definition_ids: list[int]
) -> dict[int, tuple[EventProperty, ...]]:
    if not definition_ids:
        return {}
    query = (
        select(_props)
        .where(_props.c.definition_id.in_(definition_ids), _props.c.archived_at_ms.is_(None))
        .order_by(_props.c.id)
    )
    found: dict[int, list[EventProperty]] = {i: [] for i in definition_ids}
    for row in await conn.execute(query):
        found[row.definition_id].append(_property(row))
    return {key: tuple(value) for key, value in found.items()}


async def _live_row(conn: AsyncConnection, portal_id: int, name: str) -> Any:
    query = select(_defs).where(
        _defs.c.portal_id == portal_id, _defs.c.name == name, _defs.c.archived_at_ms.is_(None)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise _not_found(name)
    return row


async def get_definition(conn: AsyncConnection, portal_id: int, name: str) -> EventDefinitionRecord:
    """The live definition named `name` with its properties; NotFoundError otherwise."""
    row = await _live_row(conn, portal_id, name)
    return _record(row, (await _properties_of(conn, [row.id]))[row.id])


async def list_definitions(
    conn: AsyncConnection,
    portal_id: int,
    *,
    limit: int,
    after_name: str | None = None,
    search: str | None = None,
    descending: bool = False,
    include_properties: bool = False,
) -> DefinitionPage:
    """A page of live definitions by name; `search` is a case-insensitive "contains"."""
    where: list[ColumnElement[bool]] = [
        _defs.c.portal_id == portal_id,
        _defs.c.archived_at_ms.is_(None),
    ]
    if search:
        needle = search.lower()
        where.append(
            or_(
                func.lower(_defs.c.name).contains(needle, autoescape=True),
                func.lower(_defs.c.label).contains(needle, autoescape=True),
            )
        )
    total = (await conn.execute(select(func.count()).select_from(_defs).where(*where))).scalar()
    query = select(_defs).where(*where)
    if after_name is not None:
        query = query.where(_defs.c.name < after_name if descending else _defs.c.name > after_name)
    order = _defs.c.name.desc() if descending else _defs.c.name.asc()
    rows = list(await conn.execute(query.order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    props = await _properties_of(conn, [r.id for r in rows]) if include_properties else {}
    records = [_record(row, props.get(row.id, ())) for row in rows]
    return DefinitionPage(int(total or 0), records, rows[-1].name if more else None)


async def live_event_names(conn: AsyncConnection, portal_id: int) -> list[str]:
    query = (
        select(_defs.c.name)
        .where(_defs.c.portal_id == portal_id, _defs.c.archived_at_ms.is_(None))
        .order_by(_defs.c.name)
    )
    return list((await conn.execute(query)).scalars())


async def create_definition(
    conn: AsyncConnection, portal_id: int, spec: EventDefinitionSpec, at_ms: int
) -> EventDefinitionRecord:
    """Create a definition and its properties. ConflictError when the name was ever used."""
    existing = (
        await conn.execute(
            select(_defs.c.archived_at_ms).where(
                _defs.c.portal_id == portal_id, _defs.c.name == spec.name
            )
        )
    ).first()
    if existing is not None:
        if existing.archived_at_ms is not None:
            raise ConflictError(
                f"Event name {spec.name} belonged to a deleted event and can never be reused"
            )
        raise ConflictError(f"An event definition named {spec.name} already exists")
    live = await conn.execute(
        select(func.count())
        .select_from(_defs)
        .where(_defs.c.portal_id == portal_id, _defs.c.archived_at_ms.is_(None))
    )
    if (live.scalar() or 0) >= MAX_DEFINITIONS_PER_PORTAL:
        raise ValidationError(
            f"A portal has at most {MAX_DEFINITIONS_PER_PORTAL} event definitions"
        )
    stmt = insert_ignoring(conn, _defs, ["portal_id", "name"]).values(
        portal_id=portal_id,
        name=spec.name,
        label=spec.label,
        description=spec.description,
        primary_object="CONTACT",
        created_by=Source.CRM_API.value,
        created_at_ms=at_ms,
    )
    if (await conn.execute(stmt)).rowcount != 1:  # created by the processor meanwhile
        raise ConflictError(f"An event definition named {spec.name} already exists")
    row = await _live_row(conn, portal_id, spec.name)
    if spec.properties:
        await conn.execute(
            insert(_props), [_property_values(portal_id, row.id, p, at_ms) for p in spec.properties]
        )
    return await get_definition(conn, portal_id, spec.name)


def _property_values(
    portal_id: int, definition_id: int, spec: EventPropertySpec, at_ms: int
) -> dict[str, Any]:
    return {
        "portal_id": portal_id,
        "definition_id": definition_id,
        "name": spec.name,
        "label": spec.label,
        "type": spec.type.value,
        "description": spec.description,
        "options": _options_json(spec.options),
        "created_at_ms": at_ms,
        "archived_at_ms": None,
    }


async def update_definition(
    conn: AsyncConnection,
    portal_id: int,
    name: str,
    label: str | None,
    description: str | None,
) -> EventDefinitionRecord:
    """Change a live definition's label and/or description (nothing else is mutable)."""
    check_definition_label(label)
    row = await _live_row(conn, portal_id, name)
    values = {
        key: value
        for key, value in (("label", label), ("description", description))
        if value is not None
    }
    if values:
        await conn.execute(update(_defs).where(_defs.c.id == row.id).values(**values))
    return await get_definition(conn, portal_id, name)


async def archive_definition(conn: AsyncConnection, portal_id: int, name: str, at_ms: int) -> None:
    """Delete a definition: archive it (its name is never reused) and delete its occurrences."""
    row = await _live_row(conn, portal_id, name)
    await conn.execute(update(_defs).where(_defs.c.id == row.id).values(archived_at_ms=at_ms))
    await conn.execute(
        delete(_occ).where(_occ.c.portal_id == portal_id, _occ.c.definition_id == row.id)
    )


# --- custom properties -------------------------------------------------------------------------


async def _property_row(conn: AsyncConnection, definition_id: int, name: str) -> Any:
    query = select(_props).where(_props.c.definition_id == definition_id, _props.c.name == name)
    return (await conn.execute(query)).first()


async def add_property(
    conn: AsyncConnection, portal_id: int, event_name: str, spec: EventPropertySpec, at_ms: int
) -> EventProperty:
    """Add a custom property; an archived one of that name is replaced, a live one is a 409."""
    definition = await _live_row(conn, portal_id, event_name)
    existing = await _property_row(conn, definition.id, spec.name)
    if existing is not None and existing.archived_at_ms is None:
        raise ConflictError(f"Event {event_name} already has a property named {spec.name}")
    live = await conn.execute(
        select(func.count())
        .select_from(_props)
        .where(_props.c.definition_id == definition.id, _props.c.archived_at_ms.is_(None))
    )
    if (live.scalar() or 0) >= MAX_PROPERTIES_PER_DEFINITION:
        raise ValidationError(f"An event has at most {MAX_PROPERTIES_PER_DEFINITION} properties")
    values = _property_values(portal_id, definition.id, spec, at_ms)
    if existing is None:
        await conn.execute(insert(_props).values(**values))
    else:
        await conn.execute(update(_props).where(_props.c.id == existing.id).values(**values))
    return _property(await _property_row(conn, definition.id, spec.name))


async def _live_property_row(
    conn: AsyncConnection, portal_id: int, event_name: str, name: str
) -> Any:
    definition = await _live_row(conn, portal_id, event_name)
    row = await _property_row(conn, definition.id, name)
    if row is None or row.archived_at_ms is not None:
        raise NotFoundError(f"Event {event_name} has no property named {name}")
    return row


async def update_property(
    conn: AsyncConnection,
    portal_id: int,
    event_name: str,
    name: str,
    label: str | None,
    description: str | None,
    options: tuple[EventOption, ...] | None,
) -> EventProperty:
    """Change a property's label, description or options; its name and type are fixed."""
    row = await _live_property_row(conn, portal_id, event_name, name)
    check_property_patch(EventPropertyType(row.type), label, options)
    values: dict[str, Any] = {}
    if label is not None:
        values["label"] = label
    if description is not None:
        values["description"] = description
    if options is not None:
        values["options"] = _options_json(options)
    if values:
        await conn.execute(update(_props).where(_props.c.id == row.id).values(**values))
    return _property(await _property_row(conn, row.definition_id, name))


async def archive_property(
    conn: AsyncConnection, portal_id: int, event_name: str, name: str, at_ms: int
) -> None:
    row = await _live_property_row(conn, portal_id, event_name, name)
    await conn.execute(update(_props).where(_props.c.id == row.id).values(archived_at_ms=at_ms))
