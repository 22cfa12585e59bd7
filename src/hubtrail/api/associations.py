"""Associations v4: `/crm/v4/objects/{type}/{id}/associations/...` and the batch endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.api.auth import PortalId, RuntimeDep
from hubtrail.api.object_models import (
    ERROR_RESPONSES,
    AssociationSpec,
    DateTime,
    ForwardPaging,
    ObjectRef,
    StandardError,
    batch_response,
    standard_error,
)
from hubtrail.api.objects import OBJECT_TYPE_PATTERN, object_type_of
from hubtrail.core.associations import (
    HUBSPOT_DEFINED,
    OBJECT_TYPE_IDS,
    AssociationType,
    association_type,
    default_type,
)
from hubtrail.core.errors import FieldError, ValidationError
from hubtrail.core.properties import ObjectType
from hubtrail.store import associations, crm, objects
from hubtrail.store.associations import Link
from hubtrail.store.batch import Batch

router = APIRouter(tags=["Associations v4"], responses=ERROR_RESPONSES)
TypePath = Annotated[str, Path(pattern=OBJECT_TYPE_PATTERN)]
MAX_LIST = 500
MAX_BATCH = 1000


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PairInput(_Model):
    from_: ObjectRef = Field(alias="from")
    to: ObjectRef


class LabelledPairInput(PairInput):
    types: list[AssociationSpec] = Field(min_length=1)


class PairBatch(_Model):
    inputs: list[PairInput] = Field(max_length=MAX_BATCH)


class LabelledPairBatch(_Model):
    inputs: list[LabelledPairInput] = Field(max_length=MAX_BATCH)


class ReadInput(_Model):
    id: str
    after: str | None = None


class ReadBatch(_Model):
    inputs: list[ReadInput] = Field(max_length=MAX_BATCH)


class ArchiveInput(_Model):
    from_: ObjectRef = Field(alias="from")
    to: list[ObjectRef]


class ArchiveBatch(_Model):
    inputs: list[ArchiveInput] = Field(max_length=MAX_BATCH)


class DefaultAssociation(_Model):
    from_: ObjectRef = Field(alias="from")
    to: ObjectRef
    associationSpec: AssociationSpec


class BatchResponseDefaultAssociation(_Model):
    status: str
    results: list[DefaultAssociation]
    startedAt: DateTime
    completedAt: DateTime
    numErrors: int | None = None
    errors: list[StandardError] | None = None


class LabelsBetweenObjectPair(_Model):
    fromObjectTypeId: str
    fromObjectId: int
    toObjectTypeId: str
    toObjectId: int
    labels: list[str]


class AssociationTypeWithLabel(_Model):
    category: str
    typeId: int
    label: str | None


class MultiAssociatedObjectWithLabel(_Model):
    toObjectId: int
    associationTypes: list[AssociationTypeWithLabel]


class CollectionResponseAssociations(_Model):
    results: list[MultiAssociatedObjectWithLabel]
    paging: ForwardPaging | None = None


def spec_type(from_type: ObjectType, to_type: ObjectType, spec: AssociationSpec) -> AssociationType:
    kind = association_type(from_type, to_type, spec.associationTypeId)
    if kind is None or spec.associationCategory != HUBSPOT_DEFINED:
        raise ValidationError(
            f"association type {spec.associationCategory}/{spec.associationTypeId} does not exist "
            f"from {from_type.value} to {to_type.value}",
            errors=[FieldError("unknown association type", "INVALID", in_="associationTypeId")],
        )
    return kind


async def live_id(
    conn: AsyncConnection, portal: int, object_type: ObjectType, raw_id: str
) -> int | None:
    found = await objects.resolve(conn, portal, object_type, [raw_id], None)
    live = await objects.fetch(conn, portal, object_type, found.values())
    return next(iter(live), None)


async def live_pair(
    conn: AsyncConnection,
    portal: int,
    from_type: ObjectType,
    from_raw: str,
    to_type: ObjectType,
    to_raw: str,
) -> tuple[int, int]:
    from_id = await live_id(conn, portal, from_type, from_raw)
    to_id = await live_id(conn, portal, to_type, to_raw)
    if from_id is None:
        raise crm.not_found(from_raw)
    if to_id is None:
        raise crm.not_found(to_raw)
    return from_id, to_id


def type_labels(
    from_type: ObjectType, to_type: ObjectType, links: list[Link]
) -> list[dict[str, Any]]:
    types = []
    for link in links:
        kind = association_type(from_type, to_type, link.type_id)
        types.append(
            {
                "category": link.category,
                "typeId": link.type_id,
                "label": kind.label if kind else None,
            }
        )
    return types


def created_pair(
    from_type: ObjectType,
    from_id: int,
    to_type: ObjectType,
    to_id: int,
    kinds: list[AssociationType],
) -> dict[str, Any]:
    return {
        "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
        "fromObjectId": from_id,
        "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
        "toObjectId": to_id,
        "labels": [k.label for k in kinds if k.label],
    }


def default_results(from_id: int, to_id: int, kind: AssociationType) -> list[dict[str, Any]]:
    return [
        {
            "from": {"id": str(a)},
            "to": {"id": str(b)},
            "associationSpec": {
                "associationCategory": HUBSPOT_DEFINED,
                "associationTypeId": type_id,
            },
        }
        for a, b, type_id in ((from_id, to_id, kind.type_id), (to_id, from_id, kind.inverse_id))
    ]


def default_kind(from_type: ObjectType, to_type: ObjectType) -> AssociationType:
    kind = default_type(from_type, to_type)
    if kind is None:
        raise ValidationError(f"{from_type.value} cannot be associated with {to_type.value}")
    return kind


@router.put(
    "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}",
    response_model=BatchResponseDefaultAssociation,
    response_model_exclude_unset=True,
    response_model_by_alias=True,
)
async def create_default(
    fromObjectType: TypePath,
    fromObjectId: str,
    toObjectType: TypePath,
    toObjectId: str,
    portal: PortalId,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """Associate two objects with the default (unlabeled) type."""
    from_type, to_type = object_type_of(fromObjectType), object_type_of(toObjectType)
    kind = default_kind(from_type, to_type)
    started = runtime.clock_ms()

    async def run(conn: AsyncConnection) -> tuple[int, int]:
        from_id, to_id = await live_pair(conn, portal, from_type, fromObjectId, to_type, toObjectId)
        batch = Batch(conn, started)
        await associations.add(batch, portal, kind, from_id, to_id)
        await batch.flush()
        return from_id, to_id

    from_id, to_id = await runtime.db.write(run)
    return batch_response(default_results(from_id, to_id, kind), [], started, runtime.clock_ms())


@router.put(
    "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}",
    status_code=201,
    response_model=LabelsBetweenObjectPair,
)
async def create_labelled(
    objectType: TypePath,
    objectId: str,
    toObjectType: TypePath,
    toObjectId: str,
    body: list[AssociationSpec],
    portal: PortalId,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """Associate two objects with the given types (279/280 unlabeled, 1/2 primary)."""
    from_type, to_type = object_type_of(objectType), object_type_of(toObjectType)
    if not body:
        raise ValidationError("the body must list at least one association type")
    kinds = [spec_type(from_type, to_type, spec) for spec in body]

    async def run(conn: AsyncConnection) -> tuple[int, int]:
        from_id, to_id = await live_pair(conn, portal, from_type, objectId, to_type, toObjectId)
        batch = Batch(conn, runtime.clock_ms())
        for kind in kinds:
            await associations.add(batch, portal, kind, from_id, to_id)
        await batch.flush()
        return from_id, to_id

    from_id, to_id = await runtime.db.write(run)
    return created_pair(from_type, from_id, to_type, to_id, kinds)


@router.get(
    "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}",
    response_model=CollectionResponseAssociations,
    response_model_exclude_unset=True,
)
async def list_associations(
    objectType: TypePath,
    objectId: str,
    toObjectType: TypePath,
    portal: PortalId,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = MAX_LIST,
    after: Annotated[str | None, Query(pattern=r"^[0-9]{0,18}$")] = None,
) -> dict[str, Any]:
    from_type, to_type = object_type_of(objectType), object_type_of(toObjectType)

    async def run(conn: AsyncConnection) -> list[Link]:
        from_id = await live_id(conn, portal, from_type, objectId)
        if from_id is None:
            raise crm.not_found(objectId)
        found = await associations.links(
            conn, portal, from_type, [from_id], to_type, after_id=int(after or 0), limit=limit + 1
        )
        return found.get(from_id, [])

    links = await runtime.db.read(run)
    by_target: dict[int, list[Link]] = {}
    for link in links:
        by_target.setdefault(link.to_id, []).append(link)
    targets = list(by_target)[:limit]
    body: dict[str, Any] = {
        "results": [
            {"toObjectId": t, "associationTypes": type_labels(from_type, to_type, by_target[t])}
            for t in targets
        ]
    }
    if len(by_target) > limit:
        body["paging"] = {"next": {"after": str(targets[-1])}}
    return body


@router.delete(
    "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}",
    status_code=204,
)
async def archive_pair(
    objectType: TypePath,
    objectId: str,
    toObjectType: TypePath,
    toObjectId: str,
    portal: PortalId,
    runtime: RuntimeDep,
) -> Response:
    """Remove every association between the two objects."""
    from_type, to_type = object_type_of(objectType), object_type_of(toObjectType)

    async def run(conn: AsyncConnection) -> None:
        from_id, to_id = await live_pair(conn, portal, from_type, objectId, to_type, toObjectId)
        batch = Batch(conn, runtime.clock_ms())
        await associations.remove_pair(batch, portal, from_type, from_id, to_type, to_id)
        await batch.flush()

    await runtime.db.write(run)
    return Response(status_code=204)


def missing_pair(from_raw: str, to_raw: str) -> dict[str, Any]:
    return standard_error(
        "OBJECT_NOT_FOUND",
        f"No such pair of objects: {from_raw} → {to_raw}",
        {"ids": [from_raw, to_raw]},
    )
