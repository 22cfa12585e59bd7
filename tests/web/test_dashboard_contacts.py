"""The contact and company pages: lists with search, filters and paging (the CRM search's own
implementation), a contact's properties, identities, companies and timeline, escaping, and 404s."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.process.processor import now_ms
from hubtrail.web.dashboard import contacts as contacts_page
from tests.conftest import PortalKeys, create_portal
from tests.web.conftest import Dashboard

HOUR_MS = 3_600_000


class Api:
    """The CRM API and Segment's, as a client would call them."""

    def __init__(self, app: HubtrailApp, portal: PortalKeys) -> None:
        self.app = app
        self.portal = portal
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        )

    async def crm(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.client.request(
            method,
            path,
            json=body,
            headers={"Authorization": f"Bearer {self.portal.access_token}"},
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def contact(self, **values: str) -> int:
        created = await self.crm("POST", "/crm/v3/objects/contacts", {"properties": values})
        return int(created["id"])

    async def company(self, **values: str) -> int:
        created = await self.crm("POST", "/crm/v3/objects/companies", {"properties": values})
        return int(created["id"])

    async def associate(self, contact_id: int, company_id: int) -> None:
        await self.crm(
            "PUT",
            f"/crm/v4/objects/contacts/{contact_id}/associations/default/companies/{company_id}",
        )

    async def segment(self, kind: str, **body: Any) -> None:
        token = base64.b64encode(f"{self.portal.write_key}:".encode()).decode()
        response = await self.client.post(
            f"/v1/{kind}", json=body, headers={"Authorization": f"Basic {token}"}
        )
        assert response.status_code == 200, response.text
        await self.app.runtime.processor.drain()


@pytest.fixture
async def api(app: HubtrailApp, portal: PortalKeys) -> AsyncIterator[Api]:
    client = Api(app, portal)
    yield client
    await client.client.aclose()


def iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def names_in_table(page: str) -> list[str]:
    """The contact names linked from the list's rows, in order."""
    return [
        html.unescape(n) for n in re.findall(r'<td><a href="[^"]+/contacts/\d+">([^<]*)</a>', page)
    ]


async def test_contact_list_searches_filters_and_pages(dashboard: Dashboard, api: Api) -> None:
    empty = await dashboard.page("/contacts")
    assert "No contacts yet" in empty.text
    assert "identify" in empty.text
    inputs = [
        {"properties": {"email": f"person{i:02d}@example.com", "firstname": f"Person{i:02d}"}}
        for i in range(53)
    ]
    await api.crm("POST", "/crm/v3/objects/contacts/batch/create", {"inputs": inputs})
    ann = await api.contact(
        email="ann@shop.example.com",
        firstname="Ann",
        lastname="Lee",
        lifecyclestage="lead",
        phone="+49 30 1234",
    )
    company = await api.company(name="Shop Ltd", domain="shop.test")
    await api.associate(ann, company)

    first = await dashboard.page("/contacts")
    assert "54 contacts" in first.text
    rows = names_in_table(first.text)
    assert len(rows) == 50
    assert rows[0] == "Ann Lee"  # newest first
    assert "1–50 of 54" in first.text
    assert "Shop Ltd" in first.text
    assert f"/companies/{company}" in first.text
    assert "Lead" in first.text
    next_link = re.search(r'href="([^"]*after=50[^"]*)"', first.text)
    assert next_link
    second = await dashboard.client.get(html.unescape(next_link.group(1)))
    assert second.status_code == 200
    assert len(names_in_table(second.text)) == 4
    assert "51–54 of 54" in second.text
    assert "← Previous" in second.text
    assert "Next →" not in second.text

    found = await dashboard.page("/contacts", q="ANN@SHOP")
    assert names_in_table(found.text) == ["Ann Lee"]
    assert "1 contact match" in found.text
    by_label = await dashboard.page("/contacts", prop="lifecyclestage", op="EQ", value="Lead")
    assert names_in_table(by_label.text) == ["Ann Lee"]
    assert "Lifecycle Stage is Lead" in by_label.text  # the filter, shown as a removable chip
    known = await dashboard.page("/contacts", prop="phone", op="HAS_PROPERTY")
    assert names_in_table(known.text) == ["Ann Lee"]
    two = await dashboard.client.get(
        dashboard.url("/contacts"),
        params=[
            ("prop", "firstname"),
            ("op", "CONTAINS_TOKEN"),
            ("value", "person0"),
            ("high", ""),
            ("prop", "email"),
            ("op", "NEQ"),
            ("value", "person03@example.com"),
            ("high", ""),
        ],
    )
    expected = [f"Person{i:02d}" for i in (0, 1, 2, 4, 5, 6, 7, 8, 9)]
    assert sorted(names_in_table(two.text)) == expected  # one batch: created in the same ms
    by_company = await dashboard.page(
        "/contacts", prop="associations.company", op="EQ", value=str(company)
    )
    assert names_in_table(by_company.text) == ["Ann Lee"]
    none = await dashboard.page("/contacts", q="nobody-like-this")
    assert "No contact matches" in none.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"prop": "firstname", "op": "EQ", "value": ""}, "First Name is: enter a value."),
        ({"prop": "no_such_property", "op": "EQ", "value": "x"}, "does not exist"),
        ({"prop": "hs_object_id", "op": "GT", "value": "many"}, "compares with a number"),
        ({"prop": "createdate", "op": "BETWEEN", "value": "2026-01-01"}, "upper value"),
        ({"prop": "firstname", "op": "LIKE", "value": "x"}, "not a condition"),
        ({"after": "ten"}, "after must be formatted as an integer"),
        ({"prop": "", "op": "EQ", "value": "lead"}, "Choose a property to compare with"),
    ],
)
async def test_invalid_filters_show_an_error_not_a_crash(
    dashboard: Dashboard, params: dict[str, str], message: str
) -> None:
    response = await dashboard.client.get(dashboard.url("/contacts"), params=params)
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert html.escape(message, quote=True) in response.text
    assert "<select" in response.text  # the form is still there to fix the filter


