"""HubSpot's events wire formats: the legacy HTTP events API and the v3 send endpoints.

- `GET /v1/event?_a=HUB&_n=EVENT&email=…&_m=…&id=…&<contact property>=…` answers a 1×1 GIF, so it
  works as an `<img>`. Bad parameters get a plain-text 400 naming the parameter.
- `POST /events/v3/send` and `/events/v3/send/batch` (Bearer token) answer 204; bad bodies get
  HubSpot's error JSON naming the field. A batch is accepted whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from hubtrail.core.credentials import CredentialKind, bearer_token
from hubtrail.core.errors import AuthenticationError, FieldError, HubtrailError, ValidationError
from hubtrail.core.messages import Kind, Message, Source, new_message_id
from hubtrail.core.plain_text import is_ascii_digits, without_nul
from hubtrail.core.properties import parse_instant_ms
from hubtrail.ingest.asgi import (
    Receive,
    Scope,
    Send,
    header,
    query_pairs,
    read_body,
    respond,
    respond_hubspot_error,
    respond_plain_error,
)
from hubtrail.ingest.context import IngestContext

MAX_BATCH_INPUTS = 500
MAX_ID_CHARS = 128
# The smallest transparent GIF: what HubSpot's tracking pixels answer with.
TRANSPARENT_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
_GIF_HEADERS = [(b"cache-control", b"no-store, max-age=0")]
_V1_RESERVED = {"_a", "_n", "_m", "email", "id"}


# --- pure parsing: wire format → canonical message -------------------------------------------


def parse_v1_event(pairs: list[tuple[str, str]], received_at_ms: int, message_id: str) -> Message:
    """A `/v1/event` query as a track message; raises `ValidationError` naming the parameter."""
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(name, value)
    hub = params.get("_a", "").strip()
    if not hub:
        raise ValidationError("missing required parameter _a (your hub id)")
    if not is_ascii_digits(hub, max_chars=15):
        raise ValidationError(f"parameter _a must be a numeric hub id, not {hub!r}")
    event = params.get("_n", "").strip()
    if not event:
        raise ValidationError("missing required parameter _n (event id or name)")
    return Message(
        message_id=message_id,
        portal_id=int(hub),
        source=Source.HTTP_EVENTS,
        kind=Kind.TRACK,
        received_at_ms=received_at_ms,
        occurred_at_ms=received_at_ms,
        email=params.get("email") or None,
        external_id=params.get("id") or None,
        event=event,
        revenue=params.get("_m", "").strip() or None,
        contact_properties={k: v for k, v in params.items() if k not in _V1_RESERVED},
    )


def parse_v3_occurrence(
    body: object, portal_id: int, received_at_ms: int, path: str = ""
) -> Message:
    """One `BehavioralEventHttpCompletionRequest` as a track message, or a `ValidationError`."""
    errors: list[FieldError] = []

    def bad(field: str, message: str, code: str = "INVALID") -> None:
        errors.append(FieldError(message, code, {"field": [path + field]}, in_=path + field))

    if not isinstance(body, dict):
        raise ValidationError(
            f"{path or 'body'} must be a JSON object",
            errors=[FieldError("expected an object", "INVALID", {"field": [path or "body"]})],
        )
    event_name = body.get("eventName")
    if not isinstance(event_name, str) or not event_name.strip():
        bad("eventName", "eventName is required and must be a non-empty string", "REQUIRED")
    properties = body.get("properties", {})
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        bad("properties", "properties must be an object of property names to values")
        properties = {}
    for name, value in properties.items():
        if isinstance(value, dict | list):
            bad(f"properties.{name}", f"property {name} must be a string, number or boolean")
    object_id = _optional_text(body, "objectId", bad)
    email = _optional_text(body, "email", bad)
    utk = _optional_text(body, "utk", bad)
    event_uuid = _optional_text(body, "uuid", bad)
    if object_id is None and email is None and utk is None:
        bad("objectId", "one of objectId, email or utk is required to match a record", "REQUIRED")
    occurred_at_ms = received_at_ms
    if body.get("occurredAt") is not None:
        parsed = parse_instant_ms(body["occurredAt"])
        if parsed is None:
            bad("occurredAt", "occurredAt must be ISO-8601 or epoch milliseconds")
        else:
            occurred_at_ms = parsed
    if errors:
        fields = ", ".join(error.in_ or "" for error in errors)
        raise ValidationError(f"Invalid input JSON on fields: {fields}", errors=errors)
    assert isinstance(event_name, str)
    return Message(
        message_id=f"v3:{event_uuid}" if event_uuid else new_message_id(),
        portal_id=portal_id,
        source=Source.EVENTS_API,
        kind=Kind.TRACK,
        received_at_ms=received_at_ms,
        occurred_at_ms=occurred_at_ms,
        visitor_key=utk,
        email=email,
        object_id=object_id,
        event=event_name.strip(),
        event_properties=dict(properties),
    )


def _optional_text(body: dict[str, Any], field: str, bad: Callable[[str, str], None]) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        bad(field, f"{field} must be a string")
        return None
    text = str(value).strip()
    if len(text) > MAX_ID_CHARS and field != "email":
        bad(field, f"{field} is longer than {MAX_ID_CHARS} characters")
        return None
    return text


def parse_v3_batch(body: object, portal_id: int, received_at_ms: int) -> list[Message]:
    """`{"inputs": [...]}` with 1–500 occurrences; any invalid input rejects the whole batch."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise ValidationError(
            "inputs is required: a list of 1 to 500 events",
            errors=[FieldError("inputs must be a non-empty list", "REQUIRED", in_="inputs")],
        )
    if len(inputs) > MAX_BATCH_INPUTS:
        raise ValidationError(
            f"inputs has {len(inputs)} events; a batch takes at most {MAX_BATCH_INPUTS}",
            errors=[FieldError("too many inputs", "TOO_MANY", in_="inputs")],
        )
    messages, errors = [], []
    for index, item in enumerate(inputs):
        try:
            messages.append(
                parse_v3_occurrence(item, portal_id, received_at_ms, f"inputs[{index}].")
            )
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        fields = ", ".join(error.in_ or "" for error in errors)
        raise ValidationError(f"Invalid input JSON on fields: {fields}", errors=errors)
    return messages


