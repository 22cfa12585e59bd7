"""Forwarding tests: a fake HubSpot behind `httpx.MockTransport`, a fake clock, and helpers to
make changes through the real ingestion paths and step the processor and forwarder by hand."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.forward.engine import Forwarder
from hubtrail.process.processor import now_ms
from hubtrail.store import destinations, outbox
from hubtrail.store.destinations import DEFAULT_SENDS, Destination, Sends
from tests.conftest import PortalKeys

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Milliseconds that move only when the code under test sleeps (or a test says so)."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.slept_ms: list[int] = []

    def __call__(self) -> int:
        return self.now_ms

    async def sleep(self, seconds: float) -> None:
        step = max(1, round(seconds * 1000))
        self.slept_ms.append(step)
        self.now_ms += step

    def advance(self, ms: int) -> None:
        self.now_ms += ms


@dataclass
class Sent:
    method: str
    path: str
    body: Any
    at_ms: int
    host: str = ""


@dataclass
class FakeHubSpot:
    """Answers like HubSpot unless a test queues other answers (`answers`, per path, in order).

    Upserts, creates and searches keep ids so later calls (associations) can use them."""

    clock: FakeClock
    sent: list[Sent] = field(default_factory=list)
    answers: dict[str, list[Handler]] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)  # email → id
    companies: dict[str, str] = field(default_factory=dict)  # domain → id
    definitions: dict[str, set[str]] = field(default_factory=dict)
    next_id: int = 9000

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content) if request.content else None
        self.sent.append(
            Sent(request.method, request.url.path, body, self.clock.now_ms, request.url.host)
        )
        queued = self.answers.get(request.url.path)
        if queued:
            return queued.pop(0)(request)
        return self.answer(request.method, request.url.path, body)

    def paths(self) -> list[str]:
        return [s.path for s in self.sent]

    def _id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def answer(self, method: str, path: str, body: Any) -> httpx.Response:
        if path.endswith("/contacts/batch/upsert"):
            results = []
            for item in body["inputs"]:
                email = item["id"].lower()
                new = email not in self.contacts
                self.contacts.setdefault(email, self._id())
                props = {**item["properties"], "email": email}
                results.append({"id": self.contacts[email], "properties": props, "new": new})
            return httpx.Response(200, json={"status": "COMPLETE", "results": results})
        if path.endswith("/search"):
            name = body["filterGroups"][0]["filters"][0]["propertyName"]
            values = body["filterGroups"][0]["filters"][0]["values"]
            known = self.contacts if name == "email" else self.companies
            results = [{"id": known[v], "properties": {name: v}} for v in values if v in known]
            return httpx.Response(200, json={"total": len(results), "results": results})
        if path.endswith("/batch/create"):
            contacts = "/contacts/" in path
            known, key_name = (self.contacts, "email") if contacts else (self.companies, "domain")
            results = []
            for item in body["inputs"]:
                new_id = self._id()
                known[item["properties"].get(key_name) or f"#{new_id}"] = new_id
                results.append(
                    {
                        "id": new_id,
                        "properties": item["properties"],
                        "objectWriteTraceId": item["objectWriteTraceId"],
                    }
                )
            return httpx.Response(201, json={"status": "COMPLETE", "results": results})
        if path.endswith("/batch/update"):
            for item in body["inputs"]:
                if "/contacts/" in path and item["properties"].get("email"):
                    self.contacts[item["properties"]["email"].lower()] = item["id"]
            return httpx.Response(200, json={"status": "COMPLETE", "results": body["inputs"]})
        if path.endswith(("/batch/archive", "/gdpr-delete")):
            return httpx.Response(204)
        if path.endswith("/merge"):
            return httpx.Response(200, json={"id": body["primaryObjectId"], "properties": {}})
        if "/associations/" in path:
            return httpx.Response(200, json={"status": "COMPLETE", "results": []})
        if path.startswith("/events/v3/event-definitions"):
            return self._definitions(method, path, body)
        if path == "/events/v3/send/batch":
            return httpx.Response(204)
        if path.startswith("/submissions/v3/integration/secure/submit/"):
            return httpx.Response(200, json={"inlineMessage": "Thanks"})
        return httpx.Response(404, json={"status": "error", "message": f"no route {path}"})

    def _definitions(self, method: str, path: str, body: Any) -> httpx.Response:
        parts = path.split("/")[4:]  # after /events/v3/event-definitions
        if method == "GET":
            if parts[0] not in self.definitions:
                return httpx.Response(404, json={"status": "error", "message": "not found"})
            return httpx.Response(200, json=self._definition(parts[0]))
        if parts:  # …/{name}/property
            self.definitions[parts[0]].add(body["name"])
            return httpx.Response(201, json={"name": body["name"]})
        self.definitions[body["name"]] = {p["name"] for p in body["propertyDefinitions"]}
        return httpx.Response(201, json=self._definition(body["name"]))

    def _definition(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "fullyQualifiedName": f"pe777_{name}",
            "properties": [{"name": p} for p in sorted(self.definitions[name])],
        }


def status(code: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(code, json=body, headers=headers)


def network_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@dataclass
class Forwarding:
    """One portal with one destination, its fake target, clock and forwarder."""

    app: HubtrailApp
    portal: PortalKeys
    clock: FakeClock
    target: FakeHubSpot
    forwarder: Forwarder
    destination: Destination

    async def identify(self, email: str, user_id: str | None = None, **traits: Any) -> None:
        await self.segment(
            "identify",
            userId=user_id or email,
            traits={"email": email, **traits},
        )

    async def segment(self, kind: str, **message: Any) -> None:
        token = base64.b64encode(f"{self.portal.write_key}:".encode()).decode()
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                f"/v1/{kind}",
                json={"timestamp": "2026-11-30T10:00:00.000Z", **message},
                headers={"Authorization": f"Basic {token}"},
            )
        assert response.status_code == 200, response.text

    async def process(self) -> None:
        await self.app.runtime.processor.drain()

    async def deliver(self, linger: bool = True) -> None:
        """Send everything due, letting part-filled batches linger out first."""
        self.clock.now_ms = max(self.clock.now_ms, now_ms())  # rows carry real time
        if linger:
            self.clock.advance(int(self.app.runtime.settings.forward_linger_ms) + 1)
        await self.forwarder.drain(self.destination.id)

    async def rows(self) -> list[outbox.Row]:
        from sqlalchemy import select

        from hubtrail.store.schema import outbox as table

        async def read(conn: Any) -> list[outbox.Row]:
            found = await conn.execute(select(table).order_by(table.c.id))
            return [outbox._row(row) for row in found]

        return await self.app.runtime.db.read(read)

    async def state(self) -> Destination:
        found = await self.app.runtime.db.read(lambda c: destinations.get(c, self.destination.id))
        assert found is not None
        return found


async def add_destination(
    app: HubtrailApp,
    portal: PortalKeys,
    at_ms: int,
    sends: frozenset[Sends] = frozenset(DEFAULT_SENDS),
    **options: Any,
) -> Destination:
    # a budget large enough that spreading it over the day never holds a part-filled batch
    values = {"rate_per_s": 10.0, "daily_budget": 10_000_000, **options}

    async def run(conn: Any) -> Destination:
        return await destinations.add(
            conn,
            portal.hub_id,
            base_url="https://hubspot.test",
            token="pat-target",
            sends=sends,
            at_ms=at_ms,
            **values,
        )

    return await app.runtime.db.write(run)


@pytest.fixture
async def forwarding(app: HubtrailApp, portal: PortalKeys) -> Forwarding:
    clock = FakeClock(now_ms())  # the processor stamps rows with real time
    target = FakeHubSpot(clock)
    destination = await add_destination(app, portal, clock())
    forwarder = Forwarder(
        app.runtime.db,
        app.runtime.settings,
        app.runtime.metrics,
        clock_ms=clock,
        transport=httpx.MockTransport(target),
        sleep=clock.sleep,
        owner="test-worker",
    )
    return Forwarding(app, portal, clock, target, forwarder, destination)