async def test_contact_page_shows_properties_identities_company_and_one_timeline(
    dashboard: Dashboard, api: Api
) -> None:
    start = now_ms() - 5 * HOUR_MS
    await api.segment(
        "page",
        anonymousId="anon-1",
        timestamp=iso(start),
        properties={"url": "https://shop.test/pricing", "title": "Pricing"},
    )
    await api.segment(
        "track",
        anonymousId="anon-1",
        event="Trial Started",
        timestamp=iso(start + HOUR_MS),
        properties={"plan": "pro"},
    )
    await api.segment(
        "identify",
        anonymousId="anon-1",
        userId="user-7",
        traits={"email": "Kim@Shop.example.com", "firstName": "Kim", "lastName": "Ode"},
    )
    await api.segment(
        "page",
        anonymousId="anon-1",
        properties={"url": "https://shop.test/docs", "title": "Docs"},
    )
    contact_id = int(
        (await api.crm("GET", "/crm/v3/objects/contacts/kim@shop.example.com?idProperty=email"))[
            "id"
        ]
    )
    await api.crm(
        "PATCH", f"/crm/v3/objects/contacts/{contact_id}", {"properties": {"firstname": "Kimberly"}}
    )
    company = await api.company(name="Shop Ltd", domain="shop.test")
    await api.associate(contact_id, company)

    page = (await dashboard.page(f"/contacts/{contact_id}")).text
    assert "<h1" in page
    assert "Kimberly Ode" in page
    assert "kim@shop.example.com" in page.lower()
    # properties, with the history of each change and where it came from
    assert "First Name" in page
    row = re.search(r'<span class="sub mono">firstname</span>(.*?)</tr>', page, re.S)
    assert row
    history = re.search(r"<summary>2 changes</summary>(.*?)</details>", row.group(1), re.S)
    assert history, "firstname has two changes"
    assert "Kimberly" in history.group(1)
    assert "Kim" in history.group(1)
    assert "CRM API" in history.group(1)
    assert "Segment" in history.group(1)
    # identities: the email, the visitor (anonymousId) and the external id
    assert "anon-1" in page
    assert "user-7" in page
    assert "Visitor" in page
    # the company, linked
    assert f'href="/app/{dashboard.hub_id}/companies/{company}"' in page
    # one timeline, newest first, with the anonymous views and event from before the identify
    activity = page[page.index('id="timeline"') : page.index('id="properties"')]
    order = [
        activity.index(marker)
        for marker in ("Kimberly", "Docs", "Identified", "Trial Started", "Pricing")
    ]
    assert order == sorted(order), order
    assert "plan" in activity
    assert "pro" in activity
    assert "https://shop.test/pricing" in activity
    assert "hs_analytics_num_page_views" not in activity  # derived from the views shown


async def test_anonymous_history_joins_the_contact_when_the_visitor_is_identified(
    dashboard: Dashboard, api: Api
) -> None:
    for n in range(3):
        await api.segment(
            "page",
            anonymousId="visitor-9",
            properties={"url": f"https://site.test/p{n}", "title": f"Anonymous page {n}"},
        )
    await api.segment("identify", anonymousId="visitor-9", traits={"email": "late@example.net"})
    found = await dashboard.page("/contacts", q="late@example.net")
    link = re.search(rf'href="/app/{dashboard.hub_id}/contacts/(\d+)"', found.text)
    assert link
    page = (await dashboard.page(f"/contacts/{link.group(1)}")).text
    for n in range(3):
        assert f"Anonymous page {n}" in page


