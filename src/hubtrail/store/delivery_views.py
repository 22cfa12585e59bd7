"""Reading deliveries for the dashboard and `hubtrail deliveries`: each destination's status
(`status_rows`), queue counts and a page of the dead letter (through the outbox's
(destination, status, …) index)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.store.destinations import Destination
from hubtrail.store.outbox import Counts, Kind, Row, Status
from hubtrail.store.schema import outbox as outbox_table


async def counts(conn: AsyncConnection, destination_ids: Sequence[int]) -> dict[int, Counts]:
    """Per destination: rows pending, in flight and dead, and when the oldest pending one came."""
    if not destination_ids:
        return {}
    o = outbox_table.c
    query = (
        select(o.destination_id, o.status, func.count(), func.min(o.created_at_ms))
        .where(o.destination_id.in_(destination_ids))
        .group_by(o.destination_id, o.status)
    )
    found: dict[int, dict[str, int | None]] = {}
    for destination_id, status, number, oldest in await conn.execute(query):
        entry = found.setdefault(destination_id, {})
        entry[status] = int(number)
        if status == Status.PENDING.value:
            entry["oldest"] = oldest
    return {
        d: Counts(
            pending=e.get(Status.PENDING.value) or 0,
            inflight=e.get(Status.INFLIGHT.value) or 0,
            dead=e.get(Status.DEAD.value) or 0,
            oldest_pending_at_ms=e.get("oldest"),
        )
        for d, e in found.items()
    }


async def dead_page(
    conn: AsyncConnection, destination_ids: Sequence[int], offset: int, limit: int
) -> list[Row]:
    """Dead-lettered rows of these destinations, the latest first."""
    if not destination_ids:
        return []
    o = outbox_table.c
    query = (
        select(outbox_table)
        .where(o.destination_id.in_(destination_ids), o.status == Status.DEAD.value)
        .order_by(o.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_row(row) for row in await conn.execute(query)]


def _row(row: Any) -> Row:
    values = dict(row._mapping)
    return Row(**{**values, "kind": Kind(row.kind), "status": Status(row.status)})


def iso_time(at_ms: int | None) -> str | None:
    """Epoch ms as ISO-8601 to the second (UTC); None for none."""
    if not at_ms:
        return None
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(timespec="seconds")


def status_rows(
    found: list[Destination], counts: dict[int, Counts], now: int
) -> list[dict[str, Any]]:
    """Per destination: queued, sent, retried, dead, calls, 429s, budget left and any pause."""
    rows = []
    for d in found:
        c = counts.get(d.id, Counts())
        rows.append(
            {
                "destination": d.id,
                "portal": d.portal_id,
                "queued": c.pending + c.inflight,
                "sent": d.sent_count,
                "retried": d.retried_count,
                "dead": c.dead,
                "calls": d.calls_count,
                "throttled": d.throttled_count,
                "budget_left": d.calls_left_today(now),
                "oldest_queued": iso_time(c.oldest_pending_at_ms),
                "paused_until": iso_time(d.paused_until_ms) if d.paused_until_ms > now else None,
                "pause_reason": d.pause_reason if d.paused_until_ms > now else "",
            }
        )
    return rows
