"""The demo portal `hubtrail serve --demo` creates on first start, and what it prints.

Secrets are stored hashed, so the demo's plain credentials are kept in a file beside the SQLite
database (mode 600) to be printed again on the next start; if the file is gone, new ones are issued.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.config import Settings
from hubtrail.core.credentials import CredentialKind
from hubtrail.core.passwords import hash_password, verify_password
from hubtrail.process.processor import now_ms
from hubtrail.store import portals, users
from hubtrail.store.db import Database
from hubtrail.store.migrate import upgrade

DEMO_PORTAL_NAME = "Demo portal"
DEMO_USER = "demo@example.com"


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
