"""`/marketing/v3/forms`: HubSpot's v3 form definitions over hubtrail's forms, with the
definition's problems as HubSpot's 400, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import httpx

from hubtrail.app import HubtrailApp
from hubtrail.core.forms import FieldType
from hubtrail.core.properties import ObjectType
from hubtrail.store import forms as form_store
from tests.conftest import PortalKeys, create_portal

FORMS = "/marketing/v3/forms"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def field(name: str, field_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "objectTypeId": "0-1",
        "name": name,
        "label": name.title(),
        "required": False,
        "hidden": False,
        "fieldType": field_type,
        **extra,
    }


def email_field() -> dict[str, Any]:
    return field(
        "email",
        "email",
        label="Work email",
        required=True,
        validation={"blockedEmailDomains": [], "useDefaultBlockList": False},
    )


def definition(name: str = "Contact us", *fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A create body as HubSpot's docs and client libraries send it."""
    return {
        "formType": "hubspot",
        "name": name,
        "createdAt": "2024-01-01T00:00:00Z",
        "archived": False,
        "fieldGroups": [
            {
                "groupType": "default_group",
                "richTextType": "text",
                "fields": [email_field(), field("firstname", "single_line_text")],
            },
            *(
                {"groupType": "default_group", "richTextType": "text", "fields": [f]}
                for f in fields
            ),
        ],
        "configuration": {
            "language": "en",
            "cloneable": True,
            "postSubmitAction": {"type": "thank_you", "value": "Thanks!"},
            "editable": True,
            "archivable": True,
            "recaptchaEnabled": False,
            "notifyContactOwner": False,
            "notifyRecipients": [],
            "createNewContactForNewEmail": False,
            "prePopulateKnownValues": True,
            "allowLinkToResetKnownValues": False,
            "lifecycleStages": [],
        },
        "displayOptions": {
            "renderRawHtml": False,
            "theme": "default_style",
            "submitButtonText": "Send",
            "style": {},
            "cssClass": "",
        },
        "legalConsentOptions": {"type": "none"},
        **extra,
    }


async def create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(FORMS, json=body)
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


