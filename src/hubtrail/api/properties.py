"""HubSpot's Properties API v3 for contacts and companies: property definitions and groups.

This module knows the wire format (pydantic models, camelCase on the wire) and nothing else:
each handler parses, makes one store call in one transaction, and renders. The rules live in
`core.properties` (names, types, field types, options) and `store.property_definitions` (what
needs the database). `objectType` is `contacts` / `0-1` or `companies` / `0-2`; anything else is
HubSpot's 400 "Unable to infer object type from: …".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.api.auth import PortalId, RuntimeDep
from hubtrail.api.object_models import ERROR_RESPONSES
from hubtrail.core.associations import parse_object_type
from hubtrail.core.errors import ValidationError
from hubtrail.core.properties import ObjectType, format_datetime_ms
from hubtrail.runtime import Runtime
from hubtrail.store import property_definitions as store
from hubtrail.store import property_groups as groups
from hubtrail.store.property_definitions import (
    PropertyOption,
    PropertySpec,
    StoredProperty,
)
from hubtrail.store.property_groups import StoredGroup

MAX_BATCH_INPUTS = 100
READ_ROUTE = "crm_v3_properties_read"  # for `Location`; route names are global to the app
router = APIRouter(prefix="/crm/v3/properties", tags=["properties"], responses=ERROR_RESPONSES)
P = ParamSpec("P")
T = TypeVar("T")
StoreCall = Callable[Concatenate[AsyncConnection, int, ObjectType, P], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class PropertyScope:
    """The portal and object type a request is about, and store calls made for them."""

    runtime: Runtime
    portal_id: int
    object_type: ObjectType

    async def read(self, fn: StoreCall[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.runtime.db.read(
            lambda conn: fn(conn, self.portal_id, self.object_type, *args, **kwargs)
        )

    async def write(self, fn: StoreCall[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.runtime.db.write(
            lambda conn: fn(conn, self.portal_id, self.object_type, *args, **kwargs)
        )

    def now_ms(self) -> int:
        """Epoch milliseconds now."""
        return self.runtime.clock_ms()


def property_scope(portal: PortalId, runtime: RuntimeDep, object_type: str) -> PropertyScope:
    """Authenticate first (401), then read the path's `objectType` (HubSpot's 400 if unknown)."""
    parsed = parse_object_type(object_type)
    if parsed is None:
        raise ValidationError(f"Unable to infer object type from: {object_type}")
    return PropertyScope(runtime, portal, parsed)


Scope = Annotated[PropertyScope, Depends(property_scope)]


class _Wire(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class OptionWire(_Wire):
    """An option, in and out; out, `displayOrder` is always set (its position by default)."""

    label: str
    value: str
    hidden: bool = False
    display_order: int | None = None
    description: str | None = None

    def to_option(self) -> PropertyOption:
        return PropertyOption(**self.model_dump())


class PropertyCreate(_Wire):
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: list[OptionWire] = Field(default_factory=list)
    display_order: int = -1
    hidden: bool = False
    form_field: bool = False
    has_unique_value: bool = False

    def to_spec(self) -> PropertySpec:
        fields = self.model_dump(exclude={"options"})
        return PropertySpec(**fields, options=tuple(o.to_option() for o in self.options))


class PropertyUpdate(_Wire):
    """A partial update: fields left out (or null) stay as they are."""

    label: str | None = None
    type: str | None = None
    field_type: str | None = None
    group_name: str | None = None
    description: str | None = None
    options: list[OptionWire] | None = None
    display_order: int | None = None
    hidden: bool | None = None
    form_field: bool | None = None

    def to_changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_none=True, exclude={"options"})
        if self.options is not None:
            changes["options"] = tuple(o.to_option() for o in self.options)
        return changes


class PropertyName(_Wire):
    name: str


class BatchArchive(_Wire):
    inputs: list[PropertyName] = Field(max_length=MAX_BATCH_INPUTS)


class BatchRead(BatchArchive):
    archived: bool = False
    data_sensitivity: str | None = None


class BatchCreate(_Wire):
    inputs: list[PropertyCreate] = Field(max_length=MAX_BATCH_INPUTS)


class GroupCreate(_Wire):
    name: str
    label: str
    display_order: int = -1


class GroupUpdate(_Wire):
    label: str | None = None
    display_order: int | None = None


class ModificationMetadata(_Wire):
    archivable: bool
    read_only_definition: bool
    read_only_value: bool


class PropertyOut(_Wire):
    """HubSpot's `Property`; `calculated` and `externalOptions` are always false here."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str
    options: list[OptionWire]
    display_order: int
    calculated: bool = False
    external_options: bool = False
    has_unique_value: bool
    hidden: bool
    hubspot_defined: bool
    form_field: bool
    archived: bool
    created_at: str
    updated_at: str
    archived_at: str | None = None
    modification_metadata: ModificationMetadata

    @classmethod
    def of(cls, stored: StoredProperty) -> PropertyOut:
        options = [
            OptionWire(
                **asdict(o) | {"display_order": i if o.display_order is None else o.display_order}
            )
            for i, o in enumerate(stored.spec.options)
        ]
        archived_ms = stored.archived_at_ms
        metadata = ModificationMetadata(
            archivable=not stored.hubspot_defined,
            read_only_definition=stored.read_only_definition,
            read_only_value=stored.read_only_value,
        )
        return cls(
            **asdict(stored.spec) | {"options": options},
            hubspot_defined=stored.hubspot_defined,
            archived=archived_ms is not None,
            created_at=format_datetime_ms(stored.created_at_ms),
            updated_at=format_datetime_ms(stored.updated_at_ms),
            archived_at=None if archived_ms is None else format_datetime_ms(archived_ms),
            modification_metadata=metadata,
        )


