"""The processor: identity linking, property history, failure isolation, rollback, concurrency."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import insert, select

from hubtrail.app import HubtrailApp
from hubtrail.config import Settings
from hubtrail.core.messages import Kind, Message, Source, new_message_id
from hubtrail.core.properties import ObjectType
from hubtrail.process.processor import MIN_CLAIM, next_claim_size
from hubtrail.runtime import Runtime
from hubtrail.store import contacts, inbox, properties
from hubtrail.store.schema import event_definitions, event_occurrences
from hubtrail.store.schema import inbox as inbox_table
from tests.conftest import PortalKeys
from tests.ingest.helpers import occurrences, outcomes, query


def track(portal_id: int, event: str, **kw: object) -> Message:
    return Message(
        message_id=new_message_id(),
        portal_id=portal_id,
        source=Source.EVENTS_API,
        kind=Kind.TRACK,
        received_at_ms=1,
        occurred_at_ms=1,
        event=event,
        **kw,  # type: ignore[arg-type]
    )


async def submit(app: HubtrailApp, *messages: Message) -> None:
    await app.runtime.committer.submit(list(messages))


async def test_property_history_keeps_each_change_with_time_and_source(
    app: HubtrailApp, portal: PortalKeys
) -> None:
    hub = portal.hub_id
    await submit(
        app, track(hub, "e", email="a@example.com", contact_properties={"firstname": "Ann"})
    )
    await app.runtime.processor.drain()
    await submit(
        app, track(hub, "e", email="a@example.com", contact_properties={"firstname": "Ann"})
    )
    await submit(
        app, track(hub, "e", email="a@example.com", contact_properties={"firstname": "Anna"})
    )
    await app.runtime.processor.drain()

    async def read(conn: object) -> list[tuple[str, int, str]]:
        contact = await contacts.find_by_email(conn, hub, "a@example.com")  # type: ignore[arg-type]
        assert contact is not None
        return await properties.history(conn, hub, ObjectType.CONTACT, contact.id, "firstname")  # type: ignore[arg-type]

    history = await app.runtime.db.read(read)  # type: ignore[arg-type]
    assert [(value, source) for value, _, source in history] == [
        ("Anna", "events_api"),
        ("Ann", "events_api"),
    ]
    assert all(at_ms > 1_600_000_000_000 for _, at_ms, _ in history)


async def test_anonymous_history_joins_the_contact_when_the_visitor_is_identified(
    app: HubtrailApp, portal: PortalKeys
) -> None:
    hub, utk = portal.hub_id, "b" * 32
    await submit(app, track(hub, "viewed_pricing", visitor_key=utk))
    await app.runtime.processor.drain()
    assert [o.contact_id for o in await occurrences(app, hub)] == [None]
    await submit(app, track(hub, "signed_up", visitor_key=utk, email="b@example.com"))
    await app.runtime.processor.drain()
    contact_ids = {o.contact_id for o in await occurrences(app, hub)}
    assert len(contact_ids) == 1
    assert None not in contact_ids


async def test_anonymous_event_in_the_same_batch_as_the_identify_joins_too(
    app: HubtrailApp, portal: PortalKeys
) -> None:
    hub, utk = portal.hub_id, "c" * 32
    await submit(
        app,
        track(hub, "viewed", visitor_key=utk),
        track(hub, "signed_up", visitor_key=utk, email="c@example.com"),
    )
    await app.runtime.processor.drain()
    assert len({o.contact_id for o in await occurrences(app, hub)} - {None}) == 1
    assert None not in {o.contact_id for o in await occurrences(app, hub)}


async def test_a_shared_browser_never_merges_two_people(
    app: HubtrailApp, portal: PortalKeys
) -> None:
    hub, utk = portal.hub_id, "d" * 32
    await submit(app, track(hub, "login", visitor_key=utk, email="a@example.com"))
    await submit(app, track(hub, "browse", visitor_key=utk))
    await app.runtime.processor.drain()
    await submit(app, track(hub, "login", visitor_key=utk, email="b@example.com"))
    await submit(app, track(hub, "browse", visitor_key=utk))
    await app.runtime.processor.drain()

    async def ids(conn: object) -> tuple[int, int]:
        a = await contacts.find_by_email(conn, hub, "a@example.com")  # type: ignore[arg-type]
        b = await contacts.find_by_email(conn, hub, "b@example.com")  # type: ignore[arg-type]
        assert a is not None
        assert b is not None
        return a.id, b.id

    a_id, b_id = await app.runtime.db.read(ids)  # type: ignore[arg-type]
    assert [o.contact_id for o in await occurrences(app, hub)] == [a_id, a_id, b_id, b_id]


async def test_a_message_that_cannot_be_applied_is_marked_failed_and_the_rest_go_on(
    app: HubtrailApp, portal: PortalKeys
) -> None:
    hub = portal.hub_id
    await submit(app, track(hub, "before"))

    async def poison(conn: object) -> None:
        row = {**inbox.inbox_row(track(hub, "x")), "payload": "{not json"}
        await conn.execute(insert(inbox_table).values(**row))  # type: ignore[attr-defined]

    await app.runtime.db.write(poison)  # type: ignore[arg-type]
    await submit(app, track(hub, "after"))
    assert await app.runtime.processor.drain() == 3
    statuses = [o["status"] for o in await outcomes(app)]
    assert statuses == ["applied", "failed", "applied"]
    assert "JSONDecodeError" in (await outcomes(app))[1]["error"]
    assert len(await occurrences(app, hub)) == 2


async def test_a_batch_that_fails_to_commit_is_applied_once_later(
    app: HubtrailApp, portal: PortalKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = portal.hub_id
    await submit(app, *(track(hub, "e", email=f"u{i}@example.com") for i in range(5)))
    real = inbox.mark_processed
    calls = []

    async def flaky(*args: object, **kw: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        await real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(inbox, "mark_processed", flaky)
    await app.runtime.processor.drain()
    assert len(await occurrences(app, hub)) == 5
    assert [o["status"] for o in await outcomes(app)] == ["applied"] * 5


async def test_two_processors_keep_each_visitors_order(
    settings: Settings, portal: PortalKeys
) -> None:
    """Two workers (separate pools) drain one inbox; each visitor's events stay in order."""
    hub = portal.hub_id
    first, second = Runtime(settings, run_processor=False), Runtime(settings, run_processor=False)
    await first.start()
    await second.start()
    try:
        messages = [
            track(hub, f"step_{step:03d}", visitor_key=f"{visitor:032x}")
            for step in range(30)
            for visitor in range(8)
        ]
        for start in range(0, len(messages), 40):
            await first.committer.submit(messages[start : start + 40])
        await asyncio.gather(first.processor.drain(), second.processor.drain())

        async def read(conn: object) -> list[object]:
            query_ = (
                select(event_occurrences.c.visitor_id, event_definitions.c.name)
                .join(
                    event_definitions, event_definitions.c.id == event_occurrences.c.definition_id
                )
                .order_by(event_occurrences.c.id)
            )
            return list((await conn.execute(query_)).all())  # type: ignore[attr-defined]

        rows = await first.db.read(read)  # type: ignore[arg-type]
    finally:
        await first.stop()
        await second.stop()
    assert len(rows) == 240
    per_visitor: dict[int, list[str]] = {}
    for visitor_id, name in rows:  # type: ignore[misc]
        per_visitor.setdefault(visitor_id, []).append(name)
    assert len(per_visitor) == 8
    for names in per_visitor.values():
        assert names == sorted(names)
        assert len(names) == 30


