"""Health, metrics, settings documentation and the schema/migration agreement."""

from pathlib import Path

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from hubtrail.app import HubtrailApp
from hubtrail.config import describe_settings
from hubtrail.store.schema import metadata
from tests.conftest import PortalKeys

README = Path(__file__).resolve().parents[2] / "README.md"


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_metrics_count_the_pipeline(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await client.get("/v1/event", params={"_a": portal.hub_id, "_n": "e"})
    await client.get("/v1/event", params={"_a": portal.hub_id})
    await client.get("/v1/event", params={"_a": portal.hub_id, "_n": "e"})
    before = (await client.get("/metrics")).text
    assert "hubtrail_inbox_depth 2.0" in before
    await app.runtime.processor.drain()
    text = (await client.get("/metrics")).text
    assert 'hubtrail_messages_received_total{source="http_events"} 2.0' in text
    assert "hubtrail_messages_committed_total 2.0" in text
    assert 'hubtrail_messages_processed_total{status="applied"} 2.0' in text
    assert 'hubtrail_requests_rejected_total{endpoint="/v1/event",status="400"} 1.0' in text
    assert "hubtrail_inbox_depth 0.0" in text
    assert "hubtrail_commit_latency_seconds_bucket" in text


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text()
    missing = [row["env"] for row in describe_settings() if f"`{row['env']}`" not in readme]
    assert missing == []


async def test_migrations_create_exactly_the_schema(app: HubtrailApp) -> None:
    def diff(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async def run(conn: object) -> list[object]:
        return await conn.run_sync(diff)  # type: ignore[attr-defined,no-any-return]

    assert await app.runtime.db.read(run) == []
