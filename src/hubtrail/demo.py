"""The demo portal `hubtrail serve --demo` creates on first start, and what it prints.

Secrets are stored hashed, so the demo's plain credentials are kept in a file beside the SQLite
database (mode 600) to be printed again on the next start; if the file is gone, new ones are issued.

While the portal has no data, the demo app loads a month of traffic (`demo_data`) into it, in the
background, through the path real traffic takes: the Segment and collector parsers, an inbox
writer, the processor. The processor reads a clock that follows the traffic while it loads, so
contacts are created, and properties change, when their calls were sent, not all on the day the
demo started. (A message that arrives from outside meanwhile is dated by that clock too.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.app import HubtrailApp, create_app
from hubtrail.config import Settings
from hubtrail.core.credentials import CredentialKind
from hubtrail.core.messages import Message
from hubtrail.core.passwords import hash_password, verify_password
from hubtrail.demo_data import HOUR_MS, Call, Month, month_of_traffic
from hubtrail.ingest.segment import parse_message
from hubtrail.ingest.tracking import parse_hit
from hubtrail.process.processor import Processor, now_ms
from hubtrail.runtime import Runtime
from hubtrail.store import exports, portals, users
from hubtrail.store.db import Database
from hubtrail.store.group_commit import GroupCommitter
from hubtrail.store.migrate import upgrade

DEMO_PORTAL_NAME = "Demo portal"
DEMO_USER = "demo@example.com"
DEMO_VISITORS = 1500
SEED_WINDOW_MS = 3 * HOUR_MS
SEED_BATCH_SIZE = 5000
SEED_SLICE_MS = 500.0
log = logging.getLogger("hubtrail.demo")


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    hub_id: int
    access_token: str
    write_key: str
    password: str  # the dashboard's demo user, DEMO_USER


def credentials_file(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "hubtrail-demo.json"
    return Path("hubtrail-demo.json").resolve()


async def ensure_demo(settings: Settings) -> DemoCredentials:
    """The demo portal's credentials, creating the portal (and the schema) when missing."""
    path = credentials_file(settings)
    saved = _load(path)
    db = Database(settings)
    try:
        await upgrade(db)

        async def setup(conn: AsyncConnection) -> DemoCredentials:
            portal = await portals.find_portal_by_name(conn, DEMO_PORTAL_NAME)
            if portal is None:
                portal = await portals.create_portal(conn, DEMO_PORTAL_NAME, now_ms())
            elif saved and saved.hub_id == portal.hub_id and await _still_valid(conn, saved):
                return saved
            at = now_ms()
            password = secrets.token_urlsafe(12)
            user = await users.find_user(conn, DEMO_USER)
            if user is None:
                user = await users.create_user(conn, DEMO_USER, hash_password(password), at)
            else:
                await users.set_password(conn, user.id, hash_password(password))
            await users.grant(conn, user.id, [portal.hub_id])
            return DemoCredentials(
                hub_id=portal.hub_id,
                access_token=await portals.issue_credential(
                    conn, portal.hub_id, CredentialKind.ACCESS_TOKEN, at
                ),
                write_key=await portals.issue_credential(
                    conn, portal.hub_id, CredentialKind.WRITE_KEY, at
                ),
                password=password,
            )

        demo = await db.write(setup)
    finally:
        await db.close()
    if demo != saved:
        _save(path, demo)
    return demo


async def _still_valid(conn: AsyncConnection, saved: DemoCredentials) -> bool:
    token = await portals.portal_for_secret(conn, saved.access_token, CredentialKind.ACCESS_TOKEN)
    key = await portals.portal_for_secret(conn, saved.write_key, CredentialKind.WRITE_KEY)
    user = await users.find_user(conn, DEMO_USER)
    signs_in = user is not None and verify_password(saved.password, user.password_hash)
    return token == key == saved.hub_id and signs_in


def _load(path: Path) -> DemoCredentials | None:
    try:
        return DemoCredentials(**orjson.loads(path.read_bytes()))
    except (OSError, ValueError, TypeError):
        return None


def _save(path: Path, demo: DemoCredentials) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(orjson.dumps(asdict(demo), option=orjson.OPT_INDENT_2))


class TrafficClock:
    """The processor's clock in a demo app: while a demo month loads, the moment its traffic has
    reached (so a contact is created on the day it signed up, not the day the demo started);
    otherwise the real time."""

    def __init__(self) -> None:
        self.simulated_ms: int | None = None

    def __call__(self) -> int:
        return now_ms() if self.simulated_ms is None else self.simulated_ms


def clocked_app(
    settings: Settings,
    *,
    run_processor: bool | None = None,
    on_started: Callable[[], None] | None = None,
) -> tuple[HubtrailApp, TrafficClock]:
    """`create_app`'s app, with a processor that reads its time from the returned clock."""
    app = create_app(settings, run_processor=run_processor, on_started=on_started)
    clock = TrafficClock()
    runtime = app.runtime
    processor = Processor(
        runtime.db,
        runtime.metrics,
        batch_size=settings.process_batch_size,
        poll_ms=settings.process_poll_ms,
        slice_ms=settings.process_slice_ms,
        clock_ms=clock,
    )
    processor.wakeup = runtime.processor.wakeup  # the event the inbox writer sets on commit
    runtime.processor = processor
    return app, clock


