"""hubtrail.js in a real Chromium, against a real `hubtrail serve` on SQLite and on PostgreSQL.

Each test serves its own pages from the test site (`www.shop.test`, `blog.shop.test`,
`other.test`), loads the portal's script from `track.hubtrail.test` exactly as HubSpot's embed
snippet does, drives it through `_hsq` / `_hsp`, and checks three things: the cookies in the
browser, the hits the page sent (docs/tracking-protocol.md), and what the server made of them,
read back through the CRM API and `hubtrail export`. Waits are on hits being answered and on the
read-back reaching a state, never on time; the 30-minute session timeout uses Playwright's clock.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import Hit, Hub, Site, Tab

pytestmark = pytest.mark.e2e

WWW, BLOG, OTHER = "www.shop.test", "blog.shop.test", "other.test"
UTK = re.compile(r"[0-9a-f]{32}")
MID = re.compile(r"[0-9a-f]{32}")
# <domainHash>.<utk>.<firstVisitMs>.<previousVisitMs>.<currentVisitMs>.<sessionNumber>
HSTC = re.compile(r"(\d+)\.([0-9a-f]{32})\.(\d{13})\.(\d{13})\.(\d{13})\.(\d+)")
# <domainHash>.<viewsInSession>.<sessionStartMs>
HSSC = re.compile(r"(\d+)\.(\d+)\.(\d{13})")
VIEWS = "hs_analytics_num_page_views"
VISITS = "hs_analytics_num_visits"
FIRST_URL = "hs_analytics_first_url"
LAST_URL = "hs_analytics_last_url"
REVENUE = "hs_analytics_revenue"
MINUTE_MS = 60_000


def push(*command: Any) -> str:
    """An inline `_hsq.push([...])` statement for a page, ahead of the loader."""
    return f"_hsq.push({json.dumps(list(command))});"


def views_are(count: int) -> Any:
    return lambda props: props.get(VIEWS) == str(count)


def hstc_fields(tab: Tab) -> tuple[str, ...]:
    value = tab.cookies()["__hstc"]
    match = HSTC.fullmatch(value)
    assert match, f"__hstc={value!r}"
    return match.groups()


def hssc_fields(tab: Tab) -> tuple[str, ...]:
    value = tab.cookies()["__hssc"]
    match = HSSC.fullmatch(value)
    assert match, f"__hssc={value!r}"
    return match.groups()


def define_event(hub: Hub, name: str, *properties: str) -> None:
    """A custom behavioral event definition, made through the API as a HubSpot user would."""
    response = hub.api.post(
        "/events/v3/event-definitions",
        json={
            "label": name.replace("_", " ").title(),
            "name": name,
            "propertyDefinitions": [
                {"label": p.title(), "name": p, "type": "string"} for p in properties
            ],
        },
    )
    assert response.status_code == 201, response.text


def page_views_of(hub: Hub, contact_id: str) -> list[str]:
    return [view["url"] for view in hub.page_views() if view["contactId"] == contact_id]


# --- 1. identify, automatic view, cookies ------------------------------------------------------


def test_identify_before_load_then_the_automatic_view_creates_the_contact(
    site: Site, hub: Hub, tab: Tab
) -> None:
    email = "ada@example.com"
    site.add("/landing", "Landing", before=push("identify", {"email": email}))
    url = site.url(WWW, "/landing")
    tab.goto(url)
    [hit] = tab.wait_hits(1)

    cookies = tab.cookies()
    utk = cookies["hubspotutk"]
    assert UTK.fullmatch(utk), utk
    domain_hash, hstc_utk, first, previous, current, session = hstc_fields(tab)
    assert hstc_utk == utk
    assert first == previous == current, "a first visit's three timestamps are equal"
    assert session == "1"
    assert hssc_fields(tab)[:2] == (domain_hash, "1")
    # Set on the registrable domain, so every subdomain of shop.test shares the visitor.
    domains = tab.cookie_domains()
    assert {domains[name] for name in ("hubspotutk", "__hstc", "__hssc")} == {".shop.test"}

    assert (hit.method, hit.path, hit.kind) == ("POST", "/collect", "pv")
    assert str(hit.data["a"]) == str(hub.hub_id)
    assert MID.fullmatch(hit.data["mid"]), hit.data
    assert hit.data["vi"] == utk
    assert hit.data["u"] == cookies["__hstc"]
    assert hit.data["b"] == cookies["__hssc"]
    assert hit.data["nc"] is True
    assert hit.data["pu"] == url
    assert hit.data["t"] == "Landing"
    assert hit.data["ln"] == "en-us"
    assert hit.data["i"] == {"email": email}

    contact = hub.wait_contact(email, views_are(1), VIEWS, VISITS, FIRST_URL)
    assert contact[FIRST_URL] == url
    assert contact[VISITS] == "1"
    [view] = hub.page_views()
    assert (view["url"], view["visitor"]) == (url, utk)
    assert view["contactId"] == contact["hs_object_id"]


# --- 2. single-page app ------------------------------------------------------------------------


def test_spa_navigation_with_set_path_records_each_route(site: Site, hub: Hub, tab: Tab) -> None:
    email = "spa@example.com"
    before = push("setPath", "/#/home") + push("identify", {"email": email})
    site.add("/", "Shop app", before=before)
    origin = site.url(WWW, "")
    tab.goto(origin + "/")
    tab.wait_hits(1)
    # One route change after the other has been recorded, as people navigate: two beacons sent
    # in the same instant could reach the collector in either order.
    for sent, route in enumerate(("/#/pricing", "/#/checkout"), start=2):
        tab.page.evaluate("route => history.pushState({}, '', route)", route)
        tab.push("setPath", route)
        tab.push("trackPageView")
        tab.wait_hits(sent)
    hits = tab.wait_hits(3)

    expected = [origin + "/#/home", origin + "/#/pricing", origin + "/#/checkout"]
    assert [(hit.kind, hit.data["pu"]) for hit in hits] == [("pv", url) for url in expected]
    assert len({hit.data["mid"] for hit in hits}) == 3
    assert hssc_fields(tab)[1] == "3", "three views in this session"

    contact = hub.wait_contact(email, views_are(3), VIEWS, FIRST_URL, LAST_URL)
    assert (contact[FIRST_URL], contact[LAST_URL]) == (expected[0], expected[-1])
    assert page_views_of(hub, contact["hs_object_id"]) == expected


# --- 3. events ---------------------------------------------------------------------------------


def test_custom_and_legacy_events_reach_the_contact(site: Site, hub: Hub, tab: Tab) -> None:
    email = "learner@example.com"
    define_event(hub, "course_registration", "course_id")
    site.add("/courses", "Courses", before=push("identify", {"email": email}))
    tab.goto(site.url(WWW, "/courses"))
    tab.wait_hits(1)
    custom = f"pe{hub.hub_id}_course_registration"
    tab.push("trackCustomBehavioralEvent", {"name": custom, "properties": {"course_id": "Math101"}})
    tab.push("trackEvent", {"id": "purchase", "value": 25.5})
    hits = tab.wait_hits(3)

    assert [hit.kind for hit in hits] == ["pv", "ev", "le"]
    assert (hits[1].data["n"], hits[1].data["p"]) == (custom, {"course_id": "Math101"})
    assert hits[2].data["n"] == "purchase"
    assert float(hits[2].data["v"]) == 25.5

    contact = hub.wait_contact(email, lambda p: bool(p.get(REVENUE)), REVENUE, VIEWS)
    assert float(contact[REVENUE]) == 25.5
    assert contact[VIEWS] == "1"
    events = hub.wait_events(contact["hs_object_id"], 2)
    by_type = {event["eventType"]: event for event in events}
    assert set(by_type) == {custom, f"pe{hub.hub_id}_purchase"}
    assert by_type[custom]["properties"]["course_id"] == "Math101"
    assert all(event["objectId"] == contact["hs_object_id"] for event in events)


# --- 4. doNotTrack -----------------------------------------------------------------------------


def test_do_not_track_sends_nothing_until_tracking_resumes(site: Site, hub: Hub, tab: Tab) -> None:
    email = "private@example.com"
    define_event(hub, "blocked")
    site.add("/privacy", "Privacy", before=push("identify", {"email": email}))
    url = site.url(WWW, "/privacy")
    tab.goto(url)
    tab.wait_hits(1)

    tab.push("doNotTrack")
    assert tab.cookies().get("__hs_do_not_track") == "yes"
    tab.push("setPath", "/not-tracked")
    tab.push("trackPageView")
    tab.push("trackCustomBehavioralEvent", {"name": f"pe{hub.hub_id}_blocked", "properties": {}})
    tab.push("trackEvent", {"id": "blocked", "value": 5})
    tab.goto(url)  # a new page load: its automatic view is not sent either
    assert tab.cookies().get("__hs_do_not_track") == "yes"

    tab.push("doNotTrack", {"track": True})
    assert "__hs_do_not_track" not in tab.cookies()
    resumed = site.url(WWW, "/resumed")
    tab.push("setPath", "/resumed")
    tab.push("trackPageView")
    # Hits leave in the order they were made, so once the resumed view is answered any hit
    # made while tracking was off would have been seen before it.
    hits = tab.wait_for(
        lambda hits: any(h.done and h.data.get("pu") == resumed for h in hits), "resumed view"
    )
    assert [(hit.kind, hit.data.get("pu")) for hit in hits] == [("pv", url), ("pv", resumed)]

    contact = hub.wait_contact(email, views_are(2), VIEWS, LAST_URL, REVENUE)
    assert contact[LAST_URL] == resumed
    assert not contact.get(REVENUE)
    assert hub.events(contact["hs_object_id"]) == []


# --- 5. opt-in consent -------------------------------------------------------------------------


def test_opt_in_consent_keeps_views_anonymous_until_consent(site: Site, hub: Hub, tab: Tab) -> None:
    assert hub.set(consent_mode="opt_in")["settings"]["consent_mode"] == "opt_in"
    email = "consenting@example.com"
    site.add("/welcome", "Welcome")
    url = site.url(WWW, "/welcome")
    tab.goto(url)
    [anonymous] = tab.wait_hits(1)
    assert anonymous.kind == "pv"
    assert not anonymous.data.get("vi"), anonymous.data
    cookies = tab.cookies()
    assert {"hubspotutk", "__hstc"}.isdisjoint(cookies), cookies

    tab.page.evaluate(
        "() => window._hsp.push(['setHubSpotConsent',"
        " {analytics: true, advertisement: false, functionality: false}])"
    )
    tab.page.wait_for_function("() => document.cookie.includes('hubspotutk=')")
    utk = tab.cookies()["hubspotutk"]
    assert UTK.fullmatch(utk), utk
    assert hstc_fields(tab)[1] == utk

    consented = site.url(WWW, "/welcome?consented=1")
    tab.push("identify", {"email": email})
    tab.push("setPath", "/welcome?consented=1")
    tab.push("trackPageView")
    hits = tab.wait_hits(2)
    assert (hits[1].data["vi"], hits[1].data["i"]) == (utk, {"email": email})
    assert hits[1].data["pu"] == consented

    contact = hub.wait_contact(email, views_are(1), VIEWS, FIRST_URL)
    assert contact[FIRST_URL] == consented
    views = {view["url"]: view for view in hub.wait_page_views(2)}
    assert (views[url]["visitor"], views[url]["contactId"]) == (None, None)
    assert views[consented]["visitor"] == utk
    assert views[consented]["contactId"] == contact["hs_object_id"]


# --- 6. sessions -------------------------------------------------------------------------------


def test_a_new_session_starts_after_30_minutes_without_a_view(
    site: Site, hub: Hub, tab: Tab
) -> None:
    email = "returning@example.com"
    tab.page.clock.install()
    site.add("/news", "News", before=push("identify", {"email": email}))
    tab.goto(site.url(WWW, "/news"))
    tab.wait_hits(1)
    first_visit = hstc_fields(tab)
    assert first_visit[5] == "1"

    tab.fast_forward("05:00")
    tab.push("trackPageView")
    tab.wait_hits(2)
    assert hstc_fields(tab) == first_visit, "5 minutes later: the same session"
    assert hssc_fields(tab)[1] == "2"

    tab.fast_forward("31:00")
    tab.push("trackPageView")
    hits = tab.wait_hits(3)
    domain_hash, utk, first, previous, current, session = hstc_fields(tab)
    assert (domain_hash, utk, first) == first_visit[:3]
    assert previous == first_visit[4], "previous visit ← the last session's current visit"
    assert int(current) - int(first_visit[4]) >= 36 * MINUTE_MS
    assert session == "2"
    assert hssc_fields(tab)[:2] == (domain_hash, "1")
    assert hits[2].data["u"] == tab.cookies()["__hstc"]

    contact = hub.wait_contact(email, views_are(3), VIEWS, VISITS)
    assert contact[VISITS] == "2"


# --- 7. cross-domain linking -------------------------------------------------------------------

IDENTITY_LISTENER = """
_hsq.push(['addIdentityListener', function (hstc, hssc, hsfp) {
  window.hubtrailIdentity = {hstc: hstc, hssc: hssc, hsfp: hsfp};
  var link = document.getElementById('partner');
  var params = '__hstc=' + encodeURIComponent(hstc) + '&__hssc=' + encodeURIComponent(hssc);
  if (hsfp) { params += '&__hsfp=' + encodeURIComponent(hsfp); }
  link.href += (link.href.indexOf('?') < 0 ? '?' : '&') + params;
}]);
"""


def test_cross_domain_link_carries_the_visitor_to_another_site(
    site: Site, hub: Hub, tab: Tab
) -> None:
    email = "traveller@example.com"
    site.add(
        "/", "Shop home", body=f'<p><a id="blog" href="{site.url(BLOG, "/blog")}">Blog</a></p>'
    )
    partner = f'<p><a id="partner" href="{site.url(OTHER, "/partner")}">Our partner</a></p>'
    site.add("/blog", "Shop blog", before=IDENTITY_LISTENER, body=partner)
    site.add("/partner", "Partner site", before=push("identify", {"email": email}))

    tab.goto(site.url(WWW, "/"))
    tab.wait_hits(1)
    utk = tab.cookies()["hubspotutk"]

    with tab.page.expect_navigation():
        tab.page.click("#blog")
    hits = tab.wait_hits(2)
    assert tab.cookies()["hubspotutk"] == utk, "subdomains of shop.test share the visitor"
    assert (hits[1].data["vi"], hits[1].data["nc"]) == (utk, False)
    assert hssc_fields(tab)[1] == "2"
    tab.page.wait_for_function("() => window.hubtrailIdentity !== undefined")
    # The listener may run before this page's view is counted in __hssc: same visitor, same
    # session, the view count of its time.
    identity = tab.page.evaluate("() => window.hubtrailIdentity")
    assert identity["hstc"] == tab.cookies()["__hstc"]
    linked_hssc = HSSC.fullmatch(identity["hssc"])
    assert linked_hssc, identity
    assert linked_hssc.group(1, 3) == hssc_fields(tab)[::2]
    assert not [c for c in tab.context.cookies(site.url(OTHER, "/")) if c["name"] == "hubspotutk"]

    with tab.page.expect_navigation():
        tab.page.click("#partner")
    assert urlsplit(tab.page.url).hostname == OTHER
    hits = tab.wait_hits(3)
    assert tab.cookie_domains()["hubspotutk"] == ".other.test"
    assert tab.cookies()["hubspotutk"] == utk, "other.test adopted the linked visitor"
    assert hstc_fields(tab)[1] == utk
    assert (hits[2].data["vi"], hits[2].data["i"]) == (utk, {"email": email})

    contact = hub.wait_contact(email, views_are(3), VIEWS)
    hosts = [urlsplit(url).hostname for url in page_views_of(hub, contact["hs_object_id"])]
    assert hosts == [WWW, BLOG, OTHER]


# --- 8. two people, one browser ----------------------------------------------------------------


def test_a_second_person_on_the_same_browser_is_not_merged_into_the_first(
    site: Site, hub: Hub, tab: Tab
) -> None:
    first_email, second_email = "first@example.com", "second@example.com"
    define_event(hub, "profile_saved")
    site.add("/account", "Account", before=push("identify", {"email": first_email}))
    site.add("/shop", "Shop")
    origin = site.url(WWW, "")
    tab.goto(origin + "/account")
    tab.wait_hits(1)
    tab.push("setPath", "/account/orders")
    tab.push("trackPageView")
    tab.wait_hits(2)
    first = hub.wait_contact(first_email, views_are(2), VIEWS)

    tab.push("identify", {"email": second_email})
    tab.push("setPath", "/account/profile")
    tab.push("trackPageView")
    tab.push("trackCustomBehavioralEvent", {"name": f"pe{hub.hub_id}_profile_saved"})
    tab.wait_hits(4)
    tab.goto(origin + "/shop")
    hits = tab.wait_hits(5)
    assert len({hit.data["vi"] for hit in hits}) == 1, "one browser, one visitor"
    [event_hit] = [hit for hit in hits if hit.data["k"] == "ev"]
    assert event_hit.data["i"] == {"email": second_email}, "it says who it is about by itself"
    assert "i" not in hits[-1].data, "a new page load repeats nothing"

    second = hub.wait_contact(second_email, views_are(2), VIEWS, FIRST_URL)
    assert second["hs_object_id"] != first["hs_object_id"]
    assert second[FIRST_URL] == origin + "/account/profile"
    first_after = hub.contact(first_email, VIEWS)
    assert first_after is not None
    assert first_after["id"] == first["hs_object_id"]
    assert first_after["properties"][VIEWS] == "2", "A's history stays A's"
    assert page_views_of(hub, first["hs_object_id"]) == [
        origin + "/account",
        origin + "/account/orders",
    ]
    assert page_views_of(hub, second["hs_object_id"]) == [
        origin + "/account/profile",
        origin + "/shop",
    ]
    [event] = hub.wait_events(second["hs_object_id"], 1)
    assert event["eventType"] == f"pe{hub.hub_id}_profile_saved"
    assert hub.events(first["hs_object_id"]) == []


# --- robustness --------------------------------------------------------------------------------


def test_an_unknown_command_warns_and_does_not_throw(site: Site, tab: Tab) -> None:
    site.add("/", "Home", before=push("noSuchCommand", 1))
    tab.goto(site.url(WWW, "/"))
    tab.wait_hits(1)  # the queue went on past the unknown command
    outcome = tab.page.evaluate(
        "() => { try { window._hsq.push(['alsoUnknown']); return 'ok'; }"
        " catch (e) { return 'threw ' + e; } }"
    )
    assert outcome == "ok"
    tab.push("trackPageView")
    tab.wait_hits(2)
    warnings = [text for kind, text in tab.console if kind == "warning"]
    assert any("noSuchCommand" in text for text in warnings), tab.console
    assert any("alsoUnknown" in text for text in warnings), tab.console
    assert tab.errors == []


def test_a_double_include_sends_one_automatic_view(site: Site, hub: Hub, tab: Tab) -> None:
    email = "twice@example.com"
    site.add("/", "Home", before=push("identify", {"email": email}), loaders=2)
    url = site.url(WWW, "/")
    tab.goto(url)  # waits for `load`, which both async copies of the script ran before
    marker = site.url(WWW, "/after-load")
    tab.push("setPath", "/after-load")
    tab.push("trackPageView")
    hits = tab.wait_for(
        lambda hits: any(h.done and h.data.get("pu") == marker for h in hits), "the marker view"
    )

    def pages(sent: list[Hit]) -> list[str]:
        return [hit.data.get("pu", "") for hit in sent if hit.kind == "pv"]

    assert pages(hits) == [url, marker]
    contact = hub.wait_contact(email, views_are(2), VIEWS)
    # The automatic view's beacon may still be in flight when the marker's leaves: two requests
    # on two connections reach the collector in either order, so compare without order.
    assert sorted(page_views_of(hub, contact["hs_object_id"])) == sorted([url, marker])
