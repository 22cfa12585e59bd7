"""Dashboard page latency on a large portal: the overview and a contact page, vs `/healthz`.

Fills a fresh SQLite file with one portal holding N contacts, M events and V page views over the
last 90 days, written straight into the store's tables (bulk inserts: this measures reads, not
ingestion), as the processor would have left them: a contact's row, its email and browser
identities, property values with their history, a visitor per contact (and anonymous ones),
companies and contact–company associations, and the daily aggregates (`daily_stats`,
`daily_visitors`) counted from the same rows. Contact 1 has a long timeline (200 events and 200
page views). Then it creates a dashboard user, starts a real `hubtrail serve` on the file, signs
in with httpx and times GETs one at a time: the overview (`?days=30`), contact 1's page, and the
same server's `/healthz` as the floor every benchmark here compares with. It prints p50/p95 in
milliseconds and each page's ratio to the floor; a page that does not answer 200 is shown with
its status.

    .venv/bin/python -m bench.dashboard [--contacts 100000] [--events 1000000] [--views 500000]
    .venv/bin/python -m bench.dashboard --quick     # 10,000 contacts, 100,000 events
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.ingest import free_port, stop, wait_ready
from hubtrail.config import Settings
from hubtrail.core.default_properties import LIFECYCLE_STAGES
from hubtrail.core.delivery import DAY_MS
from hubtrail.core.passwords import hash_password
from hubtrail.core.properties import ObjectType, PropertyType, value_key, value_number
from hubtrail.process.processor import now_ms
from hubtrail.store import portals, users
from hubtrail.store.db import Database
from hubtrail.store.migrate import upgrade

USER, PASSWORD = "bench@example.com", "bench password 1"
SPAN_DAYS = 90
LONG_TIMELINE = 200  # events, and as many page views, of contact 1
CHUNK = 50_000
SITE = "https://www.example-shop.com"
PAGES = [f"{SITE}/{p}" for p in ("", "pricing", "features", "docs", "blog", "signup")] + [
    f"{SITE}/blog/post-{n}" for n in range(44)
]
SOURCES = ["DIRECT_TRAFFIC", "ORGANIC_SEARCH", "SOCIAL_MEDIA", "REFERRALS", "EMAIL_MARKETING"]
EVENTS = [
    "signed_up",
    "started_trial",
    "viewed_pricing",
    "invited_teammate",
    "upgraded_plan",
    "downloaded_whitepaper",
    "opened_app",
    "created_product",
    "connected_store",
    "exported_report",
    "contacted_support",
    "cancelled_plan",
]
CONTACT = ObjectType.CONTACT.value
COMPANY = ObjectType.COMPANY.value
# The tables filled here: their secondary indexes are dropped during the fill and rebuilt after.
FILLED = (
    "contacts",
    "visitors",
    "contact_identities",
    "companies",
    "property_values",
    "property_history",
    "event_definitions",
    "event_occurrences",
    "page_views",
    "associations",
)


@dataclass(frozen=True)
class Sizes:
    contacts: int
    events: int
    views: int

    @property
    def anonymous(self) -> int:
        return self.contacts // 2

    @property
    def companies(self) -> int:
        return max(10, self.contacts // 50)


# --- filling the store ---------------------------------------------------------------------------


async def create_portal_and_user(settings: Settings) -> int:
    """Migrate the schema, create the portal and a dashboard user for it: the hub id."""
    db = Database(settings)
    try:
        await upgrade(db)

        async def create(conn: AsyncConnection) -> int:
            at = now_ms()
            portal = await portals.create_portal(conn, "Bench", at - (SPAN_DAYS + 90) * DAY_MS)
            user = await users.create_user(conn, USER, hash_password(PASSWORD), at)
            await users.grant(conn, user.id, [portal.hub_id])
            return portal.hub_id

        return await db.write(create)
    finally:
        await db.close()


class Filler:
    """Rows for one portal, streamed into SQLite; counts the daily aggregates as it goes."""

    def __init__(self, conn: sqlite3.Connection, hub: int, sizes: Sizes, now: int) -> None:
        self.conn, self.hub, self.sizes, self.now = conn, hub, sizes, now
        self.rng = random.Random(1)
        self.stats: Counter[tuple[str, int, str]] = Counter()
        self.seen: set[tuple[int, int]] = set()
        self.created: dict[int, int] = {}

    def insert(self, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
        marks = ",".join("?" * len(columns.split(",")))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                self.conn.executemany(sql, batch)
                batch = []
        self.conn.executemany(sql, batch)

    def moment(self) -> int:
        return self.now - int(self.rng.random() ** 1.3 * SPAN_DAYS * DAY_MS)  # busier lately

    def contacts(self) -> None:
        n, rng, hub = self.sizes.contacts, self.rng, self.hub
        for i in range(1, n + 1):
            self.created[i] = self.now - int(rng.random() * (SPAN_DAYS + 90) * DAY_MS)
        email = "person{0}@example{1}.com".format
        self.insert(
            "contacts",
            "id,portal_id,email,email_key,created_at_ms,updated_at_ms",
            ((i, hub, email(i, i % 97), email(i, i % 97), c, c) for i, c in self.created.items()),
        )
        anonymous = self.sizes.anonymous
        self.insert(
            "visitors",
            "id,portal_id,visitor_key,contact_id,created_at_ms,last_seen_at_ms",
            (
                (i, hub, f"{i:032x}", i if i <= n else None, self.now, self.now)
                for i in range(1, n + anonymous + 1)
            ),
        )
        self.insert(
            "contact_identities",
            "portal_id,contact_id,kind,value,created_at_ms",
            (
                row
                for i, c in self.created.items()
                for row in (
                    (hub, i, "email", email(i, i % 97), c),
                    (hub, i, "visitor", f"{i:032x}", c),
                )
            ),
        )
        types = {"lifecyclestage": PropertyType.ENUMERATION}

        def values(i: int) -> dict[str, str]:
            return {
                "email": email(i, i % 97),
                "firstname": f"First{i % 1000}",
                "lastname": f"Last{i % 5000}",
                "lifecyclestage": LIFECYCLE_STAGES[i % 6],
                "jobtitle": ("Founder", "Marketing Manager", "Developer")[i % 3],
                "company": f"Company {i % self.sizes.companies}",
            }

        def value_rows() -> Iterator[tuple[Any, ...]]:
            for i, c in self.created.items():
                for name, value in values(i).items():
                    kind = types.get(name, PropertyType.STRING)
                    key, number = value_key(kind, value), value_number(kind, value)
                    yield (hub, CONTACT, i, name, value, key, number, c, "segment")

        self.insert(
            "property_values",
            "portal_id,object_type,object_id,name,value,value_key,value_num,updated_at_ms,source",
            value_rows(),
        )
        self.insert(
            "property_history",
            "portal_id,object_type,object_id,name,value,timestamp_ms,source,source_id",
            (
                (hub, CONTACT, i, name, value, c, "segment", f"h{i}")
                for i, c in self.created.items()
                for name, value in values(i).items()
            ),
        )

    def companies(self) -> None:
        hub, count, start = self.hub, self.sizes.companies, self.now - 200 * DAY_MS
        self.insert(
            "companies",
            "id,portal_id,domain_key,created_at_ms,updated_at_ms",
            ((i, hub, f"company{i}.com", start, start) for i in range(1, count + 1)),
        )
        self.insert(
            "property_values",
            "portal_id,object_type,object_id,name,value,value_key,value_num,updated_at_ms,source",
            (
                (hub, COMPANY, i, name, value, value.lower(), None, start, "segment")
                for i in range(1, count + 1)
                for name, value in (("name", f"Company {i}"), ("domain", f"company{i}.com"))
            ),
        )
        linked = [i for i in self.created if i % 5 < 3]  # three contacts in five work somewhere
        self.insert(
            "associations",
            "portal_id,from_type,from_id,to_type,to_id,category,type_id,created_at_ms",
            (
                row
                for i in linked
                for company in [i % count + 1]
                for row in (
                    (hub, CONTACT, i, COMPANY, company, "HUBSPOT_DEFINED", 279, start),
                    (hub, COMPANY, company, CONTACT, i, "HUBSPOT_DEFINED", 280, start),
                )
            ),
        )

    def events(self) -> None:
        hub, rng, n = self.hub, self.rng, self.sizes.contacts
        start = self.now - (SPAN_DAYS + 1) * DAY_MS
        self.insert(
            "event_definitions",
            "id,portal_id,name,label,created_by,created_at_ms",
            (
                (d, hub, name, name.replace("_", " ").capitalize(), "segment", start)
                for d, name in enumerate(EVENTS, 1)
            ),
        )
        properties = [orjson.dumps({"plan": p}).decode() for p in ("starter", "growth", "scale")]
        weights = [30, 12, 200, 20, 6, 10, 300, 80, 15, 25, 10, 3]

        def rows() -> Iterator[tuple[Any, ...]]:
            definitions = rng.choices(range(1, len(EVENTS) + 1), weights, k=self.sizes.events)
            for k, definition in enumerate(definitions):
                contact = 1 if k < LONG_TIMELINE else rng.randrange(2, n + 1)
                at = self.moment()
                day = at // DAY_MS
                self.stats[("events", day, "")] += 1
                self.stats[("event", day, str(definition))] += 1
                revenue = "79" if definition == 5 else None
                props = properties[k % 3]
                yield (hub, definition, contact, contact, at, revenue, props, "segment", f"e{k}")

        self.insert(
            "event_occurrences",
            "portal_id,definition_id,contact_id,visitor_id,occurred_at_ms,revenue,properties,"
            "source,message_id",
            rows(),
        )

    def views(self) -> None:
        hub, rng, n = self.hub, self.rng, self.sizes.contacts
        visitors = n + self.sizes.anonymous

        def rows() -> Iterator[tuple[Any, ...]]:
            k = 0
            while k < self.sizes.views:  # visits of 1–8 views a minute apart, bots one view
                long = k < LONG_TIMELINE
                visitor = 1 if long else rng.randrange(2, visitors + 1)
                contact = visitor if visitor <= n else None
                bot = not long and rng.random() < 0.01
                length = 1 if long or bot else min(8, 1 + int(rng.expovariate(0.5)))
                start, source = self.moment(), rng.choice(SOURCES)
                for j in range(min(length, self.sizes.views - k)):
                    at, url = start + j * 60_000, PAGES[int(rng.random() ** 2 * len(PAGES))]
                    landing = source if j == 0 else ""
                    if not bot:
                        day = at // DAY_MS
                        self.stats[("pageviews", day, "")] += 1
                        self.stats[("page", day, url)] += 1
                        self.stats[("source", day, landing)] += 1
                        self.seen.add((day, visitor))
                    yield (
                        *(hub, visitor, contact, at, url, url.rsplit("/", 1)[-1].title(), ""),
                        *(1, j + 1, bot, landing, "", "", "segment", f"v{k}"),
                    )
                    k += 1

        self.insert(
            "page_views",
            "portal_id,visitor_id,contact_id,occurred_at_ms,url,title,referrer,session_number,"
            "view_in_session,is_bot,traffic_source,traffic_source_data_1,traffic_source_data_2,"
            "source,message_id",
            rows(),
        )

    def aggregates(self) -> None:
        """`daily_stats` and `daily_visitors` as `store.daily_stats.record` keeps them."""
        hub = self.hub
        self.insert(
            "daily_stats",
            "portal_id,metric,day,key,count",
            ((hub, m, d, k, c) for (m, d, k), c in sorted(self.stats.items())),
        )
        self.insert(
            "daily_visitors",
            "portal_id,day,visitor_id",
            ((hub, d, v) for d, v in sorted(self.seen)),
        )


def fill(path: Path, hub: int, sizes: Sizes) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")  # the server turns WAL back on
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        marks = ",".join("?" * len(FILLED))
        indexes = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            FILLED,
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        filler = Filler(conn, hub, sizes, now_ms())
        filler.contacts()
        filler.companies()
        filler.events()
        filler.views()
        filler.aggregates()
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


# --- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    status: int
    kilobytes: float
    p50_ms: float
    p95_ms: float


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_get(client: httpx.Client, path: str, repeat: int) -> Timing:
    for _ in range(3):  # warm caches and the connection
        response = client.get(path)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(
        response.status_code,
        len(response.content) / 1000,
        statistics.median(samples),
        percentile(samples, 0.95),
    )


def start_server(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "HUBTRAIL_DATABASE_URL": f"sqlite:///{path}",
        "HUBTRAIL_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "hubtrail", "serve", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/healthz", server)
    return server, base


def measure(base: str, hub: int, repeat: int) -> dict[str, Timing]:
    with httpx.Client(base_url=base, trust_env=False, timeout=60) as client:
        signed = client.post("/login", data={"email": USER, "password": PASSWORD})
        if signed.status_code != 303:
            raise SystemExit(f"sign-in failed: {signed.status_code} {signed.text[:300]}")
        probes = {
            "GET /healthz (floor)": "/healthz",
            "overview, last 30 days": f"/app/{hub}?days=30",
            f"contact page ({LONG_TIMELINE} events + {LONG_TIMELINE} views)": (
                f"/app/{hub}/contacts/1"
            ),
        }
        return {name: time_get(client, path, repeat) for name, path in probes.items()}


def report(sizes: Sizes, fill_s: float, timings: dict[str, Timing]) -> None:
    print(
        f"\ndashboard on SQLite: {sizes.contacts:,} contacts, {sizes.events:,} events, "
        f"{sizes.views:,} page views (filled in {fill_s:.0f} s); real server, one request at a time"
    )
    floor = timings["GET /healthz (floor)"].p50_ms
    print(f"  {'request':44} {'status':>6} {'KB':>6} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8}")
    for name, t in timings.items():
        note = "" if t.status == 200 else "  (not 200: the page is missing or failed)"
        print(
            f"  {name:44} {t.status:6d} {t.kilobytes:6.1f} {t.p50_ms:8.2f} {t.p95_ms:8.2f} "
            f"{t.p50_ms / floor:8.1f}{note}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument(
        "--quick", action="store_true", help="10,000 contacts, 100,000 events, 50,000 views"
    )
    parser.add_argument("--keep", metavar="DIR", help="build the database in DIR and keep it")
    args = parser.parse_args()
    if args.quick:
        sizes, repeat = Sizes(10_000, 100_000, 50_000), min(args.repeat, 30)
    else:
        sizes, repeat = Sizes(args.contacts, args.events, args.views), args.repeat
    if sizes.contacts < 2:
        raise SystemExit("--contacts must be at least 2")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or tmp) / "dashboard.db"
        if path.exists():
            raise SystemExit(f"{path} exists already")
        started = time.perf_counter()
        hub = asyncio.run(create_portal_and_user(Settings(database_url=f"sqlite:///{path}")))
        fill(path, hub, sizes)
        fill_s = time.perf_counter() - started
        print(f"filled {path} ({path.stat().st_size / 1e6:,.0f} MB) in {fill_s:.1f} s", flush=True)
        server, base = start_server(path)
        try:
            timings = measure(base, hub, repeat)
        finally:
            stop(server)
    report(sizes, fill_s, timings)


if __name__ == "__main__":
    main()
