"""`/crm/v3/objects/{contacts|companies}`: get, list, create, update, archive, search, merge,
GDPR delete. Batch endpoints are in `object_batches.py`, associations in `associations.py`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.api.auth import PortalId, RuntimeDep
from hubtrail.api.object_models import (
    ERROR_RESPONSES,
    CollectionResponse,
    CollectionResponseWithTotal,
    PublicGdprDeleteInput,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObject,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
    render_object,
)
from hubtrail.core.associations import association_type, parse_object_type
from hubtrail.core.errors import FieldError, NotFoundError, ValidationError
from hubtrail.core.properties import ObjectType
from hubtrail.core.search import RawFilter, check_search, parse_sort
from hubtrail.store import associations, crm, objects, properties, search
from hubtrail.store.batch import Batch
from hubtrail.store.crm_views import DEFAULT_PROPERTIES, ObjectView, load_views, write_then_view

router = APIRouter(tags=["CRM objects"], responses=ERROR_RESPONSES)
OBJECT_TYPE_PATTERN = "^(contacts|companies|contact|company|0-1|0-2)$"
ObjectTypePath = Annotated[
    str, Path(pattern=OBJECT_TYPE_PATTERN, description="contacts or companies")
]
MAX_PAGE = 100


def object_type_of(raw: str) -> ObjectType:
    object_type = parse_object_type(raw)
    if object_type is None:
        raise NotFoundError(f"Unknown object type {raw}")
    return object_type


def names(raw: list[str] | None) -> list[str]:
    """Query arrays arrive repeated (`a=1&a=2`, the SDK) or comma-separated (the spec): both."""
    return [part.strip() for item in raw or [] for part in item.split(",") if part.strip()]


def associated_types(raw: list[str] | None) -> list[ObjectType]:
    found = []
    for name in names(raw):
        to_type = parse_object_type(name)
        if to_type is None:
            raise ValidationError(f"associations: unknown object type {name!r}")
        found.append(to_type)
    return found


def render(object_type: ObjectType, view: ObjectView) -> dict[str, Any]:
    return render_object(
        object_type, view.row, view.properties, history=view.history, links=view.links
    )


Properties = Annotated[list[str] | None, Query(description="Properties to return")]
PropertiesWithHistory = Annotated[list[str] | None, Query(alias="propertiesWithHistory")]
Associations = Annotated[
    list[str] | None, Query(description="Object types to list associations to")
]


@router.get(
    "/crm/v3/objects/{objectType}",
    response_model=CollectionResponse,
    response_model_exclude_unset=True,
)
async def list_objects(
    request: Request,
    objectType: ObjectTypePath,
    portal: PortalId,
    runtime: RuntimeDep,
    properties: Properties = None,
    properties_with_history: PropertiesWithHistory = None,
    associations: Associations = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10,
    after: Annotated[str | None, Query(pattern=r"^[0-9]{0,18}$")] = None,
    archived: bool = False,
) -> dict[str, Any]:
    """A page of objects in id order; `paging.next.after` is the last id's successor cursor."""
    object_type = object_type_of(objectType)

    async def run(conn: AsyncConnection) -> tuple[list[ObjectView], bool]:
        rows = await objects.page(
            conn, portal, object_type, int(after or 0), limit + 1, archived=archived
        )
        views = await load_views(
            conn,
            portal,
            object_type,
            rows[:limit],
            properties=names(properties),
            history=names(properties_with_history),
            associated=associated_types(associations),
        )
        return views, len(rows) > limit

    views, more = await runtime.db.read(run)
    body: dict[str, Any] = {"results": [render(object_type, v) for v in views]}
    if more:
        cursor = str(views[-1].row.id)
        link = str(request.url.include_query_params(after=cursor, limit=limit))
        body["paging"] = {"next": {"after": cursor, "link": link}}
    return body


