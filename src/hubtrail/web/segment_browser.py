"""What Segment's browser library (`@segment/analytics-next`) loads from hubtrail.

- `GET /v1/projects/{writeKey}/settings`: the project settings document the library fetches from
  its `cdnURL`. `integrations` holds only `Segment.io` (any other key makes the library fetch
  legacy destination code from Segment's CDN), pointing the library's own delivery at hubtrail's
  `/v1`. In device mode `remotePlugins` also lists hubtrail's HubSpot plugin.
- `GET /js/segment-hubspot.js`: that plugin (`static/segment-hubspot.js`), which loads the portal's
  hubtrail.js and maps `page`/`identify`/`track` onto `_hsq` as Segment's HubSpot integration does.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from hubtrail.core.credentials import CredentialKind
from hubtrail.core.portal_settings import PortalSettings, SegmentMode
from hubtrail.runtime import Runtime
from hubtrail.web.script import CACHE_CONTROL, MEDIA_TYPE, etag_matches, public_base

router = APIRouter()

PLUGIN_PATH = "/js/segment-hubspot.js"
PLUGIN_BODY = (Path(__file__).parent / "static" / "segment-hubspot.js").read_bytes()
PLUGIN_ETAG = '"' + hashlib.sha256(PLUGIN_BODY).hexdigest()[:32] + '"'
PLUGIN_NAME = "HubSpot"  # Segment's name for the destination: `integrations: {HubSpot: false}`
LIBRARY_NAME = "hubtrailHubSpot"  # the plugin factory's global, `window.hubtrailHubSpot`
SETTINGS_CACHE_CONTROL = "public, max-age=60"  # a mode change reaches browsers within a minute


def settings_document(
    write_key: str, hub_id: int, portal: PortalSettings, base_url: str
) -> dict[str, Any]:
    """The project settings for `write_key`, with hubtrail at `base_url` (`scheme://host[:port]`)."""
    parts = urlsplit(base_url)
    api_host = f"{parts.netloc}{parts.path.rstrip('/')}/v1"
    document: dict[str, Any] = {
        "integrations": {
            "Segment.io": {"apiKey": write_key, "apiHost": api_host, "protocol": parts.scheme}
        },
        "metrics": {"sampleRate": 0, "host": api_host},  # no telemetry to Segment's servers
        "remotePlugins": [],
    }
    if portal.segment_mode is SegmentMode.DEVICE:
        document["remotePlugins"].append(
            {
                "name": PLUGIN_NAME,
                "creationName": PLUGIN_NAME,
                "libraryName": LIBRARY_NAME,
                "url": f"{base_url}{PLUGIN_PATH}?v={PLUGIN_ETAG.strip(chr(34))[:12]}",
                "settings": {
                    "portalId": hub_id,
                    "loadFormsSdk": portal.load_forms_sdk,
                    "scriptBase": base_url,
                },
            }
        )
    return document


@router.get("/v1/projects/{write_key}/settings", include_in_schema=False)
async def project_settings(write_key: str, request: Request) -> Response:
    """The settings document; 404 (plain text, readable cross-origin) for an unknown key."""
    runtime: Runtime = request.app.state.runtime
    cors = {"Access-Control-Allow-Origin": "*"}
    hub_id = await runtime.directory.portal_for(write_key, CredentialKind.WRITE_KEY)
    portal = await runtime.directory.settings(hub_id) if hub_id is not None else None
    if hub_id is None or portal is None:
        message = "No Segment source has this write key: check the writeKey given to analytics.js."
        return PlainTextResponse(message, status_code=404, headers=cors)
    base_url = public_base(runtime.settings, request)
    document = settings_document(write_key, hub_id, portal, base_url)
    return JSONResponse(document, headers={**cors, "Cache-Control": SETTINGS_CACHE_CONTROL})


@router.get(PLUGIN_PATH, include_in_schema=False)
async def hubspot_plugin(request: Request) -> Response:
    """The device-mode plugin; the same for every portal (its settings come from the document)."""
    headers = {"ETag": PLUGIN_ETAG, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match", ""), PLUGIN_ETAG):
        return Response(status_code=304, headers=headers)
    return Response(PLUGIN_BODY, media_type=MEDIA_TYPE, headers=headers)
