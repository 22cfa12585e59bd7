"""Associations between CRM objects. Each one is stored in both directions (279 and 280, 1 and 2)
so either side lists its associations with one indexed query.

A contact has at most one primary company; making another company primary replaces it, and the
contact's `associatedcompanyid` follows, as in HubSpot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.associations import HUBSPOT_DEFINED, AssociationType, association_type
from hubtrail.core.messages import Source
from hubtrail.core.properties import ObjectType
from hubtrail.store.batch import Batch
from hubtrail.store.schema import associations
from hubtrail.store.sql import insert_ignoring

_KEY = ["portal_id", "from_type", "from_id", "to_type", "to_id", "category", "type_id"]


@dataclass(frozen=True, slots=True)
class Link:
    to_id: int
    type_id: int
    category: str


async def add(
    batch: Batch, portal_id: int, kind: AssociationType, from_id: int, to_id: int
) -> None:
    """Associate two objects with `kind` (and its inverse); idempotent."""
    conn = batch.conn
    if kind.primary:
        await _drop_other_primaries(conn, portal_id, kind, from_id, to_id)
    rows = [
        _row(portal_id, kind.from_type, from_id, kind.to_type, to_id, kind.type_id, batch.at_ms),
        _row(portal_id, kind.to_type, to_id, kind.from_type, from_id, kind.inverse_id, batch.at_ms),
    ]
    await conn.execute(insert_ignoring(conn, associations, _KEY), rows)
    await _refresh_derived(batch, portal_id, kind, from_id, to_id)
    if kind.from_type is ObjectType.CONTACT and kind.to_type is ObjectType.COMPANY:
        batch.note_association(portal_id, from_id, to_id)
    elif kind.from_type is ObjectType.COMPANY and kind.to_type is ObjectType.CONTACT:
        batch.note_association(portal_id, to_id, from_id)


def _row(
    portal_id: int,
    from_type: ObjectType,
    from_id: int,
    to_type: ObjectType,
    to_id: int,
    type_id: int,
    at_ms: int,
) -> dict[str, object]:
    return {
        "portal_id": portal_id,
        "from_type": from_type.value,
        "from_id": from_id,
        "to_type": to_type.value,
        "to_id": to_id,
        "category": HUBSPOT_DEFINED,
        "type_id": type_id,
        "created_at_ms": at_ms,
    }


async def _drop_other_primaries(
    conn: AsyncConnection, portal_id: int, kind: AssociationType, from_id: int, to_id: int
) -> None:
    """A contact's primary company is unique: remove the old primary pair before adding one."""
    contact_id, company_id = (
        (from_id, to_id) if kind.from_type is ObjectType.CONTACT else (to_id, from_id)
    )
    a = associations.c
    await conn.execute(
        delete(associations).where(
            a.portal_id == portal_id,
            or_(
                and_(
                    a.from_type == "contacts",
                    a.from_id == contact_id,
                    a.type_id == 1,
                    a.to_id != company_id,
                ),
                and_(
                    a.to_type == "contacts",
                    a.to_id == contact_id,
                    a.type_id == 2,
                    a.from_id != company_id,
                ),
            ),
        )
    )


async def remove_pair(
    batch: Batch,
    portal_id: int,
    from_type: ObjectType,
    from_id: int,
    to_type: ObjectType,
    to_id: int,
) -> None:
    """Remove every association between two objects, in both directions."""
    a = associations.c
    await batch.conn.execute(
        delete(associations).where(
            a.portal_id == portal_id,
            or_(
                and_(
                    a.from_type == from_type.value,
                    a.from_id == from_id,
                    a.to_type == to_type.value,
                    a.to_id == to_id,
                ),
                and_(
                    a.from_type == to_type.value,
                    a.from_id == to_id,
                    a.to_type == from_type.value,
                    a.to_id == from_id,
                ),
            ),
        )
    )
    kind = association_type(from_type, to_type, 279 if from_type is ObjectType.CONTACT else 280)
    if kind is not None:
        await _refresh_derived(batch, portal_id, kind, from_id, to_id)


