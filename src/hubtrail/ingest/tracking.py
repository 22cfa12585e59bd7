"""The tracking-code collector: hits from hubtrail.js, as `docs/tracking-protocol.md` defines them.

- `POST /collect`: one JSON hit (sent as text/plain, so browsers skip the CORS preflight) → 204.
- `GET /__ptq.gif` (page views) and `GET /__ptbe.gif` (events): HubSpot's parameter names, always
  answered with a 1×1 GIF; a refused hit gets a 4xx status and its reason in `X-Hubtrail-Error`.

A hit becomes one canonical message: a page view (`Kind.PAGE`) or an event (`Kind.TRACK`), with the
`identify` data riding along. Bots are kept, flagged, and never identify anyone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson
from crawlerdetect import CrawlerDetect

from hubtrail.core.domains import origin_allowed
from hubtrail.core.errors import (
    ForbiddenOriginError,
    HubtrailError,
    NotFoundError,
    ValidationError,
)
from hubtrail.core.messages import Kind, Message, PageView, Source, new_message_id
from hubtrail.core.plain_text import is_ascii_digits, without_nul
from hubtrail.ingest.asgi import Receive, Scope, Send, header, query_pairs, read_body, respond
from hubtrail.ingest.context import IngestContext
from hubtrail.ingest.hubspot_events import TRANSPARENT_GIF

KINDS = {"pv": Kind.PAGE, "1": Kind.PAGE, "ev": Kind.TRACK, "le": Kind.TRACK}
_HEX32 = re.compile(r"[0-9a-f]{32}")
MAX_TEXT_CHARS = 2048
_crawlers = CrawlerDetect()


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True for crawlers, monitors and scripts (a maintained list), and for no user agent."""
    return not user_agent or bool(_crawlers.isCrawler(user_agent))


def _text(hit: Mapping[str, Any], name: str) -> str:
    value = hit.get(name)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise ValidationError(f"{name} must be text")
    return str(value)[:MAX_TEXT_CHARS]


def _field(cookie: str, index: int) -> int:
    """One numeric field of a `__hstc` / `__hssc` value (1 when absent or garbled)."""
    parts = cookie.split(".")
    if len(parts) > index and is_ascii_digits(parts[index], max_chars=9):
        return max(1, int(parts[index]))
    return 1


def _identity(raw: object) -> dict[str, str]:
    """`identify` data: an object (JSON) or a URL-encoded query string (GIF), values as text."""
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        return {k: v[:MAX_TEXT_CHARS] for k, v in parse_qsl(raw, keep_blank_values=True)}
    if not isinstance(raw, dict):
        raise ValidationError("i (identity) must be an object")
    return {str(k): "" if v is None else str(v)[:MAX_TEXT_CHARS] for k, v in raw.items()}


def parse_hit(hit: Mapping[str, Any], received_at_ms: int, user_agent: str) -> Message:
    """A collector hit as a canonical message, or a `ValidationError` naming the bad field."""
    hub = _text(hit, "a")
    if not is_ascii_digits(hub, max_chars=15):
        raise ValidationError("a (hub id) is required and must be a number")
    kind_code = _text(hit, "k") or "pv"
    if kind_code not in KINDS:
        raise ValidationError(f"k must be one of pv, ev, le, not {kind_code!r}")
    visitor = _text(hit, "vi").lower() or None
    if visitor is not None and not _HEX32.fullmatch(visitor):
        raise ValidationError("vi must be the 32-character hubspotutk value")
    mid = _text(hit, "mid").lower()
    identity = _identity(hit.get("i"))
    email = identity.pop("email", "").strip() or None
    external_id = identity.pop("id", "").strip() or None
    kind = KINDS[kind_code]
    event = _text(hit, "n") or None
    if kind is Kind.TRACK and event is None:
        raise ValidationError("n (event name or id) is required for events")
    properties = hit.get("p") or {}
    if not isinstance(properties, dict):
        raise ValidationError("p (event properties) must be an object")
    page_url = _text(hit, "pu")
    return Message(
        message_id=f"t:{mid}" if _HEX32.fullmatch(mid) else new_message_id(),
        portal_id=int(hub),
        source=Source.TRACKING_CODE,
        kind=kind,
        received_at_ms=received_at_ms,
        occurred_at_ms=received_at_ms,
        visitor_key=visitor,
        email=email,
        external_id=external_id,
        event=event,
        revenue=_text(hit, "v") or None if kind_code == "le" else None,
        contact_properties=identity,
        event_properties=dict(properties),
        page=PageView(
            url=page_url,
            title=_text(hit, "t"),
            referrer=_text(hit, "r"),
            content_type=_text(hit, "ct"),
            page_id=_text(hit, "pid"),
            session_number=_field(_text(hit, "u"), 5),
            view_in_session=_field(_text(hit, "b"), 1),
        )
        if page_url or kind is Kind.PAGE
        else None,
        is_bot=is_bot(user_agent),
    )