async def test_create_answers_hubspots_definition_and_stores_the_form(
    app: HubtrailApp, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    options = [
        {"label": "Retail", "value": "retail", "displayOrder": 0},
        {"label": "Mining", "value": "mining", "displayOrder": 1},
    ]
    created = await create(
        api,
        definition(
            "Contact us",
            field("industry", "dropdown", options=options, description="Pick one"),
            field(
                "annualrevenue",
                "number",
                validation={"minAllowedDigits": 0, "maxAllowedDigits": 99},
            ),
            field("message", "multi_line_text", placeholder="Say hello", required=True),
            field("hs_lead_status", "radio", options=options),
            field("zip", "datepicker"),
            field("country", "multiple_checkboxes", options=options),
            field("hs_persona", "single_checkbox"),
            field("utm_campaign", "single_line_text", hidden=True, defaultValue="spring"),
            {**field("name", "single_line_text"), "objectTypeId": "0-2", "label": "Company"},
        ),
    )
    assert GUID.fullmatch(created["id"])
    assert ISO.fullmatch(created["createdAt"])
    assert ISO.fullmatch(created["updatedAt"])
    assert (created["name"], created["formType"], created["archived"]) == (
        "Contact us",
        "hubspot",
        False,
    )
    assert created["configuration"]["postSubmitAction"] == {"type": "thank_you", "value": "Thanks!"}
    assert created["displayOptions"]["submitButtonText"] == "Send"
    assert created["legalConsentOptions"] == {"type": "none"}
    fields = [f for group in created["fieldGroups"] for f in group["fields"]]
    assert all(len(group["fields"]) == 1 for group in created["fieldGroups"])
    assert [(f["name"], f["fieldType"], f["hidden"]) for f in fields] == [
        ("email", "email", False),
        ("firstname", "single_line_text", False),
        ("industry", "dropdown", False),
        ("annualrevenue", "number", False),
        ("message", "multi_line_text", False),
        ("hs_lead_status", "radio", False),
        ("zip", "datepicker", False),
        ("country", "multiple_checkboxes", False),
        ("hs_persona", "single_checkbox", False),
        ("utm_campaign", "single_line_text", True),
        ("name", "single_line_text", False),
    ]
    by_name = {f["name"]: f for f in fields}
    assert by_name["email"]["label"] == "Work email"
    assert by_name["email"]["required"] is True
    assert by_name["email"]["validation"] == {
        "blockedEmailDomains": [],
        "useDefaultBlockList": False,
    }
    assert by_name["industry"]["options"] == [
        {"label": "Retail", "value": "retail", "displayOrder": 0, "description": ""},
        {"label": "Mining", "value": "mining", "displayOrder": 1, "description": ""},
    ]
    assert by_name["industry"]["description"] == "Pick one"
    assert by_name["annualrevenue"]["validation"] == {"minAllowedDigits": 0, "maxAllowedDigits": 99}
    assert by_name["message"]["placeholder"] == "Say hello"
    assert by_name["utm_campaign"]["defaultValue"] == "spring"
    assert by_name["name"]["objectTypeId"] == "0-2"

    form = await app.runtime.db.read(
        lambda conn: form_store.get_form(conn, portal.hub_id, created["id"])
    )
    assert form is not None
    assert (form.submit_label, form.thank_you_message, form.redirect_url) == ("Send", "Thanks!", "")
    kinds = {f.name: f.type for f in form.fields}
    assert kinds["hs_persona"] is FieldType.CHECKBOX
    assert kinds["utm_campaign"] is FieldType.HIDDEN
    assert kinds["zip"] is FieldType.DATE
    revenue = form.field("annualrevenue")
    assert revenue is not None
    assert (revenue.min_value, revenue.max_value) == (0, 99)
    company = form.field("name")
    assert company is not None
    assert company.object_type is ObjectType.COMPANY

    again = await api.get(f"{FORMS}/{created['id']}")
    assert again.status_code == 200
    assert again.json() == created


async def test_a_created_form_takes_submissions(
    app: HubtrailApp, api: httpx.AsyncClient, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    created = await create(
        api,
        definition(
            configuration={
                "postSubmitAction": {"type": "redirect_url", "value": "https://s.test/ok"}
            }
        ),
    )
    path = f"/submissions/v3/integration/submit/{portal.hub_id}/{created['id']}"
    sent = {"fields": [{"objectTypeId": "0-1", "name": "email", "value": "a@example.com"}]}
    response = await client.post(path, json=sent)
    assert response.status_code == 200, response.text
    assert response.json()["redirectUri"] == "https://s.test/ok"


async def test_list_pages_through_live_forms_and_archived_ones_apart(
    api: httpx.AsyncClient,
) -> None:
    ids = [(await create(api, definition(f"Form {n}")))["id"] for n in range(3)]
    first = await api.get(FORMS, params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert [f["id"] for f in page["results"]] == ids[:2]
    after = page["paging"]["next"]["after"]
    assert f"after={after}" in page["paging"]["next"]["link"]
    second = (await api.get(FORMS, params={"limit": 2, "after": after})).json()
    assert [f["id"] for f in second["results"]] == ids[2:]
    assert "paging" not in second

    assert (await api.delete(f"{FORMS}/{ids[1]}")).status_code == 204
    live = (await api.get(FORMS + "/")).json()
    assert [f["id"] for f in live["results"]] == [ids[0], ids[2]]
    archived = (await api.get(FORMS, params={"archived": "true"})).json()
    assert [(f["id"], f["archived"]) for f in archived["results"]] == [(ids[1], True)]
    assert (await api.get(FORMS, params={"formTypes": "captured"})).json() == {"results": []}
    assert len((await api.get(FORMS, params={"formTypes": "hubspot"})).json()["results"]) == 2


async def test_patch_changes_what_it_gives_and_put_replaces_the_whole(
    api: httpx.AsyncClient,
) -> None:
    created = await create(api, definition())
    url = f"{FORMS}/{created['id']}"
    patched = await api.patch(
        url,
        json={
            "name": "Talk to sales",
            "displayOptions": {"submitButtonText": "Go"},
            "configuration": {"postSubmitAction": {"type": "redirect_url", "value": "/thanks"}},
        },
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["name"] == "Talk to sales"
    assert body["displayOptions"]["submitButtonText"] == "Go"
    assert body["configuration"]["postSubmitAction"] == {"type": "redirect_url", "value": "/thanks"}
    assert body["fieldGroups"] == created["fieldGroups"]
    assert body["createdAt"] == created["createdAt"]

    nulls = dict.fromkeys(("description", "placeholder", "defaultValue", "options", "validation"))
    only_email = {"fieldGroups": [{"fields": [{**email_field(), **nulls}]}]}
    body = (await api.patch(url, json=only_email)).json()
    assert [g["fields"][0]["name"] for g in body["fieldGroups"]] == ["email"]
    assert body["fieldGroups"][0]["fields"][0]["description"] == ""
    assert body["name"] == "Talk to sales"

    # The top-level postSubmitAction is read too.
    body = (
        await api.patch(url, json={"postSubmitAction": {"type": "thank_you", "value": "Ta"}})
    ).json()
    assert body["configuration"]["postSubmitAction"] == {"type": "thank_you", "value": "Ta"}

    replaced = await api.put(
        url, json={"name": "Bare", "fieldGroups": [{"fields": [email_field()]}]}
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["displayOptions"]["submitButtonText"] == "Submit"
    assert body["configuration"]["postSubmitAction"] == {
        "type": "thank_you",
        "value": "Thanks for submitting the form.",
    }


async def test_archive_hides_the_form_and_ends_its_changes(api: httpx.AsyncClient) -> None:
    created = await create(api, definition())
    url = f"{FORMS}/{created['id']}"
    assert (await api.delete(url)).status_code == 204
    missing = await api.get(url)
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    archived = await api.get(url, params={"archived": "true"})
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert (await api.delete(url)).status_code == 404
    assert (await api.patch(url, json={"name": "Again"})).status_code == 404


def places(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    document = response.json()
    assert document["category"] == "VALIDATION_ERROR"
    return [error["in"] for error in document["errors"]]


async def test_definition_problems_are_a_400_naming_where_each_is(api: httpx.AsyncClient) -> None:
    no_email = definition()
    no_email["fieldGroups"][0]["fields"] = [field("firstname", "single_line_text")]
    assert places(await api.post(FORMS, json=no_email)) == ["fieldGroups"]

    problems = definition(
        "Contact us",
        field("firstname", "single_line_text"),  # the first group has it already
        field("industry", "dropdown"),  # no options
        field("annualrevenue", "number", validation={"minAllowedDigits": 9, "maxAllowedDigits": 1}),
        field("Bad Name", "single_line_text"),
        field("jobtitle", "single_line_text", label=" "),
    )
    problems["configuration"]["postSubmitAction"] = {"type": "redirect_url", "value": "ftp://x"}
    assert places(await api.post(FORMS, json=problems)) == [
        "fieldGroups[1].fields[0].name",
        "fieldGroups[2].fields[0].options",
        "fieldGroups[3].fields[0].validation",
        "fieldGroups[4].fields[0].name",
        "fieldGroups[5].fields[0].label",
        "configuration.postSubmitAction.value",
    ]

    unsupported = definition(
        "Contact us",
        field("resume", "file"),
        {**field("name", "single_line_text"), "objectTypeId": "0-3"},
        field("annualrevenue", "number", validation={"minAllowedDigits": "one"}),
    )
    assert places(await api.post(FORMS, json=unsupported)) == [
        "fieldGroups[1].fields[0].fieldType",
        "fieldGroups[2].fields[0].objectTypeId",
        "fieldGroups[3].fields[0].validation",
    ]

    assert places(await api.post(FORMS, json={"name": "", "fieldGroups": []})) == [
        "name",
        "fieldGroups",
        "fieldGroups",
    ]
    assert places(await api.post(FORMS, json={"fieldGroups": []})) == ["name"]
    assert places(await api.post(FORMS, json=definition("x" * 201))) == ["name"]
    assert (await api.get(FORMS)).json() == {"results": []}

    created = await create(api, definition())
    bad_patch = {"fieldGroups": [{"fields": [field("firstname", "single_line_text")]}]}
    assert places(await api.patch(f"{FORMS}/{created['id']}", json=bad_patch)) == ["fieldGroups"]


async def test_the_forms_api_needs_the_portals_token(
    app: HubtrailApp, api: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    created = await create(api, definition())
    assert (await client.get(FORMS)).status_code == 401
    assert (await client.post(FORMS, json=definition())).status_code == 401
    other = await create_portal(app, "Other")
    headers = {"Authorization": f"Bearer {other.access_token}"}
    url = f"{FORMS}/{created['id']}"
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404
    assert (await client.get(FORMS, headers=headers)).json() == {"results": []}
    assert (await api.get(url)).status_code == 200
