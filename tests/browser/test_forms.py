"""An embedded form in Chromium, against a real `hubtrail serve` on SQLite and on PostgreSQL.

The test site (`www.shop.test`) embeds a form made through the forms API exactly as a HubSpot
customer embeds one: HubSpot's forms script (here from `track.hubtrail.test`, another site) and
`hbspt.forms.create` called inside `analytics.ready`, as Segment's HubSpot integration has it.
The visitor browses two pages first (hubtrail.js records them), then meets the form: errors
beside each field from the browser's checks and from the server's, the keyboard path from the
first field to Enter, the thank-you message. Read back: the contact and its company through the
CRM API, the two earlier views now the contact's (`hubtrail export pageviews`), and the
submission in the dashboard's live debugger. Screenshots of the form with its errors and of the
thank-you message go to /tmp/hubtrail-browser.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import Hub, HubtrailServer, Site, Tab, eventually

pytestmark = pytest.mark.e2e

WWW = "www.shop.test"
EMAIL = "ada@lovelace-labs.com"
PASSWORD = "browser-test-password"
THANKS = "Thanks, Ada! The guide is on its way."
EMPLOYEE_RANGES = ["1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"]
REQUIRED = "Please complete this required field."
INVALID_EMAIL = "Please enter a valid email address, such as name@example.com."
OUT_OF_RANGE = "Please enter a number between 1 and 500."


def make_form(hub: Hub) -> str:
    """The form, made through the forms API in HubSpot's v3 shape; its guid."""
    seats = hub.api.post(
        "/crm/v3/properties/contacts",
        json={
            "name": "seats",
            "label": "Seats",
            "type": "number",
            "fieldType": "number",
            "groupName": "contactinformation",
        },
    )
    assert seats.status_code == 201, seats.text
    fields: list[dict[str, Any]] = [
        {
            "objectTypeId": "0-1",
            "name": "email",
            "label": "Work email",
            "fieldType": "email",
            "required": True,
            "description": "We send the guide here.",
        },
        {
            "objectTypeId": "0-1",
            "name": "firstname",
            "label": "First name",
            "fieldType": "single_line_text",
            "placeholder": "Ada",
        },
        {
            "objectTypeId": "0-1",
            "name": "numemployees",
            "label": "Company size",
            "fieldType": "dropdown",
            "options": [{"label": r, "value": r} for r in EMPLOYEE_RANGES],
        },
        {
            "objectTypeId": "0-1",
            "name": "seats",
            "label": "Seats",
            "fieldType": "number",
            "validation": {"minAllowedDigits": 1, "maxAllowedDigits": 500},  # hubtrail: the range
        },
        {
            "objectTypeId": "0-2",
            "name": "name",
            "label": "Company name",
            "fieldType": "single_line_text",
        },
    ]
    response = hub.api.post(
        "/marketing/v3/forms",
        json={
            "formType": "hubspot",
            "name": "Guide download",
            "fieldGroups": [
                {"groupType": "default_group", "richTextType": "text", "fields": [field]}
                for field in fields
            ],
            "configuration": {"postSubmitAction": {"type": "thank_you", "value": THANKS}},
            "displayOptions": {"submitButtonText": "Send me the guide"},
        },
    )
    assert response.status_code in (200, 201), response.text
    guid: str = response.json()["id"]
    return guid


def embed_page(server: HubtrailServer, hub: Hub, guid: str) -> str:
    """HubSpot's embed code with hubtrail's host, called the Segment way (`analytics.ready`)."""
    options = json.dumps({"portalId": str(hub.hub_id), "formId": guid, "target": "#form"})
    return f"""
<div id="form"><p>Loading the form…</p></div>
<script src="{server.browser_url}/forms/embed/v2.js"></script>
<script>
window.analytics = {{ready: function (callback) {{ callback(); }}}};
window.formEvents = [];
analytics.ready(function () {{
  var options = {options};
  options.onFormReady = function (form) {{ formEvents.push(["ready", form.id]); }};
  options.onFormSubmit = function (form, values) {{ formEvents.push(["submit", values]); }};
  options.onFormSubmitted = function (form, data) {{ formEvents.push(["submitted", data]); }};
  hbspt.forms.create(options);
}});
</script>
"""


