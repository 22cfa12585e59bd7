"""Segment's HTTP Tracking API: `/v1/identify|track|page|screen|group|alias|batch|import`, and
the short paths Segment's browser library posts to: `/v1/i|t|p|s|g|a` and `/v1/b` (a batch).

Auth is the portal's write key (HTTP Basic user, or `writeKey` in the body). A message is at most
32 KB and a batch at most 500 KB; a batch is accepted whole or not at all. Success is
`200 {"success": true}` once committed; errors are `{"success": false, "code", "message"}`, and
`429` with `Retry-After` asks the client to back off. Timestamps are corrected for client clock
skew as Segment does: `timestamp = receivedAt - (sentAt - originalTimestamp)`.

Browsers: every answer to a request with an `Origin` carries CORS headers, so the library can read
errors too; preflights are answered for any origin (they carry no write key), and the request
itself is refused with `403` when the portal lists `allowed_site_domains` and the origin is not
one of them.

Device mode (the portal's `segment_mode`): the library loads hubtrail's HubSpot plugin, which
sends page views, identifies that carry an email, and events through the tracking code. The
library's own copy of those calls is then marked `device_mode_copy` and not applied, unless the
call did not reach the plugin (`integrations` turned it off, or the plugin failed to load and
the library says so in `_metadata.failedInitializations`). `group` and `alias`, which the plugin
does not carry, always apply from the library's copy.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import orjson

from hubtrail.core.credentials import CredentialKind
from hubtrail.core.domains import origin_allowed
from hubtrail.core.errors import (
    AuthenticationError,
    ForbiddenOriginError,
    HubtrailError,
    ValidationError,
)
from hubtrail.core.messages import Kind, Message, PageView, Source, new_message_id
from hubtrail.core.plain_text import without_nul
from hubtrail.core.portal_settings import SegmentMode
from hubtrail.core.properties import parse_instant_ms
from hubtrail.ingest.asgi import Receive, Scope, Send, header, read_body, respond
from hubtrail.ingest.context import IngestContext

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_MESSAGE_ID_CHARS = 100
KINDS = {
    "identify": Kind.IDENTIFY,
    "track": Kind.TRACK,
    "page": Kind.PAGE,
    "screen": Kind.PAGE,
    "group": Kind.GROUP,
    "alias": Kind.ALIAS,
}
PATH_TYPES = {f"/v1/{name}": name for name in KINDS}
_UTM = {  # Segment's context.campaign keys → the UTM parameters attribution reads
    "source": "utm_source",
    "medium": "utm_medium",
    "name": "utm_campaign",
    "term": "utm_term",
    "content": "utm_content",
}
_SHORT = {"i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group", "a": "alias"}
BATCH_PATHS = ("/v1/batch", "/v1/import", "/v1/b")
PATHS = [*PATH_TYPES, *(f"/v1/{letter}" for letter in _SHORT), *BATCH_PATHS]
"""Every path Segment's libraries post to."""
BROWSER_LIBRARY = "analytics.js"  # context.library.name of analytics.js and analytics-next
DEVICE_MODE_PLUGIN = "HubSpot"  # the plugin's creationName in the project settings document
_EMAIL_LIKE = re.compile(r".+@.+\..+")


