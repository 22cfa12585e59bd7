"""The `hubtrail` command: serve, worker, portal, token, db, export.

Every command takes every setting as a flag (`--database-url`, `--port`, …), generated from the one
list in `config.py`, so `hubtrail serve --help` documents them all with their defaults.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Callable
from typing import Any, Optional

import orjson
import typer
import uvicorn
from pydantic import ValidationError as SettingsError
from rich.console import Console
from rich.progress import Progress

from hubtrail.cli_deliveries import deliveries_app, destination_app
from hubtrail.config import Settings, describe_settings
from hubtrail.core.credentials import CredentialKind
from hubtrail.core.errors import HubtrailError
from hubtrail.core.portal_settings import setting_fields
from hubtrail.process.processor import now_ms
from hubtrail.store import exports, forms, portals
from hubtrail.store.db import Database
from hubtrail.store.migrate import upgrade

app = typer.Typer(help="hubtrail: self-hosted, HubSpot-compatible visitor tracking.")
portal_app = typer.Typer(help="Create and inspect portals (hub ids).")
token_app = typer.Typer(help="Issue credentials for a portal.")
user_app = typer.Typer(help="Dashboard users.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(portal_app, name="portal")
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(destination_app, name="destination")
app.add_typer(deliveries_app, name="deliveries")
stderr = Console(stderr=True)


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give `command` one `--flag` per setting, documented from `config.py`.

    Unset flags stay None and fall back to env, hubtrail.toml and the defaults. Typer reads
    parameters from the signature, so the flags are added to `__signature__`.
    """
    signature = inspect.signature(command)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    flags = [
        inspect.Parameter(
            row["name"],
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                None,
                "--" + row["name"].replace("_", "-"),
                help=f"{row['help']} (env {row['env']}, default {row['default']!r})",
                show_default=False,
            ),
            annotation=Optional[str],  # noqa: UP045 (typer needs a typing.Optional object)
        )
        for row in describe_settings()
    ]
    command.__signature__ = signature.replace(parameters=[*fixed, *flags])  # type: ignore[attr-defined]
    return command


def build_settings(flags: dict[str, Any]) -> Settings:
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return Settings(**given)
    except SettingsError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


@app.command("serve")
@settings_options
def serve(
    demo: bool = typer.Option(
        False, "--demo", help="Create a demo portal with a month of sample traffic; print its keys."
    ),
    **flags: Any,
) -> None:
    """Run the HTTP server, the inbox writer and the processor in one process."""
    from hubtrail.app import create_app
    from hubtrail.demo import demo_app, ensure_demo

    settings = build_settings(flags)
    _configure_logging(settings)
    if demo:  # prints the banner once up; loads a demo month in the background on first start
        application = demo_app(settings, asyncio.run(ensure_demo(settings)), typer.echo)
    else:
        application = create_app(settings)
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )
    ClosingServer(config, application.runtime).run()


class ClosingServer(uvicorn.Server):
    """uvicorn's server, telling the app it is closing as soon as a stop is asked for, so open
    event streams end at once rather than at the graceful-shutdown timeout."""

    def __init__(self, config: uvicorn.Config, runtime: Any) -> None:
        super().__init__(config)
        self._runtime = runtime

    def handle_exit(self, sig: int, frame: Any) -> None:
        self._runtime.closing = True
        super().handle_exit(sig, frame)


@app.command("worker")
@settings_options
def worker(
    once: bool = typer.Option(
        False, "--once", help="Apply the inbox and send what is due now, then exit."
    ),
    **flags: Any,
) -> None:
    """Run the processor and the forwarder alone (beside `serve`, or as extra workers on
    PostgreSQL; `HUBTRAIL_FORWARD_IN_SERVER=false` leaves forwarding to workers)."""
    from hubtrail.runtime import Runtime

    settings = build_settings(flags)
    _configure_logging(settings)

    async def run() -> int:
        runtime = Runtime(settings, run_processor=False)
        await upgrade(runtime.db)
        try:
            if once:
                applied = await runtime.processor.drain()
                await runtime.forward_once()
                return applied
            await runtime.run_workers()
            return 0
        finally:
            await runtime.close_workers()
            await runtime.db.close()

    applied = asyncio.run(run())
    if once:
        typer.echo(f"applied {applied} messages")


async def _with_db(settings: Settings, fn: Callable[[Database], Any]) -> Any:
    db = Database(settings)
    try:
        await upgrade(db)
        return await fn(db)
    finally:
        await db.close()


