"""Dashboard users, the portals each may see, and their sign-in sessions.

A session cookie carries a random value; only its SHA-256 is stored, so a copy of the database
signs no one in. Each session has its own CSRF token, which every form posts back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.store.schema import portals, sessions, user_portals, users
from hubtrail.store.sql import insert_ignoring


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class Session:
    user_id: int
    email: str
    csrf_token: str
    expires_at_ms: int


@dataclass(frozen=True, slots=True)
class PortalEntry:
    hub_id: int
    name: str


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def find_user(conn: AsyncConnection, email: str) -> User | None:
    row = (await conn.execute(select(users).where(users.c.email == email.strip().lower()))).first()
    return User(row.id, row.email, row.password_hash) if row is not None else None


async def create_user(conn: AsyncConnection, email: str, password_hash: str, at_ms: int) -> User:
    result = await conn.execute(
        insert(users).values(
            email=email.strip().lower(), password_hash=password_hash, created_at_ms=at_ms
        )
    )
    user_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return User(user_id, email.strip().lower(), password_hash)


async def set_password(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    await conn.execute(
        users.update().where(users.c.id == user_id).values(password_hash=password_hash)
    )


async def grant(conn: AsyncConnection, user_id: int, hub_ids: list[int]) -> None:
    if hub_ids:
        rows = [{"user_id": user_id, "portal_id": hub} for hub in hub_ids]
        await conn.execute(insert_ignoring(conn, user_portals, ["user_id", "portal_id"]), rows)


async def portals_of(conn: AsyncConnection, user_id: int) -> list[PortalEntry]:
    query = (
        select(portals.c.id, portals.c.name)
        .join(user_portals, user_portals.c.portal_id == portals.c.id)
        .where(user_portals.c.user_id == user_id)
        .order_by(portals.c.id)
    )
    return [PortalEntry(row.id, row.name) for row in await conn.execute(query)]


async def start_session(conn: AsyncConnection, user_id: int, at_ms: int, lifetime_ms: int) -> str:
    """A new session; returns the cookie value (shown once, stored only as a hash)."""
    cookie = secrets.token_urlsafe(32)
    await conn.execute(
        insert(sessions).values(
            id_sha256=_sha256(cookie),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at_ms=at_ms,
            expires_at_ms=at_ms + lifetime_ms,
        )
    )
    return cookie


async def session_for(conn: AsyncConnection, cookie: str, now_ms: int) -> Session | None:
    query = (
        select(sessions.c.user_id, users.c.email, sessions.c.csrf_token, sessions.c.expires_at_ms)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id_sha256 == _sha256(cookie), sessions.c.expires_at_ms > now_ms)
    )
    row = (await conn.execute(query)).first()
    return Session(row.user_id, row.email, row.csrf_token, row.expires_at_ms) if row else None


async def end_session(conn: AsyncConnection, cookie: str) -> None:
    await conn.execute(delete(sessions).where(sessions.c.id_sha256 == _sha256(cookie)))


async def end_expired(conn: AsyncConnection, now_ms: int) -> None:
    await conn.execute(delete(sessions).where(sessions.c.expires_at_ms <= now_ms))
