"""Dashboard page: a portal's event definitions, with occurrences per day over a range.

Definitions are listed by internal name, a page at a time (keyset on the name, as the event
definitions API pages); the counts for a page come from the daily aggregates in one query.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.events import qualified_event_name
from hubtrail.core.messages import Source
from hubtrail.store import daily_stats, event_queries
from hubtrail.store.daily_stats import Metric, Range
from hubtrail.store.event_queries import DefinitionPage
from hubtrail.web.dashboard.auth import PortalView, runtime_of
from hubtrail.web.dashboard.charts import day_bars
from hubtrail.web.dashboard.overview import RANGE_DAYS, chosen_range
from hubtrail.web.dashboard.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_SEARCH_CHARS = 100
# How each definition came to exist (`created_by`): the path its first occurrence took.
CREATED_BY = {
    Source.TRACKING_CODE.value: "Tracking code",
    Source.HTTP_EVENTS.value: "HTTP events",
    Source.EVENTS_API.value: "Events API",
    Source.SEGMENT.value: "Segment",
    Source.CRM_API.value: "Definitions API",
    Source.FORM.value: "Form",
    Source.IMPORT.value: "Import",
}


@dataclass(frozen=True, slots=True)
class EventsPage:
    definitions: DefinitionPage
    per_day: dict[str, dict[int, int]]  # definition id (as the aggregates key it) → day → count
    total: int  # every event over the range, not just this page's


async def read_events(
    conn: AsyncConnection, portal_id: int, days: Range, after: str | None, search: str | None
) -> EventsPage:
    definitions = await event_queries.list_definitions(
        conn, portal_id, limit=PAGE_SIZE, after_name=after, search=search
    )
    keys = [str(d.id) for d in definitions.definitions]
    per_day = await daily_stats.per_day_by_key(conn, portal_id, Metric.EVENT, days, keys)
    totals = await daily_stats.per_day(conn, portal_id, Metric.EVENTS, days)
    return EventsPage(definitions, per_day, sum(totals.values()))


@router.get("/app/{hub_id}/events")
async def events(
    request: Request,
    view: PortalView,
    days: str | None = None,
    after: str | None = None,
    q: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    chosen = chosen_range(days, runtime.clock_ms())
    search = (q or "").strip()[:MAX_SEARCH_CHARS] or None
    data = await runtime.db.read(
        lambda conn: read_events(conn, view.hub_id, chosen.range, after or None, search)
    )
    day_list = chosen.range.days()
    rows = []
    for definition in data.definitions.definitions:
        counts = data.per_day.get(str(definition.id), {})
        rows.append(
            {
                "definition": definition,
                "qualified": qualified_event_name(view.hub_id, definition.name),
                "created_by": CREATED_BY.get(definition.created_by, definition.created_by),
                "count": sum(counts.values()),
                "chart": day_bars(
                    counts,
                    day_list,
                    label=f"{definition.label} per day",
                    unit="occurrences",
                    height_px=36,
                    axis=False,
                ),
            }
        )
    context = {
        "portal": view.portal,
        "title": "Events",
        "range": chosen,
        "range_days": RANGE_DAYS,
        "rows": rows,
        "total_definitions": data.definitions.total,
        "total_events": data.total,
        "next_after": data.definitions.last_name,
        "paged": after is not None,
        "q": search or "",
    }
    return render(request, "events.html", context)
