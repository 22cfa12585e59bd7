"""The overview, events and properties pages, with data sent through Segment's API and the
CRM API, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any

import httpx

from hubtrail.app import HubtrailApp
from hubtrail.core.delivery import DAY_MS
from hubtrail.core.properties import PropertyType
from hubtrail.core.property_rules import field_type_problem
from hubtrail.process.processor import now_ms
from hubtrail.web.dashboard.properties import FIELD_CHOICES
from tests.conftest import PortalKeys
from tests.web.conftest import Dashboard, csrf_of

XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(1)</script>"


def iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


async def segment(dashboard: Dashboard, portal: PortalKeys, kind: str, **body: Any) -> None:
    token = base64.b64encode(f"{portal.write_key}:".encode()).decode()
    response = await dashboard.client.post(
        f"/v1/{kind}", json=body, headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 200, response.text


async def page_view(
    dashboard: Dashboard, portal: PortalKeys, days_ago: int, url: str, visitor: str, **more: Any
) -> None:
    at = now_ms() - days_ago * DAY_MS
    properties = {"url": url, "title": more.pop("title", "A page"), **more}
    await segment(
        dashboard, portal, "page", anonymousId=visitor, timestamp=iso(at), properties=properties
    )


async def track(
    dashboard: Dashboard, portal: PortalKeys, days_ago: int, event: str, user: str = "u1"
) -> None:
    at = now_ms() - days_ago * DAY_MS
    await segment(dashboard, portal, "track", userId=user, event=event, timestamp=iso(at))


async def send_traffic(app: HubtrailApp, dashboard: Dashboard, portal: PortalKeys) -> None:
    """Page views 0, 3, 20 and 60 days ago; two events; one contact (created today)."""
    await segment(dashboard, portal, "identify", userId="u1", traits={"email": "ann@example.com"})
    home, pricing = "https://shop.example/", "https://shop.example/pricing?plan=pro"
    await page_view(dashboard, portal, 0, home, "a1", referrer="https://www.google.com/")
    await page_view(dashboard, portal, 0, pricing, "a1")
    await page_view(dashboard, portal, 0, home, "a2")
    await page_view(dashboard, portal, 3, pricing, "a1")
    await page_view(dashboard, portal, 20, home, "a3", referrer="https://news.example/")
    await page_view(dashboard, portal, 20, pricing, "a3")
    await page_view(dashboard, portal, 60, home, "a4")
    await track(dashboard, portal, 0, "Signed Up")
    await track(dashboard, portal, 1, "Signed Up")
    await track(dashboard, portal, 20, "Order Completed")
    await track(dashboard, portal, 60, "Order Completed")
    await app.runtime.processor.drain()


def stat(html: str, label: str) -> str:
    found = re.search(rf'<div class="value">([^<]*)</div>\s*<div class="label">{label}', html)
    assert found, f"no stat card labelled {label}"
    return found.group(1)


def top_list(html: str, heading: str) -> list[tuple[str, str]]:
    """(label, count) rows of the top list under `heading`."""
    section = html.split(f"<h2>{heading}</h2>", 1)[1].split("</ol>", 1)[0]
    return re.findall(
        r'<span class="label[^"]*">([^<]*)</span>\s*<span class="num"[^>]*>([^<]*)</span>', section
    )


async def test_overview_counts_the_aggregates_over_the_chosen_range(
    app: HubtrailApp, dashboard: Dashboard, portal: PortalKeys
) -> None:
    await send_traffic(app, dashboard, portal)

    month = (await dashboard.page()).text
    assert stat(month, "Page views") == "6"
    assert stat(month, "Visitors") == "3"  # a1, a2, a3: unique over the range
    assert stat(month, "New contacts") == "1"
    assert stat(month, "Events") == "3"
    assert "No traffic yet" not in month
    assert top_list(month, "Top pages") == [("/", "3"), ("/pricing?plan=pro", "3")]
    assert 'title="https://shop.example/pricing?plan=pro"' in month
    sources = dict(top_list(month, "Traffic sources"))
    assert sources["Organic search"] == "1"
    assert sources["Referrals"] == "1"
    assert top_list(month, "Top events") == [("Signed Up", "2"), ("Order Completed", "1")]

    charts = re.findall(r'<svg class="day-bars"[^>]*aria-label="([^"]*)"', month)
    assert len(charts) == 4
    assert charts[1].startswith("Page views per day")
    assert "6 page views in total" in charts[1]
    today = datetime.fromtimestamp(now_ms() / 1000, UTC).strftime("%Y-%m-%d")
    assert f"<title>{today}: 3 page views</title>" in month
    assert month.count("<title>") >= 4 * 30  # a bar (and tooltip) for every day, zeros included

    week = (await dashboard.page(days="7")).text
    assert stat(week, "Page views") == "4"
    assert stat(week, "Events") == "2"
    assert top_list(week, "Top events") == [("Signed Up", "2")]
    assert f'href="/app/{portal.hub_id}?days=7" aria-current="page"' in week

    quarter = (await dashboard.page(days="90")).text
    assert stat(quarter, "Page views") == "7"
    assert stat(quarter, "Visitors") == "4"
    assert stat(quarter, "Events") == "4"

    odd = (await dashboard.page(days="12abc")).text  # not a choice: the default range
    assert stat(odd, "Page views") == "6"


async def test_an_empty_portal_points_at_the_tracking_code(dashboard: Dashboard) -> None:
    html = (await dashboard.page()).text
    assert "No traffic yet" in html
    assert f'href="/app/{dashboard.hub_id}/settings"' in html
    assert stat(html, "Page views") == "0"
    assert "day-bars" not in html  # no empty charts and lists, just the way to get traffic


async def test_overview_and_events_escape_urls_and_event_names(
    app: HubtrailApp, dashboard: Dashboard, portal: PortalKeys
) -> None:
    await segment(dashboard, portal, "identify", userId="u1", traits={"email": "ann@example.com"})
    url = f"https://shop.example/{XSS_SCRIPT}"
    await page_view(dashboard, portal, 0, url, "a1", title=XSS_SCRIPT)
    await track(dashboard, portal, 0, XSS_IMG)
    await app.runtime.processor.drain()

    for html in ((await dashboard.page()).text, (await dashboard.page("/events")).text):
        assert XSS_IMG not in html
        assert XSS_SCRIPT not in html
        assert "onerror=alert(1)&gt;" in html
    overview = (await dashboard.page()).text
    assert "/&lt;script&gt;alert(1)&lt;/script&gt;" in overview


async def test_events_page_lists_definitions_with_counts_over_the_range(
    app: HubtrailApp, dashboard: Dashboard, portal: PortalKeys
) -> None:
    await send_traffic(app, dashboard, portal)
    html = (await dashboard.page("/events")).text
    rows = re.findall(r"<tr>\s*<td class=\"wrap event-name\">(.*?)</tr>", html, re.S)
    assert len(rows) == 2
    by_label = {row.split("<", 1)[0]: row for row in rows}
    signed_up, ordered = by_label["Signed Up"], by_label["Order Completed"]
    assert f"pe{portal.hub_id}_signed_up" in signed_up
    assert "Segment" in signed_up
    assert '<td class="num">2</td>' in signed_up
    assert '<td class="num">1</td>' in ordered  # the one 60 days ago is outside 30 days
    assert signed_up.count("<title>") == 30
    assert "2 events defined" in html

    quarter = (await dashboard.page("/events", days="90")).text
    ordered = next(r for r in re.findall(r"<tr>(.*?)</tr>", quarter, re.S) if "Order" in r)
    assert '<td class="num">2</td>' in ordered

    found = (await dashboard.page("/events", q="signed")).text
    assert "Signed Up" in found
    assert "Order Completed" not in found
    none = (await dashboard.page("/events", q="nothing-like-it")).text
    assert "contains “nothing-like-it”" in none


async def test_events_page_without_events_explains_where_they_come_from(
    dashboard: Dashboard,
) -> None:
    html = (await dashboard.page("/events")).text
    assert "No events yet." in html


# --- properties -------------------------------------------------------------------------------


def test_every_field_type_choice_is_one_hubspot_accepts() -> None:
    for kind, field_type, _ in FIELD_CHOICES:
        assert field_type_problem(PropertyType(kind), field_type) is None


async def read_property(
    app: HubtrailApp, portal: PortalKeys, name: str, object_type: str = "contacts"
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:
        return await api.get(
            f"/crm/v3/properties/{object_type}/{name}",
            headers={"Authorization": f"Bearer {portal.access_token}"},
        )


async def test_properties_lists_contact_and_company_properties(dashboard: Dashboard) -> None:
    contacts = (await dashboard.page("/properties")).text
    assert '<span class="sub mono">email</span>' in contacts
    assert "Contact information" in contacts
    assert "Read-only" in contacts  # hs_analytics_* are set by hubtrail
    assert '<span class="sub mono">domain</span>' not in contacts
    companies = (await dashboard.page("/properties", objectType="companies")).text
    assert '<span class="sub mono">domain</span>' in companies
    assert "Create a company property" in companies
    found = (await dashboard.page("/properties", q="first")).text
    assert '<span class="sub mono">firstname</span>' in found
    assert '<span class="sub mono">email</span>' not in found
    custom = (await dashboard.page("/properties", origin="custom")).text
    assert "No property matches these filters." in custom


async def test_creating_a_property_uses_the_api_rules(
    app: HubtrailApp, dashboard: Dashboard, portal: PortalKeys
) -> None:
    form = {"objectType": "contacts", "label": "Favorite color", "name": "", "kind": "string:text"}
    created = await dashboard.post("/properties", {**form, "group": "contactinformation"})
    assert created.status_code == 303
    assert created.headers["location"].endswith(
        "/properties?objectType=contacts&created=favorite_color#p-favorite_color"
    )
    shown = await dashboard.client.get(created.headers["location"])
    assert "Property “Favorite color” (favorite_color) created." in shown.text
    assert 'id="p-favorite_color"' in shown.text
    stored = await read_property(app, portal, "favorite_color")
    assert stored.status_code == 200
    assert stored.json()["type"] == "string"
    assert stored.json()["fieldType"] == "text"
    assert stored.json()["hubspotDefined"] is False

    options = "Small\nLarge\n\nSmall\n"
    sized = {**form, "label": "Size", "name": "size", "kind": "enumeration:select"}
    company = await dashboard.post(
        "/properties",
        {**sized, "objectType": "companies", "options": options, "group": "companyinformation"},
    )
    assert company.status_code == 303
    stored = await read_property(app, portal, "size", "companies")
    assert [o["value"] for o in stored.json()["options"]] == ["Small", "Large"]


async def test_refused_properties_are_explained_beside_the_form(
    app: HubtrailApp, dashboard: Dashboard, portal: PortalKeys
) -> None:
    base = {"objectType": "contacts", "kind": "string:text", "group": "contactinformation"}
    invalid = await dashboard.post("/properties", {**base, "label": "Bad", "name": "Bad Name!"})
    assert invalid.status_code == 400
    assert "is not a valid property name" in invalid.text
    assert 'value="Bad Name!"' in invalid.text  # what was typed stays in the form
    assert (await read_property(app, portal, "bad_name_")).status_code == 404

    duplicate = await dashboard.post("/properties", {**base, "label": "Mail", "name": "email"})
    assert duplicate.status_code == 409
    assert "Property named &#39;email&#39; already exists." in duplicate.text

    reserved = await dashboard.post("/properties", {**base, "label": "X", "name": "hs_mine"})
    assert reserved.status_code == 400
    assert "reserved for HubSpot" in reserved.text

    no_options = await dashboard.post(
        "/properties", {**base, "label": "Tier", "kind": "enumeration:radio"}
    )
    assert no_options.status_code == 400
    assert "needs at least one option" in no_options.text

    no_group = await dashboard.post("/properties", {**base, "label": "Y", "group": "nope"})
    assert no_group.status_code == 400
    assert "does not exist" in no_group.text


async def test_creating_a_property_needs_the_csrf_token(
    app: HubtrailApp, dashboard: Dashboard, portal: PortalKeys
) -> None:
    form = {"objectType": "contacts", "label": "Sneaky", "kind": "string:text"}
    refused = await dashboard.client.post(dashboard.url("/properties"), data=form)
    assert refused.status_code == 403
    wrong = await dashboard.client.post(
        dashboard.url("/properties"), data={**form, "csrf_token": "not-it"}
    )
    assert wrong.status_code == 403
    assert (await read_property(app, portal, "sneaky")).status_code == 404
    page = await dashboard.page("/properties")
    assert csrf_of(page.text)


async def test_property_labels_are_escaped(dashboard: Dashboard) -> None:
    form = {"objectType": "contacts", "label": XSS_IMG, "name": "xss", "kind": "string:text"}
    created = await dashboard.post("/properties", {**form, "group": "contactinformation"})
    assert created.status_code == 303
    html = (await dashboard.client.get(created.headers["location"])).text
    assert XSS_IMG not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    refused = await dashboard.post("/properties", {**form, "name": XSS_IMG})
    assert refused.status_code == 400
    assert XSS_IMG not in refused.text
