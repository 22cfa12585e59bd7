"""The dashboard in Chromium, against a real `hubtrail serve` on each engine: sign in, every page
(a full-page screenshot of each into /tmp/hubtrail-browser), search, a contact's timeline, the
live debugger receiving a message sent during the test, the replay button, escaping, and who may
open what."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Hub, HubtrailServer, Tab, eventually

PASSWORD = "browser-test-password"
XSS = "<img src=x onerror=alert(1)>"


class RefusingTarget:
    """A 'HubSpot' that refuses every request with a 400, so forwarded changes dead-letter."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps(
                    {"status": "error", "category": "VALIDATION_ERROR", "message": "refused"}
                ).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def target() -> Iterator[RefusingTarget]:
    refusing = RefusingTarget()
    yield refusing
    refusing.close()


def segment(server: HubtrailServer, hub: Hub, kind: str, **message: Any) -> None:
    token = base64.b64encode(f"{hub.write_key}:".encode()).decode()
    response = httpx.post(
        f"{server.api_url}/v1/{kind}",
        json=message,
        headers={"Authorization": f"Basic {token}"},
        timeout=10,
        trust_env=False,
    )
    assert response.status_code == 200, response.text


def seed(server: HubtrailServer, hub: Hub) -> None:
    """A small site's worth: visitors, two contacts (one with a hostile name), events, a company."""
    for i in range(6):
        segment(
            server,
            hub,
            "page",
            anonymousId=f"anon-{i}",
            name="Pricing",
            properties={"url": f"https://www.shop.example/pricing?v={i}", "title": "Pricing"},
            timestamp=f"2026-11-{10 + i:02d}T10:00:00Z",
        )
    segment(
        server,
        hub,
        "identify",
        anonymousId="anon-1",
        userId="u-ada",
        traits={"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"},
    )
    segment(
        server,
        hub,
        "identify",
        anonymousId="anon-2",
        userId="u-x",
        traits={"email": "mallory@example.com", "firstName": XSS},
    )
    segment(server, hub, "track", userId="u-ada", event="Signed Up", properties={"plan": "pro"})
    segment(
        server,
        hub,
        "group",
        userId="u-ada",
        groupId="acme",
        traits={"name": "Acme", "website": "https://acme.example.com"},
    )


def contact_id(hub: Hub, email: str) -> str:
    found = hub.wait_contact(email, lambda p: True)
    return str(found["hs_object_id"])


def sign_in(tab: Tab, server: HubtrailServer, email: str) -> None:
    tab.goto(f"{server.browser_url}/login")
    tab.page.fill("input[name=email]", email)
    tab.page.fill("input[name=password]", PASSWORD)
    tab.page.click("button[type=submit]")
    tab.page.wait_for_url("**/app/**")


def shoot(tab: Tab, name: str) -> None:
    tab.page.wait_for_load_state("networkidle")
    path = tab.screenshot(f"dashboard-{name}")
    assert path.stat().st_size > 10_000, f"{path} looks empty"


def test_every_page_search_timeline_debugger_and_replay(
    server: HubtrailServer, hub: Hub, tab: Tab, target: RefusingTarget
) -> None:
    dialogs: list[str] = []
    tab.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    email = f"owner-{hub.hub_id}@example.com"
    server.cli("user", "create", email, "--portal", str(hub.hub_id), "--password", PASSWORD)
    server.cli(
        "destination",
        "add",
        "hubspot",
        "--portal",
        str(hub.hub_id),
        "--token",
        "t",
        "--base-url",
        target.url,
        "--send",
        "contacts",
    )
    seed(server, hub)
    ada, mallory = contact_id(hub, "ada@example.com"), contact_id(hub, "mallory@example.com")
    base = f"{server.browser_url}/app/{hub.hub_id}"

    tab.goto(base)  # not signed in: to the sign-in form, and back after it
    assert "/login" in tab.page.url
    sign_in(tab, server, email)
    assert tab.page.url.startswith(base)
    shoot(tab, "overview")
    assert tab.page.locator("h1").first.inner_text() == "Overview"

    tab.goto(f"{base}/contacts")
    tab.page.fill("input[name=q]", "lovelace")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_load_state("networkidle")
    rows = tab.page.locator("table tbody tr")
    assert rows.count() == 1
    assert "Ada" in rows.first.inner_text()
    shoot(tab, "contacts-search")

    tab.goto(f"{base}/contacts/{ada}")
    page_text = tab.page.inner_text("main")
    assert "Ada Lovelace" in page_text
    assert "Signed Up" in page_text
    assert "Pricing" in page_text  # the view from before she was identified
    assert "Acme" in page_text
    shoot(tab, "contact")

    tab.goto(f"{base}/contacts/{mallory}")
    assert XSS in tab.page.locator("h1").inner_text()  # shown as text, not an element
    assert tab.page.locator("main img[src=x]").count() == 0

    for section in ("companies", "events", "properties", "settings"):
        tab.goto(f"{base}/{section}")
        shoot(tab, section)

    tab.goto(f"{base}/debugger")
    shoot(tab, "debugger")
    segment(server, hub, "track", userId="u-ada", event="Live Debugger Check")
    live = tab.page.locator("#debugger-stream li", has_text="Live Debugger Check")
    live.first.wait_for(timeout=20_000)
    shoot(tab, "debugger-live")

    deliveries = f"{base}/deliveries"
    eventually(
        lambda: (tab.goto(deliveries), tab.page.locator(".dead-table tbody tr").count())[1],
        lambda count: count >= 2,
        "dead-lettered contacts",
    )
    shoot(tab, "deliveries")
    tab.page.click("form.replay-all button[type=submit]")
    tab.page.wait_for_load_state("networkidle")
    assert "queued again" in tab.page.inner_text("main")
    shoot(tab, "deliveries-replayed")
    assert dialogs == []  # nothing hostile ran


def test_another_portal_is_not_found_and_forms_need_the_csrf_token(
    server: HubtrailServer, hub: Hub, tab: Tab
) -> None:
    email = f"solo-{hub.hub_id}@example.com"
    server.cli("user", "create", email, "--portal", str(hub.hub_id), "--password", PASSWORD)
    other = json.loads(server.cli("portal", "create", "Someone else", "--json"))
    sign_in(tab, server, email)
    response = tab.page.goto(f"{server.browser_url}/app/{other['hub_id']}/contacts")
    assert response is not None
    assert response.status == 404
    tab.goto(f"{server.browser_url}/app/{hub.hub_id}/settings")
    forged = tab.page.evaluate(
        """url => fetch(url, {method: "POST", body: new URLSearchParams({consent_mode: "opt_in"})})
            .then(response => response.status)""",
        f"{server.browser_url}/app/{hub.hub_id}/settings",
    )
    assert forged == 403
    shown = json.loads(server.cli("portal", "show", str(hub.hub_id), "--json"))
    assert shown["settings"]["consent_mode"] == "none"
