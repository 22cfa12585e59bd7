"""HubSpot's rate limiting on the CRM API, for portals with `rate_limit_emulation` on.

`enforce_rate_limit` runs inside the authentication dependency, so it sees every authenticated API
request before its handler: it counts the request against the access token's limits (in memory,
per process: see `core/ratelimit.py`) and raises `RateLimitError` (429, HubSpot's RATE_LIMIT body,
`Retry-After`) instead of running the handler when a limit is reached. Otherwise it leaves HubSpot's
`X-HubSpot-RateLimit-*` headers in the request's state, and `ResponseHeadersMiddleware` puts them on
whatever response the request ends with: data a handler returned, a `Response` it built, or an
error. Portals without emulation get no headers and no limit.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubtrail.core.errors import HubtrailError
from hubtrail.core.ratelimit import Decision, Limits, Policy
from hubtrail.runtime import Runtime

# Key in the request's state (`scope["state"]`) of headers for whatever response it ends with.
RESPONSE_HEADERS_STATE = "response_headers"

_MESSAGES = {
    Policy.TEN_SECONDLY_ROLLING: "You have reached your ten_secondly_rolling limit.",
    Policy.DAILY: "You have reached your daily limit.",
}


class RateLimitError(HubtrailError):
    """429: a HubSpot rate limit was reached. Its body is HubSpot's RATE_LIMIT shape, not the
    usual error shape (see `body`)."""

    status = 429
    category = "RATE_LIMITS"

    def __init__(self, policy: Policy, headers: dict[str, str]) -> None:
        super().__init__(_MESSAGES[policy], headers=headers)
        self.policy = policy

    def body(self, correlation_id: str) -> dict[str, Any]:
        """HubSpot's 429 body: `errorType` and `policyName` instead of `category`."""
        return {
            "status": "error",
            "message": self.message,
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": self.policy.value,
            "requestId": str(uuid.uuid4()),
        }


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """HubSpot's `X-HubSpot-RateLimit-*` headers; no Daily pair without a daily limit."""
    limits = decision.limits
    headers = {}
    if limits.daily:
        headers["X-HubSpot-RateLimit-Daily"] = str(limits.daily)
        headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(decision.daily_remaining)
    headers.update(
        {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(limits.interval_ms),
            "X-HubSpot-RateLimit-Max": str(limits.max_per_interval),
            "X-HubSpot-RateLimit-Remaining": str(decision.interval_remaining),
            "X-HubSpot-RateLimit-Secondly": str(limits.secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(decision.secondly_remaining),
        }
    )
    return headers


async def enforce_rate_limit(
    runtime: Runtime, request: Request, token: str, portal_id: int
) -> None:
    """Count this request of `token` if its portal emulates rate limits; 429 when over a limit."""
    settings = await runtime.directory.settings(portal_id)
    if settings is None or not settings.rate_limit_emulation:
        return
    decision = runtime.rate_limiter.check(token, Limits.of(settings))
    headers = rate_limit_headers(decision)
    if not decision.allowed:
        assert decision.policy is not None
        raise RateLimitError(
            decision.policy, headers={**headers, "Retry-After": str(decision.retry_after_s)}
        )
    setattr(request.state, RESPONSE_HEADERS_STATE, headers)


class ResponseHeadersMiddleware:
    """Adds the headers a dependency left in the request's state to the response it ends with.

    FastAPI copies a dependency's `Response` headers only onto responses it builds itself; this
    also covers handlers that return a `Response` and errors rendered by the exception handlers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The same dict is shared with every layer below, even one that copies the scope.
        state: dict[str, object] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            extra = state.get(RESPONSE_HEADERS_STATE)
            if message["type"] == "http.response.start" and isinstance(extra, dict):
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
