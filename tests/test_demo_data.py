"""The demo month `hubtrail serve --demo` loads: through the parsers, the inbox and the processor,
on SQLite and PostgreSQL, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy import distinct, func, select

from hubtrail.app import HubtrailApp, create_app
from hubtrail.config import Settings
from hubtrail.core.delivery import DAY_MS
from hubtrail.demo import DemoCredentials, TrafficClock, clocked_app, demo_app, seed_month
from hubtrail.demo_data import month_of_traffic
from hubtrail.store.schema import (
    associations,
    companies,
    contacts,
    daily_stats,
    event_definitions,
    event_occurrences,
    inbox,
    page_views,
)
from tests.conftest import create_portal
from tests.ingest.helpers import count, query

AT_MS = 1_780_000_000_000  # a fixed "now": the same month every run
VISITORS = 200  # a smaller month than `serve --demo` loads (1,500), for speed


@pytest.fixture
async def demo(settings: Settings) -> AsyncIterator[tuple[HubtrailApp, TrafficClock]]:
    app, clock = clocked_app(settings, run_processor=False)
    async with app.lifespan():
        yield app, clock


def test_the_month_is_the_same_for_the_same_moment() -> None:
    first, again = month_of_traffic(AT_MS, 7), month_of_traffic(AT_MS, 7)
    assert first == again
    assert all(call.at_ms <= AT_MS for call in first.calls)
    assert min(call.at_ms for call in first.calls) >= AT_MS - 30 * DAY_MS


async def test_a_loaded_month_has_something_for_every_page_and_loads_once(
    demo: tuple[HubtrailApp, TrafficClock],
) -> None:
    app, clock = demo
    portal = await create_portal(app)
    hub = portal.hub_id

    month = await seed_month(app.runtime, clock, hub, at_ms=AT_MS, visitors=VISITORS)

    assert month is not None
    assert clock() > AT_MS  # back on real time
    live_contacts = await count(app, contacts, contacts.c.portal_id == hub)
    assert live_contacts == month.contacts >= 20
    assert await count(app, companies, companies.c.portal_id == hub) == month.companies >= 5
    assert await count(app, associations, associations.c.portal_id == hub) > 0
    views = await count(app, page_views, page_views.c.portal_id == hub)
    bot_hits = sum(call.collector for call in month.calls)
    assert views == month.page_views + bot_hits > 500  # the bots' hits are stored too, flagged
    view_days = await query(
        app,
        select(func.count(distinct(daily_stats.c.day))).where(
            daily_stats.c.portal_id == hub, daily_stats.c.metric == "pageviews"
        ),
    )
    assert view_days[0][0] >= 20
    kinds = await query(
        app,
        select(event_definitions.c.name, func.count())
        .join(event_occurrences, event_occurrences.c.definition_id == event_definitions.c.id)
        .where(event_definitions.c.portal_id == hub)
        .group_by(event_definitions.c.name),
    )
    assert len(kinds) >= 5
    assert sum(n for _, n in kinds) == month.events

    # Every message went through the inbox and was applied; some with notes, as real ones are.
    rows = await query(app, select(inbox.c.outcome, inbox.c.processed_at_ms, inbox.c.source))
    assert len(rows) == len(month.calls)
    assert all(row.processed_at_ms is not None for row in rows)
    notes = {note["code"] for row in rows for note in orjson.loads(row.outcome)["notes"]}
    assert {"BOT", "INVALID_EMAIL", "WAITING_FOR_CONTACT"} <= notes
    assert {row.source for row in rows} == {"segment", "tracking_code"}

    # The processor ran on the traffic's clock: contacts are created across the month, after
    # browsing anonymously (that history joined them when they identified).
    created = await query(
        app,
        select(contacts.c.created_at_ms).where(contacts.c.portal_id == hub),
    )
    created_days = {row.created_at_ms // DAY_MS for row in created}
    assert len(created_days) >= 15
    assert max(row.created_at_ms for row in created) <= AT_MS
    earlier = await count(
        app,
        page_views,
        page_views.c.portal_id == hub,
        page_views.c.contact_id == contacts.c.id,
        page_views.c.occurred_at_ms < contacts.c.created_at_ms,
    )
    assert earlier > 0

    # The overview's aggregates agree with the rows behind them.
    summed = await query(
        app,
        select(func.sum(daily_stats.c.count)).where(
            daily_stats.c.portal_id == hub, daily_stats.c.metric == "pageviews"
        ),
    )
    assert summed[0][0] == month.page_views

    assert await seed_month(app.runtime, clock, hub, at_ms=AT_MS + DAY_MS) is None
    assert await count(app, inbox) == len(month.calls)
    assert await count(app, contacts, contacts.c.portal_id == hub) == live_contacts


async def test_the_demo_app_prints_its_banner_and_loads_the_month_in_the_background(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As `serve --demo` runs it: the processor running, the month loading beside it."""
    monkeypatch.setattr("hubtrail.demo.DEMO_VISITORS", 40)
    lines: list[str] = []
    loaded = asyncio.Event()

    def echo(line: str) -> None:
        lines.append(line)
        if line.startswith("Loaded"):
            loaded.set()

    setup = create_app(settings, run_processor=False)
    async with setup.lifespan():
        portal = await create_portal(setup)
    credentials = DemoCredentials(portal.hub_id, portal.access_token, portal.write_key, "-")
    app = demo_app(settings, credentials, echo)
    async with app.lifespan():
        await asyncio.wait_for(loaded.wait(), 120)
        assert await app.runtime.processor.drain() == 0
        assert await count(app, contacts, contacts.c.portal_id == portal.hub_id) > 0
    assert lines[0].startswith("hubtrail is serving the demo portal")
    assert lines[1].startswith("Loading a month of demo traffic")
    assert "40 visitors" in lines[2]
