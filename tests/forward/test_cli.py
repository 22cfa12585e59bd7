"""`hubtrail destination …` and `hubtrail deliveries …` on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from hubtrail.cli import app
from hubtrail.core.forms import FieldType, Form, FormField, new_guid
from hubtrail.process.processor import now_ms
from hubtrail.store import contacts, destinations, forms, outbox
from hubtrail.store.db import Database as Store
from hubtrail.store.outbox import Kind
from tests.conftest import Database, make_settings

runner = CliRunner()


@pytest.fixture
def hubtrail(database: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUBTRAIL_DATABASE_SCHEMA", database.schema)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, "--database-url", database.url])
        return result.exit_code, result.stdout, result.output

    return invoke


def in_store(database: Database, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        store = Store(make_settings(database))
        try:
            return await store.write(fn)
        finally:
            await store.close()

    return asyncio.run(run())


def json_of(result: tuple[int, str, str]) -> Any:
    code, out, output = result
    assert code == 0, output
    return orjson.loads(out)


def test_destinations_are_added_listed_and_removed(hubtrail, database: Database) -> None:  # type: ignore[no-untyped-def]
    hub = json_of(hubtrail("portal", "create", "Acme", "--json"))["hub_id"]
    [added] = json_of(
        hubtrail(
            "destination",
            "add",
            "hubspot",
            "--portal",
            str(hub),
            "--token",
            "pat-na1-secret",
            "--base-url",
            "http://127.0.0.1:9/",
            "--rate-per-s",
            "4",
            "--send",
            "contacts,events,pageviews",
            "--json",
        )
    )
    assert added["send"] == ["contacts", "events", "pageviews"]
    assert (added["base_url"], added["rate_per_s"], added["daily_budget"]) == (
        "http://127.0.0.1:9",
        4.0,
        40_000,
    )
    assert "secret" not in added["token"]  # never printed whole
    assert json_of(hubtrail("destination", "list", "--json")) == [added]
    code, _, output = hubtrail(
        "destination",
        "add",
        "hubspot",
        "--portal",
        str(hub),
        "--token",
        "t",
        "--send",
        "contacts,tweets",
    )
    assert code != 0
    assert "got 'contacts,tweets'" in " ".join(output.replace("│", " ").split())
    code, _, output = hubtrail("destination", "add", "hubspot", "--portal", "4242", "--token", "t")
    assert code != 0
    assert "no portal has hub id 4242" in output
    code, out, _ = hubtrail("destination", "set-token", str(added["id"]), "--token", "pat-new")
    assert code == 0
    assert "new token" in out
    code, out, _ = hubtrail("destination", "remove", str(added["id"]))
    assert code == 0
    assert "removed destination" in out
    assert json_of(hubtrail("destination", "list", "--json")) == []


def test_status_dead_letter_replay_and_backfill(hubtrail, database: Database) -> None:  # type: ignore[no-untyped-def]
    hub = json_of(hubtrail("portal", "create", "Acme", "--json"))["hub_id"]
    in_store(database, lambda c: contacts.get_or_create_by_email(c, hub, "old@example.com", 1))
    [dest] = json_of(
        hubtrail("destination", "add", "hubspot", "--portal", str(hub), "--token", "t", "--json")
    )
    code, out, output = hubtrail("deliveries", "backfill", "--destination", str(dest["id"]))
    assert code == 0, output
    assert out.strip() == "queued 1 changes"
    code, _, output = hubtrail("deliveries", "backfill", "--destination", str(dest["id"]))
    assert code != 0
    assert "backfilled already" in output

    async def fail_it(conn: Any) -> int:
        entry = outbox.Entry(dest["id"], hub, Kind.EVENT, "s:lost")
        await outbox.enqueue(conn, [entry], now_ms())
        [row] = [
            r for r in await outbox.due(conn, dest["id"], now_ms(), 10) if r.kind is Kind.EVENT
        ]
        await outbox.kill(conn, [row.id], "VALIDATION_ERROR: bad", now_ms())
        return row.id

    dead_id = in_store(database, fail_it)
    [status] = json_of(hubtrail("deliveries", "status", "--json"))
    assert (status["queued"], status["dead"], status["budget_left"]) == (1, 1, 40_000)
    [listed] = json_of(hubtrail("deliveries", "list", "--failed", "--json"))
    assert (listed["id"], listed["kind"], listed["error"]) == (
        dead_id,
        "event",
        "VALIDATION_ERROR: bad",
    )
    code, out, _ = hubtrail("deliveries", "replay", "--since", "2000-01-01T00:00:00Z")
    assert (code, out.strip()) == (0, "replayed 1 changes")
    assert json_of(hubtrail("deliveries", "list", "--failed", "--json")) == []
    [status] = json_of(hubtrail("deliveries", "status", "--json"))
    assert (status["queued"], status["dead"]) == (2, 0)
    code, _, output = hubtrail("deliveries", "replay", "--since", "yesterday-ish")
    assert code != 0
    assert "ISO-8601" in output


def test_a_form_is_mapped_to_a_hubspot_form(hubtrail, database: Database) -> None:  # type: ignore[no-untyped-def]
    hub = json_of(hubtrail("portal", "create", "Acme", "--json"))["hub_id"]
    [dest] = json_of(
        hubtrail("destination", "add", "hubspot", "--portal", str(hub), "--token", "t", "--json")
    )
    form = Form(new_guid(), hub, "Guide", (FormField("email", "Email", FieldType.EMAIL),))
    in_store(database, lambda c: forms.create_form(c, form, now_ms()))
    code, _, output = hubtrail(
        "destination",
        "map-form",
        str(dest["id"]),
        "--form",
        "nope",
        "--hubspot-portal",
        "555",
        "--hubspot-form",
        "remote",
    )
    assert code != 0
    assert "has no form nope" in output
    code, out, output = hubtrail(
        "destination",
        "map-form",
        str(dest["id"]),
        "--form",
        form.guid,
        "--hubspot-portal",
        "555",
        "--hubspot-form",
        "remote",
    )
    assert code == 0, output
    assert "go to HubSpot form remote" in out
    targets = in_store(database, lambda c: destinations.form_targets(c, [dest["id"]]))
    assert targets[dest["id"]][form.guid] == destinations.FormTarget(
        form.guid, 555, "remote", "https://api.hsforms.com"
    )
