"""Property definitions and groups as the properties API manages them.

The processor reads live definitions through `store.properties.load_definitions`; this module is
the API's side: create, read, update and archive. Each function also checks what needs the
database (the group exists, the name is free, at most ten unique-value properties) and raises
hubtrail's errors, so an API handler makes one call. Archiving sets `archived_at_ms`; archived
definitions stop accepting values because `load_definitions` only returns live ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.errors import ConflictError, FieldError, NotFoundError, ValidationError
from hubtrail.core.properties import ObjectType, Option, PropertyType
from hubtrail.core.property_rules import (
    BOOL_OPTIONS,
    MAX_UNIQUE_VALUE_PROPERTIES,
    definition_errors,
)
from hubtrail.store.schema import property_definitions, property_groups, property_values

_P, _G = property_definitions, property_groups
# What PATCH may change; `name` and `hasUniqueValue` are fixed once a property exists.
UPDATABLE = frozenset(
    {"label", "type", "field_type", "group_name", "description", "options"}
    | {"display_order", "hidden", "form_field"}
)


class AlreadyExistsError(ConflictError):
    """409 for a name in use; HubSpot's category for it is `OBJECT_ALREADY_EXISTS`."""

    category = "OBJECT_ALREADY_EXISTS"


@dataclass(frozen=True, slots=True)
class PropertyOption:
    """One choice of an enumeration or bool; `display_order` None means its position."""

    label: str
    value: str
    hidden: bool = False
    display_order: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """What defines a property: a client's create request (`type` unchecked) or a stored row."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: tuple[PropertyOption, ...] = ()
    display_order: int = -1
    hidden: bool = False
    form_field: bool = False
    has_unique_value: bool = False


@dataclass(frozen=True, slots=True)
class StoredProperty:
    """A stored definition with the metadata the API reports."""

    spec: PropertySpec
    hubspot_defined: bool
    read_only_value: bool
    created_at_ms: int
    updated_at_ms: int
    archived_at_ms: int | None

    @property
    def read_only_definition(self) -> bool:
        """HubSpot computes these values, so their definitions are fixed too."""
        return self.hubspot_defined and self.read_only_value


def scope_query(
    table: Any, portal_id: int, object_type: ObjectType, *, archived: bool | None
) -> Any:
    """The portal's rows of one object type: live, archived, or (None) both."""
    where = [table.c.portal_id == portal_id, table.c.object_type == object_type.value]
    if archived is not None:
        column = table.c.archived_at_ms
        where.append(column.is_not(None) if archived else column.is_(None))
    return where


# --- properties -------------------------------------------------------------------------------


def _options_json(options: tuple[PropertyOption, ...]) -> str:
    items = [
        {"label": o.label, "value": o.value, "hidden": o.hidden}
        | {"displayOrder": i if o.display_order is None else o.display_order}
        | ({} if o.description is None else {"description": o.description})
        for i, o in enumerate(options)
    ]
    return orjson.dumps(items).decode()


def _option(position: int, o: dict[str, Any]) -> PropertyOption:
    order = o.get("displayOrder", position)
    return PropertyOption(
        o["label"], o["value"], o.get("hidden", False), order, o.get("description")
    )


def _stored(row: Any) -> StoredProperty:
    r = row._mapping
    options = tuple(_option(i, o) for i, o in enumerate(orjson.loads(r["options"])))
    spec = PropertySpec(
        r["name"], r["label"], r["type"], r["field_type"], r["group_name"], r["description"],
        options, r["display_order"], r["hidden"], r["form_field"], r["has_unique_value"],
    )  # fmt: skip
    return StoredProperty(
        spec, r["hubspot_defined"], r["read_only_value"], r["created_at_ms"], r["updated_at_ms"],
        r["archived_at_ms"],
    )  # fmt: skip


def _missing(name: str) -> NotFoundError:
    message = f'Property "{name}" does not exist'
    detail = FieldError(message, "PROPERTY_DOESNT_EXIST", {"propertyName": [name]})
    return NotFoundError(message, errors=[detail])


def _refused(
    names: list[str], message: str, code: str, where: str | None = None
) -> ValidationError:
    detail = FieldError(message, code, {"propertyName": names}, where)
    return ValidationError(message, errors=[detail])


