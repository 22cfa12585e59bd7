"""The tracking-code collector and the identity rules, in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from hubtrail.app import HubtrailApp
from hubtrail.core.attribution import classify
from hubtrail.ingest.tracking import parse_hit
from hubtrail.store.schema import contacts, page_views
from tests.conftest import PortalKeys
from tests.ingest.helpers import contact_values, count, occurrences, outcomes, query

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


def utk() -> str:
    return os.urandom(16).hex()


def hit(portal: PortalKeys, **fields: Any) -> dict[str, Any]:
    return {
        "a": portal.hub_id,
        "k": "pv",
        "mid": os.urandom(16).hex(),
        "pu": "https://www.shop.test/",
        **fields,
    }


async def send(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await client.post(
        "/collect",
        content=orjson.dumps(body),
        headers={
            "Content-Type": "text/plain",
            "User-Agent": BROWSER,
            "Origin": "https://www.shop.test",
            **headers,
        },
    )


async def test_identify_with_the_first_view_creates_the_contact_with_its_analytics(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    visitor = utk()
    response = await send(
        client,
        hit(
            portal,
            vi=visitor,
            u=f"1.{visitor}.1.1.1.1",
            b="1.1.1",
            r="https://www.google.com/",
            t="Home",
            i={"email": "ann@example.com", "firstname": "Ann"},
        ),
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://www.shop.test"
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "ann@example.com")
    assert values["firstname"] == "Ann"
    assert values["hs_analytics_num_page_views"] == "1"
    assert values["hs_analytics_num_visits"] == "1"
    assert values["hs_analytics_first_url"] == "https://www.shop.test/"
    assert values["hs_analytics_source"] == "ORGANIC_SEARCH"
    assert values["hs_analytics_source_data_1"] == "google"


async def test_anonymous_history_joins_on_first_identify_and_sessions_count(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    visitor = utk()
    await send(client, hit(portal, vi=visitor, b="1.1.1", pu="https://www.shop.test/a"))
    await send(client, hit(portal, vi=visitor, b="1.2.1", pu="https://www.shop.test/b"))
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0
    await send(
        client,
        hit(
            portal,
            vi=visitor,
            u=f"1.{visitor}.1.1.2.2",
            b="1.1.5",
            pu="https://www.shop.test/c",
            i={"email": "bo@example.com"},
        ),
    )
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "bo@example.com")
    assert values["hs_analytics_num_page_views"] == "3"
    assert values["hs_analytics_num_visits"] == "2"
    assert values["hs_analytics_first_url"] == "https://www.shop.test/a"
    assert values["hs_analytics_last_url"] == "https://www.shop.test/c"
    assert values["hs_analytics_source"] == "DIRECT_TRAFFIC"


async def test_id_only_identify_creates_no_contact_and_attaches_when_the_email_comes(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    visitor = utk()
    await send(client, hit(portal, vi=visitor, i={"id": "cust-7"}))
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0
    await send(client, hit(portal, vi=visitor, i={"email": "cy@example.com"}))
    await app.runtime.processor.drain()
    rows = await query(app, select(contacts.c.external_id))
    assert [r.external_id for r in rows] == ["cust-7"]


async def test_first_external_id_sticks_and_email_wins(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await send(client, hit(portal, vi=utk(), i={"email": "dee@example.com", "id": "first"}))
    await send(client, hit(portal, vi=utk(), i={"email": "dee@example.com", "id": "second"}))
    await app.runtime.processor.drain()
    rows = await query(app, select(contacts.c.external_id))
    assert [r.external_id for r in rows] == ["first"]
    assert "EXTERNAL_ID_KEPT" in [n["code"] for o in await outcomes(app) for n in o["notes"]]


async def test_tracking_identify_never_changes_a_contacts_email_and_a_shared_browser_never_merges(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    visitor = utk()
    await send(
        client, hit(portal, vi=visitor, pu="https://www.shop.test/a", i={"email": "a@example.com"})
    )
    await app.runtime.processor.drain()
    await send(
        client, hit(portal, vi=visitor, pu="https://www.shop.test/b", i={"email": "b@example.com"})
    )
    await send(client, hit(portal, vi=visitor, pu="https://www.shop.test/c"))
    await app.runtime.processor.drain()
    a = await contact_values(app, portal.hub_id, "a@example.com")
    b = await contact_values(app, portal.hub_id, "b@example.com")
    assert a["email"] == "a@example.com"
    assert a["hs_analytics_num_page_views"] == "1"
    assert b["hs_analytics_num_page_views"] == "2"
    assert await count(app, contacts) == 2


async def test_hits_of_one_page_reach_the_right_person_in_either_order(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    """After a second person identifies, the script repeats `i: {email}` on the page's later
    hits: an event whose beacon is answered before the identifying view still goes to them."""
    visitor = utk()
    await send(client, hit(portal, vi=visitor, i={"email": "a@example.com"}))
    await app.runtime.processor.drain()
    await send(
        client,
        hit(portal, vi=visitor, k="ev", n="saved", i={"email": "b@example.com"}),
    )
    await app.runtime.processor.drain()  # the event is applied before the view below arrives
    await send(
        client,
        hit(
            portal,
            vi=visitor,
            pu="https://www.shop.test/profile",
            i={"email": "b@example.com", "firstname": "Bea"},
        ),
    )
    await app.runtime.processor.drain()
    a = await contact_values(app, portal.hub_id, "a@example.com")
    b = await contact_values(app, portal.hub_id, "b@example.com")
    assert a["hs_analytics_num_page_views"] == "1"
    assert (b["firstname"], b["hs_analytics_num_page_views"]) == ("Bea", "1")
    assert b["hs_analytics_first_url"] == "https://www.shop.test/profile"
    [event] = await occurrences(app, portal.hub_id)
    [b_row] = await query(app, select(contacts).where(contacts.c.email == "b@example.com"))
    assert event.contact_id == b_row.id


async def test_placeholder_emails_create_no_contact(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    for email in ("{{contact.email}}", "undefined", "null@"):
        await send(client, hit(portal, vi=utk(), i={"email": email}))
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0
    assert await count(app, page_views) == 3


async def test_the_identity_guard_stops_linking_more_browsers(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    from hubtrail.store import portals

    await app.runtime.db.write(
        lambda conn: portals.update_settings(conn, portal.hub_id, {"max_visitors_per_contact": 2})
    )
    for _ in range(4):
        await send(client, hit(portal, vi=utk(), i={"email": "shared@example.com"}))
    await app.runtime.processor.drain()
    codes = [n["code"] for o in await outcomes(app) for n in o["notes"]]
    assert codes.count("IDENTITY_GUARD") == 2
    linked = await query(app, select(page_views.c.contact_id))
    assert sum(1 for r in linked if r.contact_id is not None) == 2


async def test_bots_are_stored_flagged_and_identify_no_one(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    await send(
        client, hit(portal, vi=utk(), i={"email": "bot@example.com"}), **{"User-Agent": googlebot}
    )
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0
    [view] = await query(app, select(page_views.c.is_bot))
    assert view.is_bot is True


async def test_custom_and_legacy_events_from_the_script(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    visitor = utk()
    await send(client, hit(portal, vi=visitor, i={"email": "ev@example.com"}))
    await send(
        client, hit(portal, vi=visitor, k="ev", n=f"pe{portal.hub_id}_signup", p={"plan": "pro"})
    )
    await send(client, hit(portal, vi=visitor, k="le", n="Bought", v="12.5"))
    await app.runtime.processor.drain()
    found = await occurrences(app, portal.hub_id)
    assert [orjson.loads(o.properties) for o in found] == [{"plan": "pro"}, {}]
    values = await contact_values(app, portal.hub_id, "ev@example.com")
    assert values["hs_analytics_revenue"] == "12.5"
    assert values["hs_analytics_num_page_views"] == "1"


async def test_gif_fallbacks_use_hubspots_parameter_names(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    visitor = utk()
    headers = {"User-Agent": BROWSER}
    view = await client.get(
        "/__ptq.gif",
        params={
            "a": portal.hub_id,
            "vi": visitor,
            "pu": "https://x.test/",
            "i": "email=gif%40example.com",
        },
        headers=headers,
    )
    assert view.status_code == 200
    assert view.headers["content-type"] == "image/gif"
    event = await client.get(
        "/__ptbe.gif",
        params={"a": portal.hub_id, "vi": visitor, "n": "clicked", "_color": "red"},
        headers=headers,
    )
    assert event.status_code == 200
    bad = await client.get("/__ptq.gif", params={"a": "nope"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "image/gif"
    assert "a (hub id)" in bad.headers["x-hubtrail-error"]
    await app.runtime.processor.drain()
    assert (await contact_values(app, portal.hub_id, "gif@example.com"))[
        "hs_analytics_num_page_views"
    ] == "1"
    [occurrence] = await occurrences(app, portal.hub_id)
    assert orjson.loads(occurrence.properties) == {"color": "red"}


async def test_collector_errors(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    from hubtrail.store import portals

    cases = [
        (b"{nope", 400),
        (b"[]", 400),
        (orjson.dumps({"k": "pv"}), 400),
        (orjson.dumps({"a": portal.hub_id, "k": "zz"}), 400),
        (orjson.dumps({"a": portal.hub_id, "vi": "NOT-A-UTK"}), 400),
        (orjson.dumps({"a": 99999, "k": "pv"}), 404),
        (orjson.dumps({"a": portal.hub_id, "k": "pv", "t": "x" * 2_000_000}), 413),
    ]
    for body, status in cases:
        response = await client.post(
            "/collect", content=body, headers={"Content-Type": "text/plain"}
        )
        assert response.status_code == status, body[:60]
        assert response.json()["status"] == "error"
    await app.runtime.db.write(
        lambda conn: portals.update_settings(
            conn, portal.hub_id, {"allowed_site_domains": ["shop.test"]}
        )
    )
    allowed = await send(client, hit(portal), Origin="https://blog.shop.test")
    assert allowed.status_code == 204
    refused = await send(client, hit(portal), Origin="https://evil.test")
    assert refused.status_code == 403
    preflight = await client.options("/collect", headers={"Origin": "https://www.shop.test"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]


async def test_a_retried_hit_counts_once(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    body = hit(portal, vi=utk())
    for _ in range(3):
        await send(client, body)
    await app.runtime.processor.drain()
    assert await count(app, page_views) == 1


def test_parse_hit_reads_sessions_from_the_cookies() -> None:
    message = parse_hit(
        {"a": "5", "pu": "https://x.test/", "u": "9.abc.1.2.3.4", "b": "9.7.3"}, 10, BROWSER
    )
    assert message.page is not None
    assert (message.page.session_number, message.page.view_in_session) == (4, 7)
    assert message.is_bot is False


@pytest.mark.parametrize(
    ("url", "referrer", "expected"),
    [
        ("https://s.test/", "", ("DIRECT_TRAFFIC", "s.test")),
        ("https://s.test/", "https://s.test/other", ("DIRECT_TRAFFIC", "s.test")),
        ("https://s.test/", "https://www.google.com/", ("ORGANIC_SEARCH", "google")),
        ("https://s.test/?gclid=1", "https://www.google.com/", ("PAID_SEARCH", "google")),
        (
            "https://s.test/?utm_medium=cpc&utm_source=bing&utm_campaign=c",
            "",
            ("PAID_SEARCH", "bing"),
        ),
        (
            "https://s.test/?utm_medium=paid_social&utm_source=facebook",
            "",
            ("PAID_SOCIAL", "facebook"),
        ),
        ("https://s.test/?utm_medium=email&utm_campaign=news", "", ("EMAIL_MARKETING", "news")),
        ("https://s.test/?utm_campaign=launch", "", ("OTHER_CAMPAIGNS", "launch")),
        ("https://s.test/", "https://t.co/x", ("SOCIAL_MEDIA", "twitter")),
        ("https://s.test/", "https://blog.example.org/post", ("REFERRALS", "blog.example.org")),
    ],
)
def test_traffic_sources(url: str, referrer: str, expected: tuple[str, str]) -> None:
    found = classify(url, referrer)
    assert (found.source, found.data_1) == expected