async def test_the_processor_task_applies_without_being_stepped(settings: Settings) -> None:
    from hubtrail.app import create_app
    from tests.conftest import create_portal

    application = create_app(settings, run_processor=True)
    async with application.lifespan():
        keys = await create_portal(application)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/v1/event", params={"_a": keys.hub_id, "_n": "auto"})
        for _ in range(500):
            if await occurrences(application, keys.hub_id):
                break
            await asyncio.sleep(0.01)
        assert len(await occurrences(application, keys.hub_id)) == 1
        rows = await query(application, select(inbox_table.c.processed_at_ms))
        assert rows[0].processed_at_ms is not None


def test_a_transaction_claims_about_what_the_last_one_got_through() -> None:
    # the slice ran out after 6 of 500: read 12 next time, not 500
    assert next_claim_size(claimed=500, applied=6, limit=500, batch_size=500) == 12
    # all 12 applied in time: claim twice as many, up to the batch size
    assert next_claim_size(claimed=12, applied=12, limit=12, batch_size=500) == 24
    assert next_claim_size(claimed=300, applied=300, limit=300, batch_size=500) == 500
    # a nearly empty inbox is no reason to shrink, and a slow message no reason to claim 1
    assert next_claim_size(claimed=3, applied=3, limit=200, batch_size=500) == 400
    assert next_claim_size(claimed=40, applied=1, limit=40, batch_size=500) == MIN_CLAIM