async def list_properties(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    *,
    archived: bool = False,
    names: Sequence[str] | None = None,
) -> list[StoredProperty]:
    """Live (or, with `archived`, archived) definitions in creation order, optionally by name."""
    query = select(_P).where(*scope_query(_P, portal_id, object_type, archived=archived))
    if names is not None:
        query = query.where(_P.c.name.in_(list(names)))
    return [_stored(row) for row in await conn.execute(query.order_by(_P.c.id))]


async def read_properties(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    names: Sequence[str],
    *,
    archived: bool = False,
) -> tuple[list[StoredProperty], list[str]]:
    """The definitions found among `names`, and the names that were not."""
    found = await list_properties(conn, portal_id, object_type, archived=archived, names=names)
    known = {p.spec.name for p in found}
    return found, [name for name in dict.fromkeys(names) if name not in known]


async def read_property(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    name: str,
    *,
    archived: bool = False,
) -> StoredProperty:
    """One definition, or 404."""
    found = await list_properties(conn, portal_id, object_type, archived=archived, names=[name])
    if not found:
        raise _missing(name)
    return found[0]


def _checked(spec: PropertySpec, groups: set[str] | None, *, new: bool) -> list[FieldError]:
    """The definition rules, plus (unless `groups` is None) that the group is a live one."""
    options = tuple(Option(o.label, o.value, o.hidden) for o in spec.options)
    errors = definition_errors(spec.name, spec.label, spec.type, spec.field_type, options, new=new)
    if groups is not None and spec.group_name not in groups:
        message = f"Property group {spec.group_name!r} does not exist"
        context = {"propertyName": [spec.name], "groupName": [spec.group_name]}
        errors.append(FieldError(message, "GROUP_DOESNT_EXIST", context, "groupName"))
    return errors


def _with_default_options(spec: PropertySpec) -> PropertySpec:
    """A bool property without options gets HubSpot's Yes (`true`) / No (`false`)."""
    if spec.options or spec.type != PropertyType.BOOL.value:
        return spec
    options = tuple(
        PropertyOption(o.label, o.value, o.hidden, o.display_order) for o in BOOL_OPTIONS
    )
    return replace(spec, options=options)


async def _live_groups(conn: AsyncConnection, portal_id: int, object_type: ObjectType) -> set[str]:
    query = select(_G.c.name).where(*scope_query(_G, portal_id, object_type, archived=False))
    return set((await conn.execute(query)).scalars())


def invalid_definition(
    errors: list[FieldError], what: str = "property definition"
) -> ValidationError:
    fields = ", ".join(dict.fromkeys(e.in_ or "" for e in errors))
    return ValidationError(f"Invalid {what}: {fields}", errors=errors)


def already_exists(names: list[str], noun: str = "Property") -> AlreadyExistsError:
    errors = [
        FieldError(f"{noun} named '{n}' already exists.", "OBJECT_ALREADY_EXISTS", {}, "name")
        for n in names
    ]
    context = {"propertyName" if noun == "Property" else "groupName": names}
    return AlreadyExistsError(errors[0].message, errors=errors, context=context)


async def create_properties(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    specs: Sequence[PropertySpec],
    at_ms: int,
    *,
    batch: bool = False,
) -> list[StoredProperty]:
    """Create every property or none: 400 listing every problem, else 409 for a name in use.

    `batch` prefixes each error's field with its input (`inputs[2].name`). A name stays in use
    while its property is archived, so old values never resurface under a new definition.
    """
    specs = [_with_default_options(spec) for spec in specs]
    taken_query = select(_P.c.name).where(*scope_query(_P, portal_id, object_type, archived=None))
    taken = set((await conn.execute(taken_query)).scalars())
    groups = await _live_groups(conn, portal_id, object_type)
    unique_query = select(func.count()).where(
        *scope_query(_P, portal_id, object_type, archived=False), _P.c.has_unique_value
    )
    unique_count = (await conn.execute(unique_query)).scalar_one()
    errors: list[FieldError] = []
    conflicts: list[str] = []
    for i, spec in enumerate(specs):
        found = _checked(spec, groups, new=True)
        unique_count += spec.has_unique_value
        if spec.has_unique_value and unique_count > MAX_UNIQUE_VALUE_PROPERTIES:
            message = f"At most {MAX_UNIQUE_VALUE_PROPERTIES} properties can have unique values."
            context = {"propertyName": [spec.name]}
            found.append(FieldError(message, "TOO_MANY_UNIQUE_VALUES", context, "hasUniqueValue"))
        errors += [replace(e, in_=f"inputs[{i}].{e.in_}" if batch else e.in_) for e in found]
        if spec.name in taken:
            conflicts.append(spec.name)
        taken.add(spec.name)
    if errors:
        raise invalid_definition(errors)
    if conflicts:
        raise already_exists(conflicts)
    fixed = {"portal_id": portal_id, "object_type": object_type.value, "hubspot_defined": False}
    fixed |= {"read_only_value": False, "created_at_ms": at_ms, "updated_at_ms": at_ms}
    rows = [asdict(s) | {"options": _options_json(s.options)} | fixed for s in specs]
    try:
        await conn.execute(insert(_P), rows)
    except IntegrityError as exc:  # the same name created concurrently (PostgreSQL)
        raise already_exists([s.name for s in specs]) from exc
    return await list_properties(conn, portal_id, object_type, names=[s.name for s in specs])


