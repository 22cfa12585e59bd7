"""The `hubtrail` command: portals, tokens, exports, settings in --help, the demo portal."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hubtrail.cli import app
from hubtrail.config import Settings, describe_settings
from hubtrail.demo import banner, credentials_file, ensure_demo
from hubtrail.store.db import Database as StoreDatabase
from hubtrail.store.schema import credentials
from tests.conftest import Database, make_settings

runner = CliRunner()


@pytest.fixture
def cli(database: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUBTRAIL_DATABASE_SCHEMA", database.schema)

    def invoke(*args: str) -> str:
        result = runner.invoke(app, [*args, "--database-url", database.url])
        assert result.exit_code == 0, result.output
        return result.stdout

    return invoke


def test_portal_create_assigns_hub_ids_and_prints_json(cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    first = orjson.loads(cli("portal", "create", "Acme", "--json"))
    assert first["hub_id"] == 1_000_001
    assert first["access_token"].startswith("pat-ht1-")
    assert re.fullmatch(r"[A-Za-z0-9]{32}", first["write_key"])
    second = orjson.loads(cli("portal", "create", "Beta", "--hub-id", "62515", "--json"))
    assert second["hub_id"] == 62515
    third = orjson.loads(cli("portal", "create", "Gamma", "--json"))
    assert third["hub_id"] == 1_000_002
    clash = runner.invoke(
        app, ["portal", "create", "X", "--hub-id", "62515", "--database-url", database.url]
    )
    assert clash.exit_code != 0
    assert "already exists" in clash.output


def test_secrets_are_stored_only_as_digests(cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    created = orjson.loads(cli("portal", "create", "Acme", "--json"))
    token = cli("token", "create", "--portal", str(created["hub_id"])).strip()
    assert token.startswith("pat-ht1-")
    assert token != created["access_token"]

    async def stored() -> list[str]:
        db = StoreDatabase(make_settings(database))
        try:
            return await db.read(
                lambda conn: _scalars(conn, select(credentials.c.secret_sha256))  # type: ignore[arg-type]
            )
        finally:
            await db.close()

    digests = asyncio.run(stored())
    assert len(digests) == 3
    for secret in (created["access_token"], created["write_key"], token):
        assert secret not in digests
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)


async def _scalars(conn, query) -> list[str]:  # type: ignore[no-untyped-def]
    return list((await conn.execute(query)).scalars())


def test_export_contacts_and_events_as_json_lines(cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    from hubtrail.app import create_app
    from hubtrail.core.messages import Kind, Message, Source, new_message_id

    hub_id = orjson.loads(cli("portal", "create", "Acme", "--json"))["hub_id"]

    async def load() -> None:
        application = create_app(make_settings(database), run_processor=False)
        async with application.lifespan():
            await application.runtime.committer.submit(
                [
                    Message(
                        new_message_id(),
                        hub_id,
                        Source.HTTP_EVENTS,
                        Kind.TRACK,
                        5,
                        5,
                        email="Ann@Example.com",
                        external_id="ext-9",
                        event="Bought",
                        revenue="12.5",
                        contact_properties={"firstname": "Ann"},
                    )
                ]
            )
            await application.runtime.processor.drain()

    asyncio.run(load())
    [contact] = [
        orjson.loads(line)
        for line in cli("export", "contacts", "--portal", str(hub_id)).splitlines()
    ]
    assert contact["properties"]["email"] == "Ann@example.com"
    assert contact["properties"]["firstname"] == "Ann"
    assert contact["properties"]["hs_analytics_revenue"] == "12.5"
    assert contact["properties"]["hs_object_id"] == contact["id"]
    assert contact["identities"] == {
        "emails": ["ann@example.com"],
        "external_ids": ["ext-9"],
        "visitors": [],
    }
    [event] = [
        orjson.loads(line) for line in cli("export", "events", "--portal", str(hub_id)).splitlines()
    ]
    assert event["eventName"] == "bought"
    assert event["contactId"] == contact["id"]
    assert event["occurredAt"] == "1970-01-01T00:00:00.005Z"
    assert cli("export", "pageviews", "--portal", str(hub_id)) == ""
    unknown = runner.invoke(
        app, ["export", "deals", "--portal", str(hub_id), "--database-url", database.url]
    )
    assert unknown.exit_code != 0


def test_serve_help_lists_every_setting_with_its_default() -> None:
    result = runner.invoke(
        app, ["serve", "--help"], env={"COLUMNS": "250", "TERMINAL_WIDTH": "250"}
    )
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for row in describe_settings():
        flag = "--" + row["name"].replace("_", "-")
        assert flag in text
        assert f"default {row['default']!r}" in text, row["name"]


def test_settings_come_from_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hubtrail.toml").write_text('port = 9001\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("HUBTRAIL_PORT", "9002")
    settings = Settings()
    assert (settings.host, settings.port) == ("0.0.0.0", 9002)
    assert Settings(port=9003).port == 9003


def test_demo_portal_is_created_once_and_its_keys_printed_again(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}")
    first = asyncio.run(ensure_demo(settings))
    again = asyncio.run(ensure_demo(settings))
    assert first == again
    path = credentials_file(settings)
    assert path.parent == tmp_path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.unlink()
    renewed = asyncio.run(ensure_demo(settings))
    assert renewed.hub_id == first.hub_id
    assert renewed.access_token != first.access_token
    text = banner(settings, renewed)
    assert f"_a={renewed.hub_id}" in text
    assert renewed.access_token in text
    assert "http://127.0.0.1:8080/v1/event" in text
