"""CRM search latency as the contact count grows, on SQLite and on PostgreSQL.

For each engine, fills a fresh database (a new SQLite file; a new PostgreSQL schema, dropped
afterwards) with N contacts written straight into the store's tables, as the CRM API would have
left them: a `contacts` row, its email identity, and `property_values` rows for email, firstname,
lastname and lifecyclestage with `value_key`/`value_num` computed as `store.properties.save_changes`
does (property history is left out: search never reads it). Then it times searches through the
real app in-process (httpx's ASGITransport, so no sockets: what is measured is the app, its
queries and the database), one request at a time, and prints p50/p95 in milliseconds.

The baseline is the same app on 1,000 contacts: `x1k` is how much slower each request is on the
large set, which is how search scales (1.0 would be flat). `GET contact by id` is the per-request
floor (auth, routing, one indexed read, rendering).

    .venv/bin/python bench/search.py [--contacts 100000] [--repeat 200] [--engines sqlite,postgres]
    .venv/bin/python bench/search.py --explain     # also print the query plans of the searches
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.app import create_app
from hubtrail.config import Settings
from hubtrail.core.credentials import CredentialKind
from hubtrail.core.default_properties import LIFECYCLE_STAGES
from hubtrail.core.properties import ObjectType, PropertyType, value_key, value_number
from hubtrail.store import portals
from hubtrail.store.db import Database
from hubtrail.store.migrate import upgrade
from hubtrail.store.schema import contact_identities, contacts, property_values

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BASELINE_CONTACTS = 1_000
CHUNK = 5_000
START_MS = 1_700_000_000_000
STAGES = LIFECYCLE_STAGES[:6]  # subscriber … customer: one contact in six is a customer
SEARCH = "/crm/v3/objects/contacts/search"


def email_of(i: int) -> str:
    return f"person{i}@example{i % 97}.com"


@dataclass(frozen=True)
class Probe:
    """One request the benchmark repeats."""

    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    is_search: bool = True


def probes(count: int) -> list[Probe]:
    def eq(name: str, value: str) -> list[dict[str, Any]]:
        return [{"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}]

    newest = [{"propertyName": "createdate", "direction": "DESCENDING"}]
    return [
        Probe(
            "lifecyclestage EQ customer, createdate DESC, limit 100",
            "POST",
            SEARCH,
            {"filterGroups": eq("lifecyclestage", "customer"), "sorts": newest, "limit": 100},
        ),
        Probe(
            "email EQ (one match)",
            "POST",
            SEARCH,
            {"filterGroups": eq("email", email_of(count // 2)), "limit": 10},
        ),
        Probe("total count (no filter, limit 1)", "POST", SEARCH, {"limit": 1}),
        Probe(
            "GET contact by id (floor)",
            "GET",
            f"/crm/v3/objects/contacts/{count // 2}",
            None,
            False,
        ),
    ]


# --- filling the store ---------------------------------------------------------------------------


def contact_rows(
    hub_id: int, start: int, stop: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for contacts `start..stop-1` (ids 1-based), as the CRM API writes them."""
    people, identities, values = [], [], []
    types = {"lifecyclestage": PropertyType.ENUMERATION}
    for i in range(start, stop):
        contact_id = i + 1
        # Creation times 5 minutes apart with jitter, so createdate order is not id order.
        created = START_MS + i * 300_000 + (i * 7919) % 600_000
        email = email_of(i)
        people.append(
            {
                "id": contact_id,
                "portal_id": hub_id,
                "email": email,
                "email_key": email,
                "created_at_ms": created,
                "updated_at_ms": created,
            }
        )
        identities.append(
            {
                "portal_id": hub_id,
                "contact_id": contact_id,
                "kind": "email",
                "value": email,
                "created_at_ms": created,
            }
        )
        properties = {
            "email": email,
            "firstname": f"First{i % 1000}",
            "lastname": f"Last{i % 5000}",
            "lifecyclestage": STAGES[i % len(STAGES)],
        }
        values += [
            {
                "portal_id": hub_id,
                "object_type": ObjectType.CONTACT.value,
                "object_id": contact_id,
                "name": name,
                "value": value,
                "value_key": value_key(types.get(name, PropertyType.STRING), value),
                "value_num": value_number(types.get(name, PropertyType.STRING), value),
                "updated_at_ms": created,
                "source": "crm_api",
            }
            for name, value in properties.items()
        ]
    return people, identities, values


async def fill(settings: Settings, count: int) -> str:
    """A portal holding `count` contacts; returns its access token."""
    db = Database(settings)
    try:
        await upgrade(db)

        async def create(conn: AsyncConnection) -> tuple[int, str]:
            portal = await portals.create_portal(conn, "Bench", START_MS)
            token = await portals.issue_credential(
                conn, portal.hub_id, CredentialKind.ACCESS_TOKEN, START_MS
            )
            return portal.hub_id, token

        hub_id, token = await db.write(create)
        for start in range(0, count, CHUNK):
            people, identities, values = contact_rows(hub_id, start, min(count, start + CHUNK))

            async def write(
                conn: AsyncConnection,
                people: list[dict[str, Any]] = people,
                identities: list[dict[str, Any]] = identities,
                values: list[dict[str, Any]] = values,
            ) -> None:
                await conn.execute(insert(contacts), people)
                await conn.execute(insert(contact_identities), identities)
                await conn.execute(insert(property_values), values)

            await db.write(write)
        await db.write(_analyze)
    finally:
        await db.close()
    return token