class PropertiesOut(_Wire):
    results: list[PropertyOut]


class BatchError(_Wire):
    """HubSpot's `StandardError`, as batch responses list them."""

    status: str = "error"
    category: str
    message: str
    context: dict[str, list[str]]
    errors: list[dict[str, Any]] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict)


class BatchOut(_Wire):
    status: str = "COMPLETE"
    results: list[PropertyOut]
    started_at: str
    completed_at: str
    num_errors: int | None = None
    errors: list[BatchError] | None = None

    @classmethod
    def of(
        cls, found: list[StoredProperty], started_ms: int, completed_ms: int, **more: Any
    ) -> BatchOut:
        results = [PropertyOut.of(p) for p in found]
        started, completed = format_datetime_ms(started_ms), format_datetime_ms(completed_ms)
        return cls(results=results, started_at=started, completed_at=completed, **more)


class GroupOut(_Wire):
    name: str
    label: str
    display_order: int
    archived: bool

    @classmethod
    def of(cls, group: StoredGroup) -> GroupOut:
        archived = group.archived_at_ms is not None
        return cls(
            name=group.name, label=group.label, display_order=group.display_order, archived=archived
        )


class GroupsOut(_Wire):
    results: list[GroupOut]


# --- groups (before `/{property_name}`, so `groups` is never read as a property name) ----------


@router.get("/{object_type}/groups")
async def list_groups(scope: Scope) -> GroupsOut:
    return GroupsOut(results=[GroupOut.of(g) for g in await scope.read(groups.list_groups)])


@router.post("/{object_type}/groups", status_code=201)
async def create_group(body: GroupCreate, scope: Scope) -> GroupOut:
    group = StoredGroup(body.name, body.label, body.display_order)
    return GroupOut.of(await scope.write(groups.create_group, group, scope.now_ms()))


@router.get("/{object_type}/groups/{group_name}")
async def read_group(group_name: str, scope: Scope) -> GroupOut:
    return GroupOut.of(await scope.read(groups.read_group, group_name))


@router.patch("/{object_type}/groups/{group_name}")
async def update_group(group_name: str, body: GroupUpdate, scope: Scope) -> GroupOut:
    updated = await scope.write(groups.update_group, group_name, body.label, body.display_order)
    return GroupOut.of(updated)


