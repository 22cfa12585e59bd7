"""Settings: the snippets, the settings form (every setting, validation beside the field),
credentials created (shown once) and revoked (refused from then on)."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from hubtrail.app import HubtrailApp
from hubtrail.core.portal_settings import ConsentMode, setting_fields
from hubtrail.store import portals
from hubtrail.store.schema import portals as portals_table
from tests.conftest import PortalKeys, create_portal
from tests.web.conftest import Dashboard, csrf_of

XSS = "<img src=x onerror=alert(1)>"


def form_values(page: str) -> dict[str, str]:
    """What the settings form would post as it stands (checked boxes, selected options)."""
    form = page.split('class="settings-form"', 1)[1].split("</form>", 1)[0]
    values = {"csrf_token": csrf_of(page)}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                values[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        values[name] = re.search(r'<option value="([^"]*)" selected', options).group(1)  # type: ignore[union-attr]
    return values


async def stored_document(app: HubtrailApp, hub_id: int) -> dict[str, Any]:
    async def read(conn: Any) -> dict[str, Any]:
        query = select(portals_table.c.settings).where(portals_table.c.id == hub_id)
        found: dict[str, Any] = orjson.loads((await conn.execute(query)).scalar())
        return found

    return await app.runtime.db.read(read)


async def crm_status(app: HubtrailApp, token: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(
            "/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {token}"}
        )
    return response.status_code


async def test_page_shows_the_portal_snippets_every_setting_and_credentials(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    page = (await dashboard.page("/settings")).text
    assert str(portal.hub_id) in page
    assert "Acme" in page
    snippet = (
        "&lt;script type=&#34;text/javascript&#34; id=&#34;hs-script-loader&#34; async defer "
        f"src=&#34;http://hubtrail.test/js/{portal.hub_id}.js&#34;&gt;&lt;/script&gt;"
    )
    assert snippet in page
    assert "cdnURL: &#39;http://hubtrail.test&#39;" in page
    for setting in setting_fields():
        assert f'name="{setting.name}"' in page, setting.name
    assert 'type="checkbox" name="rate_limit_emulation"' in page
    assert '<option value="opt_in">opt_in</option>' in page
    # The fixture's two credentials, by hint only.
    assert "…" + portal.access_token[-4:] in page
    assert "…" + portal.write_key[-4:] in page
    assert portal.access_token not in page
    assert portal.write_key not in page


async def test_saving_valid_settings_stores_only_what_changed(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    values = form_values((await dashboard.page("/settings")).text)
    values.update(
        consent_mode="opt_in",
        cookie_lifetime_days="30",
        allowed_site_domains="www.shop.test, Blog.Shop.test",
        rate_limit_emulation="on",
    )
    saved = await dashboard.client.post(dashboard.url("/settings"), data=values)
    assert saved.status_code == 303
    assert saved.headers["location"] == dashboard.url("/settings?done=saved")

    settings = await app.runtime.db.read(lambda c: portals.get_settings(c, portal.hub_id))
    assert settings.consent_mode is ConsentMode.OPT_IN
    assert settings.cookie_lifetime_days == 30
    assert settings.allowed_site_domains == ["www.shop.test", "blog.shop.test"]
    assert settings.rate_limit_emulation is True
    assert set(await stored_document(app, portal.hub_id)) == {
        "consent_mode",
        "cookie_lifetime_days",
        "allowed_site_domains",
        "rate_limit_emulation",
    }
    page = (await dashboard.client.get(saved.headers["location"])).text
    assert "Settings saved." in page
    assert 'value="www.shop.test, blog.shop.test"' in page

    values = form_values(page)
    del values["rate_limit_emulation"]  # unticked
    await dashboard.client.post(dashboard.url("/settings"), data=values)
    settings = await app.runtime.db.read(lambda c: portals.get_settings(c, portal.hub_id))
    assert settings.rate_limit_emulation is False


async def test_invalid_settings_are_shown_beside_their_fields_and_not_saved(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    values = form_values((await dashboard.page("/settings")).text)
    values.update(cookie_lifetime_days="0", allowed_site_domains=f"https://x.test/, {XSS}")
    answer = await dashboard.client.post(dashboard.url("/settings"), data=values)
    assert answer.status_code == 400
    page = answer.text
    lifetime = page.split('name="cookie_lifetime_days"', 1)[1].split('class="help"', 1)[0]
    assert "field-error" in lifetime
    assert "greater than or equal to 1" in lifetime
    domains = page.split('name="allowed_site_domains"', 1)[1].split('class="help"', 1)[0]
    assert "is not a hostname" in domains
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the typed value, kept and escaped
    assert await stored_document(app, portal.hub_id) == {}


async def test_a_new_credential_is_shown_once_and_works(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    page = (await dashboard.page("/settings")).text
    created = await dashboard.client.post(
        dashboard.url("/settings/credentials"),
        data={"csrf_token": csrf_of(page), "kind": "access_token"},
    )
    assert created.status_code == 200
    secret = re.search(r'id="new-secret" class="mono" value="(pat-ht1-[0-9a-f-]+)"', created.text)
    assert secret, created.text
    token = secret.group(1)
    assert "shown this once" in created.text
    assert await crm_status(app, token) == 200

    again = (await dashboard.page("/settings")).text
    assert token not in again
    assert "…" + token[-4:] in again

    key = await dashboard.client.post(
        dashboard.url("/settings/credentials"),
        data={"csrf_token": csrf_of(page), "kind": "write_key"},
    )
    write_key = re.search(r'id="new-secret" class="mono" value="([A-Za-z0-9]{32})"', key.text)
    assert write_key
    assert f"writeKey: &#39;{write_key.group(1)}&#39;" in key.text  # filled into the snippet


async def test_a_revoked_token_no_longer_authenticates(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    assert await crm_status(app, portal.access_token) == 200
    page = (await dashboard.page("/settings")).text
    row = next(
        r for r in page.split("<tr") if "Access token" in r and portal.access_token[-4:] in r
    )
    action = re.search(r'action="([^"]+/revoke)"', row).group(1)  # type: ignore[union-attr]
    revoked = await dashboard.client.post(action, data={"csrf_token": csrf_of(page)})
    assert revoked.status_code == 303
    after = (await dashboard.client.get(revoked.headers["location"])).text
    assert "Credential revoked." in after
    row = next(r for r in after.split("<tr") if portal.access_token[-4:] in r)
    assert "revoked" in row
    assert "/revoke" not in row
    assert await crm_status(app, portal.access_token) == 401

    twice = await dashboard.client.post(action, data={"csrf_token": csrf_of(page)})
    assert twice.status_code == 404


async def test_posts_need_the_csrf_token_and_touch_only_this_portal(
    app: HubtrailApp, portal: PortalKeys, dashboard: Dashboard
) -> None:
    page = (await dashboard.page("/settings")).text
    values = form_values(page)
    del values["csrf_token"]
    values["cookie_lifetime_days"] = "30"
    assert (await dashboard.client.post(dashboard.url("/settings"), data=values)).status_code == 403
    assert await stored_document(app, portal.hub_id) == {}

    forged = await dashboard.client.post(
        dashboard.url("/settings/credentials"), data={"kind": "access_token"}
    )
    assert forged.status_code == 403
    listed = await app.runtime.db.read(lambda c: portals.list_credentials(c, portal.hub_id))
    assert len(listed) == 2

    action = re.search(r'action="([^"]+/revoke)"', page).group(1)  # type: ignore[union-attr]
    assert (await dashboard.client.post(action, data={})).status_code == 403
    assert await crm_status(app, portal.access_token) == 200

    other = await create_portal(app, "Other")
    theirs = await app.runtime.db.read(lambda c: portals.list_credentials(c, other.hub_id))
    stranger = await dashboard.client.post(
        dashboard.url(f"/settings/credentials/{theirs[0].id}/revoke"),
        data={"csrf_token": csrf_of(page)},
    )
    assert stranger.status_code == 404
    assert await crm_status(app, other.access_token) == 200
