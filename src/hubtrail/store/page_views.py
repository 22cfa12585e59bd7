"""Page views, and the contact analytics HubSpot derives from them (`hs_analytics_*`).

The analytics are recomputed from the stored views rather than counted up, so a visitor's
anonymous history that joins a contact later is counted exactly once, and bots never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.attribution import classify
from hubtrail.core.properties import format_datetime_ms, format_number
from hubtrail.store.schema import page_views


async def add(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(page_views), list(rows))


@dataclass(frozen=True, slots=True)
class _View:
    url: str
    referrer: str
    at_ms: int
    source: str
    data_1: str
    data_2: str


def _view(row: Row[Any]) -> _View:
    source, data_1, data_2 = (
        row.traffic_source,
        row.traffic_source_data_1,
        row.traffic_source_data_2,
    )
    if not source:
        found = classify(row.url, row.referrer)
        source, data_1, data_2 = found.source, found.data_1, found.data_2
    return _View(row.url, row.referrer, row.occurred_at_ms, source, data_1, data_2)


async def analytics(conn: AsyncConnection, portal_id: int, contact_id: int) -> dict[str, str]:
    """The contact's `hs_analytics_*` values from its (non-bot) page views; {} without any."""
    pv = page_views.c
    scope = (pv.portal_id == portal_id, pv.contact_id == contact_id, pv.is_bot.is_(False))
    counts = (
        await conn.execute(
            select(
                func.count(),
                func.count().filter(pv.view_in_session == 1),
            ).where(*scope)
        )
    ).one()
    views, visits = int(counts[0]), max(1, int(counts[1] or 0))
    if not views:
        return {}

    async def one(*order: Any, sessions_only: bool = False) -> _View:
        query = select(page_views).where(*scope)
        if sessions_only:
            query = query.where(pv.view_in_session == 1)
        row = (await conn.execute(query.order_by(*order).limit(1))).first()
        if row is None:  # no session start recorded: fall back to any view
            return await one(*order)
        return _view(row)

    first = await one(pv.occurred_at_ms.asc(), pv.id.asc())
    last = await one(pv.occurred_at_ms.desc(), pv.id.desc())
    first_visit = await one(pv.occurred_at_ms.asc(), pv.id.asc(), sessions_only=True)
    last_visit = await one(pv.occurred_at_ms.desc(), pv.id.desc(), sessions_only=True)
    return {
        "hs_analytics_num_page_views": str(views),
        "hs_analytics_num_visits": str(visits),
        "hs_analytics_average_page_views": format_number(
            (Decimal(views) / Decimal(visits)).quantize(Decimal("0.01"))
        ),
        "hs_analytics_first_url": first.url,
        "hs_analytics_last_url": last.url,
        "hs_analytics_first_referrer": first.referrer,
        "hs_analytics_last_referrer": last.referrer,
        "hs_analytics_first_timestamp": format_datetime_ms(first.at_ms),
        "hs_analytics_last_timestamp": format_datetime_ms(last.at_ms),
        "hs_analytics_first_visit_timestamp": format_datetime_ms(first_visit.at_ms),
        "hs_analytics_last_visit_timestamp": format_datetime_ms(last_visit.at_ms),
        "hs_analytics_source": first_visit.source,
        "hs_analytics_source_data_1": first_visit.data_1,
        "hs_analytics_source_data_2": first_visit.data_2,
        "hs_latest_source": last_visit.source,
        "hs_latest_source_data_1": last_visit.data_1,
        "hs_latest_source_data_2": last_visit.data_2,
        "hs_latest_source_timestamp": format_datetime_ms(last_visit.at_ms),
    }
