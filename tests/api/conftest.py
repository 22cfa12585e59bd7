"""Fixtures for the HubSpot-compatible API: a client that sends the portal's Bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hubtrail.app import HubtrailApp
from tests.conftest import PortalKeys


@pytest.fixture
async def api(app: HubtrailApp, portal: PortalKeys) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client authenticated as `portal`."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {portal.access_token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://hubtrail.test", headers=headers
    ) as client:
        yield client
