"""The forwarder against a fake HubSpot (`httpx.MockTransport`) and a fake clock, on SQLite and
PostgreSQL: batching, coalescing, pacing, every failure class, 207s, the dead letter, replay."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import orjson
import pytest

from hubtrail.core.delivery import next_midnight_ms
from hubtrail.core.forms import FieldType, Form, FormField, new_guid
from hubtrail.core.properties import ObjectType
from hubtrail.forward.engine import Forwarder
from hubtrail.process.processor import now_ms
from hubtrail.store import destinations, forms, outbox
from hubtrail.store.outbox import Kind, Status
from tests.forward.conftest import FakeClock, FakeHubSpot, Forwarding, network_error, status

UPSERT = "/crm/v3/objects/contacts/batch/upsert"
SEND = "/events/v3/send/batch"


def inputs_of(target: FakeHubSpot, path: str) -> list[list[dict[str, Any]]]:
    return [s.body["inputs"] for s in target.sent if s.path == path]


async def test_contacts_go_in_batches_of_100(forwarding: Forwarding) -> None:
    for i in range(250):
        await forwarding.identify(f"p{i:03}@example.com", firstname=f"P{i}")
    await forwarding.process()
    await forwarding.deliver()
    batches = inputs_of(forwarding.target, UPSERT)
    assert [len(b) for b in batches] == [100, 100, 50]
    assert batches[0][0] == {
        "id": "p000@example.com",
        "idProperty": "email",
        "properties": {"email": "p000@example.com", "firstname": "P0"},
    }
    assert len(forwarding.target.contacts) == 250
    assert await forwarding.rows() == []
    state = await forwarding.state()
    assert (state.sent_count, state.calls_count) == (250, 3)
    metrics = forwarding.app.runtime.metrics.render().decode()
    label = f'destination="{forwarding.destination.id}"'
    assert f"hubtrail_forward_sent_total{{{label}}} 250.0" in metrics
    assert f"hubtrail_forward_calls_total{{{label}}} 3.0" in metrics
    assert f"hubtrail_forward_budget_left{{{label}}} 9.999997e+06" in metrics


async def test_a_part_filled_batch_lingers_for_more(forwarding: Forwarding) -> None:
    await forwarding.identify("early@example.com")
    await forwarding.process()
    await forwarding.deliver(linger=False)
    assert forwarding.target.sent == []  # younger than forward_linger_ms
    await forwarding.identify("late@example.com")
    await forwarding.process()
    await forwarding.deliver()
    assert [len(b) for b in inputs_of(forwarding.target, UPSERT)] == [2]


async def test_changes_to_one_contact_before_it_is_sent_are_one_input(
    forwarding: Forwarding,
) -> None:
    await forwarding.identify("ada@example.com", firstname="Ada")
    await forwarding.process()
    await forwarding.identify("ada@example.com", lastname="Lovelace")
    await forwarding.process()
    await forwarding.identify("ada@example.com", firstname="Augusta")
    await forwarding.process()
    assert len(await forwarding.rows()) == 1
    await forwarding.deliver()
    [[only]] = inputs_of(forwarding.target, UPSERT)
    assert only["properties"] == {
        "email": "ada@example.com",
        "firstname": "Augusta",
        "lastname": "Lovelace",
    }


async def test_a_change_while_in_flight_is_sent_again(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com", firstname="Ada")
    await forwarding.process()
    [row] = await forwarding.rows()
    await forwarding.app.runtime.db.write(lambda c: outbox.mark_inflight(c, [row.id]))
    await forwarding.identify("ada@example.com", firstname="Augusta")  # arrives mid-send
    await forwarding.process()
    rows = await forwarding.rows()
    assert [(r.status, r.object_key) for r in rows] == [
        (Status.INFLIGHT, row.object_key),
        (Status.PENDING, row.object_key),
    ]
    # The worker that had it in flight stopped; the next one sends the newest state once.
    await forwarding.deliver()
    assert await forwarding.rows() == []
    [[sent]] = inputs_of(forwarding.target, UPSERT)
    assert sent["properties"]["firstname"] == "Augusta"


async def test_read_only_and_computed_properties_are_not_sent(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com", firstname="Ada")
    await forwarding.process()
    await forwarding.deliver()
    # An event changes only computed figures (hs_analytics_*): no new contact upsert.
    await forwarding.segment("track", userId="ada@example.com", event="Paid", properties={})
    await forwarding.process()
    assert {r.kind for r in await forwarding.rows()} == {Kind.EVENT}
    [[sent]] = inputs_of(forwarding.target, UPSERT)
    assert not [name for name in sent["properties"] if name.startswith("hs_")]


async def test_calls_are_paced_by_the_destinations_rate(forwarding: Forwarding) -> None:
    await forwarding.app.runtime.db.write(
        lambda c: c.execute(
            destinations.destinations.update().values(rate_per_s=2.0)  # type: ignore[attr-defined]
        )
    )
    for i in range(500):
        await forwarding.identify(f"p{i:03}@example.com")
    await forwarding.process()
    await forwarding.deliver()
    times = [s.at_ms for s in forwarding.target.sent]
    assert len(times) == 5
    assert all(b - a >= 500 for a, b in itertools.pairwise(times))


async def test_a_network_error_or_5xx_is_retried_with_backoff(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com")
    await forwarding.process()
    forwarding.target.answers[UPSERT] = [network_error, status(503, {"message": "down"})]
    await forwarding.deliver()
    [row] = await forwarding.rows()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "ConnectError" in row.last_error
    assert row.next_attempt_at_ms > forwarding.clock()
    forwarding.clock.now_ms = row.next_attempt_at_ms
    await forwarding.forwarder.drain(forwarding.destination.id)
    [row] = await forwarding.rows()
    assert (row.attempts, row.last_error) == (2, "down")
    forwarding.clock.now_ms = row.next_attempt_at_ms
    await forwarding.forwarder.drain(forwarding.destination.id)
    assert await forwarding.rows() == []
    assert forwarding.target.contacts == {"ada@example.com": "9001"}
    assert (await forwarding.state()).retried_count == 2


async def test_a_429_pauses_the_destination_for_retry_after(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com")
    await forwarding.process()
    refusal = {"status": "error", "errorType": "RATE_LIMIT", "message": "ten_secondly_rolling"}
    forwarding.target.answers[UPSERT] = [status(429, refusal, {"Retry-After": "7"})]
    await forwarding.deliver()
    state = await forwarding.state()
    [row] = await forwarding.rows()
    assert row.attempts == 0  # not the change's fault
    assert state.throttled_count == 1
    assert state.paused_until_ms - forwarding.clock() >= 6_000
    assert "429" in state.pause_reason
    await forwarding.forwarder.drain(forwarding.destination.id)
    assert len(forwarding.target.sent) == 1  # still paused
    forwarding.clock.now_ms = state.paused_until_ms
    await forwarding.forwarder.drain(forwarding.destination.id)
    assert await forwarding.rows() == []


async def test_a_nearly_spent_window_holds_the_next_call(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com")
    await forwarding.process()
    headers = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Max": "10",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "1000",
    }

    def tight(request: httpx.Request) -> httpx.Response:
        answer = forwarding.target.answer("POST", UPSERT, orjson.loads(request.content))
        return httpx.Response(200, content=answer.content, headers=headers)

    forwarding.target.answers[UPSERT] = [tight]
    await forwarding.deliver()
    state = await forwarding.state()
    assert state.paused_until_ms - forwarding.clock() == 100
    assert "pacing" in state.pause_reason
    assert await forwarding.rows() == []


async def test_a_revoked_token_pauses_and_keeps_the_changes(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com")
    await forwarding.process()
    forwarding.target.answers[UPSERT] = [
        status(401, {"status": "error", "category": "INVALID_AUTHENTICATION", "message": "gone"})
    ]
    await forwarding.deliver()
    state = await forwarding.state()
    assert "refused the token (401)" in state.pause_reason
    [row] = await forwarding.rows()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    await forwarding.app.runtime.db.write(
        lambda c: destinations.set_token(c, forwarding.destination.id, "pat-new")
    )
    await forwarding.forwarder.drain(forwarding.destination.id)
    assert await forwarding.rows() == []


async def test_a_bad_input_is_isolated_and_dead_lettered_with_hubspots_message(
    forwarding: Forwarding,
) -> None:
    for i in range(8):
        await forwarding.identify(f"p{i}@example.com", firstname=f"P{i}")
    await forwarding.process()
    refusal = {"status": "error", "category": "VALIDATION_ERROR", "message": "bad p5"}
    real = forwarding.target.answer

    def refuse_p5(method: str, path: str, body: Any) -> httpx.Response:
        emails = [item["id"] for item in body["inputs"]] if path == UPSERT else []
        if "p5@example.com" in emails:
            return httpx.Response(400, json=refusal)
        return real(method, path, body)

    forwarding.target.answer = refuse_p5  # type: ignore[method-assign]
    await forwarding.deliver()
    rows = await forwarding.rows()
    assert [(r.status, r.last_error) for r in rows] == [(Status.DEAD, "VALIDATION_ERROR: bad p5")]
    assert sorted(forwarding.target.contacts) == [f"p{i}@example.com" for i in range(8) if i != 5]
    sizes = [len(b) for b in inputs_of(forwarding.target, UPSERT)]
    assert sizes[0] == 8
    assert min(sizes) == 1
    assert len(sizes) <= 8


async def test_a_207_dead_letters_only_the_refused_inputs(forwarding: Forwarding) -> None:
    for name in ("acme", "bolt", "cogs"):
        await forwarding.segment(
            "group",
            userId="u",
            anonymousId="a",
            groupId=name,
            traits={"name": name.title(), "website": f"https://{name}.example.com"},
        )
    await forwarding.process()

    def partly(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        results = [
            {
                "id": str(100 + i),
                "properties": item["properties"],
                "objectWriteTraceId": item["objectWriteTraceId"],
            }
            for i, item in enumerate(body["inputs"])
            if item["properties"]["name"] != "Bolt"
        ]
        bolt = next(i for i in body["inputs"] if i["properties"]["name"] == "Bolt")
        error = {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Property values were not valid",
            "context": {"objectWriteTraceId": [bolt["objectWriteTraceId"]]},
        }
        return httpx.Response(
            207, json={"status": "COMPLETE", "results": results, "numErrors": 1, "errors": [error]}
        )

    forwarding.target.answers["/crm/v3/objects/companies/batch/create"] = [partly]
    await forwarding.deliver()
    dead = [r for r in await forwarding.rows() if r.status is Status.DEAD]
    assert [(r.kind, r.last_error) for r in dead] == [
        (Kind.COMPANY, "VALIDATION_ERROR: Property values were not valid")
    ]


async def test_companies_are_found_by_domain_then_created_or_updated(
    forwarding: Forwarding,
) -> None:
    forwarding.target.companies["acme.example.com"] = "555"
    for name in ("acme", "bolt"):
        await forwarding.segment(
            "group",
            userId="ada@example.com",
            groupId=name,
            traits={"name": name.title(), "website": f"https://{name}.example.com"},
        )
    await forwarding.identify("ada@example.com")
    await forwarding.process()
    await forwarding.deliver()
    paths = forwarding.target.paths()
    assert paths[:1] == [UPSERT]
    assert "/crm/v3/objects/companies/search" in paths
    [[update]] = inputs_of(forwarding.target, "/crm/v3/objects/companies/batch/update")
    assert update["id"] == "555"
    [[create]] = inputs_of(forwarding.target, "/crm/v3/objects/companies/batch/create")
    assert create["properties"]["domain"] == "bolt.example.com"
    # a second change to a known company needs no search
    searches = paths.count("/crm/v3/objects/companies/search")
    await forwarding.segment(
        "group",
        userId="ada@example.com",
        groupId="acme",
        traits={"website": "https://acme.example.com", "industry": "Robots"},
    )
    await forwarding.process()
    await forwarding.deliver()
    assert forwarding.target.paths().count("/crm/v3/objects/companies/search") == searches


async def test_associations_use_the_targets_ids(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com")
    await forwarding.segment(
        "group",
        userId="ada@example.com",
        groupId="acme",
        traits={"name": "Acme", "website": "https://acme.example.com"},
    )
    await forwarding.process()
    await forwarding.deliver()
    path = "/crm/v4/associations/contacts/companies/batch/associate/default"
    [[pair]] = inputs_of(forwarding.target, path)
    assert pair == {
        "from": {"id": forwarding.target.contacts["ada@example.com"]},
        "to": {"id": forwarding.target.companies["acme.example.com"]},
    }
    assert await forwarding.rows() == []


async def test_events_create_their_definition_first_and_carry_a_stable_uuid(
    forwarding: Forwarding,
) -> None:
    await forwarding.identify("ada@example.com")
    for i in range(3):
        await forwarding.segment(
            "track",
            userId="ada@example.com",
            event="Order Completed",
            messageId=f"order-{i}",
            properties={"order_id": f"o{i}", "total": 10 * i},
        )
    await forwarding.process()
    await forwarding.deliver()
    paths = forwarding.target.paths()
    assert paths.index("/events/v3/event-definitions") < paths.index(SEND)
    [events] = inputs_of(forwarding.target, SEND)
    assert [e["eventName"] for e in events] == ["pe777_order_completed"] * 3
    assert {e["email"] for e in events} == {"ada@example.com"}
    uuids = [e["uuid"] for e in events]
    assert len(set(uuids)) == 3

    # a replay of the same occurrences sends the same uuids (the target counts them once)
    async def requeue(conn: Any) -> None:
        keys = [f"s:order-{i}" for i in range(3)]
        entries = [
            outbox.Entry(forwarding.destination.id, forwarding.portal.hub_id, Kind.EVENT, k)
            for k in keys
        ]
        await outbox.enqueue(conn, entries, forwarding.clock())

    await forwarding.app.runtime.db.write(requeue)
    await forwarding.deliver()
    again = inputs_of(forwarding.target, SEND)[-1]
    assert [e["uuid"] for e in again] == uuids
    assert forwarding.target.paths().count("/events/v3/event-definitions") == 1  # remembered


async def test_a_change_that_keeps_failing_is_dead_lettered_then_replayed(
    forwarding: Forwarding,
) -> None:
    await forwarding.identify("ada@example.com", firstname="Ada")
    await forwarding.process()
    forwarding.target.answers[UPSERT] = [status(500, {"message": "boom"})] * 10
    await forwarding.deliver()
    for _ in range(12):
        rows = await forwarding.rows()
        if rows[0].status is Status.DEAD:
            break
        forwarding.clock.now_ms = rows[0].next_attempt_at_ms
        await forwarding.forwarder.drain(forwarding.destination.id)
    [row] = await forwarding.rows()
    limit = forwarding.app.runtime.settings.forward_max_attempts
    assert row.status is Status.DEAD
    assert row.last_error == f"gave up after {limit} attempts: boom"
    # fixed, and the contact changed meanwhile: the replay sends today's state
    await forwarding.identify("ada@example.com", firstname="Augusta")
    await forwarding.process()
    dead = await forwarding.app.runtime.db.read(lambda c: outbox.dead_rows(c))
    await forwarding.app.runtime.db.write(lambda c: outbox.replay(c, [r.id for r in dead], 0))
    await forwarding.deliver()
    assert await forwarding.rows() == []
    assert inputs_of(forwarding.target, UPSERT)[-1][0]["properties"]["firstname"] == "Augusta"


async def test_a_change_too_old_is_dead_lettered(forwarding: Forwarding) -> None:
    await forwarding.identify("ada@example.com")
    await forwarding.process()
    forwarding.target.answers[UPSERT] = [network_error]
    await forwarding.deliver()
    forwarding.clock.advance(int(forwarding.app.runtime.settings.forward_max_age_s * 1000) + 1)
    await forwarding.forwarder.drain(forwarding.destination.id)
    [row] = await forwarding.rows()
    assert row.status is Status.DEAD
    assert row.last_error.startswith("older than the age limit; last error: POST /crm/v3/")
    assert "ConnectError" in row.last_error


async def test_a_spent_daily_budget_stops_until_midnight(forwarding: Forwarding) -> None:
    await forwarding.app.runtime.db.write(
        lambda c: c.execute(
            destinations.destinations.update().values(daily_budget=1)  # type: ignore[attr-defined]
        )
    )
    for i in range(100):  # a full batch goes at once, whatever the budget
        await forwarding.identify(f"p{i:03}@example.com")
    await forwarding.segment("track", userId="p000@example.com", event="Paid")
    await forwarding.process()
    await forwarding.deliver()
    state = await forwarding.state()
    assert forwarding.target.paths() == [UPSERT]
    assert state.pause_reason == "daily budget of 1 calls spent; resumes at 00:00 UTC"
    assert state.paused_until_ms % 86_400_000 == 0
    assert [r.kind for r in await forwarding.rows()] == [Kind.EVENT]


async def test_one_worker_at_a_time_and_a_takeover_resends_what_was_in_flight(
    forwarding: Forwarding,
) -> None:
    await forwarding.identify("ada@example.com")
    await forwarding.process()
    forwarding.clock.now_ms += 2000
    other = Forwarder(
        forwarding.app.runtime.db,
        forwarding.app.runtime.settings,
        forwarding.app.runtime.metrics,
        clock_ms=forwarding.clock,
        transport=httpx.MockTransport(forwarding.target),
        sleep=forwarding.clock.sleep,
        owner="other-worker",
    )
    # the first worker takes the lease and dies with the row in flight
    db = forwarding.app.runtime.db
    lease_ms = int(forwarding.app.runtime.settings.forward_lease_s * 1000)
    assert await db.write(
        lambda c: destinations.take_lease(
            c, forwarding.destination.id, "test-worker", forwarding.clock(), lease_ms
        )
    )
    [row] = await forwarding.rows()
    await db.write(lambda c: outbox.mark_inflight(c, [row.id]))
    assert not await other.deliver_once(forwarding.destination.id)  # held by the first
    forwarding.clock.advance(lease_ms + 1)
    await other.drain(forwarding.destination.id)
    assert await forwarding.rows() == []
    assert forwarding.target.contacts == {"ada@example.com": "9001"}
    await other.close()


@pytest.mark.parametrize("sends", ["contacts", "contacts,events,pageviews"])
async def test_a_destination_gets_only_what_it_sends(forwarding: Forwarding, sends: str) -> None:
    await forwarding.app.runtime.db.write(
        lambda c: c.execute(
            destinations.destinations.update().values(send=sends)  # type: ignore[attr-defined]
        )
    )
    visitor = "0123456789abcdef0123456789abcdef"
    await forwarding.identify("ada@example.com")
    await forwarding.segment(
        "page",
        userId="ada@example.com",
        anonymousId=visitor,
        name="Home",
        properties={"url": "https://shop.example.com/"},
    )
    await forwarding.segment("track", userId="ada@example.com", event="Paid")
    await forwarding.process()
    kinds = sorted({r.kind.value for r in await forwarding.rows()})
    expected = {
        "contacts": ["contact"],
        "contacts,events,pageviews": ["contact", "event", "pageview"],
    }
    assert kinds == expected[sends]
    await forwarding.deliver()
    assert await forwarding.rows() == []
    if "pageviews" in sends:
        views = [
            e
            for batch in inputs_of(forwarding.target, SEND)
            for e in batch
            if e["eventName"] == "pe777_hubtrail_page_view"
        ]
        assert [v["properties"]["url"] for v in views] == ["https://shop.example.com/"]


async def test_backfill_queues_what_came_before_the_destination(
    forwarding: Forwarding,
) -> None:
    await forwarding.app.runtime.db.write(
        lambda c: destinations.remove(c, forwarding.destination.id)
    )
    await forwarding.identify("old@example.com")
    await forwarding.segment("track", userId="old@example.com", event="Paid")
    await forwarding.process()
    from tests.forward.conftest import add_destination

    late = await add_destination(forwarding.app, forwarding.portal, forwarding.clock() + 10_000)
    assert await forwarding.rows() == []
    added = await forwarding.app.runtime.db.write(
        lambda c: outbox.backfill(
            c,
            late.id,
            forwarding.portal.hub_id,
            list(Kind),
            late.created_at_ms,
            forwarding.clock(),
        )
    )
    assert added == 2
    assert sorted(r.kind.value for r in await forwarding.rows()) == ["contact", "event"]


async def test_clock_is_fake(forwarding: Forwarding) -> None:
    assert isinstance(forwarding.clock, FakeClock)


async def test_crm_api_writes_are_forwarded_too(
    forwarding: Forwarding, api: httpx.AsyncClient
) -> None:
    created = await api.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": "crm@example.com"}}
    )
    assert created.status_code == 201
    contact_id = created.json()["id"]
    await forwarding.deliver()
    patched = await api.patch(
        f"/crm/v3/objects/contacts/{contact_id}", json={"properties": {"jobtitle": "CTO"}}
    )
    assert patched.status_code == 200
    upserted = await api.post(
        "/crm/v3/objects/contacts/batch/upsert",
        json={"inputs": [{"id": "new@example.com", "idProperty": "email", "properties": {}}]},
    )
    assert upserted.status_code == 200
    company = await api.post(
        "/crm/v3/objects/companies", json={"properties": {"domain": "acme.example.com"}}
    )
    linked = await api.put(
        f"/crm/v4/objects/contacts/{contact_id}/associations/default/companies/"
        f"{company.json()['id']}"
    )
    assert linked.status_code == 200, linked.text
    await forwarding.deliver()
    sent = [item for batch in inputs_of(forwarding.target, UPSERT) for item in batch]
    assert [item["id"] for item in sent] == [
        "crm@example.com",
        "crm@example.com",
        "new@example.com",
    ]
    assert sent[1]["properties"]["jobtitle"] == "CTO"
    assert "/crm/v4/associations/contacts/companies/batch/associate/default" in (
        forwarding.target.paths()
    )
    assert await forwarding.rows() == []


async def test_a_contact_without_an_email_is_created_then_updated_by_the_targets_id(
    forwarding: Forwarding,
    api: httpx.AsyncClient,
) -> None:
    create = "/crm/v3/objects/contacts/batch/create"
    update = "/crm/v3/objects/contacts/batch/update"
    created = await api.post(
        "/crm/v3/objects/contacts", json={"properties": {"firstname": "Nomail"}}
    )
    contact_id = created.json()["id"]
    await forwarding.deliver()
    [[made]] = inputs_of(forwarding.target, create)
    assert (made["objectWriteTraceId"], made["properties"]["firstname"]) == (
        contact_id,
        "Nomail",
    )
    target_id = forwarding.target.contacts[f"#{forwarding.target.next_id}"]

    async def patch(properties: dict[str, str]) -> None:
        answer = await api.patch(
            f"/crm/v3/objects/contacts/{contact_id}", json={"properties": properties}
        )
        assert answer.status_code == 200, answer.text
        await forwarding.deliver()

    # the email comes later: the target's contact gets it, no second contact is upserted
    await patch({"email": "late@example.com"})
    [[got_email]] = inputs_of(forwarding.target, update)
    assert (got_email["id"], got_email["properties"]["email"]) == (
        target_id,
        "late@example.com",
    )
    assert inputs_of(forwarding.target, UPSERT) == []
    # from then on it is an ordinary contact, upserted by the email the target has
    await patch({"jobtitle": "CTO"})
    [[upserted]] = inputs_of(forwarding.target, UPSERT)
    assert upserted["id"] == "late@example.com"
    # a changed email goes by the target's id again, never as a new contact
    await patch({"email": "renamed@example.com"})
    renamed = inputs_of(forwarding.target, update)[-1][0]
    assert (renamed["id"], renamed["properties"]["email"]) == (target_id, "renamed@example.com")
    assert len(inputs_of(forwarding.target, UPSERT)) == 1
    assert await forwarding.rows() == []


async def test_deletions_are_mirrored_only_to_a_destination_that_asks(
    forwarding: Forwarding,
    api: httpx.AsyncClient,
) -> None:
    contacts = "/crm/v3/objects/contacts"
    people = ["ada", "bob", "cy", "dee", "eve"]
    for name in people:
        await forwarding.identify(f"{name}@example.com")
    await forwarding.segment(
        "group", userId="ada@example.com", groupId="acme", traits={"website": "acme.example.com"}
    )
    await forwarding.process()
    await forwarding.deliver()
    remote = {name: forwarding.target.contacts[f"{name}@example.com"] for name in people}

    async def local_id(name: str) -> str:
        found = await api.get(f"{contacts}/{name}@example.com", params={"idProperty": "email"})
        return str(found.json()["id"])

    local = {name: await local_id(name) for name in people}
    company = (await api.get("/crm/v3/objects/companies")).json()["results"][0]["id"]
    sent_before = len(forwarding.target.sent)
    assert (await api.delete(f"{contacts}/{local['bob']}")).status_code == 204
    await forwarding.deliver()
    assert forwarding.target.sent[sent_before:] == [], "not asked: nothing deleted there"

    await forwarding.app.runtime.db.write(
        lambda c: c.execute(
            destinations.destinations.update().values(  # type: ignore[attr-defined]
                send="contacts,companies,associations,events,deletions"
            )
        )
    )
    never_sent = await api.post(f"{contacts}", json={"properties": {"firstname": "New"}})
    forwarding.target.answers["/crm/v3/objects/companies/batch/archive"] = [status(404)]
    for path in (
        f"{contacts}/{local['cy']}",
        f"{contacts}/{never_sent.json()['id']}",
        f"/crm/v3/objects/companies/{company}",
    ):
        assert (await api.delete(path)).status_code == 204
    merged = await api.post(
        f"{contacts}/merge",
        json={"primaryObjectId": local["ada"], "objectIdToMerge": local["dee"]},
    )
    assert merged.status_code == 200, merged.text
    erased = await api.post(f"{contacts}/gdpr-delete", json={"objectId": local["eve"]})
    assert erased.status_code == 204
    await forwarding.deliver()
    calls = {s.path: s.body for s in forwarding.target.sent[sent_before:]}
    assert calls[f"{contacts}/batch/archive"] == {"inputs": [{"id": remote["cy"]}]}
    assert calls[f"{contacts}/merge"] == {
        "primaryObjectId": remote["ada"],
        "objectIdToMerge": remote["dee"],
    }
    assert calls[f"{contacts}/gdpr-delete"] == {"objectId": remote["eve"]}
    assert "/crm/v3/objects/companies/batch/archive" in calls  # answered 404: gone there already
    assert await forwarding.rows() == [], "every deletion done, none dead"
    forgotten = await forwarding.app.runtime.db.read(
        lambda c: destinations.remote_ids(
            c, forwarding.destination.id, "contact", [local[n] for n in ("cy", "dee", "eve")]
        )
    )
    assert forgotten == {}


async def test_a_trickle_of_changes_is_spread_over_the_days_budget(
    forwarding: Forwarding,
) -> None:
    # A budget that, spread over what is left of the day, allows one call every 5 seconds.
    now = max(forwarding.clock(), now_ms())
    budget = (next_midnight_ms(now) - now) // 5_000
    await forwarding.app.runtime.db.write(
        lambda c: c.execute(
            destinations.destinations.update().values(daily_budget=budget)  # type: ignore[attr-defined]
        )
    )
    for second in range(10):  # a new contact about every second, each alone past its linger
        await forwarding.identify(f"t{second}@example.com")
        await forwarding.process()
        await forwarding.deliver()
    assert 1 <= len(forwarding.target.sent) <= 4  # not one call per change
    forwarding.clock.advance(60_000)
    await forwarding.deliver()
    assert sorted(forwarding.target.contacts) == sorted(f"t{s}@example.com" for s in range(10))


async def test_a_mapped_forms_submissions_go_to_its_hubspot_form(
    forwarding: Forwarding, client: httpx.AsyncClient
) -> None:
    form = Form(
        guid=new_guid(),
        portal_id=forwarding.portal.hub_id,
        name="Guide",
        fields=(
            FormField("email", "Email", FieldType.EMAIL, required=True),
            FormField("firstname", "First name", FieldType.TEXT),
            FormField("name", "Company", FieldType.TEXT, object_type=ObjectType.COMPANY),
        ),
    )
    target = destinations.FormTarget(form.guid, 555, "remote-form-guid", "https://forms.hs.test")

    async def setup(conn: Any) -> None:
        await forms.create_form(conn, form, forwarding.clock())
        await destinations.map_form(conn, forwarding.destination.id, target)

    await forwarding.app.runtime.db.write(setup)
    body = {
        "fields": [
            {"name": "email", "value": "ada@example.com"},
            {"name": "firstname", "value": "Ada"},
            {"objectTypeId": "0-2", "name": "name", "value": "Acme"},
        ],
        "context": {"hutk": "0123456789abcdef0123456789abcdef", "pageUri": "https://x.test/"},
    }
    path = f"/submissions/v3/integration/submit/{forwarding.portal.hub_id}/{form.guid}"
    assert (await client.post(path, json=body)).status_code == 200
    await forwarding.process()
    await forwarding.deliver()
    [sent] = [s for s in forwarding.target.sent if s.path.startswith("/submissions/")]
    assert (sent.host, sent.path) == (
        "forms.hs.test",
        "/submissions/v3/integration/secure/submit/555/remote-form-guid",
    )
    assert sent.body["fields"] == [
        {"objectTypeId": "0-1", "name": "email", "value": "ada@example.com"},
        {"objectTypeId": "0-1", "name": "firstname", "value": "Ada"},
        {"objectTypeId": "0-2", "name": "name", "value": "Acme"},
    ]
    assert sent.body["context"] == {
        "hutk": "0123456789abcdef0123456789abcdef",
        "pageUri": "https://x.test/",
    }
    assert UPSERT in forwarding.target.paths()  # the contact change goes too
    assert await forwarding.rows() == []


async def test_an_unmapped_forms_submissions_are_only_contact_changes(
    forwarding: Forwarding,
    client: httpx.AsyncClient,
) -> None:
    form = Form(
        guid=new_guid(),
        portal_id=forwarding.portal.hub_id,
        name="Plain",
        fields=(FormField("email", "Email", FieldType.EMAIL, required=True),),
    )
    await forwarding.app.runtime.db.write(lambda c: forms.create_form(c, form, forwarding.clock()))
    path = f"/submissions/v3/integration/submit/{forwarding.portal.hub_id}/{form.guid}"
    body = {"fields": [{"name": "email", "value": "lin@example.com"}]}
    assert (await client.post(path, json=body)).status_code == 200
    await forwarding.process()
    assert [r.kind for r in await forwarding.rows()] == [Kind.CONTACT]
