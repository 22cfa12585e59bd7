"""`GET /js/{hubId}.js`: the tracking script with the portal's settings baked in.

What the script does in a browser is tested in tests/browser; here: the route, the baked values,
caching, and the size budget.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from hubtrail.app import HubtrailApp, create_app
from hubtrail.config import Settings
from hubtrail.store import portals
from hubtrail.web.script import PLACEHOLDER, TEMPLATE
from tests.conftest import Database, PortalKeys, create_portal, make_settings

GZIP_BUDGET_BYTES = 12 * 1024
_CONFIG = re.compile(r"var CONFIG = (\{.*?\});")


def baked_config(script: str) -> dict[str, object]:
    found = _CONFIG.search(script)
    assert found is not None, "no baked CONFIG in the script"
    config: dict[str, object] = json.loads(found.group(1))
    return config


async def test_the_script_has_the_portal_and_collector_baked_in(
    client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    response = await client.get(f"/js/{portal.hub_id}.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert PLACEHOLDER not in response.text
    assert baked_config(response.text) == {
        "hubId": portal.hub_id,
        "collectorUrl": "http://hubtrail.test/collect",
        "cookieLifetimeDays": 180,
        "consentMode": "none",
    }


async def test_portal_settings_are_baked_in_and_change_the_etag(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    before = await client.get(f"/js/{portal.hub_id}.js")
    changes = {"consent_mode": "opt_in", "cookie_lifetime_days": 30}
    await app.runtime.db.write(lambda conn: portals.update_settings(conn, portal.hub_id, changes))
    after = await client.get(f"/js/{portal.hub_id}.js")
    config = baked_config(after.text)
    assert (config["consentMode"], config["cookieLifetimeDays"]) == ("opt_in", 30)
    assert after.headers["etag"] != before.headers["etag"]


async def test_if_none_match_answers_304(client: httpx.AsyncClient, portal: PortalKeys) -> None:
    first = await client.get(f"/js/{portal.hub_id}.js")
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await client.get(f"/js/{portal.hub_id}.js", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=300"
    stale = await client.get(f"/js/{portal.hub_id}.js", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200


async def test_an_unknown_hub_id_is_404(client: httpx.AsyncClient, portal: PortalKeys) -> None:
    for path in (f"/js/{portal.hub_id + 1}.js", "/js/abc.js", "/js/1e3.js", "/js/-1.js"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["category"] == "OBJECT_NOT_FOUND"
    huge = await client.get("/js/" + "9" * 40 + ".js")
    assert huge.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"public_url": "https://track.example.com/"}, "https://track.example.com/collect"),
        (
            {"public_url": "https://track.example.com", "tracking_collector_url": "/hs/collect"},
            "/hs/collect",
        ),
        (
            {"tracking_collector_url": "https://www.example.com/t/collect"},
            "https://www.example.com/t/collect",
        ),
    ],
)
async def test_collector_url_comes_from_the_settings(
    database: Database, overrides: dict[str, object], expected: str
) -> None:
    settings: Settings = make_settings(database, **overrides)
    application = create_app(settings, run_processor=False)
    async with application.lifespan():
        keys = await create_portal(application)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as c:
            response = await c.get(f"/js/{keys.hub_id}.js")
    assert baked_config(response.text)["collectorUrl"] == expected


async def test_the_script_is_small(client: httpx.AsyncClient, portal: PortalKeys) -> None:
    response = await client.get(f"/js/{portal.hub_id}.js")
    size = len(gzip.compress(response.content, compresslevel=9))
    print(f"hubtrail.js: {len(response.content)} bytes, {size} bytes gzipped")
    assert size < GZIP_BUDGET_BYTES


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_template_is_valid_javascript(tmp_path: Path) -> None:
    rendered = TEMPLATE.replace(PLACEHOLDER, '{"hubId":1,"collectorUrl":"/collect"}')
    script = tmp_path / "hubtrail.js"
    script.write_text(rendered)
    result = subprocess.run(
        ["node", "--check", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
