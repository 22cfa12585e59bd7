"""`hubtrail destination …` and `hubtrail deliveries …`: where changes are forwarded, and how
their delivery is going (status, the dead letter, replay, backfill)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import Progress

from hubtrail.config import Settings
from hubtrail.core.properties import parse_instant_ms
from hubtrail.process.processor import now_ms
from hubtrail.store import delivery_views, destinations, forms, outbox, portals
from hubtrail.store.db import Database
from hubtrail.store.delivery_views import iso_time
from hubtrail.store.destinations import DEFAULT_SENDS, Destination, Sends, parse_sends
from hubtrail.store.migrate import upgrade

destination_app = typer.Typer(help="Where a portal's changes are forwarded (HubSpot).")
deliveries_app = typer.Typer(help="Delivery to destinations: status, dead letter, replay.")
stderr = Console(stderr=True)

DatabaseUrl = typer.Option(None, "--database-url", help="Overrides HUBTRAIL_DATABASE_URL.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
KIND_OF_SEND = {
    Sends.CONTACTS: outbox.Kind.CONTACT,
    Sends.COMPANIES: outbox.Kind.COMPANY,
    Sends.ASSOCIATIONS: outbox.Kind.ASSOCIATION,
    Sends.EVENTS: outbox.Kind.EVENT,
    Sends.PAGEVIEWS: outbox.Kind.PAGEVIEW,
}


def _run(database_url: str | None, fn: Callable[[Database], Any]) -> Any:
    from hubtrail.cli import build_settings

    settings: Settings = build_settings({"database_url": database_url})

    async def go() -> Any:
        db = Database(settings)
        try:
            await upgrade(db)
            return await fn(db)
        finally:
            await db.close()

    return asyncio.run(go())


def _shown(d: Destination) -> dict[str, Any]:
    return {
        "id": d.id,
        "portal": d.portal_id,
        "kind": d.kind,
        "base_url": d.base_url,
        "token": d.token[:6] + "…" if len(d.token) > 8 else "…",
        "rate_per_s": d.rate_per_s,
        "daily_budget": d.daily_budget,
        "send": [s.value for s in Sends if s in d.sends],
        "backfilled": d.backfilled_at_ms is not None,
    }


def _echo(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(rows).decode())
        return
    for row in rows:
        typer.echo("  ".join(f"{k}={_text(v)}" for k, v in row.items()))


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


# --- destination ------------------------------------------------------------------------------


@destination_app.command("add")
def destination_add(
    kind: str = typer.Argument(..., help="The target's kind: hubspot."),
    portal: int = typer.Option(..., "--portal", help="Hub id whose changes are sent."),
    token: str = typer.Option(..., "--token", help="The target's private-app access token."),
    base_url: str = typer.Option("https://api.hubapi.com", "--base-url", help="The target's API."),
    rate_per_s: float = typer.Option(10.0, "--rate-per-s", min=0.01, help="Calls per second."),
    daily_budget: int = typer.Option(40_000, "--daily-budget", min=1, help="Calls per UTC day."),
    send: str = typer.Option(
        ",".join(s.value for s in DEFAULT_SENDS),
        "--send",
        help="What to send: contacts,companies,associations,events[,pageviews][,deletions] "
        "(deletions: archives, merges and GDPR deletions are done on the target too).",
    ),
    as_json: bool = JsonOption,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Forward a portal's changes from now on (`deliveries backfill` sends what came before)."""
    if kind != "hubspot":
        raise typer.BadParameter("the only kind is hubspot", param_hint="KIND")
    try:
        sends = parse_sends(send)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--send") from None
    if not base_url.startswith(("http://", "https://")):
        raise typer.BadParameter(
            "give a URL such as https://api.hubapi.com", param_hint="--base-url"
        )

    async def add(db: Database) -> Destination:
        async def run(conn: Any) -> Destination:
            if await portals.get_portal(conn, portal) is None:
                raise typer.BadParameter(f"no portal has hub id {portal}", param_hint="--portal")
            return await destinations.add(
                conn,
                portal,
                base_url=base_url,
                token=token,
                rate_per_s=rate_per_s,
                daily_budget=daily_budget,
                sends=sends,
                at_ms=now_ms(),
            )

        return await db.write(run)

    _echo([_shown(_run(database_url, add))], as_json)


@destination_app.command("list")
def destination_list(as_json: bool = JsonOption, database_url: str | None = DatabaseUrl) -> None:
    """Every destination."""
    found: list[Destination] = _run(database_url, lambda db: db.read(destinations.all_destinations))
    _echo([_shown(d) for d in found], as_json)


