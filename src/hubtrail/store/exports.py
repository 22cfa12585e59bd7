"""Read-only walks over a portal's data for `hubtrail export`, one JSON-ready dict per record.

Each walk pages by primary key, so an export of millions of rows holds one page in memory. A
form's submissions are walked apart (`walk_submissions`): they are exported one form at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Row, Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.properties import ObjectType, format_datetime_ms
from hubtrail.store import forms
from hubtrail.store.db import Database
from hubtrail.store.schema import (
    companies,
    contact_identities,
    contacts,
    event_definitions,
    event_occurrences,
    page_views,
    property_values,
    visitors,
)

PAGE_ROWS = 500
Record = dict[str, Any]
Shaper = Callable[[AsyncConnection, Sequence[Row[Any]]], Awaitable[list[Record]]]


async def count(db: Database, kind: str, portal_id: int) -> int:
    table = _TABLES[kind]
    query = select(func.count()).select_from(table).where(table.c.portal_id == portal_id)

    async def run(conn: AsyncConnection) -> int:
        return int((await conn.execute(query)).scalar() or 0)

    return await db.read(run)


async def walk(db: Database, kind: str, portal_id: int) -> AsyncIterator[Record]:
    """Every record of `kind` (contacts, companies, events, pageviews) in the portal, by id."""
    table, shaper = _TABLES[kind], _SHAPERS[kind]
    after = 0
    while True:
        query = _page(table, portal_id, after)

        async def run(conn: AsyncConnection, query: Select[Any] = query) -> list[Record]:
            rows = (await conn.execute(query)).all()
            return await shaper(conn, rows)

        records = await db.read(run)
        if not records:
            return
        for record in records:
            yield record
        after = int(records[-1]["id"])


def _page(table: Table, portal_id: int, after: int) -> Select[Any]:
    if table is event_occurrences:
        base = select(table, event_definitions.c.name.label("event_name")).join(
            event_definitions, event_definitions.c.id == table.c.definition_id
        )
    elif table is page_views:
        base = select(table, visitors.c.visitor_key).outerjoin(
            visitors, visitors.c.id == table.c.visitor_id
        )
    else:
        base = select(table)
    return (
        base.where(table.c.portal_id == portal_id, table.c.id > after)
        .order_by(table.c.id)
        .limit(PAGE_ROWS)
    )


def _iso(ms: int | None) -> str | None:
    return format_datetime_ms(ms) if ms is not None else None


async def _properties(
    conn: AsyncConnection, object_type: ObjectType, ids: list[int]
) -> dict[int, dict[str, str]]:
    query = select(property_values.c.object_id, property_values.c.name, property_values.c.value)
    query = query.where(
        property_values.c.object_type == object_type.value, property_values.c.object_id.in_(ids)
    )
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for row in await conn.execute(query):
        found[row.object_id][row.name] = row.value
    return found


def _object(row: Row[Any], props: dict[str, str], modified_name: str) -> Record:
    return {
        "id": str(row.id),
        "properties": {
            **props,
            "createdate": _iso(row.created_at_ms),
            modified_name: _iso(row.updated_at_ms),
            "hs_object_id": str(row.id),
        },
        "createdAt": _iso(row.created_at_ms),
        "updatedAt": _iso(row.updated_at_ms),
        "archived": row.archived_at_ms is not None,
    }


async def _shape_contacts(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[Record]:
    ids = [row.id for row in rows]
    props = await _properties(conn, ObjectType.CONTACT, ids)
    identities: dict[int, dict[str, list[str]]] = defaultdict(
        lambda: {"emails": [], "external_ids": [], "visitors": []}
    )
    query = select(contact_identities).where(contact_identities.c.contact_id.in_(ids))
    plural = {"email": "emails", "external_id": "external_ids", "visitor": "visitors"}
    for identity in await conn.execute(query.order_by(contact_identities.c.id)):
        identities[identity.contact_id][plural[identity.kind]].append(identity.value)
    return [
        {
            **_object(row, props.get(row.id, {}), "lastmodifieddate"),
            "identities": identities[row.id],
        }
        for row in rows
    ]


async def _shape_companies(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[Record]:
    props = await _properties(conn, ObjectType.COMPANY, [row.id for row in rows])
    return [_object(row, props.get(row.id, {}), "hs_lastmodifieddate") for row in rows]


async def _shape_events(_conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[Record]:
    return [
        {
            "id": str(row.id),
            "eventName": row.event_name,
            "definitionId": str(row.definition_id),
            "occurredAt": _iso(row.occurred_at_ms),
            "contactId": str(row.contact_id) if row.contact_id else None,
            "properties": orjson.loads(row.properties),
            "revenue": row.revenue,
            "source": row.source,
        }
        for row in rows
    ]


async def _shape_pageviews(_conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[Record]:
    return [
        {
            "id": str(row.id),
            "url": row.url,
            "title": row.title,
            "referrer": row.referrer,
            "occurredAt": _iso(row.occurred_at_ms),
            "contactId": str(row.contact_id) if row.contact_id else None,
            "visitor": row.visitor_key,
            "source": row.source,
        }
        for row in rows
    ]


_TABLES: dict[str, Table] = {
    "contacts": contacts,
    "companies": companies,
    "events": event_occurrences,
    "pageviews": page_views,
}
_SHAPERS: dict[str, Shaper] = {
    "contacts": _shape_contacts,
    "companies": _shape_companies,
    "events": _shape_events,
    "pageviews": _shape_pageviews,
}
SUBMISSIONS = "submissions"  # one form's: `walk_submissions`
EXPORT_KINDS = (*_TABLES, SUBMISSIONS)


async def count_submissions(db: Database, portal_id: int, guid: str) -> int:
    return await db.read(lambda conn: forms.count_submissions(conn, portal_id, guid))


async def walk_submissions(db: Database, portal_id: int, guid: str) -> AsyncIterator[Record]:
    """Every submission of the portal's form `guid`, newest first (as HubSpot lists them)."""
    before: int | None = None
    while True:

        async def run(conn: AsyncConnection, before: int | None = before) -> list[Any]:
            return await forms.submissions_of_form(
                conn, portal_id, guid, before_id=before, limit=PAGE_ROWS
            )

        page: list[forms.Submission] = await db.read(run)
        for submission in page:
            yield _submission(submission)
        if len(page) < PAGE_ROWS:
            return
        before = page[-1].id


def _submission(row: forms.Submission) -> Record:
    """HubSpot's submission shape (`values[]` of name and value), with what hubtrail knows."""
    return {
        "id": str(row.id),
        "formId": row.form_guid,
        "submittedAt": _iso(row.submitted_at_ms),
        "values": [{"name": name, "value": value} for name, value in row.submitted],
        "pageUrl": row.page_uri,
        "pageName": row.page_name,
        "hutk": row.hutk or None,
        "ipAddress": row.ip_address or None,
        "contactId": str(row.contact_id) if row.contact_id else None,
        "visitorId": str(row.visitor_id) if row.visitor_id else None,
        "messageId": row.message_id,
    }
