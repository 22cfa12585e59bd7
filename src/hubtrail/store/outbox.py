"""The outbox: what is still to be sent to each destination.

A row names an object (`kind`, `object_key`), not a copy of it: the forwarder reads the object's
current state when it sends, so several changes to one contact before it is sent are one input
(and a replay sends today's data). At most one row per object is `pending`: a further change
finds it there and is merged into it. A row being sent is `inflight`; a change arriving then
makes a new pending row, because the send in flight read the state before that change.
Sent rows are deleted (the destination counts them); rows that cannot be sent become `dead`,
with their last error, until replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.store.schema import (
    associations,
    companies,
    contacts,
    event_occurrences,
    outbox,
    page_views,
)


class Kind(StrEnum):
    """What an outbox row names, in the order a cycle sends them (a contact before its events)."""

    CONTACT = "contact"
    COMPANY = "company"
    ASSOCIATION = "association"
    EVENT = "event"
    PAGEVIEW = "pageview"
    SUBMISSION = "submission"  # a form submission, to the HubSpot form its form is mapped to


class Status(StrEnum):
    PENDING = "pending"
    INFLIGHT = "inflight"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Entry:
    """One change to send: `object_key` is a contact or company id, `contactId:companyId` for an
    association, or the message id of an event occurrence or page view."""

    destination_id: int
    portal_id: int
    kind: Kind
    object_key: str


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    destination_id: int
    portal_id: int
    kind: Kind
    object_key: str
    status: Status
    attempts: int
    max_batch: int  # 0, or the largest batch it may go in: halved each time its batch failed
    created_at_ms: int
    next_attempt_at_ms: int
    last_error: str
    dead_at_ms: int | None


def _row(row: Any) -> Row:
    return Row(
        id=row.id,
        destination_id=row.destination_id,
        portal_id=row.portal_id,
        kind=Kind(row.kind),
        object_key=row.object_key,
        status=Status(row.status),
        attempts=row.attempts,
        max_batch=row.max_batch,
        created_at_ms=row.created_at_ms,
        next_attempt_at_ms=row.next_attempt_at_ms,
        last_error=row.last_error,
        dead_at_ms=row.dead_at_ms,
    )


_PENDING = text("status = 'pending'")


def _insert_pending(conn: AsyncConnection) -> Any:
    """INSERT … ON CONFLICT (the pending row of the same object) DO NOTHING: coalescing."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(outbox).on_conflict_do_nothing(
        index_elements=["destination_id", "kind", "object_key"], index_where=_PENDING
    )


async def enqueue(conn: AsyncConnection, entries: Iterable[Entry], at_ms: int) -> None:
    rows = [
        {
            "destination_id": e.destination_id,
            "portal_id": e.portal_id,
            "kind": e.kind.value,
            "object_key": e.object_key,
            "status": Status.PENDING.value,
            "created_at_ms": at_ms,
            "next_attempt_at_ms": at_ms,
        }
        for e in entries
    ]
    if rows:
        await conn.execute(_insert_pending(conn), rows)


