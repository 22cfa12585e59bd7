"""`GET /assets/{name}`: the dashboard's stylesheet and scripts, read once at start, served with
an ETag and a day's cache (the layout links them with a content hash, so a new version is a new
URL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request, Response

from hubtrail.core.errors import NotFoundError

router = APIRouter(include_in_schema=False)

FOLDER = Path(__file__).parent.parent / "assets"
TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8"}
FILES: dict[str, tuple[bytes, str]] = {}
for _path in sorted(FOLDER.iterdir()):
    if _path.suffix in TYPES:
        _body = _path.read_bytes()
        FILES[_path.name] = (_body, hashlib.sha256(_body).hexdigest()[:16])


def asset_url(name: str) -> str:
    """The URL a template links: versioned by content."""
    return f"/assets/{name}?v={FILES[name][1]}"


@router.get("/assets/{name}")
async def asset(name: str, request: Request) -> Response:
    found = FILES.get(name)
    if found is None:
        raise NotFoundError(f"no asset {name}")
    body, digest = found
    headers = {"ETag": f'"{digest}"', "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == f'"{digest}"':
        return Response(status_code=304, headers=headers)
    media_type = TYPES[Path(name).suffix]
    return Response(body, media_type=media_type, headers=headers)
