"""Segment's HTTP API and the HubSpot destination's rules, in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from hubtrail.app import HubtrailApp
from hubtrail.ingest.segment import occurred_at
from hubtrail.store import portals
from hubtrail.store.schema import companies, contacts, inbox, page_views
from tests.conftest import PortalKeys
from tests.ingest.helpers import contact_values, count, occurrences, outcomes, query


def basic(portal: PortalKeys) -> dict[str, str]:
    token = base64.b64encode(f"{portal.write_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def call(
    client: httpx.AsyncClient, portal: PortalKeys, kind: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/{kind}", json=body, headers=basic(portal))


async def create_property(
    app: HubtrailApp, portal: PortalKeys, name: str, kind: str = "string"
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:
        field_type = {"string": "text", "date": "date", "datetime": "date", "number": "number"}[
            kind
        ]
        response = await api.post(
            "/crm/v3/properties/contacts",
            json={
                "name": name,
                "label": name,
                "type": kind,
                "fieldType": field_type,
                "groupName": "contactinformation",
            },
            headers={"Authorization": f"Bearer {portal.access_token}"},
        )
        assert response.status_code == 201, response.text


async def test_identify_maps_special_and_custom_traits_and_records_drops(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await create_property(app, portal, "favorite_color")
    response = await call(
        client,
        portal,
        "identify",
        userId="u1",
        traits={
            "email": "ann@example.com",
            "firstName": "Ann",
            "last_name": "Lee",
            "position": "CTO",
            "companyName": "Acme",
            "zip": "10115",
            "city": "Berlin",
            "lifecycle_stage": "lead",
            "Favorite Color": "blue",
            "shoe size": 42,
            "address": {"street": "Main 1"},
        },
    )
    assert response.status_code == 200
    assert response.json() == {"success": True}
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "ann@example.com")
    expected = {
        "firstname": "Ann",
        "lastname": "Lee",
        "jobtitle": "CTO",
        "company": "Acme",
        "zip": "10115",
        "city": "Berlin",
        "lifecyclestage": "lead",
        "favorite_color": "blue",
        "address": "Main 1",
    }
    assert {k: values.get(k) for k in expected} == expected
    [outcome] = await outcomes(app)
    assert {(n["code"], n["field"]) for n in outcome["notes"]} == {
        ("PROPERTY_DOESNT_EXIST", "shoe_size")
    }
    rows = await query(app, select(contacts.c.external_id))
    assert [r.external_id for r in rows] == ["u1"]


async def test_date_traits_must_be_iso_8601(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await create_property(app, portal, "trial_start", "date")
    await create_property(app, portal, "renewed_at", "datetime")
    await call(
        client,
        portal,
        "identify",
        userId="u2",
        traits={"email": "d@example.com", "trial_start": "2026-01-05", "renewed_at": 1767225600},
    )
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "d@example.com")
    assert values["trial_start"] == "2026-01-05"
    assert "renewed_at" not in values
    notes = (await outcomes(app))[0]["notes"]
    assert [n["field"] for n in notes if n["code"] == "INVALID_DATE"] == ["renewed_at"]


async def test_unknown_traits_can_become_string_properties(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await app.runtime.db.write(
        lambda conn: portals.update_settings(
            conn, portal.hub_id, {"segment_create_unknown_traits": True}
        )
    )
    await call(
        client,
        portal,
        "identify",
        userId="u3",
        traits={"email": "e@example.com", "Plan Tier": "gold"},
    )
    await app.runtime.processor.drain()
    assert (await contact_values(app, portal.hub_id, "e@example.com"))["plan_tier"] == "gold"


async def test_identify_without_email_waits_on_the_visitor(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await call(client, portal, "identify", anonymousId="anon-1", traits={"firstName": "Early"})
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0
    assert (await outcomes(app))[0]["notes"][0]["code"] == "WAITING_FOR_CONTACT"
    await call(
        client, portal, "identify", anonymousId="anon-1", traits={"email": "late@example.com"}
    )
    await app.runtime.processor.drain()
    assert (await contact_values(app, portal.hub_id, "late@example.com"))["firstname"] == "Early"


async def test_track_by_properties_email_and_by_user_link_with_context_traits(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await call(
        client,
        portal,
        "track",
        userId="srv",
        event="Order Completed",
        properties={"email": "buyer@example.com", "revenue": 30, "sku": "A1"},
    )
    await call(client, portal, "identify", userId="u5", traits={"email": "five@example.com"})
    await call(
        client,
        portal,
        "track",
        userId="u5",
        event="Order Completed",
        context={"traits": {"firstName": "Five"}},
    )
    await app.runtime.processor.drain()
    found = await occurrences(app, portal.hub_id)
    assert len(found) == 2
    assert len({o.definition_id for o in found}) == 1
    assert all(o.contact_id is not None for o in found)
    assert (await contact_values(app, portal.hub_id, "buyer@example.com"))[
        "hs_analytics_revenue"
    ] == "30"
    assert (await contact_values(app, portal.hub_id, "five@example.com"))["firstname"] == "Five"


async def test_page_and_screen_are_page_views(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await call(client, portal, "identify", anonymousId="a7", traits={"email": "p@example.com"})
    await call(
        client,
        portal,
        "page",
        anonymousId="a7",
        name="Pricing",
        properties={"url": "https://shop.test/pricing?utm_campaign=x", "title": "Pricing"},
        context={"page": {"referrer": "https://news.test/"}},
    )
    await call(client, portal, "screen", anonymousId="a7", name="Home")
    await app.runtime.processor.drain()
    rows = await query(app, select(page_views.c.url, page_views.c.title, page_views.c.referrer))
    assert [(r.url, r.title) for r in rows] == [
        ("https://shop.test/pricing?utm_campaign=x", "Pricing"),
        ("Home", "Home"),
    ]
    assert (await contact_values(app, portal.hub_id, "p@example.com"))[
        "hs_analytics_num_page_views"
    ] == "2"


async def test_group_writes_the_company_by_website_domain_and_associates_it(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await call(client, portal, "identify", userId="g1", traits={"email": "g@example.com"})
    await call(
        client,
        portal,
        "group",
        userId="g1",
        groupId="acme",
        traits={
            "name": "Acme",
            "website": "https://www.acme.io/about",
            "employees": 40,
            "industry": "Software",
            "city": "Paris",
        },
    )
    await call(
        client,
        portal,
        "group",
        userId="nobody",
        groupId="b",
        traits={"name": "B", "website": "https://b.io"},
    )
    await call(client, portal, "group", userId="g1", groupId="c", traits={"name": "No site"})
    await app.runtime.processor.drain()
    rows = await query(app, select(companies.c.domain_key))
    assert sorted(r.domain_key for r in rows) == ["acme.io", "b.io"]
    codes = [n["code"] for o in await outcomes(app) for n in o["notes"]]
    assert "NO_CONTACT" in codes
    assert "NO_WEBSITE" in codes
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://t",
        headers={"Authorization": f"Bearer {portal.access_token}"},
    ) as api:
        company = (
            await api.get(
                "/crm/v3/objects/companies/acme.io",
                params={"idProperty": "domain", "properties": "name,numberofemployees,city"},
            )
        ).json()
        assert company["properties"]["numberofemployees"] == "40"
        contact = (
            await api.get(
                "/crm/v3/objects/contacts/g@example.com",
                params={"idProperty": "email", "associations": "companies"},
            )
        ).json()
        assert contact["associations"]["companies"]["results"][0]["id"] == company["id"]


async def test_alias_links_identities_but_never_merges(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await call(client, portal, "track", anonymousId="anon-9", event="Viewed")
    await call(client, portal, "alias", previousId="anon-9", userId="user-9")
    await call(client, portal, "identify", userId="user-9", traits={"email": "nine@example.com"})
    await call(client, portal, "identify", userId="other", traits={"email": "other@example.com"})
    await call(client, portal, "alias", previousId="anon-9", userId="other")
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 2
    assert "ALIAS_CONFLICT" in [n["code"] for o in await outcomes(app) for n in o["notes"]]


async def test_batch_auth_limits_and_dedupe(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    good = {"type": "track", "userId": "u", "event": "E", "messageId": "m-1"}
    body = {"batch": [good, {**good, "messageId": "m-2"}], "writeKey": portal.write_key}
    assert (await client.post("/v1/batch", json=body)).status_code == 200
    assert (
        await client.post(
            "/v1/import",
            content=gzip.compress(orjson.dumps(body)),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    ).status_code == 200
    assert await count(app, inbox) == 2
    cases = [
        ({"batch": [good]}, {}, 401),
        ({"batch": [good], "writeKey": "wrong"}, {}, 401),
        ({"batch": [good, {"type": "nope", "userId": "u"}]}, basic(portal), 400),
        ({"batch": [{"type": "track", "event": "E"}]}, basic(portal), 400),
        ({"batch": [{"type": "track", "userId": "u"}]}, basic(portal), 400),
        (
            {"batch": [good, {**good, "messageId": "big", "properties": {"x": "y" * 40_000}}]},
            basic(portal),
            400,
        ),
        (
            {
                "batch": [
                    {**good, "messageId": f"n{i}", "properties": {"x": "y" * 20_000}}
                    for i in range(30)
                ]
            },
            basic(portal),
            400,
        ),
    ]
    for payload, headers, status in cases:
        response = await client.post("/v1/batch", json=payload, headers=headers)
        assert response.status_code == status, payload.get("batch", [{}])[0]
        assert response.json()["success"] is False
        assert response.json()["code"]
    assert await count(app, inbox) == 2
    single = await call(
        client, portal, "track", userId="u", event="E", properties={"x": "y" * 40_000}
    )
    assert single.status_code == 400
    bad_json = await client.post("/v1/track", content=b"{", headers=basic(portal))
    assert bad_json.status_code == 400


def test_clock_skew_correction() -> None:
    message = {
        "originalTimestamp": "2026-01-01T00:00:00.000Z",
        "sentAt": "2026-01-01T00:00:10.000Z",
    }
    received = 1767225600000 + 60_000
    assert occurred_at(message, received) == received - 10_000
    assert occurred_at({"timestamp": "2026-01-01T00:00:00.000Z"}, received) == 1767225600000
    assert occurred_at({}, received) == received


def test_a_batchs_sent_at_corrects_every_message() -> None:
    from hubtrail.ingest.segment import parse_batch

    body = {
        "sentAt": "2026-01-01T00:00:10.000Z",
        "batch": [
            {"type": "track", "userId": "u", "event": "E", "timestamp": "2026-01-01T00:00:00.000Z"}
        ],
    }
    [message] = parse_batch(body, 1, 1767225600000 + 60_000)
    assert message.occurred_at_ms == 1767225600000 + 50_000


async def test_page_campaign_context_sets_the_traffic_source(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await call(client, portal, "identify", anonymousId="c1", traits={"email": "camp@example.com"})
    await call(
        client,
        portal,
        "page",
        anonymousId="c1",
        properties={"url": "https://shop.test/", "path": "/"},
        context={"campaign": {"name": "spring", "medium": "email", "source": "newsletter"}},
    )
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "camp@example.com")
    assert values["hs_analytics_source"] == "EMAIL_MARKETING"
    assert values["hs_analytics_source_data_1"] == "spring"
    rows = await query(app, select(page_views.c.url))
    assert [r.url for r in rows] == ["https://shop.test/"]