class SegmentError(HubtrailError):
    """An error in Segment's shape; `code` is Segment's machine-readable name."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        raise ValidationError("an id must be a string or a number")
    return str(value)


def _dict(message: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = message.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SegmentError(400, "invalid_request", f"{name} must be an object")
    return value


@lru_cache(maxsize=4096)
def _instant_ms(text: str) -> int | None:
    """Timestamps repeat within a batch (`sentAt` always does): parse each text once."""
    return parse_instant_ms(text) if text else None


def occurred_at(message: Mapping[str, Any], received_at_ms: int) -> int:
    """When it happened: skew-corrected with `sentAt`, else `timestamp`, else now."""
    original = _instant_ms(str(message.get("originalTimestamp") or message.get("timestamp") or ""))
    sent = _instant_ms(str(message.get("sentAt") or ""))
    if original is not None and sent is not None:
        return received_at_ms - (sent - original)
    return original if original is not None else received_at_ms


def _page(message: Mapping[str, Any], properties: Mapping[str, Any]) -> PageView:
    page = _dict(_dict(message, "context"), "page")
    url = properties.get("url") or page.get("url") or ""
    path = properties.get("path") or page.get("path") or ""
    name = message.get("name") or properties.get("name") or ""
    campaign = _dict(_dict(message, "context"), "campaign")
    utm = {_UTM[k]: str(v) for k, v in campaign.items() if k in _UTM and v not in (None, "")}
    return PageView(
        campaign=urlencode(utm),
        url=str(url or path or name),
        title=str(properties.get("title") or page.get("title") or name),
        referrer=str(properties.get("referrer") or page.get("referrer") or ""),
        view_in_session=0,  # Segment sends no session: views count, visits do not
    )


def delivered_by_plugin(message: Mapping[str, Any], kind_name: str) -> bool:
    """In device mode: whether hubtrail's HubSpot plugin also sent this call (through the
    tracking code), as analytics.js calls it: a page, a track, or an identify with an email."""
    if kind_name not in ("page", "track", "identify"):
        return False
    library = _dict(message, "context").get("library")
    if not isinstance(library, dict) or library.get("name") != BROWSER_LIBRARY:
        return False
    integrations = message.get("integrations")
    if isinstance(integrations, dict):
        enabled = integrations.get(DEVICE_MODE_PLUGIN)
        if enabled is False or (integrations.get("All") is False and not enabled):
            return False
    metadata = message.get("_metadata")
    if isinstance(metadata, dict):
        failed = metadata.get("failedInitializations")
        if isinstance(failed, list) and DEVICE_MODE_PLUGIN in failed:
            return False
    if kind_name != "identify":
        return True
    traits = message.get("traits")
    emails = [v for k, v in traits.items() if k.lower() == "email"] if traits else []
    return any(emails) or bool(_EMAIL_LIKE.match(str(message.get("userId") or "")))


def parse_message(
    message: object,
    portal_id: int,
    received_at_ms: int,
    kind_name: str | None = None,
    *,
    device_mode: bool = False,
) -> Message:
    """One Segment message as a canonical message; `SegmentError` (400) when it is unusable.

    With `device_mode`, a copy the HubSpot plugin also delivered is marked, not applied."""
    if not isinstance(message, dict):
        raise SegmentError(400, "invalid_request", "a message must be a JSON object")
    kind_name = kind_name or str(message.get("type") or "")
    kind_name = _SHORT.get(kind_name, kind_name)
    if kind_name not in KINDS:
        raise SegmentError(400, "invalid_type", f"unknown message type {kind_name!r}")
    user_id, anonymous_id = _text(message.get("userId")), _text(message.get("anonymousId"))
    if user_id is None and anonymous_id is None:
        raise SegmentError(400, "no_user_anon_id", "userId or anonymousId is required")
    properties = _dict(message, "properties")
    context = _dict(message, "context")
    traits = _dict(message, "traits") if kind_name in ("identify", "group") else {}
    if kind_name in ("track", "page", "screen"):
        traits = _dict(context, "traits")
    event = _text(message.get("event"))
    if kind_name == "track" and event is None:
        raise SegmentError(400, "invalid_request", "track needs an event name")
    group_id = _text(message.get("groupId"))
    if kind_name == "group" and group_id is None:
        raise SegmentError(400, "invalid_request", "group needs a groupId")
    previous_id = _text(message.get("previousId"))
    if kind_name == "alias" and (previous_id is None or user_id is None):
        raise SegmentError(400, "invalid_request", "alias needs userId and previousId")
    message_id = _text(message.get("messageId"))
    if message_id is not None and len(message_id) > MAX_MESSAGE_ID_CHARS:
        raise SegmentError(400, "invalid_request", "messageId is longer than 100 characters")
    email = traits.get("email") if kind_name == "identify" else properties.get("email")
    if email is None and kind_name != "group":
        email = traits.get("email")
    revenue = properties.get("revenue", properties.get("value")) if kind_name == "track" else None
    return Message(
        message_id=f"s:{message_id}" if message_id else new_message_id(),
        portal_id=portal_id,
        source=Source.SEGMENT,
        kind=KINDS[kind_name],
        received_at_ms=received_at_ms,
        occurred_at_ms=occurred_at(message, received_at_ms),
        visitor_key=anonymous_id or f"uid:{user_id}",
        email=_text(email),
        external_id=user_id,
        event=event,
        revenue=_text(revenue),
        event_properties=properties if kind_name == "track" else {},
        page=_page(message, properties) if kind_name in ("page", "screen") else None,
        traits=traits,
        group_id=group_id,
        previous_id=previous_id,
        device_mode_copy=device_mode and delivered_by_plugin(message, kind_name),
    )


def parse_batch(
    body: Mapping[str, Any],
    portal_id: int,
    received_at_ms: int,
    body_bytes: int = 0,
    *,
    device_mode: bool = False,
) -> list[Message]:
    """`{"batch": [...], "context"?, "sentAt"?}`: every message valid, or a 400.

    The top-level `context` and `sentAt` apply to messages that do not carry their own.
    """
    items = body.get("batch")
    if not isinstance(items, list) or not items:
        raise SegmentError(400, "invalid_request", "batch must be a non-empty list of messages")
    shared_context = body.get("context") if isinstance(body.get("context"), dict) else None
    messages = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise SegmentError(400, "invalid_request", f"batch[{index}] is not an object")
        # A message can only be over the limit when the whole body is.
        if body_bytes > MAX_MESSAGE_BYTES and len(orjson.dumps(item)) > MAX_MESSAGE_BYTES:
            raise SegmentError(400, "message_too_large", f"batch[{index}] is over 32 KB")
        if shared_context and "context" not in item:
            item = {**item, "context": shared_context}
        if body.get("sentAt") and "sentAt" not in item:  # libraries stamp the request once
            item = {**item, "sentAt": body["sentAt"]}
        try:
            messages.append(parse_message(item, portal_id, received_at_ms, device_mode=device_mode))
        except SegmentError as error:
            raise SegmentError(
                error.status, error.code, f"batch[{index}]: {error.message}"
            ) from None
    return messages


class SegmentEndpoints:
    """The ASGI callables for Segment's HTTP API."""

    def __init__(self, context: IngestContext) -> None:
        self._ctx = context

    async def call(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        batch = path in BATCH_PATHS
        kind = PATH_TYPES.get(path) or _SHORT.get(path.rsplit("/", 1)[-1])
        origin = (header(scope, b"origin") or b"").decode("latin-1")
        try:
            raw = await read_body(scope, receive, MAX_BATCH_BYTES if batch else MAX_MESSAGE_BYTES)
            body = _json(raw)
            portal_id = await self._authenticate(scope, body)
            settings = await self._ctx.directory.settings(portal_id)
            allowed = settings.allowed_site_domains if settings else []
            if origin and allowed and not origin_allowed(origin, allowed):
                raise ForbiddenOriginError(f"site {origin} is not allowed for this portal")
            device_mode = settings is not None and settings.segment_mode is SegmentMode.DEVICE
            now = self._ctx.clock_ms()
            messages = (
                parse_batch(body, portal_id, now, len(raw), device_mode=device_mode)
                if batch
                else [parse_message(body, portal_id, now, kind, device_mode=device_mode)]
            )
            await self._ctx.committer.submit(messages)
        except HubtrailError as error:
            status = 400 if error.status == 413 else error.status
            code = getattr(error, "code", None) or _CODES.get(error.status, "invalid_request")
            self._ctx.metrics.rejected.labels(path, str(status)).inc()
            body_out = {"success": False, "code": code, "message": error.message}
            headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            await respond(
                send, status, orjson.dumps(body_out), b"application/json", _cors(origin) + headers
            )
            return
        self._ctx.metrics.received.labels(Source.SEGMENT.value).inc(len(messages))
        await respond(send, 200, b'{"success":true}', b"application/json", _cors(origin))

    async def preflight(self, scope: Scope, receive: Receive, send: Send) -> None:
        """CORS preflight: the library sends `Authorization` and `X-Retry-Count` headers."""
        origin = (header(scope, b"origin") or b"").decode("latin-1")
        headers = [
            *_cors(origin),
            (b"access-control-allow-methods", b"POST, OPTIONS"),
            (b"access-control-allow-headers", b"authorization, content-type, x-retry-count"),
            (b"access-control-max-age", b"86400"),
        ]
        await respond(send, 204, headers=headers)

    async def _authenticate(self, scope: Scope, body: Mapping[str, Any]) -> int:
        key = _basic_user((header(scope, b"authorization") or b"").decode("latin-1"))
        key = key or _text(body.get("writeKey"))
        portal_id = None
        if key:
            portal_id = await self._ctx.directory.portal_for(key, CredentialKind.WRITE_KEY)
        if portal_id is None:
            raise AuthenticationError("the write key is missing or not valid")
        return portal_id


def _cors(origin: str) -> list[tuple[bytes, bytes]]:
    """CORS headers for a browser's request (none without an `Origin`): the origin is echoed,
    and `Retry-After` is exposed so the library can honour it."""
    if not origin:
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1", "replace")),
        (b"access-control-expose-headers", b"Retry-After, X-RateLimit-Reset"),
        (b"vary", b"Origin"),
    ]


_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden_origin",
    413: "payload_too_large",
    429: "rate_limited",
    503: "unavailable",
}


def _basic_user(authorization: str) -> str | None:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
        if b"\\u0000" in raw:  # JSON can only carry NUL escaped; skip the walk when it has none
            body = without_nul(body)
    except orjson.JSONDecodeError as exc:
        raise SegmentError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise SegmentError(400, "invalid_json", "the body must be a JSON object")
    return body