@router.get(
    "/crm/v3/objects/{objectType}/{objectId}",
    response_model=SimplePublicObject,
    response_model_exclude_unset=True,
)
async def get_object(
    objectType: ObjectTypePath,
    objectId: str,
    portal: PortalId,
    runtime: RuntimeDep,
    properties: Properties = None,
    properties_with_history: PropertiesWithHistory = None,
    associations: Associations = None,
    archived: bool = False,
    id_property: Annotated[str | None, Query(alias="idProperty")] = None,
) -> dict[str, Any]:
    """One object by id, or by a unique property (`idProperty=email` / `domain`)."""
    object_type = object_type_of(objectType)

    async def run(conn: AsyncConnection) -> ObjectView:
        object_id = await _resolve_one(conn, portal, object_type, objectId, id_property)
        rows = await objects.fetch(conn, portal, object_type, [object_id], archived=archived)
        if object_id not in rows:
            raise crm.not_found(objectId)
        [view] = await load_views(
            conn,
            portal,
            object_type,
            [rows[object_id]],
            properties=names(properties),
            history=names(properties_with_history),
            associated=associated_types(associations),
        )
        return view

    return render(object_type, await runtime.db.read(run))


async def _resolve_one(
    conn: AsyncConnection,
    portal: int,
    object_type: ObjectType,
    raw_id: str,
    id_property: str | None,
) -> int:
    found = await objects.resolve(conn, portal, object_type, [raw_id], id_property)
    if raw_id not in found:
        raise crm.not_found(raw_id)
    return found[raw_id]


