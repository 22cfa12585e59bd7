"""Daily aggregates for the dashboard's overview: kept as activity is stored, read by range.

`record` adds a batch's page views and event occurrences (bots excluded) to per-day counts —
page views in total, per page and per traffic source; events in total and per definition — and
notes each visitor seen per day, so a month's overview reads a few hundred rows, whatever the
number of views and events behind them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.delivery import DAY_MS
from hubtrail.store.schema import contacts, daily_stats, daily_visitors, event_definitions
from hubtrail.store.sql import insert_ignoring

KEY_CHARS = 300


class Metric:
    PAGEVIEWS = "pageviews"
    PAGE = "page"
    SOURCE = "source"
    EVENTS = "events"
    EVENT = "event"


def _adding(conn: AsyncConnection) -> Any:
    """INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(daily_stats)
    return stmt.on_conflict_do_update(
        index_elements=["portal_id", "metric", "day", "key"],
        set_={"count": daily_stats.c.count + stmt.excluded["count"]},
    )


async def record(
    conn: AsyncConnection, occurrences: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]]
) -> None:
    counts: Counter[tuple[int, str, int, str]] = Counter()
    seen: set[tuple[int, int, int]] = set()
    for view in views:
        if view.get("is_bot"):
            continue
        portal, day = view["portal_id"], view["occurred_at_ms"] // DAY_MS
        counts[(portal, Metric.PAGEVIEWS, day, "")] += 1
        counts[(portal, Metric.PAGE, day, str(view["url"])[:KEY_CHARS])] += 1
        if view.get("traffic_source"):  # only a visit's landing view has a source
            counts[(portal, Metric.SOURCE, day, str(view["traffic_source"]))] += 1
        if view.get("visitor_id") is not None:
            seen.add((portal, day, view["visitor_id"]))
    for occurrence in occurrences:
        portal, day = occurrence["portal_id"], occurrence["occurred_at_ms"] // DAY_MS
        counts[(portal, Metric.EVENTS, day, "")] += 1
        counts[(portal, Metric.EVENT, day, str(occurrence["definition_id"]))] += 1
    if counts:
        rows = [
            {"portal_id": p, "metric": m, "day": d, "key": k, "count": n}
            for (p, m, d, k), n in sorted(counts.items())
        ]
        await conn.execute(_adding(conn), rows)
    if seen:
        rows = [{"portal_id": p, "day": d, "visitor_id": v} for p, d, v in sorted(seen)]
        keys = ["portal_id", "day", "visitor_id"]
        await conn.execute(insert_ignoring(conn, daily_visitors, keys), rows)


@dataclass(frozen=True, slots=True)
class Range:
    """Whole UTC days, `first_day` to `last_day` inclusive (days since the epoch)."""

    first_day: int
    last_day: int

    def days(self) -> list[int]:
        return list(range(self.first_day, self.last_day + 1))


async def per_day(
    conn: AsyncConnection, portal_id: int, metric: str, days: Range
) -> dict[int, int]:
    """A metric's total per day (days without any are missing)."""
    s = daily_stats
    query = select(s.c.day, s.c.count).where(
        s.c.portal_id == portal_id,
        s.c.metric == metric,
        s.c.key == "",
        s.c.day.between(days.first_day, days.last_day),
    )
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def top(
    conn: AsyncConnection, portal_id: int, metric: str, days: Range, limit: int = 10
) -> list[tuple[str, int]]:
    """The keys with the highest counts over the range (pages, sources, event definitions)."""
    s = daily_stats
    total = func.sum(s.c.count).label("total")
    query = (
        select(s.c.key, total)
        .where(
            s.c.portal_id == portal_id,
            s.c.metric == metric,
            s.c.day.between(days.first_day, days.last_day),
        )
        .group_by(s.c.key)
        .order_by(total.desc(), s.c.key)
        .limit(limit)
    )
    return [(row.key, int(row.total)) for row in await conn.execute(query)]


async def visitors_per_day(conn: AsyncConnection, portal_id: int, days: Range) -> dict[int, int]:
    v = daily_visitors
    query = (
        select(v.c.day, func.count())
        .where(v.c.portal_id == portal_id, v.c.day.between(days.first_day, days.last_day))
        .group_by(v.c.day)
    )
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def new_contacts_per_day(
    conn: AsyncConnection, portal_id: int, days: Range
) -> dict[int, int]:
    """Contacts created per day: a range on the (portal, created) index."""
    c = contacts
    day = c.c.created_at_ms // DAY_MS  # integer (floor) division on both engines
    query = (
        select(day.label("day"), func.count())
        .where(
            c.c.portal_id == portal_id,
            c.c.created_at_ms >= days.first_day * DAY_MS,
            c.c.created_at_ms < (days.last_day + 1) * DAY_MS,
            c.c.merged_into_id.is_(None),
        )
        .group_by("day")
    )
    return {int(row[0]): int(row[1]) for row in await conn.execute(query)}


async def per_day_by_key(
    conn: AsyncConnection, portal_id: int, metric: str, days: Range, keys: Sequence[str]
) -> dict[str, dict[int, int]]:
    """Per-day counts for each of `keys` (one page of event definitions, say) in one query."""
    if not keys:
        return {}
    s = daily_stats
    query = select(s.c.key, s.c.day, s.c.count).where(
        s.c.portal_id == portal_id,
        s.c.metric == metric,
        s.c.key.in_(list(keys)),
        s.c.day.between(days.first_day, days.last_day),
    )
    found: dict[str, dict[int, int]] = {key: {} for key in keys}
    for key, day, count in await conn.execute(query):
        found[key][day] = int(count)
    return found


async def visitors_in_range(conn: AsyncConnection, portal_id: int, days: Range) -> int:
    """Distinct visitors over the range: a visitor seen on several days counts once."""
    v = daily_visitors
    query = select(func.count(func.distinct(v.c.visitor_id))).where(
        v.c.portal_id == portal_id, v.c.day.between(days.first_day, days.last_day)
    )
    return int((await conn.execute(query)).scalar() or 0)


@dataclass(frozen=True, slots=True)
class EventLabel:
    name: str
    label: str
    archived: bool


async def event_labels(
    conn: AsyncConnection, portal_id: int, definition_ids: Sequence[int]
) -> dict[int, EventLabel]:
    """The event definitions the `event` metric's keys name, archived ones included (their
    counts stay in the aggregates)."""
    if not definition_ids:
        return {}
    d = event_definitions
    query = select(d.c.id, d.c.name, d.c.label, d.c.archived_at_ms).where(
        d.c.portal_id == portal_id, d.c.id.in_(list(definition_ids))
    )
    return {
        int(row.id): EventLabel(row.name, row.label, row.archived_at_ms is not None)
        for row in await conn.execute(query)
    }
