"""The inbox: every accepted message, durable before it is acknowledged, applied in order.

Rows are appended by the group committer and claimed by the processor. On PostgreSQL several
processors share the table: each takes transaction-scoped advisory locks on whole partitions, so
two processors never apply messages of the same partition (visitor) at once or out of order.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.messages import Message
from hubtrail.store.schema import inbox
from hubtrail.store.sql import insert_ignoring

# Advisory locks are per database, not per schema: the lock's first key is the schema's hash, so
# hubtrail installations in two schemas of one database never wait on each other's partitions.
_LOCK_BUSY_PARTITIONS = text(
    "SELECT partition FROM (SELECT DISTINCT partition FROM inbox "
    "WHERE processed_at_ms IS NULL) AS busy "
    "WHERE pg_try_advisory_xact_lock(hashtext(current_schema() || '/inbox'), partition)"
)


def inbox_row(message: Message) -> dict[str, object]:
    return {
        "portal_id": message.portal_id,
        "message_id": message.message_id,
        "source": message.source.value,
        "kind": message.kind.value,
        "partition": message.partition(),
        "received_at_ms": message.received_at_ms,
        "payload": message.to_json().decode(),
    }


_APPEND_COLUMNS = (
    "portal_id",
    "message_id",
    "source",
    "kind",
    "partition",
    "received_at_ms",
    "payload",
)
_append_sql: dict[str, str] = {}


def _append_statement(conn: AsyncConnection) -> str:
    """The dialect's INSERT … ON CONFLICT DO NOTHING, compiled once per dialect.

    The hot path sends plain tuples through the driver's executemany: per-row parameter
    processing in SQLAlchemy would otherwise cost more than SQLite's own work.
    """
    dialect = conn.dialect.name
    if dialect not in _append_sql:
        stmt = insert_ignoring(conn, inbox, ["portal_id", "message_id"]).values(
            {name: bindparam(name) for name in _APPEND_COLUMNS}
        )
        compiled = stmt.compile(dialect=conn.dialect)
        assert tuple(compiled.positiontup or ()) == _APPEND_COLUMNS
        _append_sql[dialect] = str(compiled)
    return _append_sql[dialect]


async def append(conn: AsyncConnection, messages: Sequence[Message]) -> None:
    """Insert messages; one whose (portal, message id) is already there is skipped (dedupe)."""
    if messages:
        rows = [tuple(row.values()) for row in map(inbox_row, messages)]
        await conn.exec_driver_sql(_append_statement(conn), rows)


async def claim(conn: AsyncConnection, limit: int) -> list[tuple[int, str]]:
    """The oldest unprocessed messages this transaction may apply, in order: (seq, JSON)."""
    pending = inbox.c.processed_at_ms.is_(None)
    query = select(inbox.c.seq, inbox.c.payload).where(pending)
    if conn.dialect.name == "postgresql":
        partitions = await _lock_partitions(conn)
        if not partitions:
            return []
        query = query.where(inbox.c.partition.in_(partitions))
    rows = await conn.execute(query.order_by(inbox.c.seq).limit(limit))
    return [(row.seq, row.payload) for row in rows]


async def _lock_partitions(conn: AsyncConnection) -> list[int]:
    """The busy partitions this transaction could lock, in one round trip."""
    rows = await conn.execute(_LOCK_BUSY_PARTITIONS)
    return [int(partition) for partition in rows.scalars()]


async def mark_processed(
    conn: AsyncConnection, outcomes: Sequence[tuple[int, str]], at_ms: int
) -> None:
    """Record each message's outcome (JSON) and take it out of the queue."""
    if not outcomes:
        return
    stmt = (
        update(inbox)
        .where(inbox.c.seq == bindparam("b_seq"))
        .values(processed_at_ms=at_ms, outcome=bindparam("b_outcome"))
    )
    await conn.execute(stmt, [{"b_seq": seq, "b_outcome": outcome} for seq, outcome in outcomes])


async def pending_count(conn: AsyncConnection) -> int:
    query = select(func.count()).select_from(inbox).where(inbox.c.processed_at_ms.is_(None))
    return int((await conn.execute(query)).scalar() or 0)


async def record_applied(
    conn: AsyncConnection, message: Message, outcome_json: str, at_ms: int
) -> None:
    """Keep a change that was applied without passing through the inbox (a CRM API write) as an
    already-processed row, so the live debugger lists it beside ingested messages."""
    row = {**inbox_row(message), "processed_at_ms": at_ms, "outcome": outcome_json}
    await conn.execute(insert(inbox).values(row))