async def _analyze(conn: AsyncConnection) -> None:
    # Fresh statistics, as a long-running database would have (autovacuum, or SQLite's optimize).
    await conn.execute(text("ANALYZE"))


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Timing:
    p50_ms: float
    p95_ms: float
    result: str


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def time_probe(client: httpx.AsyncClient, probe: Probe, repeat: int) -> Timing:
    async def once() -> httpx.Response:
        response = await client.request(probe.method, probe.path, json=probe.body)
        if response.status_code != 200:
            raise SystemExit(f"{probe.name}: {response.status_code} {response.text}")
        return response

    for _ in range(5):  # warm caches and connections
        response = await once()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = await once()
        samples.append((time.perf_counter() - started) * 1000)
    body = response.json()
    result = f"total={body['total']}" if "total" in body else f"id={body['id']}"
    return Timing(statistics.median(samples), percentile(samples, 0.95), result)


@asynccontextmanager
async def api(settings: Settings, token: str) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(settings, run_processor=False)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hubtrail.bench", headers=headers
        ) as client:
            yield app, client


async def measure(settings: Settings, count: int, repeat: int) -> dict[str, Timing]:
    started = time.perf_counter()
    token = await fill(settings, count)
    print(f"  filled {count:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)
    async with api(settings, token) as (_app, client):
        return {p.name: await time_probe(client, p, repeat) for p in probes(count)}


async def explain(settings: Settings, count: int) -> None:
    """Print each search's SQL and the engine's plan for it."""
    token = await fill(settings, count)
    async with api(settings, token) as (app, client):
        engine = app.runtime.db.engine.sync_engine
        for probe in probes(count):
            if not probe.is_search:
                continue
            seen: list[tuple[str, Any]] = []

            def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
                if "FROM property_definitions" not in statement:  # the rest is this request's
                    seen.append((statement, params))  # noqa: B023 (used before the next loop)

            event.listen(engine, "before_cursor_execute", record)
            await client.request(probe.method, probe.path, json=probe.body)
            event.remove(engine, "before_cursor_execute", record)
            print(f"\n### {probe.name}")
            for statement, params in seen:
                prefix = "EXPLAIN QUERY PLAN " if app.runtime.db.is_sqlite else "EXPLAIN ANALYZE "
                async with app.runtime.db.engine.connect() as conn:
                    rows = (await conn.exec_driver_sql(prefix + statement, tuple(params))).all()
                print(" ".join(statement.split()), "\n  params:", params)
                print(
                    "\n".join(
                        "  | " + str(row[-1] if app.runtime.db.is_sqlite else row[0])
                        for row in rows
                    )
                )


# --- engines -------------------------------------------------------------------------------------


@asynccontextmanager
async def sqlite_settings() -> AsyncIterator[Callable[[], Settings]]:
    with tempfile.TemporaryDirectory() as tmp:
        made = iter(range(1_000_000))
        yield lambda: Settings(database_url=f"sqlite:///{Path(tmp) / f'{next(made)}.db'}")


@asynccontextmanager
async def postgres_settings(url: str) -> AsyncIterator[Callable[[], Settings]]:
    schemas: list[str] = []

    def make() -> Settings:
        schemas.append(f"bench_{uuid.uuid4().hex[:12]}")
        return Settings(database_url=url, database_schema=schemas[-1])

    try:
        yield make
    finally:
        conn = await asyncpg.connect(url)
        try:
            for schema in schemas:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


def report(engine: str, count: int, large: dict[str, Timing], small: dict[str, Timing]) -> None:
    print(f"\n{engine}: {count:,} contacts vs {BASELINE_CONTACTS:,} (in-process, one at a time)")
    print(f"  {'request':58} {'p50 ms':>8} {'p95 ms':>8} {'1k p50':>8} {'x1k':>6}  result")
    for name, timing in large.items():
        base = small[name]
        print(
            f"  {name:58} {timing.p50_ms:8.2f} {timing.p95_ms:8.2f} {base.p50_ms:8.2f} "
            f"{timing.p50_ms / base.p50_ms:6.1f}  {timing.result}"
        )
    floor = large["GET contact by id (floor)"].p50_ms
    slow = [n for n, t in large.items() if t.p50_ms > 50]
    print(
        "  searches vs the floor: "
        + ", ".join(
            f"{t.p50_ms / floor:.0f}x" for n, t in large.items() if n != "GET contact by id (floor)"
        )
    )
    print(f"  over 50 ms at p50: {', '.join(slow) if slow else 'none'}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--explain", action="store_true", help="print query plans instead")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            settings_for = sqlite_settings()
        elif engine == "postgres":
            settings_for = postgres_settings(args.postgres_url)
        else:
            raise SystemExit(f"unknown engine {engine!r}")
        async with settings_for as make:
            print(f"{engine}:", flush=True)
            if args.explain:
                await explain(make(), args.contacts)
                continue
            small = await measure(make(), BASELINE_CONTACTS, args.repeat)
            large = await measure(make(), args.contacts, args.repeat)
        report(engine, args.contacts, large, small)


if __name__ == "__main__":
    asyncio.run(main())