# --- the ASGI endpoints ----------------------------------------------------------------------


class HubSpotEventsEndpoints:
    """`/v1/event`, `/events/v3/send`, `/events/v3/send/batch` as plain ASGI callables."""

    def __init__(self, context: IngestContext) -> None:
        self._ctx = context

    async def v1_event(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            pairs = query_pairs(scope, self._ctx.max_query_bytes)
            message = parse_v1_event(pairs, self._ctx.clock_ms(), new_message_id())
            if not await self._ctx.directory.exists(message.portal_id):
                raise ValidationError(f"parameter _a: no portal has hub id {message.portal_id}")
            await self._ctx.committer.submit([message])
        except HubtrailError as error:
            self._ctx.metrics.rejected.labels("/v1/event", str(error.status)).inc()
            await respond_plain_error(send, error)
            return
        self._ctx.metrics.received.labels(Source.HTTP_EVENTS.value).inc()
        await respond(send, 200, TRANSPARENT_GIF, b"image/gif", _GIF_HEADERS)

    async def v3_send(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._v3(scope, receive, send, batch=False)

    async def v3_send_batch(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._v3(scope, receive, send, batch=True)

    async def _v3(self, scope: Scope, receive: Receive, send: Send, *, batch: bool) -> None:
        try:
            portal_id = await self._authenticate(scope)
            body = await read_body(scope, receive, self._ctx.max_body_bytes)
            document = _json(body)
            now = self._ctx.clock_ms()
            messages = (
                parse_v3_batch(document, portal_id, now)
                if batch
                else [parse_v3_occurrence(document, portal_id, now)]
            )
            await self._ctx.committer.submit(messages)
        except HubtrailError as error:
            self._ctx.metrics.rejected.labels(scope["path"], str(error.status)).inc()
            await respond_hubspot_error(send, error)
            return
        self._ctx.metrics.received.labels(Source.EVENTS_API.value).inc(len(messages))
        await respond(send, 204)

    async def _authenticate(self, scope: Scope) -> int:
        raw = (header(scope, b"authorization") or b"").decode("latin-1")
        token = bearer_token(raw)
        portal_id = None
        if token is not None:
            portal_id = await self._ctx.directory.portal_for(token, CredentialKind.ACCESS_TOKEN)
        if portal_id is None:
            raise AuthenticationError.missing_credentials()
        return portal_id


def _json(body: bytes) -> object:
    try:
        return without_nul(orjson.loads(body))
    except orjson.JSONDecodeError as exc:
        raise ValidationError(
            f"Invalid input JSON: {exc}", errors=[FieldError(str(exc), "INVALID_JSON", in_="body")]
        ) from exc
