"""Forwarding end to end: one real `hubtrail serve` forwards what it records to another one.

The source (SQLite or PostgreSQL) is sent Segment identifies and tracks; its destination points at
a second `hubtrail serve` (SQLite) standing in for HubSpot, which emulates HubSpot's rate limiter
for the destination's token. What reached the target is read back with `hubtrail export`: exactly
one contact per person and one event per order, each event on its person's contact. How it got
there comes from the source's `hubtrail deliveries status --json`.

The first test lets a backlog build while forwarding is off (as during an outage of the target),
then starts the forwarder inside `hubtrail serve`: it drains the backlog at full speed, in full
batches, against a limit of 10 requests a second, and is never answered 429. The second runs
the forwarder in a separate `hubtrail worker` while the changes arrive, SIGKILLs it with a batch
in flight and starts another: nothing is lost and nothing doubled.
"""

from __future__ import annotations

import asyncio
import base64
import math
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from hubtrail.store import outbox
from hubtrail.store.db import Database as Store
from tests.conftest import Database, make_settings
from tests.servers import cli, free_port, server_env, start_server, stop_server

pytestmark = pytest.mark.e2e

# People (an identify and an order each) per test. The source's processor, not the forwarder, is
# what takes time here (Segment identifies apply at some tens a second on PostgreSQL and ~100/s
# on SQLite, on an idle 2-core box: `bench/process.py`), so the counts are as small as still
# shows the behaviour: the backlog is 16 calls at 10 a second, more than the target's one-second
# window takes.
BACKLOG_PEOPLE = 1_000
KILLED_PEOPLE = 400
EVENT = "Order Completed"
DEADLINE_S = 600.0  # generous, for a slow or busy box; a deadline to give up, never an assertion
# Before the first event batch the definition is looked up on the target (404), then created with
# every property the orders carry (order_id, plan) in the same call.
DEFINITION_CALLS = 2
T = TypeVar("T")
_METRIC = re.compile(r"^(\w+)(?:\{[^}]*\})? (\S+)$", re.MULTILINE)


@dataclass
class Server:
    """A running `hubtrail serve` and one portal on it."""

    database: Database
    url: str
    process: subprocess.Popen[bytes]
    hub_id: int
    access_token: str
    write_key: str

    def metric(self, name: str) -> float:
        """The sum of a Prometheus metric over its labels."""
        text = httpx.get(self.url + "/metrics", trust_env=False, timeout=30).text
        return sum(float(value) for found, value in _METRIC.findall(text) if found == name)


def create_portal(database: Database, name: str) -> dict[str, Any]:
    created: dict[str, Any] = orjson.loads(cli(database, "portal", "create", name, "--json"))
    return created


def serve(database: Database, created: dict[str, Any], **env: str) -> Server:
    port = free_port()
    process = start_server(database, port, **env)
    return Server(
        database,
        f"http://127.0.0.1:{port}",
        process,
        created["hub_id"],
        created["access_token"],
        created["write_key"],
    )


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Server]:
    """The stand-in for HubSpot: SQLite, rate-limit emulation at 10 requests a second."""
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
    server = serve(database, created)
    try:
        yield server
    finally:
        stop_server(server.process)


