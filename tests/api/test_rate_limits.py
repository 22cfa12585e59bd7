"""HubSpot's rate limits, emulated on the CRM API per portal (`rate_limit_emulation`).

The limiter's clock is replaced, so windows roll and days end without waiting.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import Response

from hubtrail.api.auth import PortalId
from hubtrail.app import HubtrailApp
from hubtrail.core.credentials import CredentialKind
from hubtrail.core.errors import NotFoundError
from hubtrail.store import portals
from tests.conftest import PortalKeys, create_portal

DETAILS = "/account-info/v3/details"
# 2024-03-05 23:59:50 UTC
BEFORE_MIDNIGHT_MS = 1_709_683_190_000
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Clock:
    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def clock(app: HubtrailApp) -> Clock:
    clock = Clock(BEFORE_MIDNIGHT_MS)
    app.runtime.rate_limiter.clock_ms = clock
    return clock


async def configure(app: HubtrailApp, hub_id: int, **changes: Any) -> None:
    await app.runtime.db.write(lambda conn: portals.update_settings(conn, hub_id, changes))


def rate_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower().startswith("x-hubspot-ratelimit-")
    }


async def test_account_details_name_the_tokens_portal(
    api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    response = await api.get(DETAILS)
    assert response.status_code == 200
    body = response.json()
    assert body["portalId"] == portal.hub_id
    assert (body["timeZone"], body["utcOffsetMilliseconds"]) == ("UTC", 0)
    assert (await api.get(DETAILS, headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_without_emulation_there_are_no_headers_and_no_limit(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    await configure(app, portal.hub_id, rate_limit_max_per_interval=2)
    for _ in range(5):
        response = await api.get(DETAILS)
        assert response.status_code == 200
        assert rate_headers(response) == {}


async def test_every_response_carries_hubspots_headers(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    await configure(app, portal.hub_id, rate_limit_emulation=True, rate_limit_daily=250_000)
    first = await api.get(DETAILS)
    assert first.status_code == 200
    assert rate_headers(first) == {
        "x-hubspot-ratelimit-daily": "250000",
        "x-hubspot-ratelimit-daily-remaining": "249999",
        "x-hubspot-ratelimit-interval-milliseconds": "10000",
        "x-hubspot-ratelimit-max": "100",
        "x-hubspot-ratelimit-remaining": "99",
        "x-hubspot-ratelimit-secondly": "10",
        "x-hubspot-ratelimit-secondly-remaining": "9",
    }
    second = await api.get(DETAILS)
    assert second.headers["x-hubspot-ratelimit-remaining"] == "98"


async def test_a_response_built_by_the_handler_gets_the_headers(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    async def delete(hub: PortalId) -> Response:
        return Response(status_code=204)

    app.api.add_api_route("/test/deleted", delete, methods=["DELETE"])
    await configure(app, portal.hub_id, rate_limit_emulation=True)
    response = await api.delete("/test/deleted")
    assert response.status_code == 204
    assert response.headers["x-hubspot-ratelimit-remaining"] == "99"
    assert len(response.headers.get_list("x-hubspot-ratelimit-max")) == 1


async def test_an_error_after_authentication_keeps_the_headers(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    async def lookup(hub: PortalId) -> None:
        raise NotFoundError(f"nothing here for {hub}")

    app.api.add_api_route("/test/not-found", lookup)
    await configure(app, portal.hub_id, rate_limit_emulation=True)
    response = await api.get("/test/not-found")
    assert response.status_code == 404
    assert response.json()["category"] == "OBJECT_NOT_FOUND"
    assert response.headers["x-hubspot-ratelimit-remaining"] == "99"


async def test_over_the_interval_is_a_ten_secondly_429_until_the_window_rolls(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    await configure(
        app,
        portal.hub_id,
        rate_limit_emulation=True,
        rate_limit_max_per_interval=3,
        rate_limit_interval_ms=10_000,
    )
    for _ in range(3):
        assert (await api.get(DETAILS)).status_code == 200
        clock.now_ms += 1_000

    refused = await api.get(DETAILS)
    assert refused.status_code == 429
    body = refused.json()
    assert body == {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": body["correlationId"],
        "policyName": "TEN_SECONDLY_ROLLING",
        "requestId": body["requestId"],
    }
    assert UUID.fullmatch(body["correlationId"])
    assert UUID.fullmatch(body["requestId"])
    assert body["correlationId"] == refused.headers["x-hubspot-correlation-id"]
    assert refused.headers["retry-after"] == "7"  # the first request leaves at +10 s
    assert refused.headers["content-type"].startswith("application/json")
    assert rate_headers(refused)["x-hubspot-ratelimit-remaining"] == "0"
    assert rate_headers(refused)["x-hubspot-ratelimit-max"] == "3"
    assert rate_headers(refused)["x-hubspot-ratelimit-daily-remaining"] == "39997"

    clock.now_ms += 6_999
    assert (await api.get(DETAILS)).status_code == 429
    clock.now_ms += 1
    rolled = await api.get(DETAILS)
    assert rolled.status_code == 200
    assert rolled.headers["x-hubspot-ratelimit-remaining"] == "0"


async def test_the_daily_budget_is_a_daily_429_until_midnight_utc(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    await configure(app, portal.hub_id, rate_limit_emulation=True, rate_limit_daily=2)
    assert (await api.get(DETAILS)).status_code == 200
    last = await api.get(DETAILS)
    assert last.headers["x-hubspot-ratelimit-daily-remaining"] == "0"
    refused = await api.get(DETAILS)
    assert refused.status_code == 429
    body = refused.json()
    assert body["message"] == "You have reached your daily limit."
    assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "DAILY")
    assert refused.headers["retry-after"] == "10"  # 23:59:50 → midnight
    clock.now_ms += 10_000
    assert (await api.get(DETAILS)).status_code == 200


async def test_a_refused_request_never_reaches_the_handler(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    await configure(app, portal.hub_id, rate_limit_emulation=True, rate_limit_max_per_interval=1)
    reached: list[int] = []

    async def counted(hub: PortalId) -> dict[str, int]:
        reached.append(hub)
        return {}

    app.api.add_api_route("/test/counted", counted)
    assert (await api.get("/test/counted")).status_code == 200
    assert (await api.get("/test/counted")).status_code == 429
    assert reached == [portal.hub_id]


async def test_limits_count_per_token_and_other_portals_are_unaffected(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    await configure(app, portal.hub_id, rate_limit_emulation=True, rate_limit_max_per_interval=1)
    other = await create_portal(app, "Other")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubtrail.test") as client:
        assert (await api.get(DETAILS)).status_code == 200
        assert (await api.get(DETAILS)).status_code == 429
        for _ in range(3):
            response = await client.get(
                DETAILS, headers={"Authorization": f"Bearer {other.access_token}"}
            )
            assert response.status_code == 200
            assert rate_headers(response) == {}
        second_token = await app.runtime.db.write(
            lambda conn: portals.issue_credential(
                conn, portal.hub_id, CredentialKind.ACCESS_TOKEN, 0
            )
        )
        fresh = await client.get(DETAILS, headers={"Authorization": f"Bearer {second_token}"})
        assert fresh.status_code == 200


async def test_a_changed_setting_reaches_the_running_server(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys, clock: Clock
) -> None:
    await configure(app, portal.hub_id, rate_limit_emulation=True, rate_limit_daily=1)
    assert (await api.get(DETAILS)).status_code == 200
    assert (await api.get(DETAILS)).status_code == 429
    await configure(app, portal.hub_id, rate_limit_daily=5)
    raised = await api.get(DETAILS)
    assert raised.status_code == 200
    assert raised.headers["x-hubspot-ratelimit-daily"] == "5"
    await configure(app, portal.hub_id, rate_limit_emulation=False)
    assert rate_headers(await api.get(DETAILS)) == {}


async def test_settings_of_an_unknown_portal(app: HubtrailApp) -> None:
    with pytest.raises(NotFoundError):
        await app.runtime.db.read(lambda conn: portals.get_settings(conn, 42))
    assert await app.runtime.directory.settings(42) is None
