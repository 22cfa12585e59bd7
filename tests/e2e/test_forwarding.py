"""Forwarding end to end: one real `hubtrail serve` forwards what it records to another one.

The source (SQLite or PostgreSQL) is sent Segment identifies and tracks; its destination points at
a second `hubtrail serve` (SQLite) standing in for HubSpot, which emulates HubSpot's rate limiter
at 10 requests a second for the destination's token. What reaches the target is read back with
`hubtrail export` (exact counts, and every event on the right contact); how it got there, from the
source's `hubtrail deliveries status --json`. The second test runs the forwarder in a separate
`hubtrail worker`, SIGKILLs it mid-run and starts another: nothing is lost and nothing doubled.
"""

from __future__ import annotations

import base64
import math
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import Database
from tests.servers import cli, free_port, server_env, start_server, stop_server

pytestmark = pytest.mark.e2e

EVENT = "Order Completed"
DEADLINE_S = 240.0  # generous: a slow CI box still finishes; never asserted as a duration
# The fewest calls the endpoints allow beyond the batches: the event definition looked up (404)
# and created, with the event's properties, before the first event batch.
DEFINITION_CALLS = 2


@dataclass
class Portal:
    """A running server and one portal on it."""

    database: Database
    url: str
    process: subprocess.Popen[bytes]
    hub_id: int
    access_token: str
    write_key: str


def create_portal(database: Database, name: str) -> dict[str, Any]:
    created: dict[str, Any] = orjson.loads(cli(database, "portal", "create", name, "--json"))
    return created


def serve(database: Database, created: dict[str, Any], **env: str) -> Portal:
    port = free_port()
    process = start_server(database, port, **env)
    return Portal(
        database,
        f"http://127.0.0.1:{port}",
        process,
        created["hub_id"],
        created["access_token"],
        created["write_key"],
    )


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Portal]:
    """The stand-in for HubSpot: SQLite, rate-limit emulation at 10 requests per second."""
    database = Database(f"sqlite:///{tmp_path / 'target.db'}")
    created = create_portal(database, "Target")
    cli(
        database,
        "portal",
        "set",
        str(created["hub_id"]),
        "--rate-limit-emulation",
        "--rate-limit-interval-ms",
        "1000",
        "--rate-limit-max-per-interval",
        "10",
    )
    portal = serve(database, created)
    try:
        yield portal
    finally:
        stop_server(portal.process)


def add_destination(source: Database, hub_id: int, target: Portal, rate_per_s: float) -> None:
    cli(
        source,
        "destination",
        "add",
        "hubspot",
        "--portal",
        str(hub_id),
        "--token",
        target.access_token,
        "--base-url",
        target.url,
        "--rate-per-s",
        str(rate_per_s),
        "--daily-budget",
        "40000",
    )


def send_people(url: str, write_key: str, count: int) -> None:
    """`count` identifies (one contact each), then one order per person, in `/v1/batch`es of
    100 as Segment's libraries send them; every message with its own `messageId`."""
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    identifies = [
        {
            "type": "identify",
            "messageId": f"identify-{i}",
            "userId": f"user-{i}",
            "traits": {"email": f"person{i}@example.com", "firstName": f"Person {i}"},
        }
        for i in range(count)
    ]
    tracks = [
        {
            "type": "track",
            "messageId": f"order-{i}",
            "userId": f"user-{i}",
            "event": EVENT,
            "properties": {"order_id": f"o-{i}", "plan": ("pro", "team")[i % 2]},
        }
        for i in range(count)
    ]
    with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
        for messages in (identifies, tracks):
            for start in range(0, count, 100):
                response = client.post(
                    "/v1/batch",
                    json={"batch": messages[start : start + 100]},
                    headers={"Authorization": f"Basic {auth}"},
                )
                assert response.status_code == 200, response.text


class TargetReader:
    """Counts what reached the target. The CRM search runs with a token of its own: the
    emulated limit counts per token, so reading never spends the destination's allowance."""

    def __init__(self, target: Portal) -> None:
        self.target = target
        token = cli(target.database, "token", "create", "--portal", str(target.hub_id)).strip()
        self.crm = httpx.Client(
            base_url=target.url,
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=30,
        )

    def contact_total(self) -> int:
        found = self.crm.post("/crm/v3/objects/contacts/search", json={"limit": 1})
        assert found.status_code == 200, found.text
        return int(found.json()["total"])

    def export(self, kind: str) -> list[dict[str, Any]]:
        lines = cli(self.target.database, "export", kind, "--portal", str(self.target.hub_id))
        return [orjson.loads(line) for line in lines.splitlines()]

    def wait_for(self, contacts: int, events: int) -> None:
        """Poll until the target holds at least this many contacts and events."""
        until = time.monotonic() + DEADLINE_S
        while time.monotonic() < until:
            if self.contact_total() >= contacts and len(self.export("events")) >= events:
                return
            time.sleep(1)  # polling other processes, not waiting for time to pass
        raise AssertionError(
            f"the target has {self.contact_total()} contacts and {len(self.export('events'))} "
            f"events, not {contacts} and {events}, after {DEADLINE_S:.0f} s"
        )


