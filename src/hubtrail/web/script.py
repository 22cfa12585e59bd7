"""`GET /js/{hubId}.js`: hubtrail.js, the drop-in for HubSpot's tracking code, for one portal.

The script (`static/hubtrail.js`) is read once, at import; each answer is that template with the
portal's settings baked in as a JSON object where `__HUBTRAIL_CONFIG__` stands. The ETag is a hash
of the rendered body, so a changed portal setting or collector URL is a new ETag, and browsers keep
the script for five minutes (as HubSpot's loader does) before asking again.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

from hubtrail.config import Settings
from hubtrail.core.errors import NotFoundError
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.portal_settings import PortalSettings
from hubtrail.runtime import Runtime

router = APIRouter()

TEMPLATE = (Path(__file__).parent / "static" / "hubtrail.js").read_text(encoding="utf-8")
PLACEHOLDER = "__HUBTRAIL_CONFIG__"
if TEMPLATE.count(PLACEHOLDER) != 1:
    raise RuntimeError(f"hubtrail.js must hold {PLACEHOLDER} exactly once")
CACHE_CONTROL = "public, max-age=300"
MEDIA_TYPE = "application/javascript; charset=utf-8"


@lru_cache(maxsize=256)  # a few portals × hosts; each entry is one ~25 KB body
def render(config_json: str) -> tuple[bytes, str]:
    """The script with `config_json` baked in, and its ETag (quoted, as the header carries it)."""
    body = TEMPLATE.replace(PLACEHOLDER, config_json).encode("utf-8")
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def public_base(settings: Settings, request: Request) -> str:
    """The origin browsers reach hubtrail at: `public_url`, else the URL this request came to.

    Without `public_url`, `settings.base_url` would be the listen address
    (`http://127.0.0.1:8080`), which a visitor's browser cannot reach, so the URL this request
    reached hubtrail at is used instead: the browser that loaded a script from there can send
    hits there too. Behind a TLS-terminating proxy that needs the proxy's `X-Forwarded-Proto`
    trusted by uvicorn (`--forwarded-allow-ips`), or `public_url` set.
    """
    if settings.public_url:
        return settings.base_url
    return str(request.base_url).rstrip("/")


def collector_url(settings: Settings, request: Request) -> str:
    """Where the script sends hits: `tracking_collector_url` (a reverse proxy serving the
    collector from the site's own domain), else hubtrail's own `/collect`."""
    return settings.tracking_collector_url or public_base(settings, request) + "/collect"


def script_config(hub_id: int, portal: PortalSettings, collector: str) -> str:
    """The JSON object the script reads its portal's settings from."""
    config = {
        "hubId": hub_id,
        "collectorUrl": collector,
        "cookieLifetimeDays": portal.cookie_lifetime_days,
        "consentMode": portal.consent_mode.value,
    }
    return json.dumps(config, separators=(",", ":"), sort_keys=True)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 asks)."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get("/js/{hub_id}.js", include_in_schema=False)
async def tracking_script(hub_id: str, request: Request) -> Response:
    """The tracking script for portal `hub_id`; 404 when there is no such portal."""
    runtime: Runtime = request.app.state.runtime
    portal = await runtime.directory.settings(int(hub_id)) if is_ascii_digits(hub_id) else None
    if portal is None:
        raise NotFoundError(f"no portal has hub id {hub_id}")
    config = script_config(int(hub_id), portal, collector_url(runtime.settings, request))
    body, etag = render(config)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
