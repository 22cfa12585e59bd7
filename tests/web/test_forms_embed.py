"""The forms embed, in-process: the script under HubSpot's three names, and a form's public
definition (its shape, CORS, caching, and every way of asking for a form there is not).

What the script does in a page is tested in tests/browser/test_forms.py and tests/js; here the
script's checks are also run through Node against the server's own (`check_submission`), so the
two cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from hubtrail.app import HubtrailApp
from hubtrail.core.forms import FieldType, Form, FormField, Option, check_submission, new_guid
from hubtrail.core.properties import ObjectType
from hubtrail.process.processor import now_ms
from hubtrail.store import forms as forms_store
from hubtrail.web.forms_embed import SCRIPT_BODY, SCRIPT_PATHS
from tests.conftest import IN_CI, PortalKeys, create_portal

SCRIPT_FILE = Path(__file__).resolve().parents[2] / "src/hubtrail/web/static/forms-embed.js"
FIELD_KEYS = {
    "name",
    "label",
    "type",
    "objectType",
    "required",
    "helpText",
    "placeholder",
    "defaultValue",
    "options",
    "min",
    "max",
}


def signup_form(hub_id: int) -> Form:
    return Form(
        guid=new_guid(),
        portal_id=hub_id,
        name="Newsletter <signup>",
        fields=(
            FormField("email", "Email", FieldType.EMAIL, required=True, help_text="Work email"),
            FormField("firstname", "First name", FieldType.TEXT, placeholder="Ada"),
            FormField(
                "size",
                "Team size",
                FieldType.SELECT,
                options=(Option("Small", "small"), Option("Large", "large")),
            ),
            FormField("employees", "Employees", FieldType.NUMBER, min_value=1, max_value=500),
            FormField("name", "Company", FieldType.TEXT, object_type=ObjectType.COMPANY),
            FormField("source", "", FieldType.HIDDEN, default_value="ads"),
        ),
        submit_label="Sign up",
        thank_you_message="Thanks! We'll be in touch.",
    )


async def save(app: HubtrailApp, form: Form) -> Form:
    return await app.runtime.db.write(lambda conn: forms_store.create_form(conn, form, now_ms()))


def definition_url(hub_id: int | str, guid: str) -> str:
    return f"/forms/v2/{hub_id}/{guid}/definition"


# --- the script ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCRIPT_PATHS)
async def test_the_script_is_served_under_hubspots_names(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.content == SCRIPT_BODY
    assert "hbspt.forms = {" in response.text
    etag = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    again = await client.get(path, headers={"If-None-Match": f"W/{etag}"})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stale = await client.get(path, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200


async def test_the_forms_paths_leave_the_other_scripts_alone(
    client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    tracking = await client.get(f"/js/{portal.hub_id}.js")
    assert tracking.status_code == 200
    assert "hbspt" not in tracking.text
    assert (await client.get("/forms/v3.js")).status_code == 404
    assert (await client.get("/forms/embed/v2.js/definition")).status_code == 404


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_script_is_valid_javascript() -> None:
    done = subprocess.run(
        ["node", "--check", str(SCRIPT_FILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


# --- the definition -----------------------------------------------------------------------------


async def test_the_definition_is_public_cacheable_and_in_the_contracts_shape(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await save(app, signup_form(portal.hub_id))
    response = await client.get(
        definition_url(portal.hub_id, form.guid), headers={"Origin": "http://www.shop.test"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=60"
    body = response.json()
    assert set(body) == {
        "portalId",
        "guid",
        "name",
        "submitLabel",
        "thankYouMessage",
        "redirectUrl",
        "fields",
        "honeypot",
    }
    assert (body["portalId"], body["guid"], body["name"]) == (
        portal.hub_id,
        form.guid,
        "Newsletter <signup>",
    )
    assert (body["submitLabel"], body["thankYouMessage"], body["redirectUrl"]) == (
        "Sign up",
        "Thanks! We'll be in touch.",
        "",
    )
    assert body["honeypot"] == "hs_website_hp"
    assert all(set(field) == FIELD_KEYS for field in body["fields"])
    by_name = {field["name"]: field for field in body["fields"]}
    assert list(by_name) == ["email", "firstname", "size", "employees", "name", "source"]
    assert by_name["email"] == {
        "name": "email",
        "label": "Email",
        "type": "email",
        "objectType": "contacts",
        "required": True,
        "helpText": "Work email",
        "placeholder": "",
        "defaultValue": "",
        "options": [],
        "min": None,
        "max": None,
    }
    assert by_name["size"]["options"] == [
        {"label": "Small", "value": "small"},
        {"label": "Large", "value": "large"},
    ]
    assert (by_name["employees"]["min"], by_name["employees"]["max"]) == (1, 500)
    assert by_name["name"]["objectType"] == "companies"
    assert (by_name["source"]["type"], by_name["source"]["defaultValue"]) == ("hidden", "ads")


async def test_an_edited_form_is_served_as_edited(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await save(app, signup_form(portal.hub_id))
    edited = Form(
        guid=form.guid,
        portal_id=form.portal_id,
        name="Renamed",
        fields=form.fields[:1],
        redirect_url="https://www.shop.test/thanks",
    )
    await app.runtime.db.write(lambda conn: forms_store.update_form(conn, edited, now_ms()))
    body = (await client.get(definition_url(portal.hub_id, form.guid))).json()
    assert (body["name"], len(body["fields"]), body["redirectUrl"]) == (
        "Renamed",
        1,
        "https://www.shop.test/thanks",
    )


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert set(body) == {"status", "message"}
    assert body["status"] == "error"
    assert "hbspt.forms.create" in body["message"]


async def test_unknown_archived_and_other_portals_forms_are_404(
    app: HubtrailApp, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    form = await save(app, signup_form(portal.hub_id))
    other = await create_portal(app, "Someone else")
    for hub_id, guid in (
        (portal.hub_id, new_guid()),  # no such form
        (portal.hub_id + 1000, form.guid),  # no such portal
        (other.hub_id, form.guid),  # another portal's form
        ("abc", form.guid),
        ("-1", form.guid),
        ("9" * 40, form.guid),  # more than an int64
        (portal.hub_id, "x" * 500),
    ):
        assert_not_found(await client.get(definition_url(hub_id, guid)))

    archived = await app.runtime.db.write(
        lambda conn: forms_store.archive_form(conn, portal.hub_id, form.guid, now_ms())
    )
    assert archived
    assert_not_found(await client.get(definition_url(portal.hub_id, form.guid)))


# --- the script's checks are the server's -------------------------------------------------------

NUMBER = FormField("employees", "Employees", FieldType.NUMBER, min_value=1, max_value=500)
OPTIONS = (Option("Small", "small"), Option("Large", "large"))
CASES: list[tuple[FormField, list[str]]] = [
    (FormField("email", "Email", FieldType.EMAIL, required=True), []),
    (FormField("email", "Email", FieldType.EMAIL, required=True), ["  "]),
    (FormField("email", "Email", FieldType.EMAIL), []),
    (FormField("email", "Email", FieldType.EMAIL), ["ada@example.com"]),
    (FormField("email", "Email", FieldType.EMAIL), [" Ada@Example.com "]),
    (FormField("email", "Email", FieldType.EMAIL), ["ada"]),
    (FormField("email", "Email", FieldType.EMAIL), ["ada@example"]),
    (FormField("email", "Email", FieldType.EMAIL), ["ada@@example.com"]),
    (NUMBER, ["12"]),
    (NUMBER, ["1"]),
    (NUMBER, ["500"]),
    (NUMBER, ["0"]),
    (NUMBER, ["500.5"]),
    (NUMBER, ["-3"]),
    (NUMBER, ["twelve"]),
    (NUMBER, ["1.5e2"]),
    (FormField("start", "Start", FieldType.DATE), ["2026-02-28"]),
    (FormField("start", "Start", FieldType.DATE), ["2026-02-30"]),
    (FormField("start", "Start", FieldType.DATE), ["28/02/2026"]),
    (FormField("size", "Size", FieldType.SELECT, options=OPTIONS), ["large"]),
    (FormField("size", "Size", FieldType.SELECT, options=OPTIONS), ["Large"]),
    (FormField("size", "Size", FieldType.RADIO, options=OPTIONS), ["small"]),
    (FormField("size", "Size", FieldType.RADIO, options=OPTIONS), ["medium"]),
    (FormField("sizes", "Sizes", FieldType.CHECKBOX, options=OPTIONS), ["small", "large"]),
    (FormField("sizes", "Sizes", FieldType.CHECKBOX, options=OPTIONS), ["small", "huge"]),
    (FormField("sizes", "Sizes", FieldType.CHECKBOX, required=True, options=OPTIONS), []),
    (FormField("agree", "I agree", FieldType.CHECKBOX, required=True), []),
    (FormField("agree", "I agree", FieldType.CHECKBOX, required=True), ["true"]),
    (FormField("notes", "Notes", FieldType.TEXTAREA), ["x" * 65_536]),
    (FormField("notes", "Notes", FieldType.TEXTAREA), ["x" * 65_537]),
    (FormField("firstname", "First name", FieldType.TEXT, required=True), ["Ada"]),
]


def server_error_type(field: FormField, values: list[str]) -> str | None:
    form = Form(guid="g", portal_id=1, name="f", fields=(field,))
    checked = check_submission(form, [(field.name, value) for value in values])
    return checked.errors[0].error_type if checked.errors else None


def script_error_types(cases: list[tuple[FormField, list[str]]]) -> list[str | None]:
    """Each case through the script's `checkField`, evaluated by Node in a bare page."""
    fields = [
        {
            "name": f.name,
            "type": f.type.value,
            "required": f.required,
            "options": [{"label": o.label, "value": o.value} for o in f.options],
            "min": f.min_value,
            "max": f.max_value,
        }
        for f, _ in cases
    ]
    program = f"""
const vm = require("node:vm");
const window = {{document: {{currentScript: null, getElementsByTagName: () => []}},
  console: console, location: {{search: ""}}}};
window.window = window;
vm.createContext(window);
vm.runInContext(require("node:fs").readFileSync({json.dumps(str(SCRIPT_FILE))}, "utf8"), window);
const check = window.hbspt.forms.hubtrail.checkField;
const fields = {json.dumps(fields)};
const values = {json.dumps([values for _, values in cases])};
const found = fields.map((field, i) => check(field, values[i], false));
process.stdout.write(JSON.stringify(found.map(f => f ? f.type : null)));
"""
    done = subprocess.run(
        ["node", "-"], input=program, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    types: list[str | None] = json.loads(done.stdout)
    return types


def test_the_scripts_checks_agree_with_the_servers() -> None:
    if shutil.which("node") is None:
        if IN_CI:
            pytest.fail("node is not on PATH")
        pytest.skip("node is not installed")
    expected = [server_error_type(field, values) for field, values in CASES]
    found = script_error_types(CASES)
    disagreements = [
        (field.name, field.type.value, values[:1], server, script)
        for (field, values), server, script in zip(CASES, expected, found, strict=True)
        if server != script
    ]
    assert disagreements == []
