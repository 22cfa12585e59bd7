"""Rendering dashboard pages: one Jinja2 environment, autoescaping everything, and the headers
every page carries (no framing, no sniffing, scripts and styles only from hubtrail itself)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hubtrail.web.dashboard.assets import asset_url

TEMPLATES = Path(__file__).parent.parent / "templates"
MAX_SHOWN_CHARS = 200  # longer values are cut on screen (never in the data)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def shorten(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value as shown in a table cell: cut at `limit` characters with an ellipsis."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(at_ms: int | None) -> str:
    """Epoch ms as `2026-12-01 10:04 UTC`."""
    if not at_ms:
        return ""
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def number(value: int | float | None) -> str:
    if value is None:
        return "0"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(shorten=shorten, when=when, number=number)
environment.globals.update(asset_url=asset_url)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page: `context` plus what every page's layout uses (the viewer, set by `auth`)."""
    viewer = getattr(request.state, "viewer", None)
    body = environment.get_template(template).render(
        request=request, viewer=viewer, path=request.url.path, **context
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)
