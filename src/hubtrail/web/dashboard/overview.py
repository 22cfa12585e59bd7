"""Dashboard page: a portal's overview over the last 7, 30 or 90 days.

Every number comes from the daily aggregates (`store.daily_stats`): totals, per-day charts and the
top pages, traffic sources and events are a handful of index-range reads, however much traffic is
behind them. Bots are already left out of the aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.delivery import DAY_MS
from hubtrail.store import daily_stats
from hubtrail.store.daily_stats import EventLabel, Metric, Range
from hubtrail.web.dashboard.auth import PortalView, runtime_of
from hubtrail.web.dashboard.charts import day_bars, day_label
from hubtrail.web.dashboard.templating import render

router = APIRouter(include_in_schema=False)

RANGE_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
TOP_ROWS = 10
# HubSpot's names for `hs_analytics_source` values, as its reports show them.
SOURCE_LABELS = {
    "ORGANIC_SEARCH": "Organic search",
    "PAID_SEARCH": "Paid search",
    "EMAIL_MARKETING": "Email marketing",
    "SOCIAL_MEDIA": "Organic social",
    "PAID_SOCIAL": "Paid social",
    "REFERRALS": "Referrals",
    "OTHER_CAMPAIGNS": "Other campaigns",
    "DIRECT_TRAFFIC": "Direct traffic",
    "OFFLINE": "Offline sources",
    "": "Unknown",
}


@dataclass(frozen=True, slots=True)
class DayRange:
    """The range a page shows: its length in days and the UTC days it covers (today last)."""

    days: int
    range: Range

    @property
    def first_label(self) -> str:
        return day_label(self.range.first_day)

    @property
    def last_label(self) -> str:
        return day_label(self.range.last_day)


def chosen_range(raw_days: str | None, now_ms: int) -> DayRange:
    """`?days=` as one of `RANGE_DAYS`; anything else is the default rather than an error."""
    days = int(raw_days) if raw_days and raw_days.isdigit() else DEFAULT_DAYS
    if days not in RANGE_DAYS:
        days = DEFAULT_DAYS
    today = now_ms // DAY_MS
    return DayRange(days, Range(today - days + 1, today))


def source_label(code: str) -> str:
    return SOURCE_LABELS.get(code) or code.replace("_", " ").capitalize()


def page_path(url: str) -> str:
    """What a top-pages row shows: the path (and query) of an absolute URL, else the URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not (parts.scheme and parts.netloc):
        return url
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True, slots=True)
class TopRow:
    """One row of a top list: what it shows, its full text (for the tooltip) and its count."""

    label: str
    title: str
    count: int
    share_pct: float  # of the list's first row, for the bar under it


def _top_rows(items: list[tuple[str, str, int]]) -> list[TopRow]:
    highest = max((count for _, _, count in items), default=0)
    return [
        TopRow(label, title, count, round(100 * count / highest, 1) if highest else 0.0)
        for label, title, count in items
    ]


@dataclass(frozen=True, slots=True)
class Overview:
    visitors: int
    per_day: dict[str, dict[int, int]]  # "visitors", "pageviews", "contacts", "events"
    pages: list[tuple[str, int]]
    sources: list[tuple[str, int]]
    events: list[tuple[str, int]]
    event_labels: dict[int, EventLabel]

    def total(self, series: str) -> int:
        return sum(self.per_day[series].values())

    @property
    def empty(self) -> bool:
        return not any(self.total(series) for series in self.per_day)


async def read_overview(conn: AsyncConnection, portal_id: int, days: Range) -> Overview:
    """Everything the overview shows, from the aggregates (nine small queries)."""
    per_day = {
        "visitors": await daily_stats.visitors_per_day(conn, portal_id, days),
        "pageviews": await daily_stats.per_day(conn, portal_id, Metric.PAGEVIEWS, days),
        "contacts": await daily_stats.new_contacts_per_day(conn, portal_id, days),
        "events": await daily_stats.per_day(conn, portal_id, Metric.EVENTS, days),
    }
    events = await daily_stats.top(conn, portal_id, Metric.EVENT, days, TOP_ROWS)
    ids = [int(key) for key, _ in events if key.isdigit()]
    return Overview(
        visitors=await daily_stats.visitors_in_range(conn, portal_id, days),
        per_day=per_day,
        pages=await daily_stats.top(conn, portal_id, Metric.PAGE, days, TOP_ROWS),
        sources=await daily_stats.top(conn, portal_id, Metric.SOURCE, days, TOP_ROWS),
        events=events,
        event_labels=await daily_stats.event_labels(conn, portal_id, ids),
    )


def _event_row(key: str, count: int, labels: dict[int, EventLabel]) -> tuple[str, str, int]:
    found = labels.get(int(key)) if key.isdigit() else None
    if found is None:
        return "(deleted event)", key, count
    label = found.label + (" (deleted)" if found.archived else "")
    return label, found.name, count


CHARTS = (
    ("visitors", "Visitors", "visitors"),
    ("pageviews", "Page views", "page views"),
    ("contacts", "New contacts", "new contacts"),
    ("events", "Events", "events"),
)


@router.get("/app/{hub_id}")
async def overview(request: Request, view: PortalView, days: str | None = None) -> Response:
    runtime = runtime_of(request)
    chosen = chosen_range(days, runtime.clock_ms())
    data = await runtime.db.read(lambda conn: read_overview(conn, view.hub_id, chosen.range))
    day_list = chosen.range.days()
    charts = [
        {
            "title": title,
            "total": data.visitors if series == "visitors" else data.total(series),
            "svg": day_bars(data.per_day[series], day_list, label=f"{title} per day", unit=unit),
        }
        for series, title, unit in CHARTS
    ]
    context = {
        "portal": view.portal,
        "title": "Overview",
        "range": chosen,
        "range_days": RANGE_DAYS,
        "empty": data.empty,
        "charts": charts,
        "pages": _top_rows([(page_path(url), url, n) for url, n in data.pages]),
        "sources": _top_rows([(source_label(code), code, n) for code, n in data.sources]),
        "events": _top_rows([_event_row(k, n, data.event_labels) for k, n in data.events]),
    }
    return render(request, "overview.html", context)