async def test_timeline_pages_by_cursor(
    dashboard: Dashboard, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts_page, "TIMELINE_PAGE", 4)
    start = now_ms() - 10 * HOUR_MS
    await api.segment("identify", anonymousId="v", traits={"email": "pager@example.net"})
    for n in range(6):  # six views in the same millisecond: the cursor must not skip or repeat
        await api.segment(
            "page",
            anonymousId="v",
            timestamp=iso(start),
            messageId=f"m{n}",
            properties={"url": f"https://site.test/{n}", "title": f"View number {n}"},
        )
    found = await dashboard.page("/contacts", q="pager@example.net")
    contact_id = re.findall(r"/contacts/(\d+)", found.text)[0]
    seen: list[str] = []
    url: str | None = dashboard.url(f"/contacts/{contact_id}")
    pages = 0
    while url:
        response = await dashboard.client.get(url)
        assert response.status_code == 200
        seen += re.findall(r"View number (\d)", response.text)
        older = re.search(r'href="([^"]+)">Older activity', response.text)
        url = html.unescape(older.group(1)) if older else None
        pages += 1
    assert sorted(seen) == [str(n) for n in range(6)]
    assert pages >= 2
    broken = await dashboard.page(f"/contacts/{contact_id}", before="not-a-cursor")
    assert "View number" in broken.text  # a malformed cursor shows the newest page


async def test_untrusted_values_are_escaped(dashboard: Dashboard, api: Api) -> None:
    evil = "<img src=x onerror=alert(1)>"
    contact_id = await api.contact(email="evil@example.net", firstname=evil)
    await api.segment("identify", anonymousId="evil-v", traits={"email": "evil@example.net"})
    await api.segment(
        "page",
        anonymousId="evil-v",
        properties={"url": "javascript:alert(2)", "title": "<script>alert(3)</script>"},
    )
    listing = (await dashboard.page("/contacts")).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in listing
    assert "<img src=x" not in listing
    page = (await dashboard.page(f"/contacts/{contact_id}")).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    assert "<script>alert(3)" not in page
    assert 'href="javascript:' not in page  # shown, never linked
    chip = await dashboard.page("/contacts", prop="firstname", op="EQ", value=evil)
    assert "<img src=x" not in chip.text


async def test_unknown_and_other_portals_records_are_404(
    app: HubtrailApp, dashboard: Dashboard, api: Api
) -> None:
    other = await create_portal(app, "Other", hub_id=dashboard.hub_id + 1)
    other_api = Api(app, other)
    try:
        theirs = await other_api.contact(email="theirs@other.example.com")
        their_company = await other_api.company(name="Other Co", domain="other.test")
    finally:
        await other_api.client.aclose()
    mine = await api.contact(email="mine@example.net")
    for suffix in (
        f"/contacts/{theirs}",
        f"/companies/{their_company}",
        "/contacts/999999",
        "/contacts/abc",
        "/companies/999999",
    ):
        response = await dashboard.client.get(dashboard.url(suffix))
        assert response.status_code == 404, suffix
        assert "theirs@other.example.com" not in response.text
    assert (await dashboard.client.get(f"/app/{other.hub_id}/contacts")).status_code == 404
    assert (await dashboard.page(f"/contacts/{mine}")).status_code == 200


async def test_a_merged_contact_leads_to_the_surviving_one(dashboard: Dashboard, api: Api) -> None:
    primary = await api.contact(email="keep@example.net", firstname="Keep")
    merged = await api.contact(email="gone@example.net", lastname="Gone")
    await api.crm(
        "POST",
        "/crm/v3/objects/contacts/merge",
        {"primaryObjectId": str(primary), "objectIdToMerge": str(merged)},
    )
    response = await dashboard.client.get(dashboard.url(f"/contacts/{merged}"))
    assert response.status_code == 303
    assert response.headers["location"] == dashboard.url(f"/contacts/{primary}")
    page = (await dashboard.page(f"/contacts/{primary}")).text
    assert "Keep Gone" in page
    assert "gone@example.net" in page  # the merged email is one of its identities now
    assert str(merged) in page  # "Merged from"


async def test_companies_list_and_page(dashboard: Dashboard, api: Api) -> None:
    empty = await dashboard.page("/companies")
    assert "No companies yet" in empty.text
    acme = await api.company(name="Acme Corp", domain="acme.test", city="Berlin")
    await api.company(name="Globex", domain="globex.test")
    people = [
        await api.contact(email=f"p{n}@acme.example.com", firstname=f"Worker{n}") for n in range(3)
    ]
    for person in people:
        await api.associate(person, acme)
    await api.crm("PATCH", f"/crm/v3/objects/companies/{acme}", {"properties": {"city": "Paris"}})

    listing = (await dashboard.page("/companies")).text
    assert "2 companies" in listing
    row = re.search(r"Acme Corp</a>(.*?)</tr>", listing, re.S)
    assert row
    assert '<td class="num">3</td>' in row.group(1)
    found = (await dashboard.page("/companies", q="globex.TEST")).text
    assert "Globex" in found
    assert "Acme Corp" not in found

    page = (await dashboard.page(f"/companies/{acme}")).text
    assert "Acme Corp" in page
    assert "acme.test" in page
    for person in people:
        assert f'href="/app/{dashboard.hub_id}/contacts/{person}"' in page
    activity = page[page.index('id="timeline"') : page.index('id="properties"')]
    assert activity.index("Paris") < activity.index("Berlin")  # property changes, newest first
    assert "CRM API" in activity
    row = re.search(r'<span class="sub mono">city</span>(.*?)</tr>', page, re.S)
    assert row
    assert "<summary>2 changes</summary>" in row.group(1)