async def has_data(db: Database, hub_id: int) -> bool:
    """Whether the portal holds any contacts, page views or events."""
    for kind in ("contacts", "pageviews", "events"):
        if await exports.count(db, kind, hub_id):
            return True
    return False


async def seed_month(
    runtime: Runtime,
    clock: TrafficClock,
    hub_id: int,
    *,
    at_ms: int | None = None,
    visitors: int | None = None,
) -> Month | None:
    """Load the demo month (up to `at_ms`, default now) into a portal without data; None, and
    nothing added, when it has some.

    The calls go through the parsers, an inbox writer and a processor of their own, a few hours
    of traffic at a time (cut after each call that creates a contact or a company), with `clock`
    set to when the calls arrived. The runtime's processor, if it runs, reads the same clock.
    """
    if await has_data(runtime.db, hub_id):
        return None
    now = now_ms() if at_ms is None else at_ms
    month = month_of_traffic(now, hub_id, visitors=visitors or DEMO_VISITORS)
    settings = runtime.settings
    committer = GroupCommitter(
        runtime.db, runtime.metrics, window_ms=0, max_messages=settings.commit_max_messages
    )
    # Long slices: the month applies in a few big transactions instead of many small ones.
    processor = Processor(
        runtime.db,
        runtime.metrics,
        batch_size=SEED_BATCH_SIZE,
        poll_ms=settings.process_poll_ms,
        slice_ms=SEED_SLICE_MS,
        clock_ms=clock,
    )
    committer.start()
    try:
        for window in _windows(month.calls):
            clock.simulated_ms = min(now, _received_ms(window[-1]) + 1500)
            await committer.submit([_parsed(call, hub_id) for call in window])
            await processor.drain()
    finally:
        clock.simulated_ms = None
        await committer.stop()
    return month


def _windows(calls: list[Call]) -> Iterator[list[Call]]:
    """The calls in the slices the processor applies: three hours at most, and ending at each
    call that creates a contact or a company, so it is created within seconds of its call."""
    window: list[Call] = []
    creators: set[str] = set()
    for call in calls:
        if window and call.at_ms - window[0].at_ms > SEED_WINDOW_MS:
            yield window
            window = []
        window.append(call)
        body = call.body
        kind = body.get("type")
        key = str(
            body.get("traits", {}).get("email") if kind == "identify" else body.get("groupId")
        )
        if kind in ("identify", "group") and key not in creators:
            creators.add(key)
            yield window
            window = []
    if window:
        yield window


def _received_ms(call: Call) -> int:
    return call.at_ms + 60 + call.at_ms % 240  # the network: 60–300 ms, varying per call


def _parsed(call: Call, hub_id: int) -> Message:
    """The call as its endpoint (`/collect`, `/v1/page|track|identify|group`) would parse it."""
    if call.collector:
        return parse_hit(call.body, _received_ms(call), call.user_agent)
    return parse_message(call.body, hub_id, _received_ms(call))


def demo_app(settings: Settings, demo: DemoCredentials, echo: Callable[[str], None]) -> HubtrailApp:
    """The app `serve --demo` runs: once up it prints the banner and, while the demo portal has
    no data, loads the demo month in the background (the server answers meanwhile)."""
    loading: set[asyncio.Task[None]] = set()

    def started() -> None:
        echo(banner(settings, demo))
        task = asyncio.get_running_loop().create_task(
            _load_month(app.runtime, clock, demo.hub_id, echo), name="demo-month"
        )
        loading.add(task)
        task.add_done_callback(loading.discard)

    app, clock = clocked_app(settings, on_started=started)
    return app


async def _load_month(
    runtime: Runtime, clock: TrafficClock, hub_id: int, echo: Callable[[str], None]
) -> None:
    try:
        if await has_data(runtime.db, hub_id):
            return
        echo("Loading a month of demo traffic into the demo portal (first start only)…")
        started = time.perf_counter()
        month = await seed_month(runtime, clock, hub_id)
    except asyncio.CancelledError:
        log.warning(
            "stopped before the demo month had loaded: the demo portal keeps the days that had "
            "(start with a new database to load the whole month)"
        )
        raise
    except Exception:
        log.exception("the demo month did not load")
        return
    if month is not None:
        echo(
            f"Loaded the demo month in {time.perf_counter() - started:.0f} s: "
            f"{month.visitors:,} visitors, {month.page_views:,} page views, "
            f"{month.events:,} events, {month.contacts:,} contacts, {month.companies:,} companies"
        )


def banner(settings: Settings, demo: DemoCredentials) -> str:
    """What `serve --demo` prints: where to go and how to send a first event."""
    base = settings.base_url
    return "\n".join(
        [
            f"hubtrail is serving the demo portal at {base}",
            f"  dashboard     {base}/app/{demo.hub_id}",
            f"  sign in as    {DEMO_USER} / {demo.password}",
            f"  hub id        {demo.hub_id}",
            f"  access token  {demo.access_token}",
            f"  write key     {demo.write_key}",
            "Send an event (HubSpot HTTP events API):",
            f'  curl -i "{base}/v1/event?_a={demo.hub_id}&_n=demo_signup&email=jane@example.com"',
            "Send one through the v3 API:",
            f"  curl -i -X POST {base}/events/v3/send"
            f" -H 'Authorization: Bearer {demo.access_token}' -H 'Content-Type: application/json'"
            f""" -d '{{"eventName":"demo_signup","email":"jane@example.com"}}'""",
            f"Health: {base}/healthz   Metrics: {base}/metrics",
        ]
    )
