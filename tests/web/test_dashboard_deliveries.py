"""Deliveries: a destination's counters and queue, the dead letter, and replaying it."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.forward.engine import Forwarder
from hubtrail.process.processor import now_ms
from hubtrail.store import outbox
from hubtrail.store.destinations import Destination
from tests.conftest import PortalKeys, create_portal
from tests.forward.conftest import FakeClock, add_destination
from tests.web.conftest import Dashboard, csrf_of

XSS = "<img src=x onerror=alert(1)>"


async def identify(app: HubtrailApp, portal: PortalKeys, email: str) -> None:
    token = base64.b64encode(f"{portal.write_key}:".encode()).decode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/v1/identify",
            json={"userId": email, "traits": {"email": email}},
            headers={"Authorization": f"Basic {token}"},
        )
    assert response.status_code == 200


def refusing(request: httpx.Request) -> httpx.Response:
    """A target that refuses everything for good (400: not retried)."""
    return httpx.Response(400, json={"status": "error", "message": f"bad input {XSS}"})


async def dead_letter(app: HubtrailApp, portal: PortalKeys, *emails: str) -> Destination:
    """A destination whose target refused these contacts: each is dead-lettered."""
    destination = await add_destination(app, portal, now_ms())
    for email in emails:
        await identify(app, portal, email)
    await app.runtime.processor.drain()
    clock = FakeClock(now_ms())  # rows carry the real time they were queued at
    forwarder = Forwarder(
        app.runtime.db,
        app.runtime.settings,
        app.runtime.metrics,
        clock_ms=clock,
        transport=httpx.MockTransport(refusing),
        sleep=clock.sleep,
        owner="test",
    )
    clock.advance(int(app.runtime.settings.forward_linger_ms) + 1)
    await forwarder.drain(destination.id)
    await forwarder.close()
    return destination


async def rows(app: HubtrailApp) -> list[outbox.Row]:
    return await app.runtime.db.read(lambda c: outbox.dead_rows(c))


async def statuses(app: HubtrailApp) -> list[str]:
    from sqlalchemy import select

    from hubtrail.store.schema import outbox as table

    async def read(conn: Any) -> list[str]:
        return list((await conn.execute(select(table.c.status).order_by(table.c.id))).scalars())

    return await app.runtime.db.read(read)


async def test_without_a_destination_the_page_explains_how_to_add_one(
    dashboard: Dashboard, portal: PortalKeys
) -> None:
    page = await dashboard.page("/deliveries")
    assert "No destination yet" in page.text
    assert f"hubtrail destination add hubspot --portal {portal.hub_id} --token" in page.text


async def test_page_shows_counts_and_the_dead_letter(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    destination = await dead_letter(app, portal, "ann@example.com", "bo@example.com")
    dead = await rows(app)
    assert len(dead) == 2

    page = (await dashboard.page("/deliveries")).text
    assert "https://hubspot.test" in page
    assert "contacts, companies, associations, events" in page
    assert re.search(r'<div class="value bad">2</div><div class="label">dead</div>', page)
    assert "calls left today" in page
    for row in dead:
        assert f'href="/app/{portal.hub_id}/contacts/{row.object_key}"' in page
    assert "bad input" in page
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert f'name="destination" value="{destination.id}"' in page
    assert "Replay 2 dead changes" in page


async def test_replay_a_destination_or_one_row(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    destination = await dead_letter(app, portal, "a@example.com", "b@example.com", "c@example.com")
    first = (await rows(app))[0]
    page = await dashboard.page("/deliveries")
    token = csrf_of(page.text)
    url = dashboard.url("/deliveries/replay")

    one = await dashboard.client.post(url, data={"csrf_token": token, "row": str(first.id)})
    assert one.status_code == 303
    assert one.headers["location"] == dashboard.url("/deliveries?replayed=1")
    assert "1 change queued again." in (await dashboard.client.get(one.headers["location"])).text
    assert sorted(await statuses(app)) == ["dead", "dead", "pending"]

    rest = await dashboard.client.post(
        url, data={"csrf_token": token, "destination": str(destination.id)}
    )
    assert rest.headers["location"] == dashboard.url("/deliveries?replayed=2")
    followed = await dashboard.client.get(rest.headers["location"])
    assert "2 changes queued again." in followed.text
    assert await statuses(app) == ["pending"] * 3
    assert "Nothing failed for good" in followed.text


async def test_replay_needs_the_csrf_token_and_this_portals_rows(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    destination = await dead_letter(app, portal, "a@example.com")
    url = dashboard.url("/deliveries/replay")
    forged = await dashboard.client.post(url, data={"destination": str(destination.id)})
    assert forged.status_code == 403
    assert await statuses(app) == ["dead"]

    other = await create_portal(app, "Other")
    theirs = await dead_letter(app, other, "z@example.com")
    token = csrf_of((await dashboard.page("/deliveries")).text)
    refused = await dashboard.client.post(
        url, data={"csrf_token": token, "destination": str(theirs.id)}
    )
    assert refused.status_code == 404
    their_row = next(r for r in await rows(app) if r.portal_id == other.hub_id)
    none = await dashboard.client.post(url, data={"csrf_token": token, "row": str(their_row.id)})
    assert none.headers["location"].endswith("replayed=0")
    assert await statuses(app) == ["dead", "dead"]


async def test_dead_letter_pages(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hubtrail.web.dashboard import deliveries

    monkeypatch.setattr(deliveries, "PAGE_SIZE", 2)
    await dead_letter(app, portal, *(f"p{i}@example.com" for i in range(3)))
    first = (await dashboard.page("/deliveries")).text
    assert first.count('name="row"') == 2
    assert "Older →" in first
    second = (await dashboard.page("/deliveries", page="2")).text
    assert second.count('name="row"') == 1
    assert "← Newer" in second
    assert "Older →" not in second