def add_destination(source: Database, hub_id: int, target: Server, rate_per_s: float) -> None:
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
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    identifies = [
        {
            "type": "identify",
            "messageId": f"identify-{i}",
            "userId": f"user-{i}",
            "traits": {"email": f"person{i}@example.com", "firstName": f"Person {i}"},
        }
        for i in range(count)
    ]
    orders = [
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
        for messages in (identifies, orders):
            for start in range(0, count, 100):
                batch = {"batch": messages[start : start + 100]}
                response = client.post("/v1/batch", json=batch, headers=auth)
                assert response.status_code == 200, response.text


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Poll another process until `done`; fail, saying what was last seen, at the deadline."""
    until = time.monotonic() + DEADLINE_S
    while time.monotonic() < until:
        value = read()
        if done(value):
            return value
        time.sleep(0.1)  # polling other processes, not waiting for time to pass
    raise AssertionError(f"{what}: still {read()} after {DEADLINE_S:.0f} s")


class TargetReader:
    """What reached the target. The CRM search uses a token of its own: the emulated limit
    counts per token, so reading never spends the destination's allowance."""

    def __init__(self, target: Server) -> None:
        self.target = target
        token = cli(target.database, "token", "create", "--portal", str(target.hub_id)).strip()
        self.crm = httpx.Client(
            base_url=target.url,
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=30,
        )

    def contact_total(self) -> int:
        """The target's contact count (0 while polling faster than its emulated limit allows:
        the reader's token has 10 requests a second like any other)."""
        found = self.crm.post("/crm/v3/objects/contacts/search", json={"limit": 1})
        if found.status_code == 429:
            return 0
        assert found.status_code == 200, found.text
        return int(found.json()["total"])

    def events_applied(self) -> float:
        """Event occurrences the target's processor has applied (the target's inbox keeps one
        message per `uuid`, so an event sent twice is applied once)."""
        return self.target.metric("hubtrail_messages_processed_total")

    def wait_for(self, count: int) -> None:
        eventually(self.contact_total, lambda n: n >= count, "contacts on the target")
        eventually(self.events_applied, lambda n: n >= count, "events applied on the target")

    def export(self, kind: str) -> list[dict[str, Any]]:
        lines = cli(self.target.database, "export", kind, "--portal", str(self.target.hub_id))
        return [orjson.loads(line) for line in lines.splitlines()]


def status(source: Database) -> dict[str, Any]:
    [row] = orjson.loads(cli(source, "deliveries", "status", "--json"))
    found: dict[str, Any] = row
    return found


def settled(source: Database) -> dict[str, Any]:
    """The source's delivery status once nothing is queued (its counters are final then)."""
    until = time.monotonic() + DEADLINE_S
    while (row := status(source))["queued"] and time.monotonic() < until:
        time.sleep(0.5)  # polling the forwarder's process
    return row


def assert_delivered_once(reader: TargetReader, count: int) -> None:
    """Exactly one contact per person and one event per order on the target, each event on the
    contact of the person who placed it, with its properties."""
    contacts = reader.export("contacts")
    names = sorted((c["properties"]["email"], c["properties"].get("firstname")) for c in contacts)
    assert names == sorted((f"person{i}@example.com", f"Person {i}") for i in range(count))
    email_of = {c["id"]: c["properties"]["email"] for c in contacts}
    events = reader.export("events")
    assert len(events) == count
    placed = {e["properties"]["order_id"]: email_of.get(e["contactId"]) for e in events}
    assert placed == {f"o-{i}": f"person{i}@example.com" for i in range(count)}
    assert sorted(e["properties"]["plan"] for e in events) == sorted(
        ("pro", "team")[i % 2] for i in range(count)
    )


def fewest_calls(count: int) -> int:
    """Contacts in upserts of 100, events in sends of 500, and the event's definition."""
    return math.ceil(count / 100) + math.ceil(count / 500) + DEFINITION_CALLS


def test_a_backlog_drains_in_full_batches_within_the_targets_rate_limit(
    database: Database, target: Server
) -> None:
    count = BACKLOG_PEOPLE
    created = create_portal(database, "Source")
    add_destination(database, created["hub_id"], target, rate_per_s=10)
    reader = TargetReader(target)
    # The backlog: every change applied and queued on the outbox while nothing forwards.
    source = serve(database, created, HUBTRAIL_FORWARD_IN_SERVER="false")
    try:
        send_people(source.url, source.write_key, count)
        eventually(
            lambda: source.metric("hubtrail_messages_processed_total"),
            lambda n: n >= 2 * count,
            "messages applied on the source",
        )
    finally:
        stop_server(source.process)
    assert status(database)["queued"] == 2 * count  # one outbox row per contact and per event
    assert reader.contact_total() == 0

    source = serve(database, created)  # the forwarder runs inside the server (the default)
    try:
        reader.wait_for(count)
        row = settled(database)
    finally:
        stop_server(source.process)
    assert_delivered_once(reader, count)
    assert (row["queued"], row["dead"], row["sent"]) == (0, 0, 2 * count), row
    # Paced by its bucket and the target's X-HubSpot-RateLimit-* headers, the forwarder is not
    # answered 429. One is tolerated: until the first answer's headers arrive only the bucket
    # paces the calls, and the network can bunch two of them into one window.
    assert row["throttled"] <= 1, row
    # Every batch full: the fewest calls there can be, plus the call a 429 made again.
    assert fewest_calls(count) <= row["calls"] <= fewest_calls(count) + row["throttled"], row


def start_worker(database: Database, log: Path) -> subprocess.Popen[bytes]:
    """`hubtrail worker` (processor and forwarder), its log appended to `log`; a lease of 2 s,
    so a successor takes over 2 s after a kill instead of the default minute."""
    command = [sys.executable, "-m", "hubtrail", "worker", "--database-url", database.url]
    env = server_env(database, HUBTRAIL_FORWARD_LEASE_S="5", HUBTRAIL_FORWARD_TIMEOUT_S="3")
    with log.open("ab") as stderr:
        return subprocess.Popen(command, env=env, stderr=stderr)


def in_flight(database: Database) -> int:
    """Outbox rows a forwarder has marked in flight (taken, not yet settled)."""

    async def read() -> int:
        store = Store(make_settings(database))
        try:
            counts = await store.read(outbox.counts)
        finally:
            await store.close()
        return sum(c.inflight for c in counts.values())

    return asyncio.run(read())


def test_a_worker_killed_mid_send_loses_and_doubles_nothing(
    database: Database, target: Server, tmp_path: Path
) -> None:
    count = KILLED_PEOPLE
    created = create_portal(database, "Source")
    # One call a second: each batch waits about a second for its token while in flight, so a
    # kill nearly always finds rows in flight (the loop below kills again when it did not).
    add_destination(database, created["hub_id"], target, rate_per_s=1)
    reader = TargetReader(target)
    source = serve(database, created, HUBTRAIL_FORWARD_IN_SERVER="false")
    log = tmp_path / "workers.log"
    worker = start_worker(database, log)
    try:
        send_people(source.url, source.write_key, count)
        killed_in_flight = 0
        for _ in range(5):
            eventually(
                lambda: (reader.contact_total(), in_flight(database)),
                lambda seen: seen[0] > 0 and seen[1] > 0,
                "(contacts on the target, rows in flight)",
            )
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
            killed_in_flight, at_kill = in_flight(database), reader.contact_total()
            worker = start_worker(database, log)
            if killed_in_flight:
                break
        assert killed_in_flight, "no kill caught a batch in flight"
        assert at_kill < count, "the worker had sent every contact before it was killed"
        reader.wait_for(count)
        row = settled(database)
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        stop_server(source.process)
    assert_delivered_once(reader, count)
    # The rows in flight at the kill went back to the queue and were sent again, by the next
    # worker once the lease ran out; the target took them as the same contacts (upsert by
    # email) or events (same uuid), and each row counts as sent once.
    assert f"{killed_in_flight} rows resent after a stop" in log.read_text()
    assert (row["queued"], row["dead"], row["sent"]) == (0, 0, 2 * count), row
