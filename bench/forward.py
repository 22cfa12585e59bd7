"""Forwarding throughput: how close delivery to a HubSpot-compatible target comes to its rate.

Two `hubtrail serve` processes on SQLite files: a source with one destination (`--rate-per-s`,
default 10 calls a second) pointing at a target portal on the other (no rate-limit emulation, so
the destination's own pacing is the only limit). The source is sent N Segment identifies (one
contact each) and N tracks (one order each) through `/v1/batch`, 100 a request.

Two runs, each on fresh files:

- live: the forwarder runs inside the source server while the messages arrive; timed from the
  first send until the target holds all N contacts and N events (ingest, the source's processor
  and the forwarder together).
- backlog: the messages are applied with forwarding off (as during an outage of the target), then
  the source restarts with its forwarder; timed from then until everything is on the target (the
  forwarder alone).

The physical limit is the destination's rate times 100 contacts per upsert (and 500 events per
send); the ratio compares the contacts delivered per second with it. Calls per 1,000 changes come
from `hubtrail deliveries status` (the fewest possible: 10 per 1,000 contacts, 2 per 1,000 events,
plus the event definition's calls). The forwarder has one call in flight per destination, so
the target's own time to upsert 100 new contacts (measured before the drain, on a portal of its
own) bounds it too; that bound is printed beside the backlog's ratio. Prints; asserts nothing.
Run `.venv/bin/python -m bench.forward` (`--people`, `--rate-per-s`, `--runs live|backlog|both`).
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.ingest import free_port, stop, wait_ready

CONTACT_BATCH, EVENT_BATCH = 100, 500
DEFINITION_CALLS = 2  # looked up (404), then created with the order's properties
DEADLINE_S = 1800.0
_METRIC = re.compile(r"^(\w+)(?:\{[^}]*\})? (\S+)$", re.MULTILINE)


def hubtrail(db: Path, *args: str) -> str:
    """`hubtrail ARGS` on the SQLite file `db`; its stdout."""
    env = {
        **os.environ,
        "HUBTRAIL_DATABASE_URL": f"sqlite:///{db}",
        "HUBTRAIL_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "hubtrail", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"hubtrail {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@dataclass
class Server:
    db: Path
    url: str
    process: subprocess.Popen[bytes]

    def metric(self, name: str) -> float:
        text = httpx.get(self.url + "/metrics", trust_env=False, timeout=30).text
        return sum(float(value) for found, value in _METRIC.findall(text) if found == name)


def serve(db: Path, **extra_env: str) -> Server:
    env = {
        **os.environ,
        "HUBTRAIL_DATABASE_URL": f"sqlite:///{db}",
        "HUBTRAIL_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hubtrail", "serve", "--port", str(port)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/healthz", process)
    return Server(db, url, process)


def messages(people: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    identifies = [
        {
            "type": "identify",
            "messageId": f"identify-{i}",
            "userId": f"user-{i}",
            "traits": {"email": f"person{i}@example.com", "firstName": f"Person {i}"},
        }
        for i in range(people)
    ]
    orders = [
        {
            "type": "track",
            "messageId": f"order-{i}",
            "userId": f"user-{i}",
            "event": "Order Completed",
            "properties": {"order_id": f"o-{i}", "plan": ("pro", "team")[i % 2]},
        }
        for i in range(people)
    ]
    return identifies, orders


def send(url: str, write_key: str, people: int) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
        for batch in messages(people):
            for start in range(0, people, 100):
                body = {"batch": batch[start : start + 100]}
                response = client.post("/v1/batch", json=body, headers=auth)
                if response.status_code != 200:
                    raise SystemExit(f"/v1/batch refused: {response.status_code} {response.text}")


@dataclass
class Timings:
    contacts_s: float  # until the target held every contact
    all_s: float  # until it held every contact and every event
    applied_s: float | None  # live: until the source had applied every message
    calls: int
    sent: int
    throttled: int
    dead: int


class Pair:
    """A fresh target portal and a source portal whose destination points at it."""

    def __init__(self, tmp: Path, name: str, rate_per_s: float) -> None:
        self.target_db, self.source_db = tmp / f"{name}-target.db", tmp / f"{name}-source.db"
        target = orjson.loads(hubtrail(self.target_db, "portal", "create", "Target", "--json"))
        probe = orjson.loads(hubtrail(self.target_db, "portal", "create", "Probe", "--json"))
        self.target = serve(self.target_db)
        source = orjson.loads(hubtrail(self.source_db, "portal", "create", "Source", "--json"))
        self.write_key = source["write_key"]
        hubtrail(
            self.source_db,
            "destination",
            "add",
            "hubspot",
            "--portal",
            str(source["hub_id"]),
            "--token",
            target["access_token"],
            "--base-url",
            self.target.url,
            "--rate-per-s",
            str(rate_per_s),
        )
        self.crm = self._client(target["access_token"])
        self.probe = self._client(probe["access_token"])

    def _client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.target.url,
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=60,
        )

    def upsert_latency_s(self, tries: int = 5) -> float:
        """The target's median time to upsert 100 new contacts (on a portal of its own)."""
        taken = []
        for attempt in range(tries):
            inputs = [
                {"id": f"probe{attempt}-{i}@example.com", "idProperty": "email", "properties": {}}
                for i in range(CONTACT_BATCH)
            ]
            started = time.perf_counter()
            answer = self.probe.post(
                "/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs}
            )
            taken.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise SystemExit(f"the probe's upsert failed: {answer.status_code} {answer.text}")
        return sorted(taken)[tries // 2]

    def contacts(self) -> int:
        found = self.crm.post("/crm/v3/objects/contacts/search", json={"limit": 1})
        return int(found.json()["total"])

    def wait_delivered(self, people: int, started: float, source: Server | None) -> Timings:
        """Poll from `started` until the target holds every contact and every event (and, given
        the source, note when it had applied every message); then the source's counters."""
        contacts_at = applied_at = None
        while time.perf_counter() - started < DEADLINE_S:
            at = time.perf_counter() - started
            applied = source and source.metric("hubtrail_messages_processed_total")
            if applied_at is None and applied and applied >= 2 * people:
                applied_at = at
            if contacts_at is None and self.contacts() >= people:
                contacts_at = at
            events = self.target.metric("hubtrail_messages_processed_total")
            if contacts_at is not None and events >= people:
                break
            time.sleep(0.05)  # polling the servers
        else:
            raise SystemExit(f"not delivered after {DEADLINE_S:.0f} s")
        all_at = time.perf_counter() - started
        while (row := self.status())["queued"]:
            time.sleep(0.2)
        return Timings(
            contacts_at,
            all_at,
            applied_at,
            row["calls"],
            row["sent"],
            row["throttled"],
            row["dead"],
        )

    def status(self) -> dict[str, Any]:
        [row] = orjson.loads(hubtrail(self.source_db, "deliveries", "status", "--json"))
        found: dict[str, Any] = row
        return found

    def close(self) -> None:
        self.crm.close()
        self.probe.close()
        stop(self.target.process)


def run_live(tmp: Path, people: int, rate_per_s: float) -> Timings:
    """The forwarder inside the source server while the messages arrive; from the first send."""
    pair = Pair(tmp, "live", rate_per_s)
    source = serve(pair.source_db)
    try:
        started = time.perf_counter()
        send(source.url, pair.write_key, people)
        return pair.wait_delivered(people, started, source)
    finally:
        stop(source.process)
        pair.close()


def run_backlog(tmp: Path, people: int, rate_per_s: float) -> tuple[Timings, float]:
    """Applied with forwarding off, then drained by the restarted server's forwarder; timed from
    the restart. Also the target's upsert latency, measured before the drain."""
    pair = Pair(tmp, "backlog", rate_per_s)
    source = serve(pair.source_db, HUBTRAIL_FORWARD_IN_SERVER="false")
    try:
        send(source.url, pair.write_key, people)
        while source.metric("hubtrail_messages_processed_total") < 2 * people:
            time.sleep(0.2)
    finally:
        stop(source.process)
    latency_s = pair.upsert_latency_s()
    started = time.perf_counter()
    source = serve(pair.source_db)
    try:
        return pair.wait_delivered(people, started, None), latency_s
    finally:
        stop(source.process)
        pair.close()


def report(label: str, t: Timings, people: int, rate_per_s: float) -> None:
    limit = rate_per_s * CONTACT_BATCH
    delivered = people / t.contacts_s
    fewest = math.ceil(people / CONTACT_BATCH) + math.ceil(people / EVENT_BATCH) + DEFINITION_CALLS
    print(
        f"{label:8} {delivered:6.0f} contacts/s delivered   limit {limit:5.0f}/s   "
        f"ratio {delivered / limit:.2f}   everything in {t.all_s:5.1f} s "
        f"({t.calls / t.all_s:.1f} calls/s)"
    )
    print(
        f"{'':8} calls {t.calls} (fewest {fewest}) = {1000 * t.calls / (2 * people):.1f} per "
        f"1,000 changes (fewest {1000 * fewest / (2 * people):.1f})   sent {t.sent}   "
        f"429s {t.throttled}   dead {t.dead}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=3000, help="identifies, and as many tracks")
    parser.add_argument("--rate-per-s", type=float, default=10.0, help="the destination's rate")
    parser.add_argument("--runs", choices=["live", "backlog", "both"], default="both")
    args = parser.parse_args()
    people, rate = args.people, args.rate_per_s
    print(
        f"people={people} ({people} contacts + {people} events)  destination rate={rate:g}/s  "
        "(SQLite, loopback, target without rate-limit emulation)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if args.runs in ("live", "both"):
            live = run_live(Path(tmp), people, rate)
            report("live", live, people, rate)
            if live.applied_s is not None:
                print(
                    f"{'':8} the source had applied every message {live.applied_s:.1f} s after "
                    "the first send: live, its processor sets the pace"
                )
        if args.runs in ("backlog", "both"):
            backlog, latency_s = run_backlog(Path(tmp), people, rate)
            report("backlog", backlog, people, rate)
            one_at_a_time = CONTACT_BATCH / max(latency_s, 1 / rate)
            print(
                f"{'':8} the target upserts 100 new contacts in {1000 * latency_s:.0f} ms "
                f"(median): one call at a time, at most {one_at_a_time:.0f} contacts/s "
                f"(ratio {one_at_a_time / (rate * CONTACT_BATCH):.2f})"
            )
    print("aim: backlog ratio near its one-call-at-a-time bound; calls near the fewest")


if __name__ == "__main__":
    main()
