"""The live debugger: the page's latest messages with what processing did, its filters, the
Server-Sent Events stream, and CRM API writes listed beside ingested messages."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.store.inbox_views import InboxEntry
from hubtrail.web.dashboard import debugger
from hubtrail.web.dashboard.debugger import Follower
from tests.conftest import PortalKeys
from tests.web.conftest import Dashboard

XSS = "<img src=x onerror=alert(1)>"


async def segment(app: HubtrailApp, portal: PortalKeys, kind: str, **body: Any) -> None:
    token = base64.b64encode(f"{portal.write_key}:".encode()).decode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            f"/v1/{kind}", json=body, headers={"Authorization": f"Basic {token}"}
        )
    assert response.status_code == 200, response.text


async def crm(
    app: HubtrailApp, portal: PortalKeys, method: str, path: str, body: Any
) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {portal.access_token}"}
        )
    assert response.status_code in (200, 201), response.text
    found: dict[str, Any] = response.json()
    return found


def rows(page: str) -> list[str]:
    """The page's message rows, newest first."""
    listed = page.split('id="debugger-stream"', 1)[1].split("</section>", 1)[0]
    return listed.split('<li class="msg"')[1:]


# --- the page -----------------------------------------------------------------------------------


async def test_page_lists_messages_with_what_processing_did(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    empty = await dashboard.page("/debugger")
    assert "No messages yet" in empty.text

    await segment(
        app,
        portal,
        "identify",
        userId="u1",
        traits={"email": "ann@example.com", "firstName": XSS, "shoe size": 42},
    )
    await segment(app, portal, "track", userId="u1", event="Signed Up", properties={"plan": "pro"})
    await app.runtime.processor.drain()

    page = (await dashboard.page("/debugger")).text
    track, identify = rows(page)
    assert "Signed Up" in track
    assert 'data-source="segment"' in track
    assert 'data-kind="identify"' in identify
    assert "ann@example.com" in identify
    assert "Contact created" in identify
    contact = re.search(rf'href="/app/{portal.hub_id}/contacts/(\d+)"', identify)
    assert contact, identify
    assert "partial" in identify  # the dropped trait is a note
    assert "PROPERTY_DOESNT_EXIST" in identify
    assert "shoe_size" in identify
    assert "1 note" in identify
    assert "firstname" in identify  # among the properties written
    # The payload is shown pretty-printed, and a trait's markup stays text.
    assert "<pre>{\n" in identify
    assert "&lt;img src=x onerror=alert(1)&gt;" in identify
    assert XSS not in page
    # The stream's starting point is on the page for the script.
    assert re.search(r'data-stream="/app/\d+/debugger/stream\?after=\d+"', page)


async def test_filters_by_source_type_and_text(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    await segment(app, portal, "identify", userId="u2", traits={"email": "bo@example.com"})
    await segment(app, portal, "track", userId="u2", event="Checkout Started")
    await segment(app, portal, "page", userId="u2", properties={"url": "https://shop.test/cart"})
    await crm(app, portal, "POST", "/crm/v3/objects/contacts", {"properties": {"email": "c@x.io"}})
    await app.runtime.processor.drain()

    everything = rows((await dashboard.page("/debugger")).text)
    assert len(everything) == 4

    by_source = rows((await dashboard.page("/debugger", source="crm_api")).text)
    assert len(by_source) == 1
    assert "c@x.io" in by_source[0]

    by_kind = rows((await dashboard.page("/debugger", kind="page")).text)
    assert len(by_kind) == 1
    assert "https://shop.test/cart" in by_kind[0]

    by_text = rows((await dashboard.page("/debugger", q="CHECKOUT started")).text)
    assert len(by_text) == 1
    assert "Checkout Started" in by_text[0]

    nothing = await dashboard.page("/debugger", source="segment", q="no such text")
    assert rows(nothing.text) == []
    assert "matches these filters" in nothing.text

    unknown = await dashboard.page("/debugger", source="nonsense", kind="<b>")
    assert len(rows(unknown.text)) == 4  # an unknown filter value is ignored


async def test_crm_api_writes_appear_with_source_crm_api(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    created = await crm(
        app,
        portal,
        "POST",
        "/crm/v3/objects/contacts",
        {"properties": {"email": "dee@example.com", "firstname": XSS}},
    )
    await crm(
        app,
        portal,
        "PATCH",
        f"/crm/v3/objects/contacts/{created['id']}",
        {"properties": {"lastname": "Doe"}},
    )
    company = await crm(
        app, portal, "POST", "/crm/v3/objects/companies", {"properties": {"domain": "acme.test"}}
    )
    await crm(
        app,
        portal,
        "POST",
        "/crm/v3/objects/contacts/batch/create",
        {"inputs": [{"properties": {"email": f"b{i}@example.com"}} for i in range(2)]},
    )

    page = (await dashboard.page("/debugger", source="crm_api")).text
    found = rows(page)
    assert len(found) == 5  # one per object written
    assert all("CRM API" in row for row in found)
    company_row, update_row, create_row = found[2], found[3], found[4]
    assert "Company created" in company_row
    assert "acme.test" in company_row
    assert f'href="/app/{portal.hub_id}/companies/{company["id"]}"' in company_row
    assert "Contact updated" in update_row
    assert "lastname" in update_row
    assert "Contact created" in create_row
    assert "dee@example.com" in create_row
    assert f'href="/app/{portal.hub_id}/contacts/{created["id"]}"' in create_row
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in create_row


async def test_gdpr_delete_removes_the_contacts_crm_api_writes(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    kept = await crm(app, portal, "POST", "/crm/v3/objects/contacts", {"properties": {}})
    gone = await crm(app, portal, "POST", "/crm/v3/objects/contacts", {"properties": {}})
    path = f"/crm/v3/objects/contacts/{gone['id']}"
    await crm(app, portal, "PATCH", path, {"properties": {"firstname": "Secret"}})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        deleted = await client.post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json={"objectId": gone["id"]},
            headers={"Authorization": f"Bearer {portal.access_token}"},
        )
    assert deleted.status_code == 204
    page = (await dashboard.page("/debugger")).text
    assert "Secret" not in page
    [left] = rows(page)
    assert f"contact {kept['id']}" in left


async def test_other_portals_messages_are_not_shown(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    from tests.conftest import create_portal

    other = await create_portal(app, "Other")
    await segment(app, other, "identify", userId="x", traits={"email": "other@example.com"})
    await app.runtime.processor.drain()
    page = (await dashboard.page("/debugger")).text
    assert "other@example.com" not in page
    stranger = await dashboard.client.get(f"/app/{other.hub_id}/debugger/stream")
    assert stranger.status_code == 404


# --- the stream ---------------------------------------------------------------------------------


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: asyncio.Queue[bytes | None], gone: asyncio.Event, task: Any):
        self._chunks = chunks
        self._gone = gone
        self.task = task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._chunks.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._gone.set()
        # The app must notice the client left and end the response on its own.
        await asyncio.wait_for(self.task, timeout=5)


class StreamingTransport(httpx.AsyncBaseTransport):
    """httpx's ASGITransport hands over a response only once the app finished it, which an
    event stream never does: this one passes each chunk on as the app sends it, and tells the
    app the client disconnected when the response is closed. It declares ASGI spec 2.4, so
    Starlette leaves noticing the disconnect to the endpoint itself."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[_Body] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        gone = asyncio.Event()
        started: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set_result(message)
            elif message["type"] == "http.response.body":
                await chunks.put(message.get("body", b""))
                if not message.get("more_body"):
                    await chunks.put(None)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        task = asyncio.create_task(self.app(scope, receive, send))
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            task.result()  # the app failed before answering: raise its error
        start = started.result()
        stream = _Body(chunks, gone, task)
        self.bodies.append(stream)
        headers = [(k.decode(), v.decode()) for k, v in start["headers"]]
        return httpx.Response(start["status"], headers=headers, stream=stream, request=request)


async def read_event(lines: AsyncIterator[str]) -> tuple[str, int, dict[str, Any]]:
    """The next event's type, id and data, skipping comments and the retry hint."""
    kind, event_id, data = "message", None, None
    async for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("data: "):
            data = orjson.loads(line[6:])
        elif line == "" and data is not None:
            assert event_id is not None
            return kind, event_id, data
    raise AssertionError("the stream ended")


async def next_event(lines: AsyncIterator[str]) -> tuple[int, dict[str, Any]]:
    """The next message event's id and data."""
    kind, event_id, data = await asyncio.wait_for(read_event(lines), timeout=10)
    assert kind == "message"
    return event_id, data


@pytest.fixture
def stream_client(dashboard: Dashboard, app: HubtrailApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=StreamingTransport(app),
        base_url="http://hubtrail.test",
        cookies=dashboard.client.cookies,
    )


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(debugger, "POLL_S", 0.02)


async def test_stream_sends_each_message_once_processed(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard, stream_client: httpx.AsyncClient
) -> None:
    await segment(app, portal, "identify", userId="old", traits={"email": "old@example.com"})
    await app.runtime.processor.drain()  # before the stream opened: not sent again
    url = dashboard.url("/debugger/stream")
    async with stream_client, stream_client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        lines = response.aiter_lines()
        await segment(
            app,
            portal,
            "identify",
            userId="u3",
            traits={"email": "eve@example.com", "favorite_color": XSS},
        )
        await app.runtime.processor.drain()
        event_id, data = await next_event(lines)
        assert data["source"] == "segment"
        assert data["source_label"] == "Segment"
        assert data["kind"] == "identify"
        assert data["summary"] == "eve@example.com"
        assert data["status"] == "partial"  # the unknown trait was dropped
        assert data["notes"][0]["field"] == "favorite_color"
        assert data["object"]["label"] == "Contact created"
        assert data["object"]["href"].startswith(f"/app/{portal.hub_id}/contacts/")
        assert XSS in data["payload"]  # data as JSON: the script puts it in with textContent
        assert event_id == data["seq"]

        await crm(
            app, portal, "POST", "/crm/v3/objects/contacts", {"properties": {"email": "f@x.io"}}
        )
        _, written = await next_event(lines)
        assert written["source_label"] == "CRM API"
        assert written["summary"] == "f@x.io"
    body = stream_client._transport.bodies[0]  # type: ignore[attr-defined]
    assert body.task.done()  # closing the response ended the endpoint


async def test_stream_resumes_after_last_event_id(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard, stream_client: httpx.AsyncClient
) -> None:
    page = (await dashboard.page("/debugger")).text
    start = int(re.search(r"stream\?after=(\d+)", page).group(1))  # type: ignore[union-attr]
    for name in ("one", "two"):
        await segment(app, portal, "track", userId="u4", event=name)
    await app.runtime.processor.drain()
    url = dashboard.url("/debugger/stream")
    async with stream_client:
        async with stream_client.stream("GET", url, params={"after": start}) as response:
            lines = response.aiter_lines()
            first_id, first = await next_event(lines)
            _, second = await next_event(lines)
        assert (first["summary"], second["summary"]) == ("one", "two")
        headers = {"Last-Event-ID": str(first_id)}
        async with stream_client.stream("GET", url, headers=headers) as response:
            _, resumed = await next_event(response.aiter_lines())
        assert resumed["summary"] == "two"


async def test_a_burst_shows_the_latest_messages_and_says_some_were_skipped(
    app: HubtrailApp,
    portal: PortalKeys,
    dashboard: Dashboard,
    stream_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(debugger, "MAX_EVENTS_PER_POLL", 3)
    page = (await dashboard.page("/debugger")).text
    start = re.search(r"stream\?after=(\d+)", page).group(1)  # type: ignore[union-attr]
    batch = [{"type": "track", "userId": "u5", "event": f"e{i}"} for i in range(8)]
    await segment(app, portal, "batch", batch=batch)
    await app.runtime.processor.drain()
    url = dashboard.url(f"/debugger/stream?after={start}")
    async with stream_client, stream_client.stream("GET", url) as r:
        lines = r.aiter_lines()
        shown = [(await next_event(lines))[1]["summary"] for _ in range(3)]
        kind, _, _ = await asyncio.wait_for(read_event(lines), timeout=10)
    assert shown == ["e5", "e6", "e7"]
    assert kind == "skipped"


async def test_stream_ends_after_its_lifetime(
    dashboard: Dashboard, stream_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(debugger, "STREAM_LIFETIME_S", 0.1)
    async with stream_client, stream_client.stream("GET", dashboard.url("/debugger/stream")) as r:
        text = await asyncio.wait_for(r.aread(), timeout=5)
    assert text.startswith(b"retry: ")


async def test_stream_needs_a_session(app: HubtrailApp, portal: PortalKeys) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubtrail.test") as client:
        response = await client.get(f"/app/{portal.hub_id}/debugger/stream")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# --- following the inbox ------------------------------------------------------------------------


def entry(seq: int, processed: bool, received_at_ms: int = 1_000_000) -> InboxEntry:
    return InboxEntry(seq, "segment", "track", received_at_ms, {}, 5 if processed else None, {})


def test_follower_sends_out_of_order_messages_once_and_waits_for_the_gap() -> None:
    follower = Follower(10)
    now = 1_000_500
    sent = follower.take([entry(11, True), entry(12, False), entry(13, True)], now)
    assert [(e.seq, resume) for e, resume in sent] == [(11, 11), (13, 11)]
    assert follower.cursor == 11
    again = follower.take([entry(12, True), entry(13, True), entry(14, True)], now)
    assert [e.seq for e, _ in again] == [12, 14]
    assert follower.cursor == 14
    assert follower.sent == set()


def test_follower_stops_waiting_for_a_message_left_unprocessed() -> None:
    follower = Follower(0)
    stuck = entry(1, False, received_at_ms=0)
    sent = follower.take([stuck, entry(2, True)], now_ms=debugger.STALE_PENDING_MS + 1)
    assert [e.seq for e, _ in sent] == [2]
    assert follower.cursor == 2


def test_follower_skips_ahead_only_forward() -> None:
    follower = Follower(5)
    follower.sent = {7, 9}
    assert follower.skip_to(8)
    assert follower.cursor == 8
    assert follower.sent == {9}
    assert not follower.skip_to(3)
    assert follower.cursor == 8
