"""POST /events/v3/send and /send/batch in-process, on SQLite and PostgreSQL."""

import gzip

import httpx
import orjson
from sqlalchemy import select

from hubtrail.app import HubtrailApp
from hubtrail.store.schema import contacts, event_occurrences, inbox, visitors
from tests.conftest import PortalKeys, create_portal
from tests.ingest.helpers import count, occurrences, outcomes, query


def auth(portal: PortalKeys) -> dict[str, str]:
    return {"Authorization": f"Bearer {portal.access_token}"}


async def test_send_matches_by_email_and_answers_204(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    body = {
        "eventName": f"pe{portal.hub_id}_login",
        "email": "a@example.com",
        "occurredAt": "2026-01-20T21:14:16.512Z",
        "properties": {"hs_city": "Cambridge"},
    }
    response = await client.post("/events/v3/send", json=body, headers=auth(portal))
    assert response.status_code == 204
    assert response.content == b""
    await app.runtime.processor.drain()
    [occurrence] = await occurrences(app, portal.hub_id)
    assert occurrence.occurred_at_ms == 1768943656512
    assert orjson.loads(occurrence.properties) == {"hs_city": "Cambridge"}
    assert occurrence.contact_id is not None


async def test_object_id_then_utk_matching(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    utk = "a" * 32
    first = {"eventName": "login", "email": "a@example.com", "utk": utk}
    await client.post("/events/v3/send", json=first, headers=auth(portal))
    await app.runtime.processor.drain()
    [contact_id] = [row.id for row in await query(app, select(contacts.c.id))]
    by_utk = {"eventName": "login", "utk": utk}
    by_id = {"eventName": "login", "objectId": str(contact_id)}
    missing = {"eventName": "login", "objectId": "999999"}
    for body in (by_utk, by_id, missing):
        assert (
            await client.post("/events/v3/send", json=body, headers=auth(portal))
        ).status_code == 204
    await app.runtime.processor.drain()
    assert [o.contact_id for o in await occurrences(app, portal.hub_id)] == [contact_id] * 3 + [
        None
    ]
    assert await count(app, visitors) == 1
    assert (await outcomes(app))[-1]["notes"][0]["code"] == "OBJECT_NOT_FOUND"


async def test_uuid_makes_a_resend_count_once(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    body = {"eventName": "login", "email": "a@example.com", "uuid": "3f1c-1"}
    for _ in range(3):
        await client.post("/events/v3/send", json=body, headers=auth(portal))
    await client.post("/events/v3/send/batch", json={"inputs": [body]}, headers=auth(portal))
    await app.runtime.processor.drain()
    assert len(await occurrences(app, portal.hub_id)) == 1


async def test_batch_is_committed_whole_or_not_at_all(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    good = [{"eventName": "viewed", "email": f"u{i}@example.com"} for i in range(3)]
    bad = {"inputs": [*good, {"eventName": "viewed"}]}
    response = await client.post("/events/v3/send/batch", json=bad, headers=auth(portal))
    assert response.status_code == 400
    error = response.json()
    assert error["category"] == "VALIDATION_ERROR"
    assert "inputs[3].objectId" in error["message"]
    assert error["correlationId"] == response.headers["x-hubspot-correlation-id"]
    assert await count(app, inbox) == 0
    ok = await client.post("/events/v3/send/batch", json={"inputs": good}, headers=auth(portal))
    assert ok.status_code == 204
    await app.runtime.processor.drain()
    assert await count(app, event_occurrences) == 3
    assert await count(app, contacts) == 3


async def test_wrong_or_missing_token_is_401_in_hubspot_shape(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    body = {"eventName": "login", "email": "a@example.com"}
    for headers in (
        {},
        {"Authorization": "Bearer pat-ht1-nope"},
        {"Authorization": portal.access_token},
    ):
        response = await client.post("/events/v3/send", json=body, headers=headers)
        assert response.status_code == 401
        payload = response.json()
        assert payload["status"] == "error"
        assert payload["category"] == "INVALID_AUTHENTICATION"
        assert payload["correlationId"]
    assert await count(app, inbox) == 0


async def test_a_token_writes_only_its_own_portal(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    other = await create_portal(app, "Other")
    body = {"eventName": "login", "email": "a@example.com"}
    await client.post("/events/v3/send", json=body, headers=auth(other))
    await app.runtime.processor.drain()
    assert len(await occurrences(app, other.hub_id)) == 1
    assert await occurrences(app, portal.hub_id) == []


async def test_invalid_json_and_oversized_and_gzip_bodies(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    broken = await client.post("/events/v3/send", content=b"{nope", headers=auth(portal))
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["code"] == "INVALID_JSON"
    huge = {"eventName": "x", "email": "a@example.com", "properties": {"p": "x" * 1_100_000}}
    too_big = await client.post("/events/v3/send", json=huge, headers=auth(portal))
    assert too_big.status_code == 413
    assert too_big.json()["status"] == "error"
    body = gzip.compress(orjson.dumps({"eventName": "zipped", "email": "a@example.com"}))
    zipped = await client.post(
        "/events/v3/send",
        content=body,
        headers={**auth(portal), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert zipped.status_code == 204
    await app.runtime.processor.drain()
    assert len(await occurrences(app, portal.hub_id)) == 1
