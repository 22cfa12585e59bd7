"""Signing in to the dashboard, sessions, CSRF and who may see which portal."""

from __future__ import annotations

import re
from typing import Any

import httpx

from hubtrail.app import HubtrailApp
from hubtrail.core.passwords import hash_password, verify_password
from hubtrail.process.processor import now_ms
from hubtrail.store import users
from tests.conftest import PortalKeys, create_portal

PASSWORD = "correct horse battery"


async def make_user(app: HubtrailApp, email: str, *hub_ids: int) -> None:
    async def run(conn: Any) -> None:
        user = await users.create_user(conn, email, hash_password(PASSWORD), now_ms())
        await users.grant(conn, user.id, list(hub_ids))

    await app.runtime.db.write(run)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/login", data={"email": email, "password": password, "next": "/app"})


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_passwords_hash_and_verify() -> None:
    stored = hash_password("s3cret-enough")
    assert stored.startswith("scrypt$")
    assert verify_password("s3cret-enough", stored)
    assert not verify_password("s3cret-enougH", stored)
    assert not verify_password("x", "not-a-hash")
    assert hash_password("same") != hash_password("same")  # salted


async def test_pages_need_a_session_and_sign_in_sets_a_safe_cookie(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await make_user(app, "ana@example.com", portal.hub_id)
    first = await client.get("/app?tab=1")
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/app%3Ftab%3D1"
    page = await client.get("/login")
    assert page.status_code == 200
    assert "Sign in" in page.text
    wrong = await sign_in(client, "ana@example.com", "nope-nope")
    assert wrong.status_code == 401
    assert "do not match" in wrong.text
    unknown = await sign_in(client, "nobody@example.com")
    assert unknown.status_code == 401
    signed = await sign_in(client, "ANA@example.com")
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in this test; https sets it
    home = await client.get("/app")
    assert home.headers["location"] == f"/app/{portal.hub_id}"


async def test_sign_in_redirects_only_within_the_site(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await make_user(app, "ana@example.com", portal.hub_id)
    for target, expected in (
        ("//evil.example/x", "/app"),
        ("https://evil.example/", "/app"),
        (f"/app/{portal.hub_id}/contacts", f"/app/{portal.hub_id}/contacts"),
    ):
        response = await client.post(
            "/login", data={"email": "ana@example.com", "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == expected


async def test_another_portals_pages_are_not_found(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    other = await create_portal(app, "Other")
    await make_user(app, "ana@example.com", portal.hub_id)
    await sign_in(client, "ana@example.com")
    response = await client.get(f"/app/{other.hub_id}/contacts")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


async def test_sign_out_needs_the_csrf_token(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await make_user(app, "ana@example.com", portal.hub_id)
    await sign_in(client, "ana@example.com")
    forged = await client.post("/logout", data={})
    assert forged.status_code == 403
    assert (await client.get("/app")).status_code == 303  # still signed in
    login_page = await client.get("/login")
    assert login_page.status_code == 200

    # a real page carries the token
    async def token() -> str:
        async def run(conn: Any) -> str:
            from sqlalchemy import select

            from hubtrail.store.schema import sessions

            return str((await conn.execute(select(sessions.c.csrf_token))).scalar())

        return await app.runtime.db.read(run)

    out = await client.post("/logout", data={"csrf_token": await token()})
    assert out.status_code == 303
    assert (await client.get("/app")).headers["location"].startswith("/login")
