"""Associations v4, batch endpoints: `/crm/v4/associations/{from}/{to}/batch/...`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.api.associations import (
    ArchiveBatch,
    BatchResponseDefaultAssociation,
    LabelledPairBatch,
    PairBatch,
    ReadBatch,
    TypePath,
    created_pair,
    default_kind,
    default_results,
    live_id,
    missing_pair,
    spec_type,
    type_labels,
)
from hubtrail.api.auth import PortalId, RuntimeDep
from hubtrail.api.object_models import ERROR_RESPONSES, batch_response, standard_error
from hubtrail.api.objects import object_type_of
from hubtrail.store import associations
from hubtrail.store.associations import Link
from hubtrail.store.batch import Batch

router = APIRouter(tags=["Associations v4"], responses=ERROR_RESPONSES)
_MULTI: dict[int | str, dict[str, Any]] = {
    207: {"model": BatchResponseDefaultAssociation, "description": "Some inputs failed"}
}

BATCH = "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch"


@router.post(
    BATCH + "/associate/default",
    responses={200: {"model": BatchResponseDefaultAssociation, "description": "Done"}, **_MULTI},
)
async def batch_default(
    fromObjectType: TypePath,
    toObjectType: TypePath,
    body: PairBatch,
    portal: PortalId,
    runtime: RuntimeDep,
) -> JSONResponse:
    from_type, to_type = object_type_of(fromObjectType), object_type_of(toObjectType)
    kind = default_kind(from_type, to_type)
    started = runtime.clock_ms()

    async def run(conn: AsyncConnection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        batch = Batch(conn, started)
        results, errors = [], []
        for item in body.inputs:
            from_id = await live_id(conn, portal, from_type, item.from_.id)
            to_id = await live_id(conn, portal, to_type, item.to.id)
            if from_id is None or to_id is None:
                errors.append(missing_pair(item.from_.id, item.to.id))
                continue
            await associations.add(batch, portal, kind, from_id, to_id)
            results.extend(default_results(from_id, to_id, kind))
        await batch.flush()
        return results, errors

    results, errors = await runtime.db.write(run)
    body_out = batch_response(results, errors, started, runtime.clock_ms())
    return JSONResponse(body_out, status_code=207 if errors else 200)


@router.post(BATCH + "/create", status_code=201, responses={207: {"description": "Some failed"}})
async def batch_create(
    fromObjectType: TypePath,
    toObjectType: TypePath,
    body: LabelledPairBatch,
    portal: PortalId,
    runtime: RuntimeDep,
) -> JSONResponse:
    from_type, to_type = object_type_of(fromObjectType), object_type_of(toObjectType)
    started = runtime.clock_ms()
    kinds = [[spec_type(from_type, to_type, spec) for spec in item.types] for item in body.inputs]

    async def run(conn: AsyncConnection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        batch = Batch(conn, started)
        results, errors = [], []
        for item, item_kinds in zip(body.inputs, kinds, strict=True):
            from_id = await live_id(conn, portal, from_type, item.from_.id)
            to_id = await live_id(conn, portal, to_type, item.to.id)
            if from_id is None or to_id is None:
                errors.append(missing_pair(item.from_.id, item.to.id))
                continue
            for kind in item_kinds:
                await associations.add(batch, portal, kind, from_id, to_id)
            results.append(created_pair(from_type, from_id, to_type, to_id, item_kinds))
        await batch.flush()
        return results, errors

    results, errors = await runtime.db.write(run)
    body_out = batch_response(results, errors, started, runtime.clock_ms())
    return JSONResponse(body_out, status_code=207 if errors else 201)


@router.post(BATCH + "/read", responses={207: {"description": "Some objects do not exist"}})
async def batch_read(
    fromObjectType: TypePath,
    toObjectType: TypePath,
    body: ReadBatch,
    portal: PortalId,
    runtime: RuntimeDep,
) -> JSONResponse:
    from_type, to_type = object_type_of(fromObjectType), object_type_of(toObjectType)
    started = runtime.clock_ms()

    async def run(conn: AsyncConnection) -> tuple[list[dict[str, Any]], list[str]]:
        results, missing = [], []
        for item in body.inputs:
            from_id = await live_id(conn, portal, from_type, item.id)
            if from_id is None:
                missing.append(item.id)
                continue
            found = await associations.links(conn, portal, from_type, [from_id], to_type)
            by_target: dict[int, list[Link]] = {}
            for link in found.get(from_id, []):
                by_target.setdefault(link.to_id, []).append(link)
            results.append(
                {
                    "from": {"id": str(from_id)},
                    "to": [
                        {
                            "toObjectId": t,
                            "associationTypes": type_labels(from_type, to_type, links),
                        }
                        for t, links in by_target.items()
                    ],
                }
            )
        return results, missing

    results, missing = await runtime.db.read(run)
    errors = (
        [standard_error("OBJECT_NOT_FOUND", "Some objects do not exist", {"ids": missing})]
        if missing
        else []
    )
    body_out = batch_response(results, errors, started, runtime.clock_ms())
    return JSONResponse(body_out, status_code=207 if errors else 200)


@router.post(BATCH + "/archive", status_code=204)
async def batch_archive(
    fromObjectType: TypePath,
    toObjectType: TypePath,
    body: ArchiveBatch,
    portal: PortalId,
    runtime: RuntimeDep,
) -> Response:
    from_type, to_type = object_type_of(fromObjectType), object_type_of(toObjectType)

    async def run(conn: AsyncConnection) -> None:
        batch = Batch(conn, runtime.clock_ms())
        for item in body.inputs:
            from_id = await live_id(conn, portal, from_type, item.from_.id)
            for target in item.to:
                to_id = await live_id(conn, portal, to_type, target.id)
                if from_id is not None and to_id is not None:
                    await associations.remove_pair(
                        batch, portal, from_type, from_id, to_type, to_id
                    )
        await batch.flush()

    await runtime.db.write(run)
    return Response(status_code=204)


@router.post(BATCH + "/labels/archive", status_code=204)
async def batch_archive_labels(
    fromObjectType: TypePath,
    toObjectType: TypePath,
    body: LabelledPairBatch,
    portal: PortalId,
    runtime: RuntimeDep,
) -> Response:
    from_type, to_type = object_type_of(fromObjectType), object_type_of(toObjectType)

    async def run(conn: AsyncConnection) -> None:
        batch = Batch(conn, runtime.clock_ms())
        for item in body.inputs:
            from_id = await live_id(conn, portal, from_type, item.from_.id)
            to_id = await live_id(conn, portal, to_type, item.to.id)
            if from_id is None or to_id is None:
                continue
            for spec in item.types:
                await associations.remove_type(
                    batch, portal, spec_type(from_type, to_type, spec), from_id, to_id
                )
        await batch.flush()

    await runtime.db.write(run)
    return Response(status_code=204)
