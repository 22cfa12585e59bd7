"""Segment's browser library against hubtrail, in-process on SQLite and PostgreSQL: the project
settings document, the short paths with CORS and preflights, overload, and device mode's rule
that the library's copy of what the HubSpot plugin delivered is kept but not applied."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from hubtrail.app import HubtrailApp, create_app
from hubtrail.ingest.segment import delivered_by_plugin
from hubtrail.store import portals
from hubtrail.store.schema import contacts, inbox, page_views, visitors
from hubtrail.web.segment_browser import LIBRARY_NAME, PLUGIN_PATH
from tests.conftest import Database, PortalKeys, create_portal, make_settings
from tests.ingest.helpers import contact_values, count, occurrences, outcomes, query

SITE = "https://www.shop.test"
LIBRARY = {"name": "analytics.js", "version": "npm:next-1.84.3"}


async def configure(app: HubtrailApp, hub_id: int, **changes: Any) -> None:
    await app.runtime.db.write(lambda conn: portals.update_settings(conn, hub_id, changes))


def browser_headers(portal: PortalKeys, origin: str = SITE) -> dict[str, str]:
    """What analytics-next sends: text/plain JSON, Basic auth with the write key, an Origin."""
    token = base64.b64encode(f"{portal.write_key}:".encode()).decode()
    return {"Content-Type": "text/plain", "Authorization": f"Basic {token}", "Origin": origin}


def from_browser(portal: PortalKeys, kind: str, **fields: Any) -> dict[str, Any]:
    """A message shaped as analytics-next posts it."""
    return {
        "type": kind,
        "anonymousId": "a-1",
        "messageId": "ajs-next-" + os.urandom(8).hex(),
        "context": {"library": LIBRARY, "page": {"url": SITE + "/pricing", "title": "Pricing"}},
        "writeKey": portal.write_key,
        "sentAt": "2026-12-01T10:00:00.000Z",
        **fields,
    }


async def post(
    client: httpx.AsyncClient, portal: PortalKeys, path: str, body: dict[str, Any], **kw: str
) -> httpx.Response:
    return await client.post(
        path, content=orjson.dumps(body), headers=browser_headers(portal, **kw)
    )


async def notes(app: HubtrailApp) -> list[str]:
    return [note["code"] for outcome in await outcomes(app) for note in outcome["notes"]]


# --- the settings document ---------------------------------------------------------------------


async def test_settings_document_in_cloud_mode_points_the_library_at_hubtrail(
    client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    response = await client.get(f"/v1/projects/{portal.write_key}/settings")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=60"
    document = response.json()
    assert document["integrations"] == {
        "Segment.io": {
            "apiKey": portal.write_key,
            "apiHost": "hubtrail.test/v1",
            "protocol": "http",
        }
    }
    assert document["remotePlugins"] == []
    assert document["metrics"]["sampleRate"] == 0


async def test_settings_document_in_device_mode_lists_the_hubspot_plugin(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await configure(app, portal.hub_id, segment_mode="device", load_forms_sdk=True)
    document = (await client.get(f"/v1/projects/{portal.write_key}/settings")).json()
    assert list(document["integrations"]) == ["Segment.io"]  # others would load Segment's CDN
    [plugin] = document["remotePlugins"]
    assert plugin["name"] == plugin["creationName"] == "HubSpot"
    assert plugin["libraryName"] == LIBRARY_NAME
    assert plugin["url"].startswith(f"http://hubtrail.test{PLUGIN_PATH}?v=")
    assert plugin["settings"] == {
        "portalId": portal.hub_id,
        "loadFormsSdk": True,
        "scriptBase": "http://hubtrail.test",
    }
    script = await client.get(plugin["url"])
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert f"window.{LIBRARY_NAME}" in script.text
    again = await client.get(PLUGIN_PATH, headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304


async def test_settings_for_an_unknown_write_key_is_a_plain_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/projects/not-a-key/settings")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "write key" in response.text


async def test_public_url_decides_api_host_and_protocol(database: Database) -> None:
    settings = make_settings(database, public_url="https://track.example.com:8443/")
    application = create_app(settings, run_processor=False)
    async with application.lifespan():
        portal = await create_portal(application)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://internal") as client:
            document = (await client.get(f"/v1/projects/{portal.write_key}/settings")).json()
    segment = document["integrations"]["Segment.io"]
    assert (segment["apiHost"], segment["protocol"]) == ("track.example.com:8443/v1", "https")


# --- the short paths ---------------------------------------------------------------------------

SHORT_CALLS = [
    ("/v1/p", {"kind": "page", "name": "Pricing", "properties": {"url": SITE + "/pricing"}}),
    ("/v1/i", {"kind": "identify", "userId": "u-1", "traits": {"email": "ada@example.com"}}),
    ("/v1/t", {"kind": "track", "event": "Signed Up", "properties": {"plan": "pro"}}),
    ("/v1/g", {"kind": "group", "groupId": "g-1", "traits": {"website": "https://acme.test"}}),
    ("/v1/a", {"kind": "alias", "userId": "u-2", "previousId": "a-1"}),
    ("/v1/s", {"kind": "screen", "name": "Home"}),
]


async def test_every_short_path_is_accepted_with_cors_headers(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    for path, fields in SHORT_CALLS:
        response = await post(client, portal, path, from_browser(portal, **fields))
        assert response.status_code == 200, (path, response.text)
        assert response.json() == {"success": True}
        assert response.headers["access-control-allow-origin"] == SITE
        assert "Retry-After" in response.headers["access-control-expose-headers"]
    batch = {
        "batch": [from_browser(portal, "track", event=f"E{i}") for i in range(3)],
        "writeKey": portal.write_key,
        "sentAt": "2026-12-01T10:00:00.000Z",
    }
    assert (await post(client, portal, "/v1/b", batch)).status_code == 200
    assert await count(app, inbox) == len(SHORT_CALLS) + 3
    await app.runtime.processor.drain()
    assert await count(app, page_views) == 2  # page and screen
    assert [row.email for row in await query(app, select(contacts.c.email))] == ["ada@example.com"]


async def test_the_write_key_in_the_body_alone_is_enough(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    body = from_browser(portal, "track", event="Clicked")
    response = await client.post(
        "/v1/t", content=orjson.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers  # no Origin, no CORS
    assert await count(app, inbox) == 1


async def test_preflight_allows_the_librarys_headers(client: httpx.AsyncClient) -> None:
    for path in ("/v1/t", "/v1/b", "/v1/track"):
        response = await client.options(
            path,
            headers={
                "Origin": SITE,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-retry-count",
            },
        )
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == SITE
        allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "x-retry-count"} <= allowed
        assert "POST" in response.headers["access-control-allow-methods"]


async def test_bad_input_on_short_paths_is_readable_by_the_browser(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    bad_json = await client.post("/v1/t", content=b"{", headers=browser_headers(portal))
    wrong_key = await client.post(
        "/v1/t",
        content=orjson.dumps({"kind": "track", "event": "E", "anonymousId": "a"}),
        headers={"Content-Type": "text/plain", "Origin": SITE},
    )
    no_event = await post(client, portal, "/v1/t", from_browser(portal, "track"))
    for response, status, code in (
        (bad_json, 400, "invalid_json"),
        (wrong_key, 401, "unauthorized"),
        (no_event, 400, "invalid_request"),
    ):
        assert response.status_code == status
        assert response.json()["success"] is False
        assert response.json()["code"] == code
        assert response.headers["access-control-allow-origin"] == SITE
    assert await count(app, inbox) == 0


async def test_a_site_outside_the_allowed_domains_is_refused(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await configure(app, portal.hub_id, allowed_site_domains=["shop.test"])
    body = from_browser(portal, "track", event="E")
    refused = await post(client, portal, "/v1/t", body, origin="https://evil.test")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden_origin"
    assert refused.headers["access-control-allow-origin"] == "https://evil.test"
    assert await count(app, inbox) == 0
    allowed = await post(client, portal, "/v1/t", body, origin="https://blog.shop.test")
    assert allowed.status_code == 200
    assert await count(app, inbox) == 1


async def test_overload_answers_429_with_retry_after_and_loses_nothing_accepted(
    database: Database,
) -> None:
    # A wide group-commit window, so concurrent requests wait together, and room for two.
    settings = make_settings(database, commit_window_ms=300.0, commit_max_waiting_messages=2)
    app = create_app(settings, run_processor=False)
    async with app.lifespan():
        portal = await create_portal(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hubtrail.test"
        ) as client:
            bodies = [from_browser(portal, "track", event=f"E{i}") for i in range(4)]
            responses = await asyncio.gather(*(post(client, portal, "/v1/t", b) for b in bodies))
        stored = await count(app, inbox)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429]
    for response in responses:
        if response.status_code == 429:
            assert response.headers["retry-after"] == "1"
            assert response.json()["code"] == "rate_limited"
            assert "Retry-After" in response.headers["access-control-expose-headers"]
    assert stored == 2


# --- device mode -------------------------------------------------------------------------------


def test_which_copies_the_plugin_delivered() -> None:
    def copy(kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "context": {"library": LIBRARY}, **fields}

    assert delivered_by_plugin(copy("page"), "page")
    assert delivered_by_plugin(copy("track", event="E"), "track")
    assert delivered_by_plugin(copy("identify", traits={"Email": "a@b.co"}), "identify")
    assert delivered_by_plugin(copy("identify", userId="a@b.co"), "identify")
    assert not delivered_by_plugin(copy("identify", userId="u", traits={"name": "A"}), "identify")
    assert not delivered_by_plugin(copy("group", groupId="g"), "group")
    assert not delivered_by_plugin(copy("alias", userId="u", previousId="p"), "alias")
    assert not delivered_by_plugin(copy("screen"), "screen")
    assert not delivered_by_plugin(copy("track", integrations={"HubSpot": False}), "track")
    assert not delivered_by_plugin(copy("track", integrations={"All": False}), "track")
    assert delivered_by_plugin(copy("track", integrations={"All": False, "HubSpot": True}), "track")
    failed = {"failedInitializations": ["HubSpot"]}
    assert not delivered_by_plugin(copy("page", _metadata=failed), "page")
    server = {"kind": "track", "context": {"library": {"name": "analytics-python"}}}
    assert not delivered_by_plugin(server, "track")


async def test_device_mode_keeps_the_librarys_copy_but_applies_it_once(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await configure(app, portal.hub_id, segment_mode="device")
    email = "grace@example.com"
    # What the plugin sent through the tracking code: the view with the identify, and an event.
    visitor = os.urandom(16).hex()
    for hit in (
        {"k": "pv", "i": {"email": email, "id": "u-7"}},
        {"k": "le", "n": "Order Completed", "v": 40, "p": {"_id": "o-1"}},
    ):
        collected = await client.post(
            "/collect",
            content=orjson.dumps(
                {"a": portal.hub_id, "vi": visitor, "mid": os.urandom(16).hex(), **hit}
                | {"pu": SITE + "/checkout"}
            ),
            headers={"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (X11; Linux)"},
        )
        assert collected.status_code == 204, collected.text
    # The library's own copies of the same calls, plus what the plugin does not carry.
    copies = [
        from_browser(portal, "page", userId="u-7"),
        from_browser(portal, "identify", userId="u-7", traits={"email": email}),
        from_browser(
            portal, "track", userId="u-7", event="Order Completed", properties={"revenue": 40}
        ),
        from_browser(
            portal, "group", userId="u-7", groupId="g-1", traits={"website": "https://acme.test"}
        ),
        from_browser(portal, "alias", userId="u-7", previousId="u-7"),
    ]
    batch = {"batch": copies, "writeKey": portal.write_key}
    assert (await post(client, portal, "/v1/b", batch)).status_code == 200
    await app.runtime.processor.drain()

    assert await count(app, contacts) == 1
    assert await count(app, page_views) == 1
    assert len(await occurrences(app, portal.hub_id)) == 1
    values = await contact_values(app, portal.hub_id, email)
    assert values["hs_analytics_revenue"] == "40"
    assert values["hs_analytics_num_page_views"] == "1"
    found = await notes(app)
    assert found.count("DEVICE_MODE_COPY") == 3
    assert found.count("SELF_ALIAS") == 1
    assert "NO_CONTACT" not in found  # the group found the contact by its userId
    assert await count(app, visitors) == 1  # the self-alias made no visitor "u-7"


async def test_device_mode_applies_a_copy_the_plugin_never_saw(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await configure(app, portal.hub_id, segment_mode="device")
    email = "lin@example.com"
    identify = from_browser(portal, "identify", userId="u-8", traits={"email": email})
    turned_off = from_browser(
        portal, "track", userId="u-8", event="Paid", integrations={"HubSpot": False}
    )
    failed = from_browser(
        portal, "page", userId="u-8", _metadata={"failedInitializations": ["HubSpot"]}
    )
    for body in (identify, turned_off, failed):
        assert (await post(client, portal, "/v1/" + body["type"][0], body)).status_code == 200
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0  # the identify was the plugin's to deliver
    assert len(await occurrences(app, portal.hub_id)) == 1
    assert await count(app, page_views) == 1


async def test_cloud_mode_applies_every_copy_and_counts_revenue_once(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    email = "kay@example.com"
    calls = [
        from_browser(portal, "identify", userId="u-9", traits={"email": email}),
        from_browser(portal, "page", userId="u-9"),
        from_browser(portal, "track", userId="u-9", event="Bought", properties={"revenue": 25.5}),
    ]
    for body in calls:
        assert (await post(client, portal, "/v1/" + body["type"][0], body)).status_code == 200
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, email)
    assert values["hs_analytics_revenue"] == "25.5"
    assert await count(app, page_views) == 1
    assert "DEVICE_MODE_COPY" not in await notes(app)
