"""Forms in the dashboard: the list (empty, then with counts and the embed code), the builder
(create, edit, rows changed without scripts, problems beside their inputs, CSRF), archiving, the
submissions page (newest first, paged, escaped), submissions on a contact's timeline, and another
portal's forms answering 404."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.core.forms import FieldType, Form, FormField, Option, new_guid
from hubtrail.core.properties import ObjectType
from hubtrail.process.processor import now_ms
from hubtrail.store import forms, timeline
from tests.conftest import PortalKeys, create_portal
from tests.web.conftest import Dashboard, csrf_of

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"

EMAIL = {"type": "email", "property": "contacts:email", "label": "Email", "required": "on"}
SIZE = {
    "type": "select",
    "property": "contacts:numemployees",
    "label": "Company size",
    "options": "Small|1-5\nLarge|25+\nunknown",
}
SEATS = {"type": "number", "property": "companies:numberofemployees", "label": "Seats"}


def builder(name: str, *rows: dict[str, str], **rest: str) -> dict[str, str]:
    """What the builder posts: its inputs, each field row's as `f{i}_{part}`."""
    data = {"name": name, "submit_label": "Send", "after": "message"}
    data["thank_you_message"] = "Thanks!"
    for index, row in enumerate(rows):
        data.update({f"f{index}_{part}": value for part, value in row.items()})
    return data | rest


def field_rows(page: str) -> list[str]:
    """The builder's field rows (not the template for new rows), as HTML."""
    form = page.split('id="field-rows"', 1)[1].split("</ol>", 1)[0]
    return form.split("data-row>")[1:]


