"""A dashboard client signed in as a user who may see the `portal` fixture's portal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.core.passwords import hash_password
from hubtrail.process.processor import now_ms
from hubtrail.store import users
from tests.conftest import PortalKeys

PASSWORD = "correct horse battery"


@dataclass
class Dashboard:
    client: httpx.AsyncClient
    hub_id: int

    def url(self, suffix: str = "") -> str:
        return f"/app/{self.hub_id}{suffix}"

    async def page(self, suffix: str = "", **params: Any) -> httpx.Response:
        response = await self.client.get(self.url(suffix), params=params)
        assert response.status_code == 200, response.text[:2000]
        return response

    async def post(self, suffix: str, data: dict[str, str]) -> httpx.Response:
        """A form post with the CSRF token taken from the page the form is on."""
        page = await self.client.get(self.url(suffix))
        return await self.client.post(
            self.url(suffix), data={"csrf_token": csrf_of(page.text), **data}
        )


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def add_user(app: HubtrailApp, email: str, *hub_ids: int) -> None:
    async def run(conn: Any) -> None:
        user = await users.create_user(conn, email, hash_password(PASSWORD), now_ms())
        await users.grant(conn, user.id, list(hub_ids))

    await app.runtime.db.write(run)


@pytest.fixture
async def dashboard(app: HubtrailApp, portal: PortalKeys) -> AsyncIterator[Dashboard]:
    await add_user(app, "viewer@example.com", portal.hub_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubtrail.test") as client:
        signed = await client.post(
            "/login", data={"email": "viewer@example.com", "password": PASSWORD}
        )
        assert signed.status_code == 303
        yield Dashboard(client, portal.hub_id)
