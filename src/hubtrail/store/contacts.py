"""Contacts, visitors and the identities that tie them together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.emails import email_key
from hubtrail.core.properties import ObjectType
from hubtrail.store import objects
from hubtrail.store.schema import (
    contact_identities,
    contacts,
    event_occurrences,
    page_views,
    visitors,
)
from hubtrail.store.sql import insert_ignoring


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    email: str | None
    external_id: str | None


@dataclass(frozen=True, slots=True)
class Visitor:
    id: int
    visitor_key: str
    contact_id: int | None
    external_id: str | None
    pending_traits: dict[str, Any] = field(default_factory=dict)


_live = contacts.c.archived_at_ms.is_(None)


async def _one_contact(conn: AsyncConnection, *where: ColumnElement[bool]) -> Contact | None:
    query = select(contacts.c.id, contacts.c.email, contacts.c.external_id).where(_live, *where)
    row = (await conn.execute(query.limit(1))).first()
    return Contact(row.id, row.email, row.external_id) if row else None


async def get_contact(conn: AsyncConnection, portal_id: int, contact_id: int) -> Contact | None:
    return await _one_contact(conn, contacts.c.portal_id == portal_id, contacts.c.id == contact_id)


async def find_by_email(conn: AsyncConnection, portal_id: int, email: str) -> Contact | None:
    """The live contact with this email as its own or as an additional (merged-in) one."""
    found = await objects.resolve(conn, portal_id, ObjectType.CONTACT, [email], "email")
    return await get_contact(conn, portal_id, found[email]) if email in found else None


async def find_by_external_id(
    conn: AsyncConnection, portal_id: int, external_id: str
) -> Contact | None:
    return await _one_contact(
        conn, contacts.c.portal_id == portal_id, contacts.c.external_id == external_id
    )


async def get_or_create_by_email(
    conn: AsyncConnection, portal_id: int, email: str, at_ms: int
) -> tuple[Contact, bool]:
    """The contact with this email, creating it when missing; True when it was created.

    The insert skips on the unique email key, so two processors racing on one new email end with
    one contact.
    """
    existing = await find_by_email(conn, portal_id, email)
    if existing:
        return existing, False
    stmt = insert_ignoring(conn, contacts, ["portal_id", "email_key"]).values(
        portal_id=portal_id,
        email=email,
        email_key=email_key(email),
        created_at_ms=at_ms,
        updated_at_ms=at_ms,
    )
    new_id = (await conn.execute(stmt.returning(contacts.c.id))).scalar_one_or_none()
    if new_id is None:  # another transaction created it first
        contact = await find_by_email(conn, portal_id, email)
        assert contact is not None, "contact vanished between insert and select"
        return contact, False
    await add_identity(conn, portal_id, new_id, "email", email_key(email), at_ms)
    return Contact(new_id, email, None), True


async def set_external_id(
    conn: AsyncConnection, portal_id: int, contact_id: int, external_id: str, at_ms: int
) -> None:
    """Give a contact its external id. Callers keep the first one a contact got."""
    await conn.execute(
        update(contacts)
        .where(contacts.c.id == contact_id, contacts.c.external_id.is_(None))
        .values(external_id=external_id, updated_at_ms=at_ms)
    )
    await add_identity(conn, portal_id, contact_id, "external_id", external_id, at_ms)


async def add_identity(
    conn: AsyncConnection, portal_id: int, contact_id: int, kind: str, value: str, at_ms: int
) -> None:
    stmt = insert_ignoring(conn, contact_identities, ["portal_id", "kind", "value", "contact_id"])
    await conn.execute(
        stmt.values(
            portal_id=portal_id, contact_id=contact_id, kind=kind, value=value, created_at_ms=at_ms
        )
    )


async def get_or_create_visitor(
    conn: AsyncConnection, portal_id: int, visitor_key: str, at_ms: int
) -> Visitor:
    query = select(visitors).where(
        visitors.c.portal_id == portal_id, visitors.c.visitor_key == visitor_key
    )
    row = (await conn.execute(query)).first()
    if row is None:
        stmt = insert_ignoring(conn, visitors, ["portal_id", "visitor_key"]).values(
            portal_id=portal_id,
            visitor_key=visitor_key,
            created_at_ms=at_ms,
            last_seen_at_ms=at_ms,
        )
        new_id = (await conn.execute(stmt.returning(visitors.c.id))).scalar_one_or_none()
        if new_id is not None:
            return Visitor(new_id, visitor_key, None, None)
        row = (await conn.execute(query)).one()  # another transaction created it first
    else:
        await conn.execute(
            update(visitors).where(visitors.c.id == row.id).values(last_seen_at_ms=at_ms)
        )
    pending = orjson.loads(row.pending_traits) if row.pending_traits else {}
    return Visitor(row.id, row.visitor_key, row.contact_id, row.external_id, pending)


async def link_visitor(
    conn: AsyncConnection, portal_id: int, visitor: Visitor, contact_id: int, at_ms: int
) -> None:
    """Tie a visitor to a contact from now on; its anonymous history joins that contact.

    Only activity with no contact yet moves: what the visitor did as another contact stays there.
    """
    await conn.execute(
        update(visitors).where(visitors.c.id == visitor.id).values(contact_id=contact_id)
    )
    await add_identity(conn, portal_id, contact_id, "visitor", visitor.visitor_key, at_ms)
    for table in (event_occurrences, page_views):
        await conn.execute(
            update(table)
            .where(table.c.visitor_id == visitor.id, table.c.contact_id.is_(None))
            .values(contact_id=contact_id)
        )


async def remember_external_id(conn: AsyncConnection, visitor_id: int, external_id: str) -> None:
    """Keep an `identify` id seen without an email on the visitor, for when the email comes."""
    await conn.execute(
        update(visitors)
        .where(visitors.c.id == visitor_id, visitors.c.external_id.is_(None))
        .values(external_id=external_id)
    )


async def count_visitors(conn: AsyncConnection, contact_id: int) -> int:
    """How many browsers are linked to a contact (the identity guard's measure)."""
    query = select(func.count()).select_from(visitors).where(visitors.c.contact_id == contact_id)
    return int((await conn.execute(query)).scalar() or 0)


async def save_pending_traits(
    conn: AsyncConnection, visitor_id: int, traits: dict[str, Any]
) -> None:
    """Keep (or, with {}, clear) traits waiting for the visitor's contact to be known."""
    await conn.execute(
        update(visitors)
        .where(visitors.c.id == visitor_id)
        .values(pending_traits=orjson.dumps(traits).decode())
    )


async def waiting_visitors(
    conn: AsyncConnection, portal_id: int, external_id: str
) -> list[Visitor]:
    """Browsers that saw this external id (identify `id`, Segment alias) but no contact yet."""
    query = select(visitors).where(
        visitors.c.portal_id == portal_id,
        visitors.c.external_id == external_id,
        visitors.c.contact_id.is_(None),
    )
    return [
        Visitor(row.id, row.visitor_key, None, row.external_id) for row in await conn.execute(query)
    ]
