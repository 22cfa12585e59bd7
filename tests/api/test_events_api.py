"""The events read API and the event definitions API in-process, on SQLite and PostgreSQL."""

import re
from typing import Any

import httpx
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.store.schema import event_definitions, event_occurrences
from tests.conftest import PortalKeys, create_portal
from tests.ingest.helpers import count, outcomes

EVENTS = "/events/v3/events"
DEFS = "/events/v3/event-definitions"
ISO_MS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def client_for(app: HubtrailApp, keys: PortalKeys | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {keys.access_token}"} if keys else {}
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://hubtrail.test", headers=headers)


def assert_error(response: httpx.Response, status: int, where: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["message"]
    assert body["correlationId"] == response.headers["x-hubspot-correlation-id"]
    if where is not None:
        assert where in [e.get("in") for e in body.get("errors", [])], body
    return body


async def send(api: httpx.AsyncClient, name: str, email: str | None, **extra: Any) -> None:
    body = {"eventName": name, "properties": extra.pop("properties", {}), **extra}
    if email:
        body["email"] = email
    response = await api.post("/events/v3/send", json=body)
    assert response.status_code == 204, response.text


async def results(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(EVENTS, params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["results"]
    return found


async def test_occurrences_come_back_in_hubspot_shape(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    properties = {"hs_city": "Cambridge", "count": 5, "ok": True, "gone": None}
    at = "2026-01-20T21:14:16.512Z"
    await send(api, "login", "a@example.com", occurredAt=at, properties=properties)
    await app.runtime.processor.drain()
    for path in (EVENTS, EVENTS + "/"):  # the official Python client adds the slash
        response = await api.get(path, params={"objectType": "contact"})
        assert response.status_code == 200
        body = response.json()
        assert "paging" not in body
        [event] = body["results"]
        assert event == {
            "objectType": "CONTACT",
            "objectId": event["objectId"],
            "eventType": f"pe{portal.hub_id}_login",
            "occurredAt": at,
            "id": event["id"],
            "properties": {"hs_city": "Cambridge", "count": "5", "ok": "true"},
        }
        assert event["objectId"].isdigit()
        assert event["id"].isdigit()


async def test_filters_by_record_type_and_id(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await send(api, "login", "a@example.com", properties={"hs_city": "Boston", "vip": True})
    await send(api, "login", "b@example.com", properties={"hs_city": "Paris", "vip": False})
    await send(api, "purchase", "a@example.com", properties={"amount": 12})
    await send(api, "login", None, objectId="99999")  # matches no contact: not listed
    await app.runtime.processor.drain()
    assert len(await results(api)) == 3
    assert await results(api, **{"objectType": "contact", "objectProperty.email": "x@y.z"}) == []
    mine = await results(api, **{"objectType": "CONTACT", "objectProperty.email": "A@Example.com"})
    hub = portal.hub_id
    assert sorted(e["eventType"] for e in mine) == [f"pe{hub}_login", f"pe{hub}_purchase"]
    contact_id = mine[0]["objectId"]
    assert len(await results(api, objectType="0-1", objectId=contact_id)) == 2
    by_type = await results(api, objectType="contact", objectId=contact_id, eventType="purchase")
    assert [e["properties"] for e in by_type] == [{"amount": "12"}]
    assert len(await results(api, eventType=f"pe{hub}_login")) == 2
    assert await results(api, eventType="pe1_login") == []  # another hub's prefix
    assert await results(api, eventType="nothing") == []
    assert await results(api, objectType="company") == []  # only contacts carry events here
    assert len(await results(api, **{"property.hs_city": "Paris"})) == 1
    assert len(await results(api, **{"property.vip": "true"})) == 1
    assert len(await results(api, **{"property.amount": "12"})) == 1
    assert await results(api, **{"property.hs_city": "paris"}) == []
    picked = await api.get(EVENTS, params=[("id", by_type[0]["id"]), ("id", "nope")])
    assert [e["id"] for e in picked.json()["results"]] == [by_type[0]["id"]]
    assert await results(api, id="nope") == []
    assert_error(await api.get(EVENTS, params={"objectId": contact_id}), 400, "objectType")
    assert_error(await api.get(EVENTS, params={"objectProperty.email": "a@example.com"}), 400)
    assert_error(await api.get(EVENTS, params={"objectType": "planet"}), 400, "objectType")
    bad_object_id = {"objectType": "contact", "objectId": "abc"}
    assert_error(await api.get(EVENTS, params=bad_object_id), 400, "objectId")
    bad_record_property = {"objectType": "contact", "objectProperty.phone": "1"}
    assert_error(await api.get(EVENTS, params=bad_record_property), 400)
    assert_error(await api.get(EVENTS, params={"property.a$b": "1"}), 400)


async def test_time_range_and_sort(app: HubtrailApp, api: httpx.AsyncClient) -> None:
    times = ["2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"]
    for at in times:
        await send(api, "tick", "a@example.com", occurredAt=at)
    await app.runtime.processor.drain()

    async def occurred(**params: Any) -> list[str]:
        return [e["occurredAt"] for e in await results(api, **params)]

    assert await occurred() == times[::-1]  # newest first by default
    assert await occurred(sort="-occurredAt") == times[::-1]
    assert await occurred(sort="occurredAt") == times
    assert await occurred(sort="ASCENDING") == times
    assert await occurred(occurredAfter="2026-01-01T00:00:00Z", sort="occurredAt") == times[1:]
    assert await occurred(occurredBefore="2026-01-03T00:00:00.000Z") == times[1::-1]
    day2_ms = 1767312000000
    between = await occurred(occurredAfter=day2_ms - 1, occurredBefore=day2_ms + 1)
    assert between == [times[1]]
    assert await occurred(occurredAfter="2026-01-02") == [times[2]]
    assert_error(await api.get(EVENTS, params={"occurredAfter": "yesterday"}), 400, "occurredAfter")
    assert_error(await api.get(EVENTS, params={"occurredBefore": "soon"}), 400, "occurredBefore")
    body = assert_error(await api.get(EVENTS, params={"sort": "hs_city"}), 400, "sort")
    assert body["message"] == "Only a single sort field 'occurredAt' is supported"


async def test_paging_through_several_pages(app: HubtrailApp, api: httpx.AsyncClient) -> None:
    for i in range(7):  # three share one timestamp: the id breaks the tie
        at = "2026-02-01T00:00:00.000Z" if i < 3 else f"2026-02-0{i}T00:00:00.000Z"
        await send(api, "view", f"u{i % 2}@example.com", occurredAt=at)
    await app.runtime.processor.drain()
    everything = await results(api, sort="occurredAt")
    assert len(everything) == 7
    for sort in ("occurredAt", "-occurredAt"):
        seen: list[str] = []
        response = await api.get(EVENTS, params={"limit": 3, "sort": sort, "eventType": "view"})
        pages = 0
        while True:
            pages += 1
            body = response.json()
            assert len(body["results"]) <= 3
            seen += [e["id"] for e in body["results"]]
            if "paging" not in body:
                break
            link = httpx.URL(body["paging"]["next"]["link"])
            assert link.params["after"] == body["paging"]["next"]["after"]
            assert (link.params["eventType"], link.params["limit"]) == ("view", "3")
            response = await api.get(link.path, params=link.params)
        assert pages == 3
        ids = [e["id"] for e in everything]
        assert seen == (ids if sort == "occurredAt" else ids[::-1])
    assert_error(await api.get(EVENTS, params={"limit": 0}), 400, "limit")
    assert_error(await api.get(EVENTS, params={"after": "not-a-cursor"}), 400, "after")


async def test_limit_defaults_to_and_stops_at_100(app: HubtrailApp, api: httpx.AsyncClient) -> None:
    inputs = [{"eventName": "bulk", "email": "a@example.com"}] * 105
    assert (await api.post("/events/v3/send/batch", json={"inputs": inputs})).status_code == 204
    await app.runtime.processor.drain()
    for params in ({}, {"limit": 1000}):
        body = (await api.get(EVENTS, params=params)).json()
        assert (len(body["results"]), "paging" in body) == (100, True)


async def test_event_types_lists_live_definitions(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    assert (await api.get(EVENTS + "/event-types")).json() == {"eventTypes": []}
    hit = await api.get("/v1/event", params={"_a": portal.hub_id, "_n": "Zed"})
    assert hit.status_code == 200
    await app.runtime.processor.drain()
    assert (await api.post(DEFS, json={"label": "Alpha", "propertyDefinitions": []})).is_success
    assert (await api.post(DEFS, json={"label": "Gone", "propertyDefinitions": []})).is_success
    assert (await api.delete(f"{DEFS}/gone")).status_code == 204
    body = (await api.get(EVENTS + "/event-types")).json()
    assert body == {"eventTypes": [f"pe{portal.hub_id}_alpha", f"pe{portal.hub_id}_zed"]}


def definition(**overrides: Any) -> dict[str, Any]:
    return {
        "label": "Clicked Buy Button",
        "description": "A visitor clicked buy",
        "propertyDefinitions": [
            {"name": "plan", "label": "Plan", "type": "enumeration", "options": [
                {"label": "Free", "value": "free", "hidden": False, "displayOrder": 0},
                {"label": "Pro", "value": "pro", "hidden": False, "displayOrder": 1},
            ]},
            {"label": "Seat count", "type": "number"},
        ],
        **overrides,
    }  # fmt: skip


async def test_create_and_read_a_definition(api: httpx.AsyncClient, portal: PortalKeys) -> None:
    response = await api.post(DEFS, json=definition())
    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith(f"{DEFS}/clicked_buy_button")
    created = response.json()
    assert created["id"].isdigit()
    assert re.match(ISO_MS, created["createdAt"])
    assert created | {
        "name": "clicked_buy_button",
        "fullyQualifiedName": f"pe{portal.hub_id}_clicked_buy_button",
        "labels": {"singular": "Clicked Buy Button", "plural": "Clicked Buy Button"},
        "description": "A visitor clicked buy",
        "primaryObject": "CONTACT", "objectTypeId": "0-1", "trackingType": "MANUAL",
        "archived": False, "associations": [],
    } == created  # fmt: skip
    plan, seats = created["properties"]
    assert plan["name"] == "plan"
    assert (plan["type"], plan["fieldType"]) == ("enumeration", "select")
    assert [o["value"] for o in plan["options"]] == ["free", "pro"]
    assert {"label", "value", "hidden", "displayOrder"} <= set(plan["options"][0])
    assert seats["name"] == "seat_count"
    assert (seats["type"], seats["fieldType"], seats["options"]) == ("number", "number", [])
    assert {"name", "label", "type", "fieldType", "groupName", "description"} <= set(seats)
    for name in ("clicked_buy_button", f"pe{portal.hub_id}_clicked_buy_button"):
        assert (await api.get(f"{DEFS}/{name}")).json() == created
    missing = assert_error(await api.get(f"{DEFS}/nothing_here"), 404)
    assert missing["category"] == "OBJECT_NOT_FOUND"
    conflict = assert_error(await api.post(DEFS, json=definition()), 409)
    assert conflict["category"] == "CONFLICT"
    minimal = await api.post(DEFS, json={"label": "x", "name": "e2", "propertyDefinitions": []})
    assert minimal.status_code == 201
    assert minimal.json()["properties"] == []


def with_props(*properties: dict[str, Any]) -> dict[str, Any]:
    return definition(propertyDefinitions=list(properties))


P0 = "propertyDefinitions[0]."
TOO_MANY = [{"label": f"p{i}", "type": "bool"} for i in range(51)]
STRING_WITH_OPTIONS = {"label": "A", "type": "string", "options": [{"label": "x", "value": "x"}]}


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"propertyDefinitions": []}, "label"),
        ({"label": "   ", "propertyDefinitions": []}, "label"),
        ({"label": "x" * 101, "propertyDefinitions": []}, "label"),
        ({"label": "ok", "name": "Bad-Name", "propertyDefinitions": []}, "name"),
        ({"label": "ok", "name": "a" * 51, "propertyDefinitions": []}, "name"),
        ({"label": "!!!", "propertyDefinitions": []}, "name"),
        ({"label": "ok", "primaryObject": "COMPANY", "propertyDefinitions": []}, "primaryObject"),
        ({"label": "ok", "customMatchingId": {}, "propertyDefinitions": []}, "customMatchingId"),
        (with_props({"label": "A", "type": "text"}), P0 + "type"),
        (with_props({"label": "A", "type": "enumeration"}), P0 + "options"),
        (with_props(STRING_WITH_OPTIONS), P0 + "options"),
        (with_props({"name": "hs_city", "label": "City", "type": "string"}), P0 + "name"),
        (with_props({"label": "x" * 51, "type": "string"}), P0 + "label"),
        (with_props(*[{"label": "A", "type": "string"}] * 2), "propertyDefinitions"),
        (with_props(*TOO_MANY), "propertyDefinitions"),
    ],
)
async def test_create_refuses_what_hubspot_refuses(
    api: httpx.AsyncClient, body: dict[str, Any], where: str
) -> None:
    error = assert_error(await api.post(DEFS, json=body), 400, where)
    assert error["category"] == "VALIDATION_ERROR"
    assert (await api.get(DEFS)).json()["total"] == 0


async def test_update_changes_label_and_description_only(api: httpx.AsyncClient) -> None:
    await api.post(DEFS, json=definition())
    patch = {"label": "Bought", "description": "new", "name": "renamed"}
    response = await api.patch(f"{DEFS}/clicked_buy_button", json=patch)
    assert response.status_code == 201  # sic: HubSpot answers PATCH with 201
    body = response.json()
    assert (body["name"], body["description"]) == ("clicked_buy_button", "new")
    assert body["labels"] == {"singular": "Bought", "plural": "Bought"}
    assert len(body["properties"]) == 2
    assert (await api.get(f"{DEFS}/clicked_buy_button")).json() == body
    unchanged = await api.patch(f"{DEFS}/clicked_buy_button", json={})
    assert unchanged.json()["labels"]["singular"] == "Bought"
    assert_error(await api.patch(f"{DEFS}/clicked_buy_button", json={"label": ""}), 400, "label")
    assert_error(await api.patch(f"{DEFS}/missing", json={"label": "x"}), 404)


async def test_listing_definitions(api: httpx.AsyncClient) -> None:
    for label in ("Echo", "alpha", "Delta", "Charlie", "Bravo"):
        await api.post(DEFS, json=definition(label=label))
    await api.post(DEFS, json=definition(label="Foxtrot"))
    await api.delete(f"{DEFS}/foxtrot")
    body = (await api.get(DEFS)).json()
    assert body["total"] == 5
    assert [d["name"] for d in body["results"]] == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert all(d["properties"] == [] for d in body["results"])
    assert "paging" not in body
    names: list[str] = []
    params: dict[str, Any] = {"limit": 2, "sortOrder": "DESC", "includeProperties": "True"}
    while True:
        page = (await api.get(DEFS, params=params)).json()
        assert page["total"] == 5
        assert all(len(d["properties"]) == 2 for d in page["results"])
        names += [d["name"] for d in page["results"]]
        if "paging" not in page:
            break
        params["after"] = page["paging"]["next"]["after"]
    assert names == ["echo", "delta", "charlie", "bravo", "alpha"]
    found = (await api.get(DEFS, params={"searchString": "RLI"})).json()
    assert (found["total"], [d["name"] for d in found["results"]]) == (1, ["charlie"])
    assert (await api.get(DEFS, params={"searchString": "%"})).json()["total"] == 0
    assert_error(await api.get(DEFS, params={"sortOrder": "sideways"}), 400, "sortOrder")
    assert_error(await api.get(DEFS, params={"after": "%%%"}), 400, "after")


async def test_delete_removes_occurrences_and_the_name_never_comes_back(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    hit: dict[str, Any] = {"_a": portal.hub_id, "_n": "Signed Up", "email": "a@example.com"}
    assert (await api.get("/v1/event", params=hit)).status_code == 200
    await send(api, "kept", "a@example.com")
    await app.runtime.processor.drain()
    created_on_the_fly = (await api.get(f"{DEFS}/signed_up")).json()
    assert created_on_the_fly["labels"]["singular"] == "Signed Up"
    assert len(await results(api, eventType="signed_up")) == 1

    response = await api.delete(f"{DEFS}/pe{portal.hub_id}_signed_up")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await api.get(f"{DEFS}/signed_up"), 404)
    assert await results(api, eventType="signed_up") == []
    def_id = int(created_on_the_fly["id"])
    assert await count(app, event_occurrences, event_occurrences.c.definition_id == def_id) == 0
    assert [e["eventType"] for e in await results(api)] == [f"pe{portal.hub_id}_kept"]

    assert (await api.get("/v1/event", params=hit)).status_code == 200
    await send(api, f"pe{portal.hub_id}_signed_up", "a@example.com")
    await app.runtime.processor.drain()
    assert [o["notes"][0]["code"] for o in (await outcomes(app))[-2:]] == ["EVENT_ARCHIVED"] * 2
    assert await count(app, event_occurrences, event_occurrences.c.definition_id == def_id) == 0
    assert await count(app, event_definitions, event_definitions.c.name == "signed_up") == 1
    assert_error(await api.get(f"{DEFS}/signed_up"), 404)
    reuse = assert_error(await api.post(DEFS, json=definition(name="signed_up")), 409)
    assert "never be reused" in reuse["message"]
    assert_error(await api.delete(f"{DEFS}/signed_up"), 404)
    assert_error(await api.patch(f"{DEFS}/signed_up", json={"label": "x"}), 404)


async def test_custom_property_endpoints(api: httpx.AsyncClient) -> None:
    await api.post(DEFS, json=definition())
    base = f"{DEFS}/clicked_buy_button/property"
    response = await api.post(base, json={"label": "Coupon code", "type": "string"})
    assert response.status_code == 201, response.text
    coupon = response.json()
    assert (coupon["name"], coupon["type"], coupon["fieldType"]) == (
        "coupon_code",
        "string",
        "text",
    )
    assert_error(await api.post(base, json={"label": "Coupon code", "type": "string"}), 409)
    assert_error(await api.post(base, json={"label": "X", "type": "money"}), 400, "type")
    assert_error(await api.post(base, json={"name": "9x", "label": "X", "type": "date"}), 400)
    assert_error(await api.post(f"{DEFS}/nope/property", json={"label": "X", "type": "bool"}), 404)

    options = [{"label": "Team", "value": "team"}]
    patched = await api.patch(f"{base}/plan", json={"label": "Tier", "options": options})
    assert patched.status_code == 201
    assert (patched.json()["label"], patched.json()["options"][0]["value"]) == ("Tier", "team")
    assert_error(await api.patch(f"{base}/coupon_code", json={"options": options}), 400, "options")
    assert_error(await api.patch(f"{base}/plan", json={"options": []}), 400, "options")
    assert_error(await api.patch(f"{base}/nope", json={"label": "x"}), 404)

    assert (await api.delete(f"{base}/coupon_code")).status_code == 204
    assert_error(await api.delete(f"{base}/coupon_code"), 404)
    listed = (await api.get(f"{DEFS}/clicked_buy_button")).json()["properties"]
    assert [p["name"] for p in listed] == ["plan", "seat_count"]
    revived = await api.post(base, json={"name": "coupon_code", "label": "Code", "type": "number"})
    assert (revived.status_code, revived.json()["type"]) == (201, "number")


async def test_portals_never_see_each_other(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await api.post(DEFS, json=definition())
    await send(api, "clicked_buy_button", "a@example.com")
    await app.runtime.processor.drain()
    other = await create_portal(app, "Other")
    async with client_for(app, other) as them:
        assert_error(await them.get(f"{DEFS}/clicked_buy_button"), 404)
        assert_error(await them.get(f"{DEFS}/pe{portal.hub_id}_clicked_buy_button"), 404)
        assert_error(await them.patch(f"{DEFS}/clicked_buy_button", json={"label": "x"}), 404)
        assert_error(await them.delete(f"{DEFS}/clicked_buy_button"), 404)
        assert_error(await them.delete(f"{DEFS}/clicked_buy_button/property/plan"), 404)
        assert (await them.get(DEFS)).json() == {"total": 0, "results": []}
        assert (await them.get(EVENTS)).json() == {"results": []}
        assert (await them.get(EVENTS + "/event-types")).json() == {"eventTypes": []}
        assert (await them.post(DEFS, json=definition())).status_code == 201  # same name: fine
    assert len(await results(api)) == 1
    assert (await api.get(f"{DEFS}/clicked_buy_button")).json()["labels"]["singular"]


async def test_every_endpoint_needs_a_token(app: HubtrailApp) -> None:
    calls = [("GET", EVENTS), ("GET", EVENTS + "/event-types"), ("GET", DEFS), ("POST", DEFS)]
    calls += [(method, f"{DEFS}/x") for method in ("GET", "PATCH", "DELETE")]
    calls += [("POST", f"{DEFS}/x/property"), ("PATCH", f"{DEFS}/x/property/y")]
    calls += [("DELETE", f"{DEFS}/x/property/y")]
    async with client_for(app, None) as anonymous:
        for method, path in calls:
            response = await anonymous.request(method, path, json={"label": "x"})
            assert assert_error(response, 401)["category"] == "INVALID_AUTHENTICATION"
