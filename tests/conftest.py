"""Fixtures: every store-touching test runs on SQLite and on PostgreSQL.

PostgreSQL tests each get a fresh schema in `HUBTRAIL_TEST_POSTGRES_URL` (default: the local
server). When it is unreachable they are skipped on a developer machine and fail under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from hubtrail.app import HubtrailApp, create_app
from hubtrail.config import Settings
from hubtrail.core.credentials import CredentialKind
from hubtrail.process.processor import now_ms
from hubtrail.store import portals

POSTGRES_URL = os.environ.get(
    "HUBTRAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_reachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return repr(exc)
    return None


_pg_problem: list[str | None] = []


def require_postgres() -> None:
    if not _pg_problem:
        _pg_problem.append(_postgres_reachable())
    problem = _pg_problem[0]
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Database:
    url: str
    schema: str = ""


def _drop_schema(schema: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()

    asyncio.run(drop())


@pytest.fixture(params=["sqlite", "postgres"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "hubtrail.db"
        yield Database(f"sqlite:///{path}")
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield Database(POSTGRES_URL, schema)
    _drop_schema(schema)


def make_settings(database: Database, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database.url,
        "database_schema": database.schema,
        "commit_window_ms": 1.0,
        "process_poll_ms": 20.0,
        "portal_cache_ttl_s": 0.0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database: Database) -> Settings:
    return make_settings(database)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[HubtrailApp]:
    """The app with its runtime started; the processor is stepped by tests, not run."""
    application = create_app(settings, run_processor=False)
    async with application.lifespan():
        yield application


@pytest.fixture
async def client(app: HubtrailApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubtrail.test") as c:
        yield c


@pytest.fixture
async def api(app: HubtrailApp, portal: PortalKeys) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client authenticated as `portal` (its Bearer token)."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {portal.access_token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://hubtrail.test", headers=headers
    ) as c:
        yield c


@dataclass
class PortalKeys:
    hub_id: int
    access_token: str
    write_key: str


async def create_portal(
    app: HubtrailApp, name: str = "Acme", hub_id: int | None = None
) -> PortalKeys:
    async def run(conn: object) -> PortalKeys:
        at = now_ms()
        portal = await portals.create_portal(conn, name, at, hub_id)  # type: ignore[arg-type]
        token = await portals.issue_credential(conn, portal.hub_id, CredentialKind.ACCESS_TOKEN, at)  # type: ignore[arg-type]
        key = await portals.issue_credential(conn, portal.hub_id, CredentialKind.WRITE_KEY, at)  # type: ignore[arg-type]
        return PortalKeys(portal.hub_id, token, key)

    return await app.runtime.db.write(run)  # type: ignore[arg-type]


@pytest.fixture
async def portal(app: HubtrailApp) -> PortalKeys:
    return await create_portal(app)
