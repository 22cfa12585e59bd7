"""HubSpot's form submission API: validation in HubSpot's error shape, contacts born from forms,
the `hutk` browser's history joining them, companies from the email's domain, and the spam guards.

Every test runs on SQLite and PostgreSQL; the processor is stepped (`drain`), and the spam
limiter's clock is replaced, so nothing waits.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from typer.testing import CliRunner

from hubtrail.app import HubtrailApp, create_app
from hubtrail.core.forms import HONEYPOT_FIELD, FieldType, Form, FormField, Option, new_guid
from hubtrail.core.messages import Kind, Message, Source
from hubtrail.core.properties import ObjectType
from hubtrail.ingest.forms import SubmissionLimiter
from hubtrail.process.processor import now_ms
from hubtrail.store import associations, contacts, objects, portals, properties
from hubtrail.store import forms as form_store
from hubtrail.store.schema import companies, inbox, page_views
from tests.conftest import Database, PortalKeys, create_portal, make_settings
from tests.ingest.helpers import contact_values, count, outcomes, query

HUTK = "0123456789abcdef0123456789abcdef"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SITE = "https://www.site.test"


def submit_path(hub_id: int, guid: str, *, secure: bool = False) -> str:
    kind = "secure/submit" if secure else "submit"
    return f"/submissions/v3/integration/{kind}/{hub_id}/{guid}"


def signup_form(hub_id: int, **changes: Any) -> Form:
    form = Form(
        guid=new_guid(),
        portal_id=hub_id,
        name="Newsletter signup",
        fields=(
            FormField("email", "Email", FieldType.EMAIL, required=True),
            FormField("firstname", "First name", FieldType.TEXT),
            FormField("favourite_colour", "Favourite colour", FieldType.TEXT),
        ),
        thank_you_message="Thanks, you're in!",
    )
    return replace(form, **changes)


async def add_form(app: HubtrailApp, form: Form) -> Form:
    return await app.runtime.db.write(lambda conn: form_store.create_form(conn, form, now_ms()))


def body(*fields: tuple[str, str], **context: str) -> dict[str, Any]:
    return {
        "fields": [{"objectTypeId": "0-1", "name": n, "value": v} for n, v in fields],
        "context": context,
    }


async def inbox_count(app: HubtrailApp) -> int:
    return await count(app, inbox)


async def submissions(app: HubtrailApp, form: Form) -> list[form_store.Submission]:
    return await app.runtime.db.read(
        lambda conn: form_store.submissions_of_form(conn, form.portal_id, form.guid)
    )


async def find_contact(app: HubtrailApp, hub_id: int, email: str) -> contacts.Contact | None:
    return await app.runtime.db.read(lambda conn: contacts.find_by_email(conn, hub_id, email))


@pytest.fixture
def clock(app: HubtrailApp) -> list[int]:
    """The spam limiter's clock, moved by the test (epoch ms in a list, so it is mutable)."""
    now = [1_700_000_000_000]
    app.api.state.form_submission_limiter = SubmissionLimiter(lambda: now[0])
    return now


# --- accepted submissions -----------------------------------------------------------------------