async def update_property(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    name: str,
    changes: Mapping[str, Any],
    at_ms: int,
) -> StoredProperty:
    """Apply a partial update (`PropertySpec` fields in `UPDATABLE`), checked as a whole.

    HubSpot computes the values of read-only default properties, so their definitions are
    fixed. A type changes only on a custom property no record has a value for yet: stored
    values are never reinterpreted under a new type.
    """
    current = await read_property(conn, portal_id, object_type, name)
    changes = {k: v for k, v in changes.items() if k in UPDATABLE and v is not None}
    spec = replace(current.spec, **changes)
    if current.read_only_definition:
        message = f"{name} is a read-only HubSpot-defined property; its definition cannot change."
        raise _refused([name], message, "READ_ONLY_DEFINITION")
    if spec.type != current.spec.type:
        problem = await _type_change_problem(conn, portal_id, object_type, current)
        if problem is not None:
            raise _refused([name], problem, "TYPE_CHANGE_NOT_ALLOWED", "type")
        if "options" not in changes and spec.type != PropertyType.ENUMERATION.value:
            spec = _with_default_options(replace(spec, options=()))
    groups = await _live_groups(conn, portal_id, object_type) if "group_name" in changes else None
    errors = _checked(spec, groups, new=False)
    if errors:
        raise invalid_definition(errors)
    values = asdict(spec) | {"options": _options_json(spec.options), "updated_at_ms": at_ms}
    del values["name"], values["has_unique_value"]
    key = (*scope_query(_P, portal_id, object_type, archived=False), _P.c.name == name)
    await conn.execute(update(_P).where(*key).values(**values))
    return await read_property(conn, portal_id, object_type, name)


async def _type_change_problem(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, current: StoredProperty
) -> str | None:
    name = current.spec.name
    if current.hubspot_defined:
        return f"The type of HubSpot-defined property {name} cannot change."
    v = property_values
    query = select(v.c.name).where(*scope_query(v, portal_id, object_type, archived=None))
    if (await conn.execute(query.where(v.c.name == name).limit(1))).first() is not None:
        return f"The type of {name} cannot change while records have values for it."
    return None


async def archive_properties(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    names: Sequence[str],
    at_ms: int,
    *,
    must_exist: bool = True,
) -> None:
    """Archive live properties by name; HubSpot-defined ones cannot be (400).

    With `must_exist` (a single DELETE) a name that is not live is a 404; the batch endpoint
    passes False and ignores unknown or already archived names, as HubSpot does.
    """
    live = await list_properties(conn, portal_id, object_type, names=names)
    known = {p.spec.name for p in live}
    if must_exist and known != set(names):
        raise _missing(next(n for n in names if n not in known))
    defaults = [p.spec.name for p in live if p.hubspot_defined]
    if defaults:
        message = f"HubSpot-defined properties cannot be archived: {', '.join(defaults)}"
        raise _refused(defaults, message, "NOT_ARCHIVABLE")
    key = (*scope_query(_P, portal_id, object_type, archived=False), _P.c.name.in_(list(names)))
    await conn.execute(update(_P).where(*key).values(archived_at_ms=at_ms, updated_at_ms=at_ms))


# --- groups -----------------------------------------------------------------------------------
