"""Segment's browser library (`@segment/analytics-next`, from node_modules) pointed at hubtrail
with only `cdnURL`, on a test site of another origin, in Chromium.

Cloud mode: the library's own delivery (`/v1/p|i|t|a|g`) is all hubtrail gets. Device mode: the
settings document also loads hubtrail's HubSpot plugin, whose `_hsq` calls reach the collector
through hubtrail.js while the library still delivers its own copy; each contact, page view and
event is then stored once. Results are read back through the CRM API and `hubtrail export`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Hub, Site, SiteServer, Tab, eventually

WWW = "www.shop.test"
LIBRARY = Path(__file__).parents[2] / "node_modules/@segment/analytics-next/dist/umd"
BUNDLES = "/analytics-next/bundles/"  # where the UMD build loads its chunks from, under `_cdn`

APP_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Shop with Segment</title></head>
<body>
<h1>Shop with Segment</h1>
<p>analytics-next, pointed at hubtrail by <code>cdnURL</code>.</p>
<script>
  // The UMD build loads its own chunks from window.analytics._cdn: this site serves them.
  window.analytics = {{_cdn: location.origin}};
</script>
<script src="{bundles}index.js"></script>
<script>
  window.ajs = AnalyticsNext.AnalyticsBrowser.load({{
    writeKey: {write_key},
    cdnURL: {cdn_url}
  }});
  window.ajsReady = window.ajs.then(function () {{ return true; }});
  // Settled at once, so a failed load is never an unhandled rejection in the page.
  window.ajsOutcome = window.ajsReady.then(
    function () {{ return "loaded"; }},
    function () {{ return "failed"; }}
  );
</script>
</body>
</html>
"""


@pytest.fixture
def segment_site(site: Site, site_server: SiteServer) -> Iterator[Site]:
    if not (LIBRARY / "index.js").is_file():
        pytest.fail(f"{LIBRARY} is missing: `make test` runs npm ci")
    site_server.files[BUNDLES] = LIBRARY
    page = APP_PAGE.format(
        bundles=BUNDLES,
        write_key=json.dumps(site.hub.write_key),
        cdn_url=json.dumps(site.hub.server.browser_url),
    )
    site_server.pages["/app"] = page
    yield site
    site_server.files.clear()


class SegmentRequests:
    """What the library sent to hubtrail's `/v1` paths, with the status of each answer."""

    def __init__(self, tab: Tab, port: int) -> None:
        self.answered: list[tuple[str, int]] = []
        self.bodies: list[dict[str, Any]] = []

        def on_response(response: Any) -> None:
            parts = urlsplit(response.url)
            if parts.port == port and parts.path.startswith("/v1/"):
                request = response.request
                self.answered.append((f"{request.method} {parts.path}", response.status))
                if request.method == "POST" and request.post_data:
                    self.bodies.append(json.loads(request.post_data))

        tab.page.on("response", on_response)

    def paths(self) -> list[str]:
        return [path for path, _ in self.answered]


def load_app(tab: Tab, site: Site) -> SegmentRequests:
    requests = SegmentRequests(tab, site.hub.server.port)
    tab.goto(site.url(WWW, "/app"))
    tab.page.wait_for_function("() => window.ajsReady", timeout=20_000)
    return requests


def call(tab: Tab, method: str, *args: Any) -> None:
    """`await analytics[method](...args)` in the page: resolves once every plugin handled it."""
    tab.page.evaluate("([m, args]) => window.ajs[m](...args).then(() => null)", [method, args])


def wait_delivered(requests: SegmentRequests, *paths: str) -> None:
    """Until the library's own delivery of each path got a 200."""
    wanted = [f"POST /v1/{path}" for path in paths]
    eventually(
        lambda: [p for p in wanted if (p, 200) not in requests.answered],
        lambda missing: not missing,
        f"library delivery to {wanted}",
    )


def search_contacts(hub: Hub, email: str) -> list[dict[str, Any]]:
    body = {
        "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}]
    }
    response = hub.api.post("/crm/v3/objects/contacts/search", json=body)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def company_of(hub: Hub, contact_id: str) -> str:
    """The name of the company associated with a contact (the association is written last)."""
    path = f"/crm/v4/objects/contacts/{contact_id}/associations/companies"
    read = lambda: hub.api.get(path).json().get("results", [])  # noqa: E731
    [company] = eventually(read, lambda found: len(found) == 1, "the contact's company")
    response = hub.api.get(f"/crm/v3/objects/companies/{company['toObjectId']}?properties=name")
    name: str = response.json()["properties"]["name"]
    return name


