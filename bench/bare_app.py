"""The baseline: a bare ASGI app answering `/v1/event` with the same GIF, and nothing else."""

from __future__ import annotations

from typing import Any

from hubtrail.ingest.hubspot_events import TRANSPARENT_GIF

_HEADERS = [
    (b"content-type", b"image/gif"),
    (b"content-length", str(len(TRANSPARENT_GIF)).encode()),
    (b"cache-control", b"no-store, max-age=0"),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": TRANSPARENT_GIF})
