"""`/crm/v3/objects/{contacts|companies}/batch/*`: read, create, update, upsert, archive.

Up to 100 inputs. As in HubSpot, a batch create is all-or-nothing unless every input carries an
`objectWriteTraceId`; then each input stands alone and failures come back in a 207 with the trace
id. Ids that do not exist come back as 207 errors; invalid values fail the whole batch (400).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.api.auth import PortalId, RuntimeDep
from hubtrail.api.object_models import (
    ERROR_RESPONSES,
    BatchArchiveInput,
    BatchCreateInput,
    BatchReadInput,
    BatchResponse,
    BatchUpdateInput,
    BatchUpsertInput,
    BatchUpsertResponse,
    batch_response,
    standard_error,
)
from hubtrail.api.objects import ObjectTypePath, object_type_of, render, shown_properties
from hubtrail.core.errors import HubtrailError, ValidationError
from hubtrail.core.properties import ObjectType
from hubtrail.store import crm, objects
from hubtrail.store.batch import Batch
from hubtrail.store.crm_views import load_views
from hubtrail.store.properties import load_definitions

router = APIRouter(tags=["CRM objects: batch"], responses=ERROR_RESPONSES)
_BATCH = {"model": BatchResponse, "description": "All inputs done"}
_MULTI = {"model": BatchResponse, "description": "Some inputs failed (see errors)"}
BASE = "/crm/v3/objects/{objectType}/batch"


def _respond(
    results: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    started_ms: int,
    done_ms: int,
    ok: int,
) -> JSONResponse:
    status = 207 if errors else ok
    return JSONResponse(batch_response(results, errors, started_ms, done_ms), status_code=status)


def _missing(object_type: ObjectType, ids: list[str]) -> dict[str, Any]:
    kind = object_type.name
    return standard_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {kind} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        {"ids": ids},
    )


@router.post(BASE + "/read", responses={200: _BATCH, 207: _MULTI})
async def batch_read(
    objectType: ObjectTypePath,
    body: BatchReadInput,
    portal: PortalId,
    runtime: RuntimeDep,
    archived: bool = False,
) -> JSONResponse:
    object_type = object_type_of(objectType)
    started = runtime.clock_ms()
    raw_ids = [item.id for item in body.inputs]

    async def run(conn: AsyncConnection) -> tuple[list[dict[str, Any]], list[str]]:
        found = await objects.resolve(conn, portal, object_type, raw_ids, body.idProperty)
        rows = await objects.fetch(conn, portal, object_type, found.values(), archived=archived)
        present = [rows[found[raw]] for raw in raw_ids if found.get(raw) in rows]
        views = await load_views(
            conn,
            portal,
            object_type,
            list({row.id: row for row in present}.values()),
            properties=body.properties or None,
            history=body.propertiesWithHistory,
        )
        missing = [raw for raw in raw_ids if found.get(raw) not in rows]
        return [render(object_type, v) for v in views], missing

    results, missing = await runtime.db.read(run)
    errors = [_missing(object_type, missing)] if missing else []
    return _respond(results, errors, started, runtime.clock_ms(), 200)


@router.post(BASE + "/create", status_code=201, responses={201: _BATCH, 207: _MULTI})
async def batch_create(
    objectType: ObjectTypePath, body: BatchCreateInput, portal: PortalId, runtime: RuntimeDep
) -> JSONResponse:
    object_type = object_type_of(objectType)
    started = runtime.clock_ms()
    traced = bool(body.inputs) and all(item.objectWriteTraceId for item in body.inputs)

    async def run(conn: AsyncConnection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        batch = Batch(conn, started)
        created, errors, traces = [], [], {}
        for item in body.inputs:
            try:
                object_id = await crm.create(batch, portal, object_type, item.properties)
            except HubtrailError as error:
                if not traced:
                    raise
                context = {"objectWriteTraceId": [str(item.objectWriteTraceId)]}
                errors.append(standard_error(error.category, error.message, context))
                continue
            created.append(object_id)
            if item.objectWriteTraceId:
                traces[str(object_id)] = item.objectWriteTraceId
        views = await _views(conn, batch, portal, object_type, created, body.inputs)
        for view in views:  # as HubSpot does, so a caller can tell which input made which object
            if view["id"] in traces:
                view["objectWriteTraceId"] = traces[view["id"]]
        return views, errors

    results, errors = await runtime.db.write(run)
    return _respond(results, errors, started, runtime.clock_ms(), 201)


async def _views(
    conn: AsyncConnection,
    batch: Batch,
    portal: int,
    object_type: ObjectType,
    ids: list[int],
    inputs: list[Any],
) -> list[dict[str, Any]]:
    await batch.flush()
    rows = await objects.fetch(conn, portal, object_type, ids)
    shown = shown_properties(object_type, [name for item in inputs for name in item.properties])
    views = await load_views(
        conn, portal, object_type, [rows[i] for i in ids if i in rows], properties=shown
    )
    return [render(object_type, v) for v in views]


@router.post(BASE + "/update", responses={200: _BATCH, 207: _MULTI})
async def batch_update(
    objectType: ObjectTypePath, body: BatchUpdateInput, portal: PortalId, runtime: RuntimeDep
) -> JSONResponse:
    object_type = object_type_of(objectType)
    started = runtime.clock_ms()

    async def run(conn: AsyncConnection) -> tuple[list[dict[str, Any]], list[str]]:
        batch = Batch(conn, started)
        updated, missing = [], []
        for item in body.inputs:
            found = await objects.resolve(conn, portal, object_type, [item.id], item.idProperty)
            live = await objects.fetch(conn, portal, object_type, found.values())
            if not live:
                missing.append(item.id)
                continue
            object_id = next(iter(live))
            await crm.update(batch, portal, object_type, object_id, item.properties)
            updated.append(object_id)
        return await _views(conn, batch, portal, object_type, updated, body.inputs), missing

    results, missing = await runtime.db.write(run)
    errors = [_missing(object_type, missing)] if missing else []
    return _respond(results, errors, started, runtime.clock_ms(), 200)


@router.post(
    BASE + "/upsert", responses={200: {"model": BatchUpsertResponse, "description": "Done"}}
)
async def batch_upsert(
    objectType: ObjectTypePath, body: BatchUpsertInput, portal: PortalId, runtime: RuntimeDep
) -> JSONResponse:
    """Update the objects whose `idProperty` has the given value; create the rest."""
    object_type = object_type_of(objectType)
    started = runtime.clock_ms()

    async def run(conn: AsyncConnection) -> list[dict[str, Any]]:
        batch = Batch(conn, started)
        definitions = await load_definitions(conn, portal, object_type)
        outcome: list[tuple[int, bool]] = []
        for index, item in enumerate(body.inputs):
            _check_id_property(object_type, item.idProperty, definitions, index)
            found = await objects.resolve(conn, portal, object_type, [item.id], item.idProperty)
            if item.id in found:
                await crm.update(batch, portal, object_type, found[item.id], item.properties)
                outcome.append((found[item.id], False))
            else:
                values = {**item.properties, item.idProperty: item.id}
                outcome.append((await crm.create(batch, portal, object_type, values), True))
        rendered = await _views(
            conn, batch, portal, object_type, [i for i, _ in outcome], body.inputs
        )
        is_new = dict(outcome)
        return [{**item, "new": is_new[int(item["id"])]} for item in rendered]

    results = await runtime.db.write(run)
    return _respond(results, [], started, runtime.clock_ms(), 200)


def _check_id_property(
    object_type: ObjectType, id_property: str, definitions: dict[str, Any], index: int
) -> None:
    natural = {ObjectType.CONTACT: "email", ObjectType.COMPANY: "domain"}[object_type]
    definition = definitions.get(id_property)
    if id_property == natural or (definition is not None and definition.has_unique_value):
        return
    raise ValidationError(
        f"inputs[{index}].idProperty: {id_property!r} is not a unique property; use {natural} "
        "or a property created with hasUniqueValue"
    )


@router.post(BASE + "/archive", status_code=204)
async def batch_archive(
    objectType: ObjectTypePath, body: BatchArchiveInput, portal: PortalId, runtime: RuntimeDep
) -> Response:
    object_type = object_type_of(objectType)

    async def run(conn: AsyncConnection) -> None:
        found = await objects.resolve(conn, portal, object_type, [i.id for i in body.inputs], None)
        batch = Batch(conn, runtime.clock_ms())
        await crm.archive(batch, portal, object_type, list(found.values()))
        await batch.flush()

    await runtime.db.write(run)
    return Response(status_code=204)