def test_cloud_mode_delivers_every_call_through_the_librarys_own_requests(
    segment_site: Site, hub: Hub, tab: Tab
) -> None:
    requests = load_app(tab, segment_site)
    settings = [status for path, status in requests.answered if "/settings" in path]
    assert settings == [200]
    email = "ada@example.com"
    call(tab, "page")
    call(tab, "alias", "user-ada")
    traits = {"email": email, "firstName": "Ada", "lastName": "Lovelace", "company": {"name": "A"}}
    call(tab, "identify", "user-ada", traits)
    call(tab, "track", "Order Completed", {"revenue": 42, "id": "order-1"})
    call(tab, "group", "acme", {"name": "Acme", "website": "https://acme.test"})
    wait_delivered(requests, "p", "a", "i", "t", "g")
    assert all(body["writeKey"] == hub.write_key for body in requests.bodies)

    wanted = ("firstname", "lastname", "hs_analytics_revenue", "hs_analytics_num_page_views")
    done = lambda p: p.get("hs_analytics_revenue") == "42"  # noqa: E731
    contact = hub.wait_contact(email, done, *wanted)
    assert (contact["firstname"], contact["lastname"]) == ("Ada", "Lovelace")
    assert contact["hs_analytics_num_page_views"] == "1"  # the anonymous view, joined by alias
    assert len(search_contacts(hub, email)) == 1
    [event] = hub.wait_events(contact["hs_object_id"], 1)
    assert event["eventType"].endswith("order_completed") or "Order" in event["eventType"]
    assert len(hub.wait_page_views(1)) == 1
    assert company_of(hub, contact["hs_object_id"]) == "Acme"


def test_device_mode_loads_the_plugin_and_stores_each_call_once(
    segment_site: Site, hub: Hub, tab: Tab
) -> None:
    hub.set(segment_mode="device")
    requests = load_app(tab, segment_site)
    # hubtrail.js, loaded by the plugin, recorded the initial view itself
    tab.wait_for(lambda hits: any(hit.kind == "pv" and hit.done for hit in hits), "first view")
    email = "grace@example.com"
    call(tab, "page")  # swallowed by the plugin: the library's copy is the only one, not applied
    call(tab, "identify", "user-grace", {"email": email, "firstName": "Grace"})
    call(tab, "track", "Order Completed", {"revenue": 42, "id": "order-2"})
    call(tab, "page")  # a route change: the plugin pushes trackPageView
    hits = tab.wait_for(lambda found: sum(hit.done for hit in found) >= 3, "three hits")
    [event_hit] = [hit for hit in hits if hit.kind == "le"]
    assert event_hit.data["n"] == "Order Completed"
    assert event_hit.data["i"] == {"email": email, "id": "user-grace", "firstname": "Grace"}
    assert event_hit.data["v"] == 42
    wait_delivered(requests, "p", "i", "t")

    done = lambda p: p.get("hs_analytics_revenue") == "42"  # noqa: E731
    wanted = ("firstname", "hs_analytics_revenue", "hs_analytics_num_page_views")
    contact = hub.wait_contact(email, done, *wanted)
    assert contact["firstname"] == "Grace"
    call(tab, "group", "acme", {"name": "Acme", "website": "https://acme.test"})
    call(tab, "alias", "user-grace-2")  # arrives as a self-alias: harmless
    wait_delivered(requests, "g", "a")
    assert company_of(hub, contact["hs_object_id"]) == "Acme"  # from the library's copy

    assert len(search_contacts(hub, email)) == 1
    assert len(hub.wait_events(contact["hs_object_id"], 1)) == 1
    assert len(hub.wait_page_views(2)) == 2  # the initial view and the route change
    final = hub.wait_contact(email, lambda p: True, *wanted)
    assert final["hs_analytics_revenue"] == "42"
    assert final["hs_analytics_num_page_views"] == "2"
    notes = [text for kind, text in tab.console if "group" in text.lower()]
    assert notes, "the plugin says group is applied from the library's copy"


def test_an_unknown_write_key_fails_the_load_without_breaking_the_page(
    site: Site, site_server: SiteServer, tab: Tab
) -> None:
    site_server.files[BUNDLES] = LIBRARY
    site_server.pages["/app"] = APP_PAGE.format(
        bundles=BUNDLES,
        write_key=json.dumps("no-such-key"),
        cdn_url=json.dumps(site.hub.server.browser_url),
    )
    try:
        requests = SegmentRequests(tab, site.hub.server.port)
        tab.goto(site.url(WWW, "/app"))
        failed = tab.page.evaluate("() => window.ajsOutcome")
    finally:
        site_server.files.clear()
    assert failed == "failed"
    assert [s for p, s in requests.answered if "/settings" in p] == [404]
    assert tab.page.title() == "Shop with Segment"
