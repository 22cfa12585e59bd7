"""GET /v1/event end to end in-process, on SQLite and PostgreSQL."""

import asyncio

import httpx
from sqlalchemy import update

from hubtrail.app import HubtrailApp
from hubtrail.ingest.hubspot_events import TRANSPARENT_GIF
from hubtrail.store.schema import contacts, event_definitions
from tests.conftest import PortalKeys
from tests.ingest.helpers import contact_values, count, definitions, occurrences, outcomes


async def hit(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await client.get("/v1/event", params=params)


async def test_accepted_hit_answers_a_gif_and_creates_contact_and_event(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    response = await hit(client, _a=str(portal.hub_id), _n="Signed Up", email="Jane@Example.com")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.content == TRANSPARENT_GIF
    assert await app.runtime.processor.drain() == 1
    values = await contact_values(app, portal.hub_id, "jane@example.com")
    assert values["email"] == "Jane@example.com"
    assert values["hs_analytics_num_event_completions"] == "1"
    [definition] = await definitions(app, portal.hub_id)
    assert (definition.name, definition.label) == ("signed_up", "Signed Up")
    [occurrence] = await occurrences(app, portal.hub_id)
    assert occurrence.definition_id == definition.id
    assert occurrence.contact_id is not None
    [outcome] = await outcomes(app)
    assert outcome["status"] == "applied"
    assert outcome["contact_created"] is True


async def test_a_name_creates_its_definition_once_and_the_id_fires_it(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    for _ in range(3):
        await hit(client, _a=str(portal.hub_id), _n="clicked_buy")
    await app.runtime.processor.drain()
    [definition] = await definitions(app, portal.hub_id)
    await hit(client, _a=str(portal.hub_id), _n=f"{definition.id:012d}")
    await app.runtime.processor.drain()
    assert len(await definitions(app, portal.hub_id)) == 1
    assert [o.definition_id for o in await occurrences(app, portal.hub_id)] == [definition.id] * 4


async def test_a_deleted_event_name_is_never_recreated(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await hit(client, _a=str(portal.hub_id), _n="old_event")
    await app.runtime.processor.drain()
    await app.runtime.db.write(
        lambda conn: conn.execute(update(event_definitions).values(archived_at_ms=1))
    )
    await hit(client, _a=str(portal.hub_id), _n="old_event", email="a@example.com", _m="5")
    await app.runtime.processor.drain()
    assert len(await definitions(app, portal.hub_id)) == 1
    assert len(await occurrences(app, portal.hub_id)) == 1
    last = (await outcomes(app))[-1]
    assert [n["code"] for n in last["notes"]] == ["EVENT_ARCHIVED"]
    assert "hs_analytics_revenue" not in await contact_values(app, portal.hub_id, "a@example.com")


async def test_revenue_adds_up_and_properties_are_coerced(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    hub = str(portal.hub_id)
    await hit(
        client,
        _a=hub,
        _n="purchase",
        email="a@example.com",
        _m="10.25",
        firstname="Ann",
        lifecyclestage="Customer",
        associatedcompanyid="0042",
    )
    await hit(client, _a=hub, _n="purchase", email="A@EXAMPLE.COM", _m="4.75")
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "a@example.com")
    assert values["hs_analytics_revenue"] == "15"
    assert values["hs_analytics_num_event_completions"] == "2"
    assert (values["firstname"], values["lifecyclestage"], values["associatedcompanyid"]) == (
        "Ann",
        "customer",
        "42",
    )
    assert await count(app, contacts) == 1


async def test_unknown_read_only_and_invalid_properties_are_dropped_with_reasons(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await hit(
        client,
        _a=str(portal.hub_id),
        _n="e",
        email="a@example.com",
        favorite_color="blue",
        hs_analytics_revenue="99",
        lifecyclestage="royalty",
        lastname="Li",
    )
    await app.runtime.processor.drain()
    [outcome] = await outcomes(app)
    assert outcome["status"] == "partial"
    reasons = {note["field"]: note["code"] for note in outcome["notes"]}
    assert reasons == {
        "favorite_color": "PROPERTY_DOESNT_EXIST",
        "hs_analytics_revenue": "READ_ONLY_VALUE",
        "lifecyclestage": "INVALID_OPTION",
    }
    values = await contact_values(app, portal.hub_id, "a@example.com")
    assert values["lastname"] == "Li"
    assert "hs_analytics_revenue" not in values


async def test_invalid_and_placeholder_emails_keep_the_event_without_a_contact(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    for email in ("bcooper@example.con", "{{contact.email}}", "undefined"):
        response = await hit(client, _a=str(portal.hub_id), _n="e", email=email, firstname="X")
        assert response.status_code == 200
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0
    assert [o.contact_id for o in await occurrences(app, portal.hub_id)] == [None, None, None]
    for outcome in await outcomes(app):
        codes = [note["code"] for note in outcome["notes"]]
        assert codes == ["INVALID_EMAIL", "NO_CONTACT"]


async def test_external_id_never_creates_a_contact_and_first_id_sticks(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    hub = str(portal.hub_id)
    await hit(client, _a=hub, _n="e", id="ext-1")
    await app.runtime.processor.drain()
    assert await count(app, contacts) == 0
    await hit(client, _a=hub, _n="e", id="ext-1", email="a@example.com")
    await hit(client, _a=hub, _n="e", id="ext-2", email="a@example.com")
    await hit(client, _a=hub, _n="e", id="ext-1", firstname="ByExternalId")
    await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "a@example.com")
    assert values["firstname"] == "ByExternalId"
    notes = [n["code"] for o in await outcomes(app) for n in o["notes"]]
    assert "EXTERNAL_ID_KEPT" in notes


async def test_bad_parameters_get_a_plain_400_naming_them(
    client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    cases = [
        ({"_n": "e"}, "_a"),
        ({"_a": "abc", "_n": "e"}, "_a"),
        ({"_a": str(portal.hub_id)}, "_n"),
        ({"_a": "999", "_n": "e"}, "_a"),
    ]
    for params, named in cases:
        response = await client.get("/v1/event", params=params)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/plain")
        assert named in response.text
        assert "Traceback" not in response.text


async def test_oversized_query_is_414(client: httpx.AsyncClient, portal: PortalKeys) -> None:
    response = await hit(client, _a=str(portal.hub_id), _n="e", message="x" * 9000)
    assert response.status_code == 414


async def test_concurrent_hits_share_group_commits(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    responses = await asyncio.gather(
        *(hit(client, _a=str(portal.hub_id), _n="burst") for _ in range(60))
    )
    assert all(r.status_code == 200 for r in responses)
    batches = app.runtime.metrics.registry.get_sample_value("hubtrail_commit_batch_messages_count")
    committed = app.runtime.metrics.registry.get_sample_value("hubtrail_messages_committed_total")
    assert committed == 60
    assert batches is not None
    assert batches < 60
    assert await app.runtime.processor.drain() == 60