async def test_a_submission_creates_the_contact_and_answers_the_thank_you_message(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    response = await client.post(
        submit_path(portal.hub_id, form.guid),
        json=body(
            ("email", "Ann@Example.com"),
            ("firstname", "Ann"),
            ("favourite_colour", "teal"),
            ("not_on_the_form", "ignored"),
            pageUri="https://site.test/pricing",
            pageName="Pricing",
        ),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"inlineMessage": "Thanks, you're in!"}
    assert await app.runtime.processor.drain() == 1

    values = await contact_values(app, portal.hub_id, "ann@example.com")
    assert values["email"] == "Ann@example.com"
    assert values["firstname"] == "Ann"
    assert "favourite_colour" not in values  # no such contact property: dropped with a note
    assert values["num_conversion_events"] == "1"
    assert values["num_unique_conversion_events"] == "1"
    assert values["first_conversion_event_name"] == "Newsletter signup"
    assert values["recent_conversion_event_name"] == "Newsletter signup"
    assert values["first_conversion_date"] == values["recent_conversion_date"]

    [outcome] = await outcomes(app)
    assert outcome["status"] == "partial"
    assert outcome["contact_created"] is True
    assert [(n["code"], n["field"]) for n in outcome["notes"]] == [
        ("PROPERTY_DOESNT_EXIST", "favourite_colour")
    ]
    [row] = await query(app, select(inbox.c.source, inbox.c.kind))
    assert (row.source, row.kind) == (Source.FORM.value, Kind.IDENTIFY.value)

    [submission] = await submissions(app, form)
    contact = await find_contact(app, portal.hub_id, "ann@example.com")
    assert contact is not None
    assert submission.contact_id == contact.id
    assert submission.visitor_id is None
    assert submission.page_uri == "https://site.test/pricing"
    assert submission.page_name == "Pricing"
    assert submission.ip_address == "127.0.0.1"  # the connection's: ASGITransport's client
    assert submission.submitted == [
        ("email", "Ann@Example.com"),
        ("firstname", "Ann"),
        ("favourite_colour", "teal"),
        ("not_on_the_form", "ignored"),
    ]
    assert submission.message_id.startswith("f:")


async def test_a_second_submission_updates_the_contact_and_counts_conversions(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    signup = await add_form(app, signup_form(portal.hub_id))
    demo = await add_form(app, signup_form(portal.hub_id, name="Book a demo"))
    for form, name in ((signup, "Ann"), (signup, "Annie"), (demo, "Anne")):
        response = await client.post(
            submit_path(portal.hub_id, form.guid),
            json=body(("email", "ann@example.com"), ("firstname", name)),
        )
        assert response.status_code == 200, response.text
        await app.runtime.processor.drain()
    values = await contact_values(app, portal.hub_id, "ann@example.com")
    assert values["firstname"] == "Anne"
    assert values["num_conversion_events"] == "3"
    assert values["num_unique_conversion_events"] == "2"
    assert values["first_conversion_event_name"] == "Newsletter signup"
    assert values["recent_conversion_event_name"] == "Book a demo"


async def test_a_form_with_a_redirect_answers_its_uri(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id, redirect_url="https://site.test/thanks"))
    response = await client.post(
        submit_path(portal.hub_id, form.guid), json=body(("email", "a@example.com"))
    )
    assert response.status_code == 200
    assert response.json() == {
        "inlineMessage": "Thanks, you're in!",
        "redirectUri": "https://site.test/thanks",
    }


async def test_submitted_at_sets_when_it_happened_and_checkboxes_take_semicolons(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    topics = (Option("News", "news"), Option("Events", "events"), Option("Jobs", "jobs"))
    form = await add_form(
        app,
        signup_form(
            portal.hub_id,
            fields=(
                FormField("email", "Email", FieldType.EMAIL, required=True),
                FormField("message", "Topics", FieldType.CHECKBOX, options=topics),
            ),
        ),
    )
    an_hour_ago = now_ms() - 3_600_000
    sent = body(("email", "a@example.com"), ("message", "news;jobs"))
    sent["submittedAt"] = str(an_hour_ago)
    sent["legalConsentOptions"] = {"consent": {"consentToProcess": True, "text": "I agree"}}
    response = await client.post(submit_path(portal.hub_id, form.guid), json=sent)
    assert response.status_code == 200, response.text
    await app.runtime.processor.drain()
    [submission] = await submissions(app, form)
    assert submission.submitted_at_ms == an_hour_ago
    values = await contact_values(app, portal.hub_id, "a@example.com")
    assert values["message"] == "news;jobs"


# --- refused submissions ------------------------------------------------------------------------


def every_kind_of_field(hub_id: int) -> Form:
    return signup_form(
        hub_id,
        fields=(
            FormField("email", "Email", FieldType.EMAIL, required=True),
            FormField("firstname", "First name", FieldType.TEXT, required=True),
            FormField("annualrevenue", "Revenue", FieldType.NUMBER, min_value=0, max_value=100),
            FormField("zip", "Employees", FieldType.NUMBER),
            FormField(
                "industry", "Industry", FieldType.SELECT, options=(Option("Retail", "retail"),)
            ),
            FormField("city", "City", FieldType.RADIO, options=(Option("Paris", "paris"),)),
            FormField("state", "Since", FieldType.DATE),
            FormField("jobtitle", "Job", FieldType.TEXTAREA),
        ),
    )


async def test_every_field_error_is_listed_in_hubspots_shape_and_nothing_is_stored(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, every_kind_of_field(portal.hub_id))
    response = await client.post(
        submit_path(portal.hub_id, form.guid),
        json=body(
            ("email", "not-an-email"),
            ("annualrevenue", "250"),
            ("zip", "twelve"),
            ("industry", "mining"),
            ("city", "berlin"),
            ("state", "31/12/2020"),
            ("jobtitle", "x" * 65_537),
        ),
    )
    assert response.status_code == 400
    document = response.json()
    assert document["status"] == "error"
    assert document["message"] == "The request is not valid"
    assert document["correlationId"] == response.headers["x-hubspot-correlation-id"]
    assert document["errors"] == [
        {"message": "Error in 'fields.email'. Invalid email address", "errorType": "INVALID_EMAIL"},
        {
            "message": "Error in 'fields.firstname'. Required field is missing",
            "errorType": "REQUIRED_FIELD",
        },
        {
            "message": "Error in 'fields.annualrevenue'. Enter a number between 0 and 100",
            "errorType": "NUMBER_OUT_OF_RANGE",
        },
        {"message": "Error in 'fields.zip'. Enter a number", "errorType": "INVALID_NUMBER"},
        {
            "message": "Error in 'fields.industry'. 'mining' is not an option",
            "errorType": "INVALID_OPTION",
        },
        {
            "message": "Error in 'fields.city'. 'berlin' is not an option",
            "errorType": "INVALID_OPTION",
        },
        {
            "message": "Error in 'fields.state'. Enter a date as YYYY-MM-DD",
            "errorType": "INVALID_DATE",
        },
        {
            "message": "Error in 'fields.jobtitle'. The value is too long",
            "errorType": "FIELD_TOO_LONG",
        },
    ]
    assert await inbox_count(app) == 0


async def test_a_field_sent_for_another_object_type_is_ignored(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    sent = {"fields": [{"objectTypeId": "0-2", "name": "email", "value": "a@example.com"}]}
    response = await client.post(submit_path(portal.hub_id, form.guid), json=sent)
    assert response.status_code == 400
    assert [e["errorType"] for e in response.json()["errors"]] == ["REQUIRED_FIELD"]
    # Without an objectTypeId the form field's own type is assumed.
    sent = {"fields": [{"name": "email", "value": "a@example.com"}]}
    assert (await client.post(submit_path(portal.hub_id, form.guid), json=sent)).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'{"fields": {"email": "a@example.com"}}', b'{"fields": [42]}'],
)
async def test_a_body_that_is_not_hubspots_shape_is_a_400(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys, raw: bytes
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    response = await client.post(
        submit_path(portal.hub_id, form.guid),
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["errorType"] == "INVALID_JSON"


async def test_unknown_portals_and_forms_and_archived_forms_are_404(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    other = await create_portal(app, "Other")
    sent = body(("email", "a@example.com"))
    cases = [
        (submit_path(999_999, form.guid), "PORTAL_NOT_FOUND"),
        (f"/submissions/v3/integration/submit/acme/{form.guid}", "PORTAL_NOT_FOUND"),
        (submit_path(portal.hub_id, new_guid()), "FORM_NOT_FOUND"),
        (submit_path(other.hub_id, form.guid), "FORM_NOT_FOUND"),  # another portal's form
    ]
    for path, error_type in cases:
        response = await client.post(path, json=sent)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["errorType"] == error_type
    await app.runtime.db.write(
        lambda conn: form_store.archive_form(conn, portal.hub_id, form.guid, now_ms())
    )
    response = await client.post(submit_path(portal.hub_id, form.guid), json=sent)
    assert response.status_code == 404
    assert await inbox_count(app) == 0


async def test_the_secure_endpoint_takes_the_portals_token_and_the_visitors_ip(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    other = await create_portal(app, "Other")
    path = submit_path(portal.hub_id, form.guid, secure=True)
    sent = body(("email", "a@example.com"), ipAddress="203.0.113.9", hutk=HUTK)

    assert (await client.post(path, json=sent)).status_code == 401
    wrong = {"Authorization": "Bearer pat-ht1-nope"}
    assert (await client.post(path, json=sent, headers=wrong)).status_code == 401
    others = {"Authorization": f"Bearer {other.access_token}"}
    response = await client.post(path, json=sent, headers=others)
    assert response.status_code == 401
    assert response.json()["category"] == "INVALID_AUTHENTICATION"
    assert await inbox_count(app) == 0

    mine = {"Authorization": f"Bearer {portal.access_token}"}
    response = await client.post(path, json=sent, headers=mine)
    assert response.status_code == 200, response.text
    assert response.json() == {"inlineMessage": "Thanks, you're in!"}
    await app.runtime.processor.drain()
    [submission] = await submissions(app, form)
    assert (submission.ip_address, submission.hutk) == ("203.0.113.9", HUTK)


# --- identity ---------------------------------------------------------------------------------


async def test_the_hutk_browsers_anonymous_page_views_join_the_new_contact(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    for url, title in (("https://site.test/", "Home"), ("https://site.test/pricing", "Pricing")):
        hit = {"a": str(portal.hub_id), "k": "pv", "vi": HUTK, "pu": url, "t": title}
        response = await client.post(
            "/collect", content=orjson.dumps(hit), headers={"User-Agent": BROWSER}
        )
        assert response.status_code == 204, response.text
    await app.runtime.processor.drain()
    views = await query(app, select(page_views.c.contact_id))
    assert [v.contact_id for v in views] == [None, None]

    form = await add_form(app, signup_form(portal.hub_id))
    response = await client.post(
        submit_path(portal.hub_id, form.guid),
        json=body(("email", "ann@example.com"), hutk=HUTK.upper(), pageUri="https://site.test/"),
        headers={"User-Agent": BROWSER},
    )
    assert response.status_code == 200
    await app.runtime.processor.drain()

    contact = await find_contact(app, portal.hub_id, "ann@example.com")
    assert contact is not None
    views = await query(app, select(page_views.c.contact_id))
    assert [v.contact_id for v in views] == [contact.id, contact.id]
    values = await contact_values(app, portal.hub_id, "ann@example.com")
    assert values["hs_analytics_num_page_views"] == "2"
    assert values["hs_analytics_first_url"] == "https://site.test/"
    [submission] = await submissions(app, form)
    assert submission.hutk == HUTK
    visitor = await app.runtime.db.read(
        lambda conn: contacts.get_or_create_visitor(conn, portal.hub_id, HUTK, now_ms())
    )
    assert submission.visitor_id == visitor.id
    assert visitor.contact_id == contact.id


async def test_a_hutk_that_is_not_a_usertoken_identifies_no_browser(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    response = await client.post(
        submit_path(portal.hub_id, form.guid),
        json=body(("email", "ann@example.com"), hutk="not-a-cookie"),
    )
    assert response.status_code == 200
    await app.runtime.processor.drain()
    [submission] = await submissions(app, form)
    assert (submission.hutk, submission.visitor_id) == ("", None)
    assert submission.contact_id is not None


# --- companies --------------------------------------------------------------------------------


def company_form(hub_id: int, *, domain_field: bool = False) -> Form:
    fields = [
        FormField("email", "Email", FieldType.EMAIL, required=True),
        FormField("name", "Company", FieldType.TEXT, object_type=ObjectType.COMPANY),
        FormField(
            "numberofemployees", "Employees", FieldType.NUMBER, object_type=ObjectType.COMPANY
        ),
    ]
    if domain_field:
        fields.append(
            FormField("domain", "Website", FieldType.TEXT, object_type=ObjectType.COMPANY)
        )
    return signup_form(hub_id, fields=tuple(fields))


async def company_of(app: HubtrailApp, hub_id: int, email: str) -> dict[str, str] | None:
    """The values of the company associated with the contact, None when there is none."""

    async def run(conn: AsyncConnection) -> dict[str, str] | None:
        contact = await contacts.find_by_email(conn, hub_id, email)
        assert contact is not None
        linked = await associations.links(
            conn, hub_id, ObjectType.CONTACT, [contact.id], ObjectType.COMPANY
        )
        ids = {link.to_id for link in linked.get(contact.id, [])}
        if not ids:
            return None
        [company_id] = ids
        return await properties.current_values(conn, hub_id, ObjectType.COMPANY, company_id)

    return await app.runtime.db.read(run)


def company_body(email: str, name: str, *extra: tuple[str, str]) -> dict[str, Any]:
    return {
        "fields": [
            {"objectTypeId": "0-1", "name": "email", "value": email},
            {"objectTypeId": "0-2", "name": "name", "value": name},
            {"objectTypeId": "0-2", "name": "numberofemployees", "value": "40"},
            *({"objectTypeId": "0-2", "name": n, "value": v} for n, v in extra),
        ]
    }


async def test_company_fields_go_to_the_company_of_the_emails_domain(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, company_form(portal.hub_id))
    path = submit_path(portal.hub_id, form.guid)
    response = await client.post(path, json=company_body("ann@Acme.io", "Acme"))
    assert response.status_code == 200, response.text
    response = await client.post(path, json=company_body("bob@acme.io", "Acme Inc."))
    assert response.status_code == 200, response.text
    await app.runtime.processor.drain()

    assert await count(app, companies, companies.c.portal_id == portal.hub_id) == 1
    ann = await company_of(app, portal.hub_id, "ann@acme.io")
    assert ann is not None
    assert (ann["domain"], ann["name"], ann["numberofemployees"]) == ("acme.io", "Acme Inc.", "40")
    assert await company_of(app, portal.hub_id, "bob@acme.io") == ann
    assert [o["status"] for o in await outcomes(app)] == ["applied", "applied"]


async def test_a_domain_field_keys_the_company_and_mailbox_providers_key_none(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, company_form(portal.hub_id, domain_field=True))
    path = submit_path(portal.hub_id, form.guid)
    sent = company_body("ann@gmail.com", "Beta", ("domain", "https://www.Beta.example/about"))
    assert (await client.post(path, json=sent)).status_code == 200
    assert (await client.post(path, json=company_body("bob@gmail.com", "Bob's"))).status_code == 200
    await app.runtime.processor.drain()

    beta = await company_of(app, portal.hub_id, "ann@gmail.com")
    assert beta is not None
    assert (beta["domain"], beta["name"]) == ("beta.example", "Beta")
    assert await company_of(app, portal.hub_id, "bob@gmail.com") is None
    found = await app.runtime.db.read(
        lambda conn: objects.resolve(
            conn, portal.hub_id, ObjectType.COMPANY, ["gmail.com"], "domain"
        )
    )
    assert found == {}
    last = (await outcomes(app))[-1]
    assert [n["code"] for n in last["notes"]] == ["NO_COMPANY_DOMAIN"]


# --- spam -------------------------------------------------------------------------------------


async def test_a_filled_honeypot_is_429_and_creates_nothing(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    sent = body(("email", "bot@example.com"), (HONEYPOT_FIELD, "https://spam.example"))
    response = await client.post(submit_path(portal.hub_id, form.guid), json=sent)
    assert response.status_code == 429
    assert response.json()["errors"][0]["errorType"] == "SPAM"
    await app.runtime.processor.drain()
    assert await inbox_count(app) == 0
    assert await find_contact(app, portal.hub_id, "bot@example.com") is None
    # An empty honeypot is what a person sends.
    sent = body(("email", "ann@example.com"), (HONEYPOT_FIELD, ""))
    assert (await client.post(submit_path(portal.hub_id, form.guid), json=sent)).status_code == 200


async def test_one_ip_over_the_portals_limit_a_minute_gets_429_until_the_minute_rolls_on(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys, clock: list[int]
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    path = submit_path(portal.hub_id, form.guid)
    for n in range(20):  # the default: 20 a minute
        sent = body(("email", f"person{n}@example.com"))
        assert (await client.post(path, json=sent)).status_code == 200, n
        clock[0] += 1000
    response = await client.post(path, json=body(("email", "person20@example.com")))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "40"  # the first one leaves the window then
    assert response.json()["errors"][0]["errorType"] == "RATE_LIMIT"
    assert await inbox_count(app) == 20

    # Another address is not held back.
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hubtrail.test") as other:
        sent = body(("email", "elsewhere@example.com"))
        assert (await other.post(path, json=sent)).status_code == 200

    clock[0] += 40_000
    response = await client.post(path, json=body(("email", "person20@example.com")))
    assert response.status_code == 200
    await app.runtime.processor.drain()
    assert await find_contact(app, portal.hub_id, "person20@example.com") is not None
    assert await inbox_count(app) == 22


async def test_the_limit_is_the_portals_setting(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys, clock: list[int]
) -> None:
    await app.runtime.db.write(
        lambda conn: portals.update_settings(
            conn, portal.hub_id, {"form_submissions_per_minute": 2}
        )
    )
    form = await add_form(app, signup_form(portal.hub_id))
    path = submit_path(portal.hub_id, form.guid)
    statuses = [
        (await client.post(path, json=body(("email", f"p{n}@example.com")))).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    await app.runtime.processor.drain()
    assert await find_contact(app, portal.hub_id, "p2@example.com") is None


# --- browsers ---------------------------------------------------------------------------------


async def test_browsers_get_cors_on_preflights_answers_and_errors(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await add_form(app, signup_form(portal.hub_id))
    path = submit_path(portal.hub_id, form.guid)
    preflight = await client.options(
        path,
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"]

    accepted = await client.post(
        path, json=body(("email", "a@example.com")), headers={"Origin": SITE}
    )
    assert accepted.status_code == 200
    assert accepted.headers["access-control-allow-origin"] == SITE
    refused = await client.post(path, json=body(("email", "nope")), headers={"Origin": SITE})
    assert refused.status_code == 400
    assert refused.headers["access-control-allow-origin"] == SITE


async def test_a_site_the_portal_does_not_allow_is_refused(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await app.runtime.db.write(
        lambda conn: portals.update_settings(
            conn, portal.hub_id, {"allowed_site_domains": ["site.test"]}
        )
    )
    form = await add_form(app, signup_form(portal.hub_id))
    path = submit_path(portal.hub_id, form.guid)
    sent = body(("email", "a@example.com"))
    refused = await client.post(path, json=sent, headers={"Origin": "https://evil.test"})
    assert refused.status_code == 403
    assert refused.headers["access-control-allow-origin"] == "https://evil.test"
    assert (await client.post(path, json=sent, headers={"Origin": SITE})).status_code == 200


# --- the message --------------------------------------------------------------------------------


def test_messages_stored_before_forms_still_load() -> None:
    old = {
        "message_id": "t:1",
        "portal_id": 1,
        "source": "tracking_code",
        "kind": "page",
        "received_at_ms": 5,
        "occurred_at_ms": 5,
        "page": {"url": "https://site.test/"},
    }
    message = Message.from_json(orjson.dumps(old))
    assert (message.form_guid, message.company_properties) == (None, {})
    assert (message.form_submitted, message.form_context) == ([], {})
    again = Message.from_json(
        replace(message, form_guid="g", form_submitted=[["email", "a@b.c"]]).to_json()
    )
    assert (again.form_guid, again.form_submitted) == ("g", [["email", "a@b.c"]])


# --- export -------------------------------------------------------------------------------------


def test_export_submissions_of_one_form_as_json_lines(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hubtrail.cli import app as cli

    monkeypatch.setenv("HUBTRAIL_DATABASE_SCHEMA", database.schema)

    async def load() -> tuple[int, str]:
        application = create_app(make_settings(database), run_processor=False)
        async with application.lifespan():
            keys = await create_portal(application)
            form = await add_form(application, signup_form(keys.hub_id))
            await add_form(application, signup_form(keys.hub_id, name="Other"))
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for email in ("ann@example.com", "bob@example.com"):
                    sent = body(("email", email), pageUri="https://site.test/", hutk=HUTK)
                    response = await client.post(submit_path(keys.hub_id, form.guid), json=sent)
                    assert response.status_code == 200
            await application.runtime.processor.drain()
            return keys.hub_id, form.guid

    hub_id, guid = asyncio.run(load())
    runner = CliRunner()
    url = ["--database-url", database.url]
    result = runner.invoke(
        cli, ["export", "submissions", "--portal", str(hub_id), "--form", guid, *url]
    )
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r["values"] for r in records] == [
        [{"name": "email", "value": "bob@example.com"}],
        [{"name": "email", "value": "ann@example.com"}],
    ]
    assert {r["formId"] for r in records} == {guid}
    assert records[0]["pageUrl"] == "https://site.test/"
    assert records[0]["hutk"] == HUTK
    assert records[0]["contactId"] is not None
    assert records[0]["submittedAt"].endswith("Z")

    for args in (
        ["export", "submissions", "--portal", str(hub_id)],
        ["export", "contacts", "--portal", str(hub_id), "--form", guid],
        ["export", "submissions", "--portal", str(hub_id), "--form", new_guid()],
    ):
        assert runner.invoke(cli, [*args, *url]).exit_code != 0, args