def field(tab: Tab, name: str) -> Any:
    return tab.page.locator(f"form.hs-form [name={name}]")


def error_of(tab: Tab, name: str) -> str:
    """The text of the error list the field's aria-describedby points at ("" when none)."""
    return str(
        tab.page.evaluate(
            """name => {
              const input = document.querySelector("form.hs-form [name=" + name + "]");
              const ids = (input.getAttribute("aria-describedby") || "").split(" ");
              const list = ids.map(id => document.getElementById(id))
                .find(node => node && node.classList.contains("hs-error-msgs"));
              return list ? list.textContent : "";
            }""",
            name,
        )
    )


def focused(tab: Tab) -> str:
    """The focused element's name (its type for the submit button)."""
    active = "() => document.activeElement.name || document.activeElement.type"
    return str(tab.page.evaluate(active))


def sign_in(tab: Tab, server: HubtrailServer, email: str) -> None:
    tab.goto(f"{server.browser_url}/login")
    tab.page.fill("input[name=email]", email)
    tab.page.fill("input[name=password]", PASSWORD)
    tab.page.click("button[type=submit]")
    tab.page.wait_for_url("**/app/**")


def test_a_visitor_fills_in_an_embedded_form_and_becomes_a_contact(
    server: HubtrailServer, hub: Hub, site: Site, tab: Tab
) -> None:
    guid = make_form(hub)
    site.add("/", "Home")
    site.add("/pricing", "Pricing")
    site.add("/guide", "Get the guide", body=embed_page(server, hub, guid))
    sent: list[tuple[str, str]] = []  # (url, body) of every submission the page sent
    tab.page.on(
        "request",
        lambda r: sent.append((r.url, r.post_data or "")) if "/submissions/" in r.url else None,
    )

    # Two pages before the form: an anonymous visitor, so far.
    tab.goto(site.url(WWW, "/"))
    tab.wait_hits(1)
    tab.goto(site.url(WWW, "/pricing"))
    tab.wait_hits(2)
    tab.goto(site.url(WWW, "/guide"))
    tab.wait_hits(3)
    form = tab.page.locator("form.hs-form")
    form.wait_for()
    assert "Loading the form" not in tab.page.inner_text("#form"), "the target is emptied first"
    form_id = form.get_attribute("id")
    assert tab.page.evaluate("() => formEvents") == [["ready", form_id]]

    # Accessible markup: labels, help text, required, the honeypot out of people's way.
    email = field(tab, "email")
    email_id = email.get_attribute("id")
    assert tab.page.inner_text(f"label[for='{email_id}']").replace("\n", "") == "Work email*"
    assert email.get_attribute("type") == "email"
    assert email.get_attribute("autocomplete") == "email"
    assert email.get_attribute("required") is not None
    assert email.get_attribute("aria-required") == "true"
    help_id = email.get_attribute("aria-describedby")
    assert tab.page.inner_text(f"#{help_id}") == "We send the guide here."
    assert field(tab, "numemployees").locator("option").all_inner_texts() == [
        "Please select",
        *EMPLOYEE_RANGES,
    ]
    seats = field(tab, "seats")
    assert (seats.get_attribute("min"), seats.get_attribute("max")) == ("1", "500")
    honeypot = field(tab, "hs_website_hp")
    assert honeypot.get_attribute("tabindex") == "-1"
    assert honeypot.get_attribute("autocomplete") == "off"
    box = honeypot.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 0, f"the honeypot is on screen: {box}"
    assert tab.page.locator(".hs_hs_website_hp[aria-hidden=true]").count() == 1
    assert tab.page.locator("input[type=submit]").get_attribute("value") == "Send me the guide"

    # Empty: errors beside the email, announced, focus on it, and nothing sent.
    tab.page.click("input[type=submit]")
    assert email.get_attribute("aria-invalid") == "true"
    assert error_of(tab, "email") == REQUIRED
    assert tab.page.inner_text("[role=alert]") == "Please check this field: Work email."
    assert focused(tab) == "email"
    assert field(tab, "firstname").get_attribute("aria-invalid") is None
    assert sent == []

    # The browser's own checks: a malformed email, seats out of range.
    email.fill("ada@lovelace")
    seats.fill("5000")
    tab.page.click("input[type=submit]")
    assert error_of(tab, "email") == INVALID_EMAIL
    assert error_of(tab, "seats") == OUT_OF_RANGE
    assert "2 fields: Work email, Seats" in tab.page.inner_text("[role=alert]")
    tab.screenshot("forms-errors")
    assert sent == []

    # An address only the server refuses (no such top-level domain): its 400, shown the same way.
    email.fill("ada@lovelace-labs.notatld")
    seats.fill("12")
    tab.page.click("input[type=submit]")
    tab.page.wait_for_function(
        "() => document.querySelector('[role=alert]').textContent.includes('Work email')"
    )
    assert len(sent) == 1
    assert error_of(tab, "email") == INVALID_EMAIL
    assert error_of(tab, "seats") == ""
    assert focused(tab) == "email"

    # The keyboard path: type, Tab through every field (the honeypot is skipped), Enter.
    email.fill("")
    tab.page.keyboard.type(EMAIL)
    typed = {"firstname": "Ada", "numemployees": None, "seats": "42", "name": "Lovelace Labs"}
    for name, text in typed.items():
        tab.page.keyboard.press("Tab")
        assert focused(tab) == name
        if text is None:
            for _ in range(3):
                tab.page.keyboard.press("ArrowDown")
        else:
            tab.page.keyboard.type(text)
    assert field(tab, "numemployees").input_value() == "25-50"
    tab.page.keyboard.press("Tab")
    assert focused(tab) == "submit"
    tab.page.keyboard.press("Shift+Tab")
    tab.page.keyboard.press("Enter")

    thanks = tab.page.locator(".submitted-message")
    thanks.wait_for()
    assert thanks.inner_text() == THANKS
    assert thanks.get_attribute("role") == "status"
    assert tab.page.evaluate("() => document.activeElement.className").startswith(
        "submitted-message"
    )
    assert tab.page.locator("form.hs-form").count() == 0
    tab.screenshot("forms-thank-you")

    # What was sent: HubSpot's body, with the visitor's hubspotutk.
    assert len(sent) == 2
    url, raw = sent[-1]
    assert url == f"{server.browser_url}/submissions/v3/integration/submit/{hub.hub_id}/{guid}"
    body = json.loads(raw)
    assert body["fields"] == [
        {"objectTypeId": "0-1", "name": "email", "value": EMAIL},
        {"objectTypeId": "0-1", "name": "firstname", "value": "Ada"},
        {"objectTypeId": "0-1", "name": "numemployees", "value": "25-50"},
        {"objectTypeId": "0-1", "name": "seats", "value": "42"},
        {"objectTypeId": "0-2", "name": "name", "value": "Lovelace Labs"},
    ]
    utk = tab.cookies()["hubspotutk"]
    assert body["context"] == {
        "hutk": utk,
        "pageUri": site.url(WWW, "/guide"),
        "pageName": "Get the guide",
    }
    events = tab.page.evaluate("() => formEvents")
    assert [event[0] for event in events] == ["ready", "submit", "submit", "submitted"]
    assert events[-1][1]["submissionValues"]["email"] == EMAIL

    # The contact, with its properties and its company.
    contact = hub.wait_contact(
        EMAIL,
        lambda p: p.get("firstname") == "Ada",
        "firstname",
        "numemployees",
        "seats",
        "recent_conversion_event_name",
    )
    assert (contact["numemployees"], float(contact["seats"])) == ("25-50", 42.0)
    assert contact["recent_conversion_event_name"] == "Guide download"
    company = hub.api.get(
        "/crm/v3/objects/companies/lovelace-labs.com",
        params={"idProperty": "domain", "properties": "name"},
    )
    assert company.status_code == 200, company.text
    assert company.json()["properties"]["name"] == "Lovelace Labs"

    # The visitor's views from before the form are now the contact's.
    contact_id = contact["hs_object_id"]
    views = eventually(
        hub.page_views,
        lambda found: sum(v["contactId"] == contact_id for v in found) >= 3,
        "the earlier views joined to the contact",
    )
    assert [(v["url"], v["visitor"], v["contactId"]) for v in views] == [
        (site.url(WWW, path), utk, contact_id) for path in ("/", "/pricing", "/guide")
    ]

    # The submission in the live debugger, under Forms.
    user = f"forms-{hub.hub_id}@example.com"
    server.cli("user", "create", user, "--portal", str(hub.hub_id), "--password", PASSWORD)
    sign_in(tab, server, user)
    tab.goto(f"{server.browser_url}/app/{hub.hub_id}/debugger?source=form")
    rows = tab.page.locator("#debugger-stream li.msg")
    assert rows.count() == 1, "the refused submission never reached the inbox"
    row = rows.first.locator("summary").inner_text()
    for shown in (EMAIL, "Forms", "applied"):
        assert shown in row, row
    tab.screenshot("forms-debugger")

    # And on the contact's timeline: the form, and the pages seen before it.
    tab.goto(f"{server.browser_url}/app/{hub.hub_id}/contacts/{contact_id}")
    timeline = tab.page.inner_text("main")
    for seen in ("Guide download", "Home", "Pricing", "Get the guide"):
        assert seen in timeline, seen
    tab.screenshot("forms-contact")


