"""Destinations: where a portal's changes are forwarded, and the delivery state every worker shares.

The state lives on the destination's row, so it holds across processes and hosts: the token
bucket (`core.delivery.Bucket`), a pause (after a 429 or a spent daily budget, with its reason),
the calls made today, the lease that lets one worker at a time send for the destination, and
running counters. The target's ids for what was sent (contacts, companies, event definitions)
are kept in `destination_ids`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.delivery import Bucket, utc_day
from hubtrail.store.schema import destination_forms, destination_ids, destinations, outbox
from hubtrail.store.sql import upsert


class Sends(StrEnum):
    """What a destination can be sent; `pageviews` and `deletions` are off unless asked for.

    `deletions` mirrors archives, merges and GDPR deletions of contacts and companies the
    target has (it deletes data in the target account, so it is never a default)."""

    CONTACTS = "contacts"
    COMPANIES = "companies"
    ASSOCIATIONS = "associations"
    EVENTS = "events"
    PAGEVIEWS = "pageviews"
    DELETIONS = "deletions"


DEFAULT_SENDS = (Sends.CONTACTS, Sends.COMPANIES, Sends.ASSOCIATIONS, Sends.EVENTS)


@dataclass(frozen=True, slots=True)
class Destination:
    id: int
    portal_id: int
    kind: str
    base_url: str
    token: str
    rate_per_s: float
    daily_budget: int
    sends: frozenset[Sends]
    created_at_ms: int
    backfilled_at_ms: int | None
    bucket: Bucket
    paused_until_ms: int
    pause_reason: str
    budget_day: int
    calls_today: int
    lease_owner: str
    lease_until_ms: int
    sent_count: int
    retried_count: int
    calls_count: int
    throttled_count: int

    def calls_left_today(self, now_ms: int) -> int:
        used = self.calls_today if self.budget_day == utc_day(now_ms) else 0
        return max(0, self.daily_budget - used)


def parse_sends(text: str) -> frozenset[Sends]:
    """`contacts,events` → the set; `ValueError` names an unknown kind."""
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [kind for kind in kinds if kind not in Sends.__members__.values()]
    if unknown or not kinds:
        known = ", ".join(s.value for s in Sends)
        raise ValueError(f"--send takes a comma-separated list of: {known} (got {text!r})")
    return frozenset(Sends(kind) for kind in kinds)


def _destination(row: Any) -> Destination:
    return Destination(
        id=row.id,
        portal_id=row.portal_id,
        kind=row.kind,
        base_url=row.base_url,
        token=row.token,
        rate_per_s=row.rate_per_s,
        daily_budget=row.daily_budget,
        sends=parse_sends(row.send),
        created_at_ms=row.created_at_ms,
        backfilled_at_ms=row.backfilled_at_ms,
        bucket=Bucket(row.bucket_tokens, row.bucket_at_ms),
        paused_until_ms=row.paused_until_ms,
        pause_reason=row.pause_reason,
        budget_day=row.budget_day,
        calls_today=row.calls_today,
        lease_owner=row.lease_owner,
        lease_until_ms=row.lease_until_ms,
        sent_count=row.sent_count,
        retried_count=row.retried_count,
        calls_count=row.calls_count,
        throttled_count=row.throttled_count,
    )


async def add(
    conn: AsyncConnection,
    portal_id: int,
    *,
    base_url: str,
    token: str,
    rate_per_s: float,
    daily_budget: int,
    sends: frozenset[Sends],
    at_ms: int,
    kind: str = "hubspot",
) -> Destination:
    order = [s.value for s in Sends if s in sends]
    result = await conn.execute(
        insert(destinations).values(
            portal_id=portal_id,
            kind=kind,
            base_url=base_url.rstrip("/"),
            token=token,
            rate_per_s=rate_per_s,
            daily_budget=daily_budget,
            send=",".join(order),
            created_at_ms=at_ms,
            bucket_at_ms=at_ms,
        )
    )
    found = await get(conn, int(result.inserted_primary_key[0]))  # type: ignore[index]
    assert found is not None
    return found


async def get(conn: AsyncConnection, destination_id: int) -> Destination | None:
    row = (
        await conn.execute(select(destinations).where(destinations.c.id == destination_id))
    ).first()
    return _destination(row) if row is not None else None


async def all_destinations(
    conn: AsyncConnection, portal_id: int | None = None
) -> list[Destination]:
    query = select(destinations).order_by(destinations.c.id)
    if portal_id is not None:
        query = query.where(destinations.c.portal_id == portal_id)
    return [_destination(row) for row in await conn.execute(query)]


async def remove(conn: AsyncConnection, destination_id: int) -> int:
    """Delete a destination with its queue and remembered ids; returns the rows dropped."""
    dropped = await conn.execute(delete(outbox).where(outbox.c.destination_id == destination_id))
    await conn.execute(
        delete(destination_forms).where(destination_forms.c.destination_id == destination_id)
    )
    await conn.execute(
        delete(destination_ids).where(destination_ids.c.destination_id == destination_id)
    )
    await conn.execute(delete(destinations).where(destinations.c.id == destination_id))
    return int(dropped.rowcount or 0)


async def set_token(conn: AsyncConnection, destination_id: int, token: str) -> None:
    """A new token (the old one was revoked); a pause caused by the old one is lifted."""
    await conn.execute(
        update(destinations)
        .where(destinations.c.id == destination_id)
        .values(token=token, paused_until_ms=0, pause_reason="")
    )


async def mark_backfilled(conn: AsyncConnection, destination_id: int, at_ms: int) -> None:
    await conn.execute(
        update(destinations)
        .where(destinations.c.id == destination_id)
        .values(backfilled_at_ms=at_ms)
    )


# --- the shared delivery state ----------------------------------------------------------------


async def take_lease(
    conn: AsyncConnection, destination_id: int, owner: str, now_ms: int, lease_ms: int
) -> bool:
    """Hold the destination for `lease_ms` if it is free, expired, or already ours."""
    result = await conn.execute(
        update(destinations)
        .where(
            destinations.c.id == destination_id,
            or_(
                destinations.c.lease_owner == owner,
                destinations.c.lease_owner == "",
                destinations.c.lease_until_ms < now_ms,
            ),
        )
        .values(lease_owner=owner, lease_until_ms=now_ms + lease_ms)
    )
    return bool(result.rowcount)


async def release_lease(conn: AsyncConnection, destination_id: int, owner: str) -> None:
    await conn.execute(
        update(destinations)
        .where(destinations.c.id == destination_id, destinations.c.lease_owner == owner)
        .values(lease_owner="", lease_until_ms=0)
    )


async def take_call(conn: AsyncConnection, destination: Destination, now_ms: int) -> int:
    """Spend one token for a call: 0 when it may go now, else the ms to wait first.

    Reads the bucket under the row's lock (PostgreSQL) or the single writer (SQLite), so every
    worker of the destination draws from the same bucket."""
    query = select(destinations.c.bucket_tokens, destinations.c.bucket_at_ms).where(
        destinations.c.id == destination.id
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).one()
    bucket, wait_ms = Bucket(row.bucket_tokens, row.bucket_at_ms).take(
        now_ms, destination.rate_per_s
    )
    if wait_ms:
        return wait_ms
    day = utc_day(now_ms)
    await conn.execute(
        update(destinations)
        .where(destinations.c.id == destination.id)
        .values(
            bucket_tokens=bucket.tokens,
            bucket_at_ms=bucket.at_ms,
            calls_today=_calls_today_plus_one(day),
            budget_day=day,
            calls_count=destinations.c.calls_count + 1,
        )
    )
    return 0


def _calls_today_plus_one(day: int) -> Any:
    return case(
        (destinations.c.budget_day == day, destinations.c.calls_today + 1),
        else_=1,
    )


async def pause(
    conn: AsyncConnection, destination_id: int, until_ms: int, reason: str, *, throttled: bool
) -> None:
    """Hold every call until `until_ms` (a later pause already set wins)."""
    values: dict[str, Any] = {"paused_until_ms": until_ms, "pause_reason": reason}
    if throttled:
        values["throttled_count"] = destinations.c.throttled_count + 1
    await conn.execute(
        update(destinations)
        .where(destinations.c.id == destination_id, destinations.c.paused_until_ms < until_ms)
        .values(**values)
    )


async def count_delivery(
    conn: AsyncConnection, destination_id: int, *, sent: int, retried: int
) -> None:
    await conn.execute(
        update(destinations)
        .where(destinations.c.id == destination_id)
        .values(
            sent_count=destinations.c.sent_count + sent,
            retried_count=destinations.c.retried_count + retried,
        )
    )


# --- the target's ids ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteId:
    remote_id: str
    detail: dict[str, Any]


async def remote_ids(
    conn: AsyncConnection, destination_id: int, object_type: str, local_keys: Sequence[str]
) -> dict[str, RemoteId]:
    if not local_keys:
        return {}
    query = select(destination_ids).where(
        destination_ids.c.destination_id == destination_id,
        destination_ids.c.object_type == object_type,
        destination_ids.c.local_key.in_(list(local_keys)),
    )
    return {
        row.local_key: RemoteId(row.remote_id, orjson.loads(row.detail))
        for row in await conn.execute(query)
    }


async def remember_ids(
    conn: AsyncConnection,
    destination_id: int,
    object_type: str,
    found: dict[str, RemoteId],
) -> None:
    if not found:
        return
    rows = [
        {
            "destination_id": destination_id,
            "object_type": object_type,
            "local_key": key,
            "remote_id": remote.remote_id,
            "detail": orjson.dumps(remote.detail).decode(),
        }
        for key, remote in found.items()
    ]
    stmt = upsert(
        conn,
        destination_ids,
        ["destination_id", "object_type", "local_key"],
        ["remote_id", "detail"],
    )
    await conn.execute(stmt, rows)


async def forget_ids(
    conn: AsyncConnection, destination_id: int, object_type: str, local_keys: Sequence[str]
) -> None:
    """The target no longer has them (deleted there, or by us): they will be created again."""
    if not local_keys:
        return
    await conn.execute(
        delete(destination_ids).where(
            destination_ids.c.destination_id == destination_id,
            destination_ids.c.object_type == object_type,
            destination_ids.c.local_key.in_(list(local_keys)),
        )
    )


# --- forms sent on to HubSpot forms -------------------------------------------------------------

HSFORMS_URL = "https://api.hsforms.com"


@dataclass(frozen=True, slots=True)
class FormTarget:
    """The HubSpot form a local form's submissions are also sent to."""

    form_guid: str
    remote_portal_id: int
    remote_form_guid: str
    base_url: str


async def map_form(conn: AsyncConnection, destination_id: int, target: FormTarget) -> None:
    row = {
        "destination_id": destination_id,
        "form_guid": target.form_guid,
        "remote_portal_id": target.remote_portal_id,
        "remote_form_guid": target.remote_form_guid,
        "base_url": target.base_url.rstrip("/"),
    }
    stmt = upsert(
        conn,
        destination_forms,
        ["destination_id", "form_guid"],
        ["remote_portal_id", "remote_form_guid", "base_url"],
    )
    await conn.execute(stmt, [row])


async def form_targets(
    conn: AsyncConnection, destination_ids_: Sequence[int]
) -> dict[int, dict[str, FormTarget]]:
    """Per destination id: its mapped forms by local guid."""
    if not destination_ids_:
        return {}
    f = destination_forms
    rows = await conn.execute(select(f).where(f.c.destination_id.in_(list(destination_ids_))))
    found: dict[int, dict[str, FormTarget]] = {}
    for row in rows:
        found.setdefault(row.destination_id, {})[row.form_guid] = FormTarget(
            row.form_guid, row.remote_portal_id, row.remote_form_guid, row.base_url
        )
    return found
