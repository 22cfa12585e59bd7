"""The few ASGI pieces the ingestion fast path needs: no framework, no per-request models.

Ingestion handlers are plain ASGI callables (see architecture.md, Performance), so reading the body
under a limit, parsing the query string and answering live here, shared by every wire format.
"""

from __future__ import annotations

import gzip
import uuid
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from hubtrail.core.errors import (
    HubtrailError,
    PayloadTooLargeError,
    UriTooLongError,
    hubspot_error_body,
)
from hubtrail.core.plain_text import is_ascii_digits, without_nul

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (name in lowercase), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def query_pairs(scope: Scope, max_bytes: int) -> list[tuple[str, str]]:
    """The query string as (name, value) pairs in order; raises 414 when it is too long."""
    raw: bytes = scope.get("query_string", b"")
    if len(raw) > max_bytes:
        raise UriTooLongError(f"query string is {len(raw)} bytes; the limit is {max_bytes}")
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    return [(without_nul(name), without_nul(value)) for name, value in pairs]


async def read_body(scope: Scope, receive: Receive, max_bytes: int) -> bytes:
    """The request body, gunzipped when sent with `Content-Encoding: gzip`; 413 past the limit."""
    declared = header(scope, b"content-length")
    if (
        declared is not None
        and is_ascii_digits(declared.decode("latin-1"))
        and int(declared) > max_bytes
    ):
        raise PayloadTooLargeError(f"body is {int(declared)} bytes; the limit is {max_bytes}")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(f"body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if (header(scope, b"content-encoding") or b"").lower() == b"gzip":
        return _gunzip(body, max_bytes)
    return body


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    decompressor = zlib.decompressobj(wbits=31)
    try:
        data = decompressor.decompress(body, max_bytes + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise HubtrailError("body is not valid gzip") from exc
    if len(data) > max_bytes or decompressor.unconsumed_tail:
        raise PayloadTooLargeError(f"decompressed body is over the limit of {max_bytes} bytes")
    return data


async def respond(
    send: Send,
    status: int,
    body: bytes = b"",
    content_type: bytes = b"text/plain; charset=utf-8",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    all_headers = [(b"content-length", str(len(body)).encode())]
    if status != 204:
        all_headers.append((b"content-type", content_type))
    all_headers.extend(headers or [])
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def respond_hubspot_error(send: Send, error: HubtrailError) -> None:
    """HubSpot's JSON error body, with the correlation id also in `X-HubSpot-Correlation-Id`."""
    correlation_id = str(uuid.uuid4())
    body = orjson.dumps(hubspot_error_body(error, correlation_id))
    headers = [(b"x-hubspot-correlation-id", correlation_id.encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await respond(send, error.status, body, b"application/json;charset=utf-8", headers)


async def respond_plain_error(send: Send, error: HubtrailError) -> None:
    """A plain-text error, for endpoints (like `/v1/event`) that HubSpot answers without JSON."""
    await respond(send, error.status, error.message.encode() + b"\n")