@destination_app.command("remove")
def destination_remove(
    destination_id: int = typer.Argument(..., help="Destination id."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Stop forwarding to a destination and drop its queue and dead letter."""

    async def remove(db: Database) -> int:
        async def run(conn: Any) -> int:
            if await destinations.get(conn, destination_id) is None:
                raise typer.BadParameter(f"no destination {destination_id}")
            return await destinations.remove(conn, destination_id)

        return await db.write(run)

    dropped = _run(database_url, remove)
    typer.echo(f"removed destination {destination_id} ({dropped} queued changes dropped)")


@destination_app.command("map-form")
def destination_map_form(
    destination_id: int = typer.Argument(..., help="Destination id."),
    form: str = typer.Option(..., "--form", help="The local form's guid."),
    hubspot_portal: int = typer.Option(..., "--hubspot-portal", help="HubSpot's portal id."),
    hubspot_form: str = typer.Option(..., "--hubspot-form", help="HubSpot's form guid."),
    forms_base_url: str = typer.Option(
        destinations.HSFORMS_URL, "--forms-base-url", help="HubSpot's forms API."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Also send a form's submissions, from now on, to a HubSpot form (its submission API)."""

    async def change(db: Database) -> None:
        async def run(conn: Any) -> None:
            found = await destinations.get(conn, destination_id)
            if found is None:
                raise typer.BadParameter(f"no destination {destination_id}")
            if await forms.get_form(conn, found.portal_id, form) is None:
                raise typer.BadParameter(
                    f"portal {found.portal_id} has no form {form}", param_hint="--form"
                )
            target = destinations.FormTarget(form, hubspot_portal, hubspot_form, forms_base_url)
            await destinations.map_form(conn, destination_id, target)

        await db.write(run)

    _run(database_url, change)
    typer.echo(f"submissions of form {form} go to HubSpot form {hubspot_form} too")


@destination_app.command("set-token")
def destination_set_token(
    destination_id: int = typer.Argument(..., help="Destination id."),
    token: str = typer.Option(..., "--token", help="The new access token."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Replace a revoked token; a pause it caused ends at once."""

    async def change(db: Database) -> None:
        async def run(conn: Any) -> None:
            if await destinations.get(conn, destination_id) is None:
                raise typer.BadParameter(f"no destination {destination_id}")
            await destinations.set_token(conn, destination_id, token)

        await db.write(run)

    _run(database_url, change)
    typer.echo(f"destination {destination_id} has a new token")


# --- deliveries -------------------------------------------------------------------------------


@deliveries_app.command("status")
def deliveries_status(as_json: bool = JsonOption, database_url: str | None = DatabaseUrl) -> None:
    """Per destination: queued, sent, retried, dead, calls, 429s, budget left, any pause."""

    async def read(db: Database) -> list[dict[str, Any]]:
        found = await db.read(destinations.all_destinations)
        counts = await db.read(outbox.counts)
        return delivery_views.status_rows(found, counts, now_ms())

    _echo(_run(database_url, read), as_json)


@deliveries_app.command("list")
def deliveries_list(
    failed: bool = typer.Option(False, "--failed", help="The dead letter (the default)."),
    destination: int | None = typer.Option(None, "--destination", help="One destination."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many."),
    as_json: bool = JsonOption,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Dead-lettered changes with their last error, oldest first."""
    del failed  # the dead letter is what there is to list; the flag reads as HubSpot users say it

    async def read(db: Database) -> list[outbox.Row]:
        return await db.read(lambda c: outbox.dead_rows(c, destination_id=destination, limit=limit))

    rows = [
        {
            "id": r.id,
            "destination": r.destination_id,
            "kind": r.kind.value,
            "object": r.object_key,
            "attempts": r.attempts,
            "dead_at": iso_time(r.dead_at_ms),
            "error": r.last_error,
        }
        for r in _run(database_url, read)
    ]
    _echo(rows, as_json)


def parse_since(text: str) -> int:
    """An ISO-8601 date or time, or epoch milliseconds."""
    if text.isascii() and text.isdigit():
        return int(text)
    at_ms = parse_instant_ms(text)
    if at_ms is None:
        raise typer.BadParameter("give an ISO-8601 time (2026-12-01T10:00:00Z) or epoch ms")
    return at_ms


def _replay(ids: list[int]) -> Callable[[Any], Any]:
    return lambda conn: outbox.replay(conn, ids, now_ms())


@deliveries_app.command("replay")
def deliveries_replay(
    destination: int | None = typer.Option(None, "--destination", help="One destination."),
    since: str | None = typer.Option(None, "--since", help="Dead-lettered at or after (ISO)."),
    row_id: int | None = typer.Option(None, "--id", help="One dead-lettered change."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Queue dead-lettered changes again (all of them without a filter); they send the
    current state of what they name, not the copy that failed."""
    since_ms = parse_since(since) if since else None

    async def replay(db: Database) -> int:
        rows = await db.read(
            lambda c: outbox.dead_rows(
                c, destination_id=destination, since_ms=since_ms, row_id=row_id
            )
        )
        with Progress(console=stderr, disable=not stderr.is_terminal, transient=True) as bar:
            task = bar.add_task("replaying", total=len(rows))
            for start in range(0, len(rows), 500):
                ids = [r.id for r in rows[start : start + 500]]
                await db.write(_replay(ids))
                bar.advance(task, len(ids))
        return len(rows)

    count = _run(database_url, replay)
    typer.echo(f"replayed {count} changes")


@deliveries_app.command("backfill")
def deliveries_backfill(
    destination: int = typer.Option(..., "--destination", help="Destination id."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Queue, once, everything the portal recorded before the destination was added."""

    async def backfill(db: Database) -> int:
        async def run(conn: Any) -> int:
            found = await destinations.get(conn, destination)
            if found is None:
                raise typer.BadParameter(f"no destination {destination}")
            if found.backfilled_at_ms is not None:
                raise typer.BadParameter(f"destination {destination} was backfilled already")
            kinds = [KIND_OF_SEND[s] for s in Sends if s in found.sends]
            at = now_ms()
            added = await outbox.backfill(
                conn, found.id, found.portal_id, kinds, found.created_at_ms, at
            )
            await destinations.mark_backfilled(conn, found.id, at)
            return added

        return await db.write(run)

    typer.echo(f"queued {_run(database_url, backfill)} changes")