# --- the other field types, no target, a strict Content-Security-Policy, the preview -----------

# A page of its own (the site's template has inline styles): styles from this origin only, so
# inline <style> and style="" are refused; its own inline <style> shows that the policy holds.
STRICT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Survey</title>
<meta http-equiv="Content-Security-Policy" content="style-src 'self'">
<style>p {{ color: rgb(255, 0, 0); }}</style>
</head>
<body>
<h1>Survey</h1>
<script src="{script}"></script>
<script>hbspt.forms.create({call});</script>
<p id="after">After the form.</p>
<div id="preview"></div>
</body>
</html>
"""
PLANS = [("Starter", "starter"), ("Team", "team"), ("Enterprise", "enterprise")]
TOPICS = [("Tracking", "tracking"), ("Forms", "forms"), ("Forwarding", "forwarding")]


def make_survey(hub: Hub) -> str:
    def options(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"label": label, "value": value} for label, value in pairs]

    fields: list[dict[str, Any]] = [
        {"name": "email", "label": "Email", "fieldType": "email", "required": True},
        {"name": "plan", "label": "Plan", "fieldType": "radio", "options": options(PLANS)},
        {
            "name": "topics",
            "label": "Topics",
            "fieldType": "multiple_checkboxes",
            "options": options(TOPICS),
            "description": "Pick any.",
        },
        {"name": "start_date", "label": "Start date", "fieldType": "datepicker"},
        {"name": "message", "label": "Message", "fieldType": "multi_line_text"},
        {
            "name": "agree",
            "label": "I agree to be contacted",
            "fieldType": "single_checkbox",
            "required": True,
        },
        {
            "name": "lead_source",
            "fieldType": "single_line_text",
            "hidden": True,
            "defaultValue": "web",
        },
    ]
    response = hub.api.post(
        "/marketing/v3/forms",
        json={
            "name": "Survey",
            "fieldGroups": [{"fields": [{"objectTypeId": "0-1", **f}]} for f in fields],
        },
    )
    assert response.status_code == 201, response.text
    guid: str = response.json()["id"]
    return guid


def test_every_field_type_under_a_strict_csp_and_without_a_target(
    server: HubtrailServer, hub: Hub, site: Site, tab: Tab
) -> None:
    guid = make_survey(hub)
    call = json.dumps({"portalId": hub.hub_id, "formId": guid})
    script = f"{server.browser_url}/forms/embed/v2.js"
    site.server.pages["/survey"] = STRICT_PAGE.format(script=script, call=call)
    sent: list[str] = []
    tab.page.on(
        "request", lambda r: sent.append(r.post_data or "") if "/submissions/" in r.url else None
    )
    tab.goto(site.url(WWW, "/survey?lead_source=newsletter"))
    tab.page.locator("form.hs-form").wait_for()

    # Placed right after the script that called create, styled, its honeypot away: all through
    # the CSSOM, which the page's policy allows (the page's own inline <style> it refuses).
    assert (
        tab.page.evaluate(
            "() => document.querySelector('.hbspt-form').parentElement.nextElementSibling.id"
        )
        == "after"
    )
    paragraph = tab.page.locator("#after")
    assert paragraph.evaluate("p => getComputedStyle(p).color") != "rgb(255, 0, 0)"
    button = tab.page.locator("input[type=submit]")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(26, 86, 219)"
    box = field(tab, "hs_website_hp").bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 0

    # Groups: a fieldset named by its legend; the hidden field pre-filled from the query string.
    plan = tab.page.locator("fieldset[role=radiogroup]")
    assert (
        plan.evaluate("f => document.getElementById(f.getAttribute('aria-labelledby')).textContent")
        == "Plan"
    )
    topics = tab.page.locator("fieldset", has_text="Topics")
    assert topics.locator("legend").inner_text() == "Topics"
    assert topics.locator("input[type=checkbox]").count() == 3
    assert field(tab, "start_date").get_attribute("type") == "date"
    assert tab.page.locator("textarea[name=message]").count() == 1
    hidden = tab.page.locator("input[type=hidden][name=lead_source]")
    assert hidden.input_value() == "newsletter"

    # The required box left unchecked: its error, and nothing sent.
    field(tab, "email").fill("grace@example.com")
    tab.page.click("input[type=submit]")
    agree = field(tab, "agree")
    assert agree.get_attribute("aria-invalid") == "true"
    assert error_of(tab, "agree") == REQUIRED
    assert focused(tab) == "agree"
    assert sent == []
    tab.screenshot("forms-survey-errors")

    # By keyboard: Space checks the box, arrows choose a radio, Space ticks checkboxes.
    tab.page.keyboard.press("Space")
    assert agree.is_checked()

    # A bot fills the honeypot: the server's 429, shown as a general error.
    honeypot = field(tab, "hs_website_hp")
    honeypot.evaluate("input => { input.value = 'https://spam.example'; }")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_function("() => document.querySelector('[role=alert]').textContent")
    assert tab.page.inner_text("[role=alert]") == (
        "Too many submissions were sent from here. Please wait a minute and try again."
    )
    assert len(sent) == 1
    assert json.loads(sent[0])["fields"][-1]["name"] == "hs_website_hp"
    honeypot.evaluate("input => { input.value = ''; }")

    field(tab, "plan").first.focus()
    tab.page.keyboard.press("ArrowDown")
    assert tab.page.locator("input[name=plan]:checked").input_value() == "team"
    for value in ("tracking", "forwarding"):
        tab.page.locator(f"input[name=topics][value={value}]").focus()
        tab.page.keyboard.press("Space")
    field(tab, "start_date").fill("2026-03-01")
    tab.page.locator("textarea[name=message]").fill("Line one\nLine two <b>bold</b>")
    tab.page.locator("textarea[name=message]").focus()
    tab.page.keyboard.press("Tab")
    assert focused(tab) == "agree"
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.press("Enter")

    tab.page.locator(".submitted-message").wait_for()
    assert tab.page.inner_text(".submitted-message") == "Thanks for submitting the form."
    assert len(sent) == 2
    values = [(f["name"], f["value"]) for f in json.loads(sent[1])["fields"]]
    assert values == [
        ("email", "grace@example.com"),
        ("plan", "team"),
        ("topics", "tracking"),
        ("topics", "forwarding"),
        ("start_date", "2026-03-01"),
        ("message", "Line one\nLine two <b>bold</b>"),
        ("agree", "true"),
        ("lead_source", "newsletter"),
    ]
    contact = hub.wait_contact("grace@example.com", lambda p: bool(p.get("message")), "message")
    assert contact["message"] == "Line one\nLine two <b>bold</b>"

    # The preview the dashboard draws: checks run, nothing is sent.
    definition = tab.page.evaluate(
        "url => fetch(url).then(r => r.json())",
        f"{server.browser_url}/forms/v2/{hub.hub_id}/{guid}/definition",
    )
    tab.page.evaluate(
        "d => hbspt.forms.renderDefinition(d, document.getElementById('preview'), {preview: true})",
        definition,
    )
    preview = tab.page.locator("#preview")
    preview.locator("input[type=submit]").click()
    assert "Email" in preview.locator("[role=alert]").inner_text()
    preview.locator("[name=email]").fill("preview@example.com")
    preview.locator("[name=agree]").check()
    preview.locator("input[type=submit]").click()
    assert preview.locator("[role=alert]").inner_text() == (
        "Preview: the values are valid. Nothing was sent."
    )
    assert len(sent) == 2
