"""Property groups: the folders properties are filed in, per portal and object type."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.default_properties import DEFAULT_GROUPS
from hubtrail.core.errors import FieldError, NotFoundError, ValidationError
from hubtrail.core.properties import ObjectType
from hubtrail.core.property_rules import (
    definition_name_problem,
    label_problem,
)
from hubtrail.store.property_definitions import already_exists, invalid_definition, scope_query
from hubtrail.store.schema import property_definitions, property_groups

_P, _G = property_definitions, property_groups


@dataclass(frozen=True, slots=True)
class StoredGroup:
    name: str
    label: str
    display_order: int = -1
    archived_at_ms: int | None = None


async def list_groups(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType
) -> list[StoredGroup]:
    """The live groups, in creation order."""
    query = select(_G).where(*scope_query(_G, portal_id, object_type, archived=False))
    rows = await conn.execute(query.order_by(_G.c.id))
    return [StoredGroup(r.name, r.label, r.display_order, r.archived_at_ms) for r in rows]


def _group_key(portal_id: int, object_type: ObjectType, name: str, archived: bool | None) -> Any:
    return [*scope_query(_G, portal_id, object_type, archived=archived), _G.c.name == name]


async def read_group(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, name: str
) -> StoredGroup:
    """One live group, or 404."""
    query = select(_G).where(*_group_key(portal_id, object_type, name, False))
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFoundError(f"Property group {name} does not exist", context={"groupName": [name]})
    return StoredGroup(row.name, row.label, row.display_order, row.archived_at_ms)


def _check_group(group: StoredGroup, *, new: bool) -> None:
    problems = [("label", label_problem(group.label, "group"))]
    if new:
        problems.insert(0, ("name", definition_name_problem(group.name, "group")))
    context = {"groupName": [group.name]}
    errors = [FieldError(p, "INVALID_GROUP", context, where) for where, p in problems if p]
    if errors:
        raise invalid_definition(errors, "property group")


async def create_group(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, group: StoredGroup, at_ms: int
) -> StoredGroup:
    """A new group; 409 if a live one has the name.

    An archived group of that name comes back with the new label and order: a group holds no
    values, so nothing stale can resurface.
    """
    _check_group(group, new=True)
    key = _group_key(portal_id, object_type, group.name, None)
    existing = (await conn.execute(select(_G.c.archived_at_ms).where(*key))).first()
    if existing is not None and existing.archived_at_ms is None:
        raise already_exists([group.name], "Property group")
    values = {"label": group.label, "display_order": group.display_order, "archived_at_ms": None}
    if existing is not None:
        await conn.execute(update(_G).where(*key).values(**values))
    else:
        scope = {"portal_id": portal_id, "object_type": object_type.value, "name": group.name}
        await conn.execute(insert(_G).values(**scope, **values, created_at_ms=at_ms))
    return replace(group, archived_at_ms=None)


async def update_group(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    name: str,
    label: str | None,
    display_order: int | None,
) -> StoredGroup:
    """Change a live group's label and/or display order (None leaves one as it is)."""
    group = await read_group(conn, portal_id, object_type, name)
    group = replace(
        group,
        label=group.label if label is None else label,
        display_order=group.display_order if display_order is None else display_order,
    )
    _check_group(group, new=False)
    key = _group_key(portal_id, object_type, name, False)
    await conn.execute(
        update(_G).where(*key).values(label=group.label, display_order=group.display_order)
    )
    return group


async def archive_group(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, name: str, at_ms: int
) -> None:
    """Archive a live group: not a default group, nor one that still holds live properties."""
    await read_group(conn, portal_id, object_type, name)
    context = {"groupName": [name]}
    if name in {group for group, _label in DEFAULT_GROUPS[object_type]}:
        message = f"{name} is a HubSpot-defined group; it cannot be archived."
        raise ValidationError(message, context=context)
    query = select(_P.c.name).where(
        *scope_query(_P, portal_id, object_type, archived=False), _P.c.group_name == name
    )
    members = list((await conn.execute(query.order_by(_P.c.id))).scalars())
    if members:
        message = f"Property group {name} still holds properties: {', '.join(members[:10])}."
        raise ValidationError(message, context=context | {"propertyName": members})
    key = _group_key(portal_id, object_type, name, False)
    await conn.execute(update(_G).where(*key).values(archived_at_ms=at_ms))