async def due(conn: AsyncConnection, destination_id: int, now_ms: int, limit: int) -> list[Row]:
    """Pending rows whose next attempt is due, oldest first."""
    query = (
        select(outbox)
        .where(
            outbox.c.destination_id == destination_id,
            outbox.c.status == Status.PENDING.value,
            outbox.c.next_attempt_at_ms <= now_ms,
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [_row(row) for row in await conn.execute(query)]


async def next_due_at(conn: AsyncConnection, destination_id: int) -> int | None:
    """When the earliest pending row is due (None: nothing pending)."""
    query = select(func.min(outbox.c.next_attempt_at_ms)).where(
        outbox.c.destination_id == destination_id, outbox.c.status == Status.PENDING.value
    )
    value = (await conn.execute(query)).scalar()
    return int(value) if value is not None else None


async def mark_inflight(conn: AsyncConnection, ids: Sequence[int]) -> None:
    if ids:
        await conn.execute(
            update(outbox).where(outbox.c.id.in_(list(ids))).values(status=Status.INFLIGHT.value)
        )


async def finish(conn: AsyncConnection, ids: Sequence[int]) -> None:
    """Sent: the rows are done."""
    if ids:
        await conn.execute(delete(outbox).where(outbox.c.id.in_(list(ids))))


async def _drop_covered(conn: AsyncConnection, ids: Sequence[int]) -> list[int]:
    """Of `ids`, delete those whose object already has another pending row (which covers them,
    or is the same event queued again) and return the rest; among several of `ids` naming the
    same object, keep the newest."""
    if not ids:
        return []
    rows = list(
        await conn.execute(
            select(outbox.c.id, outbox.c.destination_id, outbox.c.kind, outbox.c.object_key)
            .where(outbox.c.id.in_(list(ids)))
            .order_by(outbox.c.id.desc())
        )
    )
    keys = {(r.destination_id, r.kind, r.object_key) for r in rows}
    pending = select(outbox.c.destination_id, outbox.c.kind, outbox.c.object_key).where(
        outbox.c.status == Status.PENDING.value,
        outbox.c.id.not_in(list(ids)),
        outbox.c.object_key.in_([key for _, _, key in keys]),
    )
    taken = {(r.destination_id, r.kind, r.object_key) for r in await conn.execute(pending)}
    keep, drop = [], []
    for row in rows:
        key = (row.destination_id, row.kind, row.object_key)
        if key in taken:
            drop.append(row.id)
        else:
            taken.add(key)
            keep.append(row.id)
    if drop:
        await conn.execute(delete(outbox).where(outbox.c.id.in_(drop)))
    return keep


async def retry_later(
    conn: AsyncConnection,
    ids: Sequence[int],
    *,
    next_attempt_at_ms: int,
    error: str,
    count_attempt: bool = True,
    max_batch: int | None = None,
) -> None:
    """Back to pending, due at `next_attempt_at_ms`. A batch the target refused as a whole
    (one bad input fails them all) comes back with `max_batch` halved: the good inputs go
    through in smaller batches and the bad one ends up alone, where its own error is known."""
    keep = await _drop_covered(conn, ids)
    if keep:
        values: dict[str, Any] = {
            "status": Status.PENDING.value,
            "next_attempt_at_ms": next_attempt_at_ms,
            "last_error": error[:2000],
        }
        if count_attempt:
            values["attempts"] = outbox.c.attempts + 1
        if max_batch is not None:
            values["max_batch"] = max_batch
        await conn.execute(update(outbox).where(outbox.c.id.in_(keep)).values(**values))


async def kill(conn: AsyncConnection, ids: Sequence[int], error: str, at_ms: int) -> None:
    """Into the dead letter, with the reason."""
    if ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(list(ids)))
            .values(
                status=Status.DEAD.value,
                last_error=error[:2000],
                dead_at_ms=at_ms,
                attempts=outbox.c.attempts + 1,
            )
        )


async def reset_inflight(conn: AsyncConnection, destination_id: int, now_ms: int) -> int:
    """Rows a crashed worker had in flight go back to pending (resending them is harmless)."""
    ids = list(
        (
            await conn.execute(
                select(outbox.c.id).where(
                    outbox.c.destination_id == destination_id,
                    outbox.c.status == Status.INFLIGHT.value,
                )
            )
        ).scalars()
    )
    await retry_later(
        conn,
        ids,
        next_attempt_at_ms=now_ms,
        error="resent after a worker stopped mid-send",
        count_attempt=False,
    )
    return len(ids)


async def visitor_history(
    conn: AsyncConnection, portal_id: int, visitor_ids: Sequence[int]
) -> list[tuple[Kind, str]]:
    """The events and page views of visitors that just joined a contact: until then they could
    not be sent (no contact, no usertoken)."""
    if not visitor_ids:
        return []
    found: list[tuple[Kind, str]] = []
    for kind, table in ((Kind.EVENT, event_occurrences), (Kind.PAGEVIEW, page_views)):
        query = select(table.c.message_id).where(
            table.c.portal_id == portal_id, table.c.visitor_id.in_(list(visitor_ids))
        )
        if table is page_views:
            query = query.where(page_views.c.is_bot.is_(False))
        found += [(kind, key) for key in (await conn.execute(query)).scalars()]
    return found


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    pending: int = 0
    inflight: int = 0
    dead: int = 0
    oldest_pending_at_ms: int | None = None