async def remove_type(
    batch: Batch, portal_id: int, kind: AssociationType, from_id: int, to_id: int
) -> None:
    """Remove one association type (and its inverse) between two objects."""
    a = associations.c
    await batch.conn.execute(
        delete(associations).where(
            a.portal_id == portal_id,
            or_(
                and_(
                    a.from_type == kind.from_type.value,
                    a.from_id == from_id,
                    a.to_id == to_id,
                    a.type_id == kind.type_id,
                ),
                and_(
                    a.from_type == kind.to_type.value,
                    a.from_id == to_id,
                    a.to_id == from_id,
                    a.type_id == kind.inverse_id,
                ),
            ),
        )
    )
    await _refresh_derived(batch, portal_id, kind, from_id, to_id)


async def _refresh_derived(
    batch: Batch, portal_id: int, kind: AssociationType, from_id: int, to_id: int
) -> None:
    """Keep `associatedcompanyid` and `num_associated_contacts` true to the associations."""
    contact_id, company_id = (
        (from_id, to_id) if kind.from_type is ObjectType.CONTACT else (to_id, from_id)
    )
    a = associations.c
    primary = await batch.conn.execute(
        select(a.to_id).where(
            a.portal_id == portal_id,
            a.from_type == "contacts",
            a.from_id == contact_id,
            a.type_id == 1,
        )
    )
    primary_id = primary.scalar()
    current = await batch.values(portal_id, ObjectType.CONTACT, contact_id)
    if primary_id or current.get("associatedcompanyid"):  # no "" over a value never set
        await batch.write_values(
            portal_id,
            ObjectType.CONTACT,
            contact_id,
            {"associatedcompanyid": str(primary_id) if primary_id else ""},
            source=Source.CRM_API,
            source_id=None,
        )
    count = await batch.conn.execute(
        select(func.count(func.distinct(a.to_id))).where(
            a.portal_id == portal_id, a.from_type == "companies", a.from_id == company_id
        )
    )
    await batch.write_values(
        portal_id,
        ObjectType.COMPANY,
        company_id,
        {"num_associated_contacts": str(count.scalar() or 0)},
        source=Source.CRM_API,
        source_id=None,
    )


async def links(
    conn: AsyncConnection,
    portal_id: int,
    from_type: ObjectType,
    from_ids: Sequence[int],
    to_type: ObjectType,
    *,
    after_id: int = 0,
    limit: int | None = None,
) -> dict[int, list[Link]]:
    """Each object's associations to `to_type`, by target id (optionally one page of targets)."""
    a = associations.c
    query = select(a.from_id, a.to_id, a.type_id, a.category).where(
        a.portal_id == portal_id,
        a.from_type == from_type.value,
        a.from_id.in_(list(from_ids)),
        a.to_type == to_type.value,
        a.to_id > after_id,
    )
    if limit is not None:
        targets = (
            select(a.to_id)
            .where(
                a.portal_id == portal_id,
                a.from_type == from_type.value,
                a.from_id.in_(list(from_ids)),
                a.to_type == to_type.value,
                a.to_id > after_id,
            )
            .distinct()
            .order_by(a.to_id)
            .limit(limit)
        )
        query = query.where(a.to_id.in_(targets))
    found: dict[int, list[Link]] = defaultdict(list)
    for row in await conn.execute(query.order_by(a.to_id, a.type_id)):
        found[row.from_id].append(Link(row.to_id, row.type_id, row.category))
    return found


async def move_all(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, from_id: int, into_id: int
) -> None:
    """Give `into_id` every association `from_id` has (merges), then drop `from_id`'s."""
    a = associations.c
    rows = (
        await conn.execute(
            select(associations).where(
                a.portal_id == portal_id,
                or_(
                    and_(a.from_type == object_type.value, a.from_id == from_id),
                    and_(a.to_type == object_type.value, a.to_id == from_id),
                ),
            )
        )
    ).all()
    moved = []
    for row in rows:
        item = dict(row._mapping)
        item.pop("id")
        if item["from_type"] == object_type.value and item["from_id"] == from_id:
            item["from_id"] = into_id
        else:
            item["to_id"] = into_id
        moved.append(item)
    await delete_all(conn, portal_id, object_type, from_id)
    if moved:
        await conn.execute(insert_ignoring(conn, associations, _KEY), moved)


async def delete_all(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, object_id: int
) -> None:
    a = associations.c
    await conn.execute(
        delete(associations).where(
            a.portal_id == portal_id,
            or_(
                and_(a.from_type == object_type.value, a.from_id == object_id),
                and_(a.to_type == object_type.value, a.to_id == object_id),
            ),
        )
    )