@router.post(
    "/crm/v3/objects/{objectType}",
    status_code=201,
    response_model=SimplePublicObject,
    response_model_exclude_unset=True,
)
async def create_object(
    objectType: ObjectTypePath,
    body: SimplePublicObjectInputForCreate,
    portal: PortalId,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """Create an object (and its inline associations); 409 on an email that is taken."""
    object_type = object_type_of(objectType)

    async def change(batch: Batch) -> list[int]:
        object_id = await crm.create(batch, portal, object_type, body.properties)
        for index, item in enumerate(body.associations):
            await _associate(batch, portal, object_type, object_id, item.to.id, item.types, index)
        return [object_id]

    [view] = await write_then_view(
        runtime.db,
        runtime.clock_ms(),
        portal,
        object_type,
        change,
        properties=shown_properties(object_type, body.properties),
    )
    return render(object_type, view)


def shown_properties(object_type: ObjectType, written: Iterable[str]) -> list[str]:
    """What a write's response lists: the defaults plus every property it set."""
    return list(dict.fromkeys([*DEFAULT_PROPERTIES[object_type], *written]))


async def _associate(
    batch: Batch,
    portal: int,
    object_type: ObjectType,
    object_id: int,
    to_raw: str,
    types: list[Any],
    index: int,
) -> None:
    for spec in types:
        kind = None
        for to_type in ObjectType:
            kind = kind or association_type(object_type, to_type, spec.associationTypeId)
        where = f"associations[{index}].types"
        if kind is None:
            raise ValidationError(
                f"{where}: type {spec.associationTypeId} does not start at {object_type}",
                errors=[FieldError("unknown association type", "INVALID", in_=where)],
            )
        targets = await objects.resolve(batch.conn, portal, kind.to_type, [to_raw], None)
        live = await objects.fetch(batch.conn, portal, kind.to_type, targets.values())
        if not live:
            raise ValidationError(
                f"associations[{index}].to.id: no {kind.to_type.value} has id {to_raw}",
                errors=[
                    FieldError("unknown object", "INVALID", in_=f"associations[{index}].to.id")
                ],
            )
        await associations.add(batch, portal, kind, object_id, next(iter(live)))


@router.patch(
    "/crm/v3/objects/{objectType}/{objectId}",
    response_model=SimplePublicObject,
    response_model_exclude_unset=True,
)
async def update_object(
    objectType: ObjectTypePath,
    objectId: str,
    body: SimplePublicObjectInput,
    portal: PortalId,
    runtime: RuntimeDep,
    id_property: Annotated[str | None, Query(alias="idProperty")] = None,
) -> dict[str, Any]:
    """Overwrite the given properties of one object."""
    object_type = object_type_of(objectType)

    async def change(batch: Batch) -> list[int]:
        object_id = await _resolve_one(batch.conn, portal, object_type, objectId, id_property)
        if not await objects.fetch(batch.conn, portal, object_type, [object_id]):
            raise crm.not_found(objectId)
        await crm.update(batch, portal, object_type, object_id, body.properties)
        return [object_id]

    [view] = await write_then_view(
        runtime.db,
        runtime.clock_ms(),
        portal,
        object_type,
        change,
        properties=shown_properties(object_type, body.properties),
    )
    return render(object_type, view)


@router.delete("/crm/v3/objects/{objectType}/{objectId}", status_code=204)
async def archive_object(
    objectType: ObjectTypePath, objectId: str, portal: PortalId, runtime: RuntimeDep
) -> Response:
    """Archive (HubSpot's recycle bin); an unknown id is not an error, as in HubSpot."""
    object_type = object_type_of(objectType)

    async def run(conn: AsyncConnection) -> None:
        found = await objects.resolve(conn, portal, object_type, [objectId], None)
        batch = Batch(conn, runtime.clock_ms())
        await crm.archive(batch, portal, object_type, list(found.values()))
        await batch.flush()

    await runtime.db.write(run)
    return Response(status_code=204)


@router.post(
    "/crm/v3/objects/{objectType}/search",
    response_model=CollectionResponseWithTotal,
    response_model_exclude_unset=True,
)
async def search_objects(
    objectType: ObjectTypePath,
    body: PublicObjectSearchRequest,
    portal: PortalId,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """HubSpot's CRM search: filter groups, one sort, free-text query, offset paging, total."""
    object_type = object_type_of(objectType)
    request = check_search(
        groups=[
            [
                RawFilter(
                    f.propertyName,
                    f.operator,
                    _text(f.value),
                    _text(f.highValue),
                    tuple(str(_text(v)) for v in f.values) if f.values is not None else None,
                )
                for f in group.filters
            ]
            for group in body.filterGroups
        ],
        sort=parse_sort(body.sorts[0]) if body.sorts else None,
        query=body.query,
        properties=body.properties,
        limit=body.limit,
        after=None if body.after is None else str(body.after),
    )

    async def run(conn: AsyncConnection) -> tuple[int, list[ObjectView]]:
        definitions = await properties.load_definitions(conn, portal, object_type)
        total, rows = await search.run(conn, portal, object_type, request, definitions)
        shown = (
            list(request.properties) if request.properties else list(_SEARCH_DEFAULTS[object_type])
        )
        return total, await load_views(conn, portal, object_type, rows, properties=shown)

    total, views = await runtime.db.read(run)
    body_out: dict[str, Any] = {"total": total, "results": [render(object_type, v) for v in views]}
    next_offset = request.offset + len(views)
    if views and next_offset < total:
        body_out["paging"] = {"next": {"after": str(next_offset)}}
    return body_out


_SEARCH_DEFAULTS = {
    ObjectType.CONTACT: ("createdate", "email", "firstname", "lastmodifieddate", "lastname"),
    ObjectType.COMPANY: ("name", "domain", "createdate", "hs_lastmodifieddate"),
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@router.post(
    "/crm/v3/objects/{objectType}/merge",
    response_model=SimplePublicObject,
    response_model_exclude_unset=True,
)
async def merge_objects(
    objectType: ObjectTypePath, body: PublicMergeInput, portal: PortalId, runtime: RuntimeDep
) -> dict[str, Any]:
    """Merge `objectIdToMerge` into `primaryObjectId`; returns the primary."""
    object_type = object_type_of(objectType)

    async def change(batch: Batch) -> list[int]:
        ids = await objects.resolve(
            batch.conn, portal, object_type, [body.primaryObjectId, body.objectIdToMerge], None
        )
        live = await objects.fetch(batch.conn, portal, object_type, ids.values())
        for raw in (body.primaryObjectId, body.objectIdToMerge):
            if ids.get(raw) not in live:
                raise crm.not_found(raw)
        primary, merged = ids[body.primaryObjectId], ids[body.objectIdToMerge]
        await crm.merge(batch, portal, object_type, primary, merged)
        return [primary]

    [view] = await write_then_view(runtime.db, runtime.clock_ms(), portal, object_type, change)
    return render(object_type, view)


@router.post("/crm/v3/objects/contacts/gdpr-delete", status_code=204)
async def gdpr_delete(
    body: PublicGdprDeleteInput, portal: PortalId, runtime: RuntimeDep
) -> Response:
    """Delete a contact and everything recorded about it, for good."""

    async def run(conn: AsyncConnection) -> None:
        found = await objects.resolve(
            conn, portal, ObjectType.CONTACT, [body.objectId], body.idProperty
        )
        if body.objectId not in found:
            if body.idProperty == "email":
                return  # HubSpot answers 204 for an unknown email too
            raise crm.not_found(body.objectId)
        batch = Batch(conn, runtime.clock_ms())
        await crm.gdpr_delete(batch, portal, found[body.objectId])
        await batch.flush()

    await runtime.db.write(run)
    return Response(status_code=204)