def created_guid(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:2000]
    found = re.search(r"created=([0-9a-f-]{36})", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


async def stored(app: HubtrailApp, hub_id: int, guid: str) -> Form | None:
    return await app.runtime.db.read(lambda conn: forms.get_form(conn, hub_id, guid))


async def live_forms(app: HubtrailApp, hub_id: int) -> list[Form]:
    found = await app.runtime.db.read(lambda conn: forms.list_forms(conn, hub_id))
    return [form for _, form in found]


async def make_form(app: HubtrailApp, hub_id: int, name: str = "Newsletter") -> Form:
    form = Form(
        guid=new_guid(),
        portal_id=hub_id,
        name=name,
        fields=(
            FormField("email", "Email", FieldType.EMAIL, required=True),
            FormField("firstname", "First name", FieldType.TEXT),
            FormField(
                "numemployees",
                "Company size",
                FieldType.SELECT,
                options=(Option("Small", "1-5"), Option("Large", "25+")),
            ),
        ),
    )
    return await app.runtime.db.write(lambda conn: forms.create_form(conn, form, now_ms()))


async def add_submissions(
    app: HubtrailApp,
    form: Form,
    contact_id: int | None,
    values: list[list[str]],
    *,
    count: int = 1,
    at_ms: int | None = None,
    page_uri: str = "https://shop.test/signup",
    page_name: str = "Sign up",
) -> None:
    start = at_ms if at_ms is not None else now_ms()

    async def run(conn: Any) -> None:
        form_id = await forms.form_id(conn, form.portal_id, form.guid)
        for n in range(count):
            row = {
                "portal_id": form.portal_id,
                "form_id": form_id,
                "message_id": new_guid(),
                "submitted_at_ms": start + n,
                "submitted": [*values, ["n", str(n)]] if count > 1 else values,
                "page_uri": page_uri,
                "page_name": page_name,
                "hutk": "a" * 32,
                "ip_address": "203.0.113.9",
                "contact_id": contact_id,
                "visitor_id": None,
            }
            await forms.add_submission(conn, row)

    await app.runtime.db.write(run)


class Crm:
    def __init__(self, app: HubtrailApp, portal: PortalKeys) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        )
        self.token = portal.access_token

    async def contact(self, **values: str) -> int:
        response = await self.client.post(
            "/crm/v3/objects/contacts",
            json={"properties": values},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


@pytest.fixture
async def crm(app: HubtrailApp, portal: PortalKeys) -> AsyncIterator[Crm]:
    client = Crm(app, portal)
    yield client
    await client.client.aclose()


async def test_the_list_is_empty_then_shows_forms_with_counts_and_embed_code(
    app: HubtrailApp, dashboard: Dashboard
) -> None:
    empty = (await dashboard.page("/forms")).text
    assert "No forms yet" in empty
    assert f'href="/app/{dashboard.hub_id}/forms/new"' in empty
    assert f'href="/app/{dashboard.hub_id}/forms" aria-current="page">Forms</a>' in empty

    guid = created_guid(await dashboard.post("/forms/new", builder("Newsletter", EMAIL, SIZE)))
    form = await stored(app, dashboard.hub_id, guid)
    assert form is not None
    await add_submissions(app, form, None, [["email", "a@example.com"]], count=3)

    page = (await dashboard.page("/forms", created=guid)).text
    assert "Form “Newsletter” created" in page
    row = page.split(f'id="form-{guid}"', 1)[1].split("</tr>", 1)[0]
    assert "Newsletter" in row
    assert '<td class="num wide-only">2</td>' in row, "two fields"
    assert "2 fields · 3 submissions" in row
    assert f'href="/app/{dashboard.hub_id}/forms/{guid}/submissions">3</a>' in row
    embed = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", row, re.S).group(1))  # type: ignore[union-attr]
    assert embed == (
        '<div id="hubtrail-form"></div>\n'
        '<script src="http://hubtrail.test/forms/embed/v2.js"></script>\n'
        f'<script>hbspt.forms.create({{ portalId: "{dashboard.hub_id}", formId: "{guid}", '
        'target: "#hubtrail-form" });</script>'
    )
    assert '<script src="http://hubtrail.test/forms' not in page  # shown as text, never run


async def test_the_builder_creates_a_form(app: HubtrailApp, dashboard: Dashboard) -> None:
    page = (await dashboard.page("/forms/new")).text
    assert '<script src="/forms/embed/v2.js" defer></script>' in page
    assert 'id="form-preview"' in page
    rows = field_rows(page)
    assert 'value="contacts:email" data-label="Email" data-type="email"' in rows[0]
    assert (
        'value="contacts:email" data-label="Email" data-type="email" data-options="" selected'
        in rows[0]
    )
    assert len(rows) == 3, "the email field and two empty rows to add fields without scripts"
    assert "companies:numberofemployees" in page
    assert "contacts:hs_analytics_num_page_views" not in page  # read-only: no form writes it

    data = builder(
        "Demo request",
        EMAIL,
        {**SIZE, "help": "Roughly", "required": "on"},
        {**SEATS, "min": "1", "max": "500", "placeholder": "10"},
        {"type": "text", "property": "", "label": ""},  # an empty row: ignored
        {"type": "hidden", "property": "contacts:hs_persona", "default": "persona_1"},
        {"type": "radio", "property": "contacts:lifecyclestage", "label": "Stage"},
        after="redirect",
        redirect_url="https://shop.test/thanks",
    )
    guid = created_guid(await dashboard.post("/forms/new", data))
    form = await stored(app, dashboard.hub_id, guid)
    assert form is not None
    assert form.name == "Demo request"
    assert form.submit_label == "Send"
    assert form.redirect_url == "https://shop.test/thanks"
    assert [(f.name, f.type, f.object_type) for f in form.fields] == [
        ("email", FieldType.EMAIL, ObjectType.CONTACT),
        ("numemployees", FieldType.SELECT, ObjectType.CONTACT),
        ("numberofemployees", FieldType.NUMBER, ObjectType.COMPANY),
        ("hs_persona", FieldType.HIDDEN, ObjectType.CONTACT),
        ("lifecyclestage", FieldType.RADIO, ObjectType.CONTACT),
    ]
    email, size, seats, persona, stage = form.fields
    assert email.required
    assert size.required
    assert size.help_text == "Roughly"
    assert size.options == (
        Option("Small", "1-5"),
        Option("Large", "25+"),
        Option("unknown", "unknown"),
    )
    assert (seats.min_value, seats.max_value, seats.placeholder) == (1, 500, "10")
    assert persona.default_value == "persona_1"
    assert persona.label == ""
    # options left empty: the property's own
    assert Option("Lead", "lead") in stage.options
    assert len(stage.options) > 5


async def test_problems_are_shown_beside_their_inputs_and_nothing_is_saved(
    app: HubtrailApp, dashboard: Dashboard
) -> None:
    data = builder(
        "",
        {"type": "text", "property": "contacts:firstname", "label": ""},
        {"type": "select", "property": "contacts:jobtitle", "label": "Role", "options": ""},
        {**SEATS, "min": "10", "max": "2"},
        {"type": "text", "property": "contacts:nosuchthing", "label": "Ghost"},
        after="redirect",
        redirect_url="",
    )
    response = await dashboard.post("/forms/new", data)
    assert response.status_code == 400
    page = response.text
    assert "Nothing was saved" in page
    assert "A form needs an email field" in page
    name = page.split('name="name"', 1)[1].split("</label>", 1)[0]
    assert 'aria-invalid="true"' in name
    assert "A form needs a name" in name
    rows = field_rows(page)
    assert "A visible field needs a label" in rows[0]
    assert "A select field needs options" in rows[1]
    assert "The minimum is above the maximum" in rows[2]
    assert "There is no contact property &#39;nosuchthing&#39;" in rows[3]
    redirect = page.split('name="redirect_url"', 1)[1].split("</label>", 1)[0]
    assert "Enter the page to send people to" in redirect
    # what was typed is kept
    assert 'value="Role"' in rows[1]
    assert 'value="10"' in rows[2]
    assert await live_forms(app, dashboard.hub_id) == []


async def test_posts_without_the_csrf_token_are_refused(
    app: HubtrailApp, dashboard: Dashboard
) -> None:
    form = await make_form(app, dashboard.hub_id)
    client = dashboard.client
    refused = await client.post(dashboard.url("/forms/new"), data=builder("X", EMAIL))
    assert refused.status_code == 403
    changed = builder("Renamed", EMAIL, csrf_token="wrong")
    assert (
        await client.post(dashboard.url(f"/forms/{form.guid}"), data=changed)
    ).status_code == 403
    archive = await client.post(dashboard.url(f"/forms/{form.guid}/archive"))
    assert archive.status_code == 403
    assert [f.name for f in await live_forms(app, dashboard.hub_id)] == ["Newsletter"]


async def test_row_buttons_add_move_and_remove_fields_without_saving(
    app: HubtrailApp, dashboard: Dashboard
) -> None:
    rows = (EMAIL, SIZE, SEATS)

    async def chosen(data: dict[str, str]) -> list[str]:
        """The property chosen in each row of the builder the server answers with."""
        response = await dashboard.post("/forms/new", data)
        assert response.status_code == 200
        assert 'value="Draft"' in response.text
        found = []
        for row in field_rows(response.text):
            select = row.split("_property", 1)[1].split("</select>", 1)[0]
            option = re.search(r'<option value="([^"]*)"[^>]* selected', select)
            found.append(option.group(1) if option else "")
        return found

    email, size, seats = (row["property"] for row in rows)
    assert (await chosen(builder("Draft", *rows, op="up:1")))[:3] == [size, email, seats]
    assert (await chosen(builder("Draft", *rows, op="down:0")))[:3] == [size, email, seats]
    assert (await chosen(builder("Draft", *rows, op="remove:1")))[:2] == [email, seats]
    assert await chosen(builder("Draft", EMAIL, op="add")) == [email, ""]
    assert await live_forms(app, dashboard.hub_id) == []


async def test_editing_a_form(app: HubtrailApp, dashboard: Dashboard) -> None:
    form = await make_form(app, dashboard.hub_id)
    page = (await dashboard.page(f"/forms/{form.guid}")).text
    assert 'value="Newsletter"' in page
    rows = field_rows(page)
    assert 'value="contacts:firstname"' in rows[1]
    assert "Small|1-5\nLarge|25+</textarea>" in rows[2]
    assert f"formId: &#34;{form.guid}&#34;" in page  # the embed code
    assert f'action="/app/{dashboard.hub_id}/forms/{form.guid}/archive"' in page

    data = builder("Newsletter (2026)", EMAIL, {**SIZE, "label": "Team size"})
    response = await dashboard.post(f"/forms/{form.guid}", data)
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/{dashboard.hub_id}/forms/{form.guid}?done=saved"
    saved = await stored(app, dashboard.hub_id, form.guid)
    assert saved is not None
    assert saved.name == "Newsletter (2026)"
    assert [f.label for f in saved.fields] == ["Email", "Team size"]
    assert saved.thank_you_message == "Thanks!"
    assert saved.redirect_url == ""
    again = (await dashboard.page(f"/forms/{form.guid}", done="saved")).text
    assert "Form saved" in again

    invalid = await dashboard.post(f"/forms/{form.guid}", builder("Broken", SIZE))
    assert invalid.status_code == 400
    unchanged = await stored(app, dashboard.hub_id, form.guid)
    assert unchanged is not None
    assert unchanged.name == "Newsletter (2026)"


async def test_archiving_a_form(app: HubtrailApp, dashboard: Dashboard) -> None:
    form = await make_form(app, dashboard.hub_id, name="Old offer")
    keep = await make_form(app, dashboard.hub_id, name="Current offer")
    token = csrf_of((await dashboard.page("/forms")).text)
    response = await dashboard.client.post(
        dashboard.url(f"/forms/{form.guid}/archive"), data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/{dashboard.hub_id}/forms?done=archived"
    assert [f.guid for f in await live_forms(app, dashboard.hub_id)] == [keep.guid]
    listing = (await dashboard.page("/forms", done="archived")).text
    assert "Form archived" in listing
    assert "Old offer" not in listing
    archived = (await dashboard.page("/forms", archived="1")).text
    assert "Old offer" in archived
    assert "Current offer" not in archived
    assert (await dashboard.client.get(dashboard.url(f"/forms/{form.guid}"))).status_code == 404
    again = await dashboard.client.post(
        dashboard.url(f"/forms/{form.guid}/archive"), data={"csrf_token": token}
    )
    assert again.status_code == 404
    kept = (await dashboard.page(f"/forms/{form.guid}/submissions")).text
    assert "archived" in kept


async def test_submissions_are_listed_newest_first_paged_and_escaped(
    app: HubtrailApp, dashboard: Dashboard, crm: Crm
) -> None:
    form = await make_form(app, dashboard.hub_id)
    empty = (await dashboard.page(f"/forms/{form.guid}/submissions")).text
    assert "No submissions yet" in empty
    assert f"hubtrail export submissions --form {form.guid}" in empty

    contact = await crm.contact(email="pat@example.com")
    start = now_ms() - 3_600_000
    await add_submissions(
        app,
        form,
        contact,
        [["email", "pat@example.com"], ["firstname", "Pat"]],
        count=51,
        at_ms=start,
    )
    await add_submissions(
        app,
        form,
        contact,
        [["email", "pat@example.com"], ["firstname", XSS], ["utm_x", "y" * 500]],
        at_ms=start + 1000,
        page_uri="javascript:alert(2)",
        page_name=XSS,
    )
    page = (await dashboard.page(f"/forms/{form.guid}/submissions")).text
    assert "52 submissions" in page
    ids = [int(n) for n in re.findall(r'<tr id="submission-(\d+)"', page)]
    assert len(ids) == 50
    assert ids == sorted(ids, reverse=True)
    first = page.split(f'id="submission-{ids[0]}"', 1)[1].split("</tr>", 1)[0]
    assert ESCAPED in first
    assert "<img src=x" not in page
    assert 'href="javascript:' not in page
    assert "javascript:alert(2)" in first  # shown as text
    assert "y" * 199 + "…" in first  # shortened on screen
    assert "y" * 200 not in first
    assert "First name" in first  # under the field's label
    assert f'<a href="/app/{dashboard.hub_id}/contacts/{contact}">pat@example.com</a>' in first
    second = page.split(f'id="submission-{ids[1]}"', 1)[1].split("</tr>", 1)[0]
    assert 'href="https://shop.test/signup"' in second
    assert "Sign up" in second
    older = re.search(r'href="([^"]+\?before=(\d+))"', page)
    assert older
    assert int(older.group(2)) == ids[-1]
    rest = (await dashboard.client.get(html.unescape(older.group(1)))).text
    older_ids = [int(n) for n in re.findall(r'<tr id="submission-(\d+)"', rest)]
    assert len(older_ids) == 2
    assert older_ids == sorted(older_ids, reverse=True)
    assert older_ids[0] < ids[-1]
    assert "Older submissions" not in rest


async def test_a_contacts_timeline_shows_its_form_submissions(
    app: HubtrailApp, dashboard: Dashboard, crm: Crm
) -> None:
    form = await make_form(app, dashboard.hub_id, name="Demo request")
    contact = await crm.contact(email="lee@example.com")
    await add_submissions(
        app,
        form,
        contact,
        [["email", "lee@example.com"], ["firstname", XSS], ["hs_website_hp", ""]],
        at_ms=now_ms() + 60_000,  # after the contact's creation: first on the timeline
        page_uri="https://shop.test/demo",
        page_name="Book a demo",
    )
    page = (await dashboard.page(f"/contacts/{contact}")).text
    activity = page[page.index('id="timeline"') : page.index('id="properties"')]
    entries = activity.split("<li class=")[1:]
    assert entries[0].startswith('"kind-form_submission"')
    assert "Form submitted:" in entries[0]
    assert "Demo request" in entries[0]
    assert f'href="/app/{dashboard.hub_id}/forms/{form.guid}/submissions' in entries[0]
    assert "lee@example.com" in entries[0]
    assert "<dt>First name</dt>" in entries[0]  # the label the field had on the form
    assert ESCAPED in entries[0]
    assert "<img src=x" not in page
    assert "hs_website_hp" not in entries[0]
    assert "Book a demo" in entries[0]
    assert 'href="https://shop.test/demo"' in entries[0]


async def test_the_timeline_pages_through_submissions_by_cursor(
    app: HubtrailApp, portal: PortalKeys, crm: Crm
) -> None:
    form = await make_form(app, portal.hub_id)
    contact = await crm.contact(email="many@example.com")
    at = now_ms() + 60_000
    await add_submissions(app, form, contact, [["email", "many@example.com"]], count=5, at_ms=at)
    await add_submissions(app, form, contact, [["email", "many@example.com"]], count=2, at_ms=at)
    scope = timeline.Scope(portal.hub_id, ObjectType.CONTACT, (contact,))
    seen: list[int] = []
    before = None
    for _ in range(20):
        found = await app.runtime.db.read(
            lambda conn, cursor=before: timeline.page(
                conn, scope, timeline.CONTACT_SOURCES, cursor, 2
            )
        )
        seen += [i.row_id for i in found.items if i.kind is timeline.Kind.FORM_SUBMISSION]
        before = found.older
        if before is None:
            break
    assert len(seen) == 7
    assert len(set(seen)) == 7


async def test_another_portals_forms_are_404(app: HubtrailApp, dashboard: Dashboard) -> None:
    other = await create_portal(app, "Other", hub_id=dashboard.hub_id + 1)
    theirs = await make_form(app, other.hub_id, name="Their secret form")
    token = csrf_of((await dashboard.page("/forms")).text)
    client = dashboard.client
    for suffix in (f"/forms/{theirs.guid}", f"/forms/{theirs.guid}/submissions", "/forms/nope"):
        response = await client.get(dashboard.url(suffix))
        assert response.status_code == 404, suffix
        assert "Their secret form" not in response.text
    edit = builder("Mine now", EMAIL, csrf_token=token)
    assert (await client.post(dashboard.url(f"/forms/{theirs.guid}"), data=edit)).status_code == 404
    archive = await client.post(
        dashboard.url(f"/forms/{theirs.guid}/archive"), data={"csrf_token": token}
    )
    assert archive.status_code == 404
    assert (await client.get(f"/app/{other.hub_id}/forms")).status_code == 404
    assert "Their secret form" not in (await dashboard.page("/forms")).text
    still = await stored(app, other.hub_id, theirs.guid)
    assert still is not None
    assert still.name == "Their secret form"
    assert not still.archived


async def test_a_submission_through_the_api_reaches_the_list_the_page_and_the_timeline(
    app: HubtrailApp, dashboard: Dashboard
) -> None:
    form = await make_form(app, dashboard.hub_id, name="Webinar")
    body = {
        "fields": [
            {"objectTypeId": "0-1", "name": "email", "value": "sam@example.com"},
            {"objectTypeId": "0-1", "name": "firstname", "value": XSS},
        ],
        "context": {"pageUri": "https://shop.test/webinar", "pageName": "Webinar"},
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://site.test") as client:
        response = await client.post(
            f"/submissions/v3/integration/submit/{dashboard.hub_id}/{form.guid}", json=body
        )
    assert response.status_code == 200, response.text
    await app.runtime.processor.drain()

    listing = (await dashboard.page("/forms")).text
    assert f'href="/app/{dashboard.hub_id}/forms/{form.guid}/submissions">1</a>' in listing
    page = (await dashboard.page(f"/forms/{form.guid}/submissions")).text
    assert ESCAPED in page
    assert "<img src=x" not in page
    contact = re.search(rf'href="/app/{dashboard.hub_id}/contacts/(\d+)">sam@example.com</a>', page)
    assert contact, "the submission's contact is linked"
    timeline_page = (await dashboard.page(f"/contacts/{contact.group(1)}")).text
    assert "Form submitted:" in timeline_page
    assert "Webinar" in timeline_page
    assert ESCAPED in timeline_page
    assert "<img src=x" not in timeline_page