async def counts(conn: AsyncConnection) -> dict[int, Counts]:
    """Per destination id: rows by status, and when the oldest pending one was queued."""
    query = select(
        outbox.c.destination_id,
        outbox.c.status,
        func.count(),
        func.min(outbox.c.created_at_ms),
    ).group_by(outbox.c.destination_id, outbox.c.status)
    found: dict[int, dict[str, Any]] = {}
    for destination_id, status, number, oldest in await conn.execute(query):
        entry = found.setdefault(destination_id, {})
        entry[status] = int(number)
        if status == Status.PENDING.value:
            entry["oldest_pending_at_ms"] = oldest
    return {
        d: Counts(
            pending=e.get("pending", 0),
            inflight=e.get("inflight", 0),
            dead=e.get("dead", 0),
            oldest_pending_at_ms=e.get("oldest_pending_at_ms"),
        )
        for d, e in found.items()
    }


async def dead_rows(
    conn: AsyncConnection,
    *,
    destination_id: int | None = None,
    since_ms: int | None = None,
    row_id: int | None = None,
    limit: int | None = None,
) -> list[Row]:
    query = select(outbox).where(outbox.c.status == Status.DEAD.value).order_by(outbox.c.id)
    if destination_id is not None:
        query = query.where(outbox.c.destination_id == destination_id)
    if since_ms is not None:
        query = query.where(outbox.c.dead_at_ms >= since_ms)
    if row_id is not None:
        query = query.where(outbox.c.id == row_id)
    if limit is not None:
        query = query.limit(limit)
    return [_row(row) for row in await conn.execute(query)]


async def replay(conn: AsyncConnection, ids: Sequence[int], now_ms: int) -> None:
    """Dead rows back to pending, due now, with a fresh attempt count."""
    keep = await _drop_covered(conn, ids)
    if keep:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(keep))
            .values(
                status=Status.PENDING.value,
                attempts=0,
                max_batch=0,
                next_attempt_at_ms=now_ms,
                dead_at_ms=None,
            )
        )


# --- backfill -----------------------------------------------------------------------------------


async def backfill(
    conn: AsyncConnection,
    destination_id: int,
    portal_id: int,
    kinds: Iterable[Kind],
    before_ms: int,
    at_ms: int,
) -> int:
    """Queue everything of `kinds` the portal recorded before `before_ms`; returns rows added."""
    added = 0
    for kind in kinds:
        if kind is Kind.SUBMISSION:  # sent from the moment a form is mapped, not before
            continue
        source = _backfill_source(kind, portal_id, before_ms)
        rows = [
            Entry(destination_id, portal_id, kind, str(key))
            for key in (await conn.execute(source)).scalars()
        ]
        for start in range(0, len(rows), 5_000):
            await enqueue(conn, rows[start : start + 5_000], at_ms)
        added += len(rows)
    return added


def _backfill_source(kind: Kind, portal_id: int, before_ms: int) -> Any:
    if kind is Kind.CONTACT or kind is Kind.COMPANY:
        table = contacts if kind is Kind.CONTACT else companies
        return (
            select(table.c.id)
            .where(
                table.c.portal_id == portal_id,
                table.c.archived_at_ms.is_(None),
                table.c.created_at_ms < before_ms,
                *([contacts.c.merged_into_id.is_(None)] if kind is Kind.CONTACT else []),
            )
            .order_by(table.c.id)
        )
    if kind is Kind.ASSOCIATION:
        key = (
            cast(associations.c.from_id, String) + literal(":") + cast(associations.c.to_id, String)
        )
        return (
            select(key)
            .where(
                associations.c.portal_id == portal_id,
                associations.c.from_type == "contacts",
                associations.c.to_type == "companies",
                associations.c.created_at_ms < before_ms,
            )
            .distinct()
        )
    table = event_occurrences if kind is Kind.EVENT else page_views
    where = [table.c.portal_id == portal_id, table.c.occurred_at_ms < before_ms]
    if kind is Kind.PAGEVIEW:
        where.append(and_(page_views.c.is_bot.is_(False), page_views.c.contact_id.is_not(None)))
    return select(table.c.message_id).where(*where).order_by(table.c.id)