@router.delete("/{object_type}/groups/{group_name}", status_code=204)
async def archive_group(group_name: str, scope: Scope) -> Response:
    """400 while live properties are in the group, and for HubSpot's default groups."""
    await scope.write(groups.archive_group, group_name, scope.now_ms())
    return Response(status_code=204)


# --- batch ------------------------------------------------------------------------------------


@router.post("/{object_type}/batch/read", response_model_exclude_none=True)
async def batch_read(body: BatchRead, scope: Scope, response: Response) -> BatchOut:
    """200 with every property asked for; 207 with one error naming those that do not exist."""
    started_ms = scope.now_ms()
    names = [item.name for item in body.inputs]
    found, missing = await scope.read(store.read_properties, names, archived=body.archived)
    if not missing:
        return BatchOut.of(found, started_ms, scope.now_ms())
    response.status_code = 207
    message = f"Could not find properties: {', '.join(missing)}"
    error = BatchError(
        category="OBJECT_NOT_FOUND", message=message, context={"propertyName": missing}
    )
    return BatchOut.of(found, started_ms, scope.now_ms(), num_errors=1, errors=[error])


@router.post("/{object_type}/batch/create", status_code=201, response_model_exclude_none=True)
async def batch_create(body: BatchCreate, scope: Scope) -> BatchOut:
    """All or nothing: any invalid input fails the whole batch, naming `inputs[i].field`."""
    started_ms = scope.now_ms()
    specs = [item.to_spec() for item in body.inputs]
    created = await scope.write(store.create_properties, specs, started_ms, batch=True)
    return BatchOut.of(created, started_ms, scope.now_ms())


@router.post("/{object_type}/batch/archive", status_code=204)
async def batch_archive(body: BatchArchive, scope: Scope) -> Response:
    """204 whatever each name's state was (live, archived, unknown), as HubSpot answers."""
    names = [item.name for item in body.inputs]
    await scope.write(store.archive_properties, names, scope.now_ms(), must_exist=False)
    return Response(status_code=204)


# --- properties -------------------------------------------------------------------------------


@router.get("/{object_type}", response_model_exclude_none=True)
async def list_properties(
    scope: Scope,
    archived: bool = False,
    properties: Annotated[list[str] | None, Query()] = None,
) -> PropertiesOut:
    """Live properties, or only archived ones with `archived=true`.

    `properties` picks names: comma-separated, or the parameter repeated.
    """
    names = (
        [n.strip() for v in properties for n in v.split(",") if n.strip()] if properties else None
    )
    found = await scope.read(store.list_properties, archived=archived, names=names)
    return PropertiesOut(results=[PropertyOut.of(p) for p in found])


@router.post("/{object_type}", status_code=201, response_model_exclude_none=True)
async def create_property(
    body: PropertyCreate, scope: Scope, request: Request, response: Response
) -> PropertyOut:
    """201 with the property, and its URL in `Location`."""
    [created] = await scope.write(store.create_properties, [body.to_spec()], scope.now_ms())
    where = request.url_for(
        READ_ROUTE, object_type=request.path_params["object_type"], property_name=body.name
    )
    response.headers["Location"] = str(where)
    return PropertyOut.of(created)


@router.get("/{object_type}/{property_name}", name=READ_ROUTE, response_model_exclude_none=True)
async def read_property(property_name: str, scope: Scope, archived: bool = False) -> PropertyOut:
    return PropertyOut.of(await scope.read(store.read_property, property_name, archived=archived))


@router.patch("/{object_type}/{property_name}", response_model_exclude_none=True)
async def update_property(property_name: str, body: PropertyUpdate, scope: Scope) -> PropertyOut:
    changes = body.to_changes()
    updated = await scope.write(store.update_property, property_name, changes, scope.now_ms())
    return PropertyOut.of(updated)


@router.delete("/{object_type}/{property_name}", status_code=204)
async def archive_property(property_name: str, scope: Scope) -> Response:
    """Archives (HubSpot's recycle bin); HubSpot-defined properties answer 400."""
    await scope.write(store.archive_properties, [property_name], scope.now_ms())
    return Response(status_code=204)