def _settings_from_env(database_url: str | None) -> Settings:
    return build_settings({"database_url": database_url})


DatabaseUrl = typer.Option(None, "--database-url", help="Overrides HUBTRAIL_DATABASE_URL.")
KindOption = typer.Option(CredentialKind.ACCESS_TOKEN, "--kind", help="What to issue.")


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = DatabaseUrl) -> None:
    """Apply pending migrations (the server also does this on start)."""
    asyncio.run(_with_db(_settings_from_env(database_url), lambda db: asyncio.sleep(0)))
    typer.echo("database is up to date")


@portal_app.command("create")
def portal_create(
    name: str,
    hub_id: int | None = typer.Option(None, "--hub-id", help="Hub id (default: next free)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create a portal with an access token and a write key (shown only now)."""

    async def create(db: Database) -> dict[str, Any]:
        async def run(conn: Any) -> dict[str, Any]:
            at = now_ms()
            if hub_id is not None and await portals.get_portal(conn, hub_id):
                raise typer.BadParameter(f"a portal with hub id {hub_id} already exists")
            portal = await portals.create_portal(conn, name, at, hub_id)
            return {
                "hub_id": portal.hub_id,
                "access_token": await portals.issue_credential(
                    conn, portal.hub_id, CredentialKind.ACCESS_TOKEN, at
                ),
                "write_key": await portals.issue_credential(
                    conn, portal.hub_id, CredentialKind.WRITE_KEY, at
                ),
            }

        result: dict[str, Any] = await db.write(run)
        return result

    created = asyncio.run(_with_db(_settings_from_env(database_url), create))
    if as_json:
        typer.echo(orjson.dumps(created).decode())
    else:
        for key, value in created.items():
            typer.echo(f"{key:13} {value}")


def portal_settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give `command` one `--flag` per portal setting, documented from `core/portal_settings.py`.

    Switches are `--name/--no-name`; other values stay strings (None when not given) and the
    settings model parses them: digits for numbers, comma-separated items for lists (empty: none).
    """
    metavars = {"int": "INTEGER", "list": "A,B,…", "str": "TEXT"}
    signature = inspect.signature(command)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    flags = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                None,
                f"{field.flag}/--no-{field.flag[2:]}" if field.kind == "bool" else field.flag,
                help=f"{field.description} (default {field.default!r})",
                metavar=metavars.get(field.kind),
                show_default=False,
            ),
            # typer needs typing.Optional objects here
            annotation=Optional[bool] if field.kind == "bool" else Optional[str],  # noqa: UP045
        )
        for field in setting_fields()
    ]
    command.__signature__ = signature.replace(parameters=[*fixed, *flags])  # type: ignore[attr-defined]
    return command


def _echo_portal(shown: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(orjson.dumps(shown).decode())
        return
    typer.echo(f"hub_id  {shown['hub_id']}")
    typer.echo(f"name    {shown['name']}")
    for name, value in shown["settings"].items():
        text = ",".join(value) if isinstance(value, list) else orjson.dumps(value).decode()
        typer.echo(f"{name:28} {text}")


HubIdArgument = typer.Argument(..., help="Hub id.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")


@portal_app.command("show")
def portal_show(
    hub_id: int = HubIdArgument,
    as_json: bool = JsonOption,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Print a portal and every one of its settings."""

    async def show(db: Database) -> dict[str, Any]:
        async def run(conn: Any) -> dict[str, Any]:
            portal = await portals.get_portal(conn, hub_id)
            if portal is None:
                raise typer.BadParameter(f"no portal has hub id {hub_id}", param_hint="HUB_ID")
            settings = await portals.get_settings(conn, hub_id)
            return {"hub_id": hub_id, "name": portal.name, "settings": settings.model_dump()}

        shown: dict[str, Any] = await db.read(run)
        return shown

    _echo_portal(asyncio.run(_with_db(_settings_from_env(database_url), show)), as_json)


@portal_app.command("set")
@portal_settings_options
def portal_set(
    hub_id: int = HubIdArgument,
    as_json: bool = JsonOption,
    database_url: str | None = DatabaseUrl,
    **flags: Any,
) -> None:
    """Change portal settings; a running server picks them up within HUBTRAIL_PORTAL_CACHE_TTL_S."""
    changes = {name: value for name, value in flags.items() if value is not None}
    if not changes:
        raise typer.BadParameter(
            "give at least one setting to change: "
            + ", ".join(field.flag for field in setting_fields())
        )

    async def change(db: Database) -> dict[str, Any]:
        async def run(conn: Any) -> dict[str, Any]:
            portal = await portals.get_portal(conn, hub_id)
            if portal is None:
                raise typer.BadParameter(f"no portal has hub id {hub_id}", param_hint="HUB_ID")
            try:
                settings = await portals.update_settings(conn, hub_id, changes)
            except HubtrailError as exc:
                raise typer.BadParameter(exc.message) from None
            return {"hub_id": hub_id, "name": portal.name, "settings": settings.model_dump()}

        shown: dict[str, Any] = await db.write(run)
        return shown

    _echo_portal(asyncio.run(_with_db(_settings_from_env(database_url), change)), as_json)


@token_app.command("create")
def token_create(
    portal: int = typer.Option(..., "--portal", help="Hub id."),
    kind: CredentialKind = KindOption,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Print a new credential for a portal (older ones keep working)."""

    async def create(db: Database) -> str:
        async def run(conn: Any) -> str:
            if await portals.get_portal(conn, portal) is None:
                raise typer.BadParameter(f"no portal has hub id {portal}")
            return await portals.issue_credential(conn, portal, kind, now_ms())

        secret: str = await db.write(run)
        return secret

    typer.echo(asyncio.run(_with_db(_settings_from_env(database_url), create)))


PortalsOption = typer.Option(..., "--portal", help="A hub id they may see (repeat).")


@user_app.command("create")
def user_create(
    email: str = typer.Argument(..., help="Their email; they sign in with it."),
    portal: list[int] = PortalsOption,
    password: str | None = typer.Option(
        None, "--password", help="Their password (asked for when not given)."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create a dashboard user, or give an existing one more portals (and a new password)."""
    from hubtrail.core.passwords import hash_password, password_problem
    from hubtrail.store import users

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise typer.BadParameter(problem, param_hint="--password")
    hashed = hash_password(password)

    async def create(db: Database) -> str:
        async def run(conn: Any) -> str:
            for hub in portal:
                if await portals.get_portal(conn, hub) is None:
                    raise typer.BadParameter(f"no portal has hub id {hub}", param_hint="--portal")
            user = await users.find_user(conn, email)
            if user is None:
                user = await users.create_user(conn, email, hashed, now_ms())
                verb = "created"
            else:
                await users.set_password(conn, user.id, hashed)
                verb = "updated"
            await users.grant(conn, user.id, portal)
            shown = ", ".join(str(h) for h in portal)
            return f"{verb} {user.email}; portals: {shown}"

        result: str = await db.write(run)
        return result

    typer.echo(asyncio.run(_with_db(_settings_from_env(database_url), create)))


@app.command("export")
def export(
    kind: str = typer.Argument(
        ..., help="contacts, companies, events, pageviews, or submissions (with --form)"
    ),
    portal: int = typer.Option(..., "--portal", help="Hub id."),
    form: str | None = typer.Option(None, "--form", help="The form's guid (submissions)."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Write a portal's records (or one form's submissions) to stdout as JSON lines."""
    if kind not in exports.EXPORT_KINDS:
        raise typer.BadParameter(
            f"choose one of {', '.join(exports.EXPORT_KINDS)}", param_hint="KIND"
        )
    if (kind == exports.SUBMISSIONS) != bool(form):
        raise typer.BadParameter("give a form's guid with submissions only", param_hint="--form")

    async def run(db: Database) -> None:
        if await db.read(lambda conn: portals.get_portal(conn, portal)) is None:
            raise typer.BadParameter(f"no portal has hub id {portal}")
        if form:
            if await db.read(lambda conn: forms.get_form(conn, portal, form)) is None:
                raise typer.BadParameter(f"portal {portal} has no form {form}", param_hint="--form")
            total = await exports.count_submissions(db, portal, form)
            records = exports.walk_submissions(db, portal, form)
        else:
            total = await exports.count(db, kind, portal)
            records = exports.walk(db, kind, portal)
        out = sys.stdout.buffer
        with Progress(console=stderr, disable=not stderr.is_terminal, transient=True) as bar:
            task = bar.add_task(f"exporting {kind}", total=total)
            async for record in records:
                out.write(orjson.dumps(record) + b"\n")
                bar.advance(task)
        out.flush()

    asyncio.run(_with_db(_settings_from_env(database_url), run))


def main() -> None:
    app(prog_name="hubtrail")