def gif_hit(pairs: list[tuple[str, str]], path: str) -> dict[str, Any]:
    """HubSpot's GIF parameters as a hit: `_name=value` pairs are event properties."""
    hit: dict[str, Any] = {}
    properties = {}
    for name, value in pairs:
        if name.startswith("_") and len(name) > 1:
            properties[name[1:]] = value
        else:
            hit.setdefault(name, value)
    if path.endswith("__ptbe.gif"):
        hit["k"] = hit.get("k") if hit.get("k") in ("ev", "le") else "ev"
        hit["p"] = properties
    else:
        hit["k"] = "pv"
    return hit


class TrackingEndpoints:
    """The collector's ASGI callables."""

    def __init__(self, context: IngestContext) -> None:
        self._ctx = context

    async def collect(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = (header(scope, b"origin") or b"").decode("latin-1")
        try:
            body = await read_body(scope, receive, self._ctx.max_body_bytes)
            try:
                hit = without_nul(orjson.loads(body))
            except orjson.JSONDecodeError as exc:
                raise ValidationError(f"the hit is not JSON: {exc}") from exc
            if not isinstance(hit, dict):
                raise ValidationError("the hit must be a JSON object")
            await self._accept(scope, hit, origin)
        except HubtrailError as error:
            self._ctx.metrics.rejected.labels("/collect", str(error.status)).inc()
            body_out = orjson.dumps({"status": "error", "message": error.message})
            await respond(send, error.status, body_out, b"application/json", _cors(origin))
            return
        await respond(send, 204, headers=_cors(origin))

    async def preflight(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = (header(scope, b"origin") or b"").decode("latin-1")
        headers = [
            *_cors(origin),
            (b"access-control-allow-methods", b"POST, GET, OPTIONS"),
            (b"access-control-allow-headers", b"content-type"),
            (b"access-control-max-age", b"86400"),
        ]
        await respond(send, 204, headers=headers)

    async def gif(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = (header(scope, b"origin") or header(scope, b"referer") or b"").decode("latin-1")
        status, headers = 200, [(b"cache-control", b"no-store, max-age=0")]
        try:
            pairs = query_pairs(scope, self._ctx.max_query_bytes)
            await self._accept(scope, gif_hit(pairs, scope["path"]), origin)
        except HubtrailError as error:
            self._ctx.metrics.rejected.labels(scope["path"], str(error.status)).inc()
            status = error.status
            headers.append((b"x-hubtrail-error", error.message.encode("utf-8", "replace")[:300]))
        await respond(send, status, TRANSPARENT_GIF, b"image/gif", headers)

    async def _accept(self, scope: Scope, hit: Mapping[str, Any], origin: str) -> None:
        user_agent = (header(scope, b"user-agent") or b"").decode("latin-1")
        message = parse_hit(hit, self._ctx.clock_ms(), user_agent)
        if not await self._ctx.directory.exists(message.portal_id):
            raise NotFoundError(f"no portal has hub id {message.portal_id}")
        settings = await self._ctx.directory.settings(message.portal_id)
        allowed = settings.allowed_site_domains if settings else []
        if allowed and not origin_allowed(origin, allowed):
            site = origin or "(unknown)"
            raise ForbiddenOriginError(f"site {site} is not allowed for this portal")
        await self._ctx.committer.submit([message])
        self._ctx.metrics.received.labels(Source.TRACKING_CODE.value).inc()


def _cors(origin: str) -> list[tuple[bytes, bytes]]:
    """Hits carry no credentials, so any origin may read the answer; the allow-list is enforced
    on what is accepted, not on who may see the status."""
    return [
        (b"access-control-allow-origin", origin.encode("latin-1", "replace") or b"*"),
        (b"vary", b"Origin"),
    ]