def status(source: Database) -> dict[str, Any]:
    [row] = orjson.loads(cli(source, "deliveries", "status", "--json"))
    found: dict[str, Any] = row
    return found


def settled(source: Database) -> dict[str, Any]:
    """The source's delivery status once nothing is queued (its counters are final)."""
    until = time.monotonic() + DEADLINE_S
    while (row := status(source))["queued"] and time.monotonic() < until:
        time.sleep(0.5)  # polling the forwarder's process
    return row


def assert_delivered_once(reader: TargetReader, count: int) -> None:
    """Exactly one contact per person and one event per order on the target, each event on the
    contact of the person who placed it."""
    contacts = reader.export("contacts")
    emails = sorted(c["properties"]["email"] for c in contacts)
    assert emails == sorted(f"person{i}@example.com" for i in range(count))
    email_of = {c["id"]: c["properties"]["email"] for c in contacts}
    events = reader.export("events")
    assert len(events) == count
    placed = {e["properties"]["order_id"]: email_of.get(str(e["contactId"])) for e in events}
    assert placed == {f"o-{i}": f"person{i}@example.com" for i in range(count)}
    assert {e["properties"]["plan"] for e in events} == {"pro", "team"}


def fewest_calls(count: int) -> int:
    """Contacts in upserts of 100, events in sends of 500, and the definition."""
    return math.ceil(count / 100) + math.ceil(count / 500) + DEFINITION_CALLS


def test_forwards_everything_once_within_the_targets_rate_limit(
    database: Database, target: Portal
) -> None:
    count = 5_000
    created = create_portal(database, "Source")
    add_destination(database, created["hub_id"], target, rate_per_s=10)
    source = serve(database, created)
    reader = TargetReader(target)
    try:
        send_people(source.url, source.write_key, count)
        reader.wait_for(contacts=count, events=count)
        row = settled(database)
    finally:
        stop_server(source.process)
    print("STATUS", row)
    assert_delivered_once(reader, count)
    assert row["queued"] == 0
    assert row["dead"] == 0
    # Paced by its bucket and the target's X-HubSpot-RateLimit-* headers, the forwarder is never
    # answered 429 (one is allowed for the very first window, before any header was seen).
    assert row["throttled"] <= 1, row
    # Near the fewest calls possible: a part-filled batch goes only after lingering, so a few
    # extra calls come from batches cut where ingestion and processing paused (at most one per
    # kind and per processor pause), never one call per change. +8 is that margin.
    assert fewest_calls(count) <= row["calls"] <= fewest_calls(count) + 8, row


def start_worker(database: Database, **env: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "hubtrail", "worker", "--database-url", database.url]
    return subprocess.Popen(command, env=server_env(database, **env))


def wait_until(read: Callable[[], int], done: Callable[[int], bool], what: str) -> int:
    until = time.monotonic() + DEADLINE_S
    while time.monotonic() < until:
        value = read()
        if done(value):
            return value
        time.sleep(0.1)  # polling other processes
    raise AssertionError(f"{what}: still {read()} after {DEADLINE_S:.0f} s")


def test_a_worker_killed_mid_send_loses_and_doubles_nothing(
    database: Database, target: Portal
) -> None:
    count = 1_500
    created = create_portal(database, "Source")
    # Three calls a second: the 15 contact upserts take ~5 s, a wide window to kill the worker in.
    add_destination(database, created["hub_id"], target, rate_per_s=3)
    source = serve(database, created, HUBTRAIL_FORWARD_IN_SERVER="false")
    worker_env = {"HUBTRAIL_FORWARD_LEASE_S": "2"}  # the next worker takes over 2 s after a kill
    worker = start_worker(database, **worker_env)
    reader = TargetReader(target)
    try:
        send_people(source.url, source.write_key, count)
        reached = wait_until(reader.contact_total, lambda n: n > 0, "contacts on the target")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        assert reached < count, "the worker finished before it could be killed"
        at_kill = reader.contact_total()
        assert at_kill < count
        worker = start_worker(database, **worker_env)
        reader.wait_for(contacts=count, events=count)
        row = settled(database)
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        stop_server(source.process)
    print("STATUS", row)
    assert_delivered_once(reader, count)
    assert row["queued"] == 0
    assert row["dead"] == 0
