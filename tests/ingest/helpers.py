"""Reading back what processing stored, for assertions."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.app import HubtrailApp
from hubtrail.core.properties import ObjectType
from hubtrail.store import contacts, properties
from hubtrail.store.schema import event_definitions, event_occurrences, inbox


async def query(app: HubtrailApp, statement: Any) -> list[Any]:
    async def run(conn: AsyncConnection) -> list[Any]:
        return list((await conn.execute(statement)).all())

    return await app.runtime.db.read(run)


async def count(app: HubtrailApp, table: Any, *where: Any) -> int:
    rows = await query(app, select(func.count()).select_from(table).where(*where))
    return int(rows[0][0])


async def outcomes(app: HubtrailApp) -> list[dict[str, Any]]:
    rows = await query(app, select(inbox.c.outcome).order_by(inbox.c.seq))
    return [orjson.loads(row.outcome) for row in rows]


async def contact_values(app: HubtrailApp, portal_id: int, email: str) -> dict[str, str]:
    async def run(conn: AsyncConnection) -> dict[str, str]:
        contact = await contacts.find_by_email(conn, portal_id, email)
        assert contact is not None, f"no contact {email}"
        return await properties.current_values(conn, portal_id, ObjectType.CONTACT, contact.id)

    return await app.runtime.db.read(run)


async def definitions(app: HubtrailApp, portal_id: int) -> list[Any]:
    return await query(
        app,
        select(event_definitions)
        .where(event_definitions.c.portal_id == portal_id)
        .order_by(event_definitions.c.id),
    )


async def occurrences(app: HubtrailApp, portal_id: int) -> list[Any]:
    return await query(
        app,
        select(event_occurrences)
        .where(event_occurrences.c.portal_id == portal_id)
        .order_by(event_occurrences.c.id),
    )
