"""Reading the inbox for the live debugger: a portal's latest processed messages, and what came
in after a cursor.

Every read stays a bounded range of the inbox's primary key (`seq`): the latest messages are
looked for among the newest `RECENT_WINDOW_ROWS` rows of all portals, and the stream reads only
rows after its cursor, so a debugger left open costs one small indexed query per poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.store.schema import inbox

RECENT_WINDOW_ROWS = 50_000
"""How far back (in inbox rows, all portals) the page's list and its filters look."""
PENDING_WINDOW_ROWS = 1_000
"""How far back from the inbox's end following starts, at most (an older backlog is skipped)."""

_COLUMNS = (
    inbox.c.seq,
    inbox.c.source,
    inbox.c.kind,
    inbox.c.received_at_ms,
    inbox.c.payload,
    inbox.c.processed_at_ms,
    inbox.c.outcome,
)


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One inbox row with its payload and outcome parsed (`outcome` is {} until processed)."""

    seq: int
    source: str
    kind: str
    received_at_ms: int
    payload: dict[str, Any]
    processed_at_ms: int | None
    outcome: dict[str, Any]


def _document(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _of_portal(portal_id: int) -> ColumnElement[bool]:
    """The portal's rows: the (portal_id, seq) index walks them newest first and stops after
    the few asked for."""
    return inbox.c.portal_id == portal_id


def _entry(row: Any) -> InboxEntry:
    return InboxEntry(
        seq=row.seq,
        source=row.source,
        kind=row.kind,
        received_at_ms=row.received_at_ms,
        payload=_document(row.payload),
        processed_at_ms=row.processed_at_ms,
        outcome=_document(row.outcome),
    )


async def newest_seq(conn: AsyncConnection) -> int:
    """The inbox's highest seq (any portal), 0 when empty: the end of the primary key."""
    return int((await conn.execute(select(func.max(inbox.c.seq)))).scalar() or 0)


async def recent(
    conn: AsyncConnection,
    portal_id: int,
    *,
    source: str | None = None,
    kind: str | None = None,
    text: str | None = None,
    limit: int = 50,
) -> list[InboxEntry]:
    """The portal's latest processed messages, newest first, of one source and kind if given and
    whose payload contains `text` (case-insensitive), among the newest inbox rows."""
    oldest = await newest_seq(conn) - RECENT_WINDOW_ROWS
    where = [inbox.c.seq > oldest, _of_portal(portal_id), inbox.c.processed_at_ms.is_not(None)]
    if source:
        where.append(inbox.c.source == source)
    if kind:
        where.append(inbox.c.kind == kind)
    if text:
        where.append(func.lower(inbox.c.payload).contains(text.lower(), autoescape=True))
    query = select(*_COLUMNS).where(*where).order_by(inbox.c.seq.desc()).limit(limit)
    return [_entry(row) for row in await conn.execute(query)]


async def start_cursor(conn: AsyncConnection, portal_id: int) -> int:
    """Where following the portal's messages starts: just before its oldest message still
    waiting to be processed among the inbox's last `PENDING_WINDOW_ROWS`, else at the end."""
    newest = await newest_seq(conn)
    pending = select(func.min(inbox.c.seq)).where(
        inbox.c.seq > newest - PENDING_WINDOW_ROWS,
        _of_portal(portal_id),
        inbox.c.processed_at_ms.is_(None),
    )
    first_pending = (await conn.execute(pending)).scalar()
    return newest if first_pending is None else int(first_pending) - 1


async def after(
    conn: AsyncConnection, portal_id: int, cursor: int, limit: int = 200
) -> list[InboxEntry]:
    """The portal's messages after `cursor`, processed or not, oldest first."""
    query = (
        select(*_COLUMNS)
        .where(inbox.c.seq > cursor, _of_portal(portal_id))
        .order_by(inbox.c.seq)
        .limit(limit)
    )
    return [_entry(row) for row in await conn.execute(query)]
