"""The Properties API v3 (definitions and groups) in-process, on SQLite and PostgreSQL."""

import re
from typing import Any

import httpx
import pytest

from hubtrail.app import HubtrailApp
from tests.conftest import PortalKeys, create_portal
from tests.ingest.helpers import contact_values, outcomes

BASE = "/crm/v3/properties"
ISO_MS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def color(**overrides: Any) -> dict[str, Any]:
    """A valid enumeration property, changed by `overrides`."""
    return {
        "name": "favorite_color",
        "label": "Favorite color",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "contactinformation",
        "options": [
            {"label": "Blue", "value": "blue", "hidden": False},
            {"label": "Green", "value": "green", "hidden": False, "displayOrder": 5},
        ],
        **overrides,
    }


def text(name: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": name.title(),
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
        **overrides,
    }


def other_client(app: HubtrailApp, keys: PortalKeys) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://hubtrail.test",
        headers={"Authorization": f"Bearer {keys.access_token}"},
    )


def assert_error(response: httpx.Response, status: int, where: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["correlationId"] == response.headers["x-hubspot-correlation-id"]
    if where is not None:
        assert where in [e.get("in") for e in body["errors"]], body
    return body


# --- authentication and object types ---------------------------------------------------------


async def test_every_endpoint_needs_a_token(client: httpx.AsyncClient) -> None:
    calls = [
        ("GET", f"{BASE}/contacts"),
        ("POST", f"{BASE}/contacts"),
        ("GET", f"{BASE}/contacts/email"),
        ("PATCH", f"{BASE}/contacts/email"),
        ("DELETE", f"{BASE}/contacts/email"),
        ("POST", f"{BASE}/contacts/batch/read"),
        ("POST", f"{BASE}/contacts/batch/create"),
        ("POST", f"{BASE}/contacts/batch/archive"),
        ("GET", f"{BASE}/contacts/groups"),
        ("POST", f"{BASE}/contacts/groups"),
        ("GET", f"{BASE}/contacts/groups/contactinformation"),
        ("PATCH", f"{BASE}/contacts/groups/contactinformation"),
        ("DELETE", f"{BASE}/contacts/groups/contactinformation"),
    ]
    for method, path in calls:
        response = await client.request(method, path, json={"inputs": []})
        assert response.status_code == 401, (method, path)
        assert response.json()["category"] == "INVALID_AUTHENTICATION"


async def test_unknown_object_type_is_hubspots_400(api: httpx.AsyncClient) -> None:
    for path in (f"{BASE}/deals", f"{BASE}/widgets/email", f"{BASE}/widgets/groups"):
        body = assert_error(await api.get(path), 400)
        assert body["message"].startswith("Unable to infer object type from: ")


# --- reading ----------------------------------------------------------------------------------


async def test_lists_default_contact_properties_in_hubspots_shape(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{BASE}/contacts")
    assert response.status_code == 200
    by_name = {p["name"]: p for p in response.json()["results"]}
    email = by_name["email"]
    assert {k: email[k] for k in ("label", "type", "fieldType", "groupName", "options")} == {
        "label": "Email",
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
        "options": [],
    }
    assert email["hubspotDefined"] is True
    assert email["archived"] is False
    assert email["calculated"] is False
    assert email["externalOptions"] is False
    assert email["description"] == ""
    assert email["modificationMetadata"] == {
        "archivable": False,
        "readOnlyDefinition": False,
        "readOnlyValue": False,
    }
    assert by_name["createdate"]["modificationMetadata"]["readOnlyValue"] is True
    assert by_name["createdate"]["modificationMetadata"]["readOnlyDefinition"] is True
    stage = by_name["lifecyclestage"]
    assert stage["options"][0] == {
        "label": "Subscriber",
        "value": "subscriber",
        "hidden": False,
        "displayOrder": 0,
    }
    assert re.match(ISO_MS, email["createdAt"])
    assert re.match(ISO_MS, email["updatedAt"])
    by_id = (await api.get(f"{BASE}/0-1")).json()["results"]
    assert [p["name"] for p in by_id] == list(by_name)


async def test_companies_by_name_and_by_type_id(api: httpx.AsyncClient) -> None:
    names = [p["name"] for p in (await api.get(f"{BASE}/companies")).json()["results"]]
    assert "domain" in names
    assert "email" not in names
    domain = (await api.get(f"{BASE}/0-2/domain")).json()
    assert domain["groupName"] == "companyinformation"


async def test_properties_filter_takes_commas_and_repeats(api: httpx.AsyncClient) -> None:
    one = await api.get(f"{BASE}/contacts", params={"properties": "email,firstname"})
    assert sorted(p["name"] for p in one.json()["results"]) == ["email", "firstname"]
    two = await api.get(f"{BASE}/contacts", params=[("properties", "email"), ("properties", "zip")])
    assert sorted(p["name"] for p in two.json()["results"]) == ["email", "zip"]


async def test_read_one_and_404_for_unknown(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"{BASE}/contacts/firstname")).json()["label"] == "First Name"
    body = assert_error(await api.get(f"{BASE}/contacts/no_such_thing"), 404)
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"propertyName": ["no_such_thing"]}


# --- create -----------------------------------------------------------------------------------


async def test_create_returns_201_the_property_and_its_location(api: httpx.AsyncClient) -> None:
    response = await api.post(f"{BASE}/contacts", json=color(description="Asked at signup"))
    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith(f"{BASE}/contacts/favorite_color")
    created = response.json()
    assert created["name"] == "favorite_color"
    assert created["description"] == "Asked at signup"
    assert created["hubspotDefined"] is False
    assert created["hasUniqueValue"] is False
    assert created["displayOrder"] == -1
    assert created["formField"] is False
    assert created["modificationMetadata"] == {
        "archivable": True,
        "readOnlyDefinition": False,
        "readOnlyValue": False,
    }
    assert [(o["value"], o["displayOrder"]) for o in created["options"]] == [
        ("blue", 0),
        ("green", 5),
    ]
    assert created["createdAt"] == created["updatedAt"]
    assert (await api.get(response.headers["location"])).json() == created


async def test_bool_checkbox_gets_true_and_false_options(api: httpx.AsyncClient) -> None:
    body = text("newsletter", type="bool", fieldType="booleancheckbox")
    created = (await api.post(f"{BASE}/contacts", json=body)).json()
    assert [(o["label"], o["value"]) for o in created["options"]] == [
        ("Yes", "true"),
        ("No", "false"),
    ]


async def test_a_99_character_name_is_accepted(api: httpx.AsyncClient) -> None:
    response = await api.post(f"{BASE}/contacts", json=text("a" * 99))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"name": "FavoriteColor"}, "name"),
        ({"name": "1color"}, "name"),
        ({"name": "favorite.color"}, "name"),
        ({"name": "favorite color"}, "name"),
        ({"name": "a" * 100}, "name"),
        ({"name": "hs_color"}, "name"),
        ({"name": ""}, "name"),
        ({"label": ""}, "label"),
        ({"label": "x" * 201}, "label"),
        ({"type": "phone_number"}, "type"),
        ({"type": "text"}, "type"),
        ({"fieldType": "text"}, "fieldType"),
        ({"fieldType": "calculation_equation"}, "fieldType"),
        ({"options": []}, "options"),
        (
            {"options": [{"label": "A", "value": "a"}, {"label": "B", "value": "A"}]},
            "options[1].value",
        ),
        ({"options": [{"label": "", "value": "a"}]}, "options[0].label"),
        ({"options": [{"label": "A;B", "value": "a;b"}]}, "options[0].value"),
        ({"type": "string", "fieldType": "text"}, "options"),
        ({"type": "bool", "fieldType": "booleancheckbox"}, "options"),
        ({"type": "number", "fieldType": "number", "options": []}, None),
        ({"groupName": "no_such_group"}, "groupName"),
    ],
)
async def test_create_validation_names_the_field(
    api: httpx.AsyncClient, overrides: dict[str, Any], where: str | None
) -> None:
    response = await api.post(f"{BASE}/contacts", json=color(**overrides))
    if where is None:
        assert response.status_code == 201, response.text
        return
    body = assert_error(response, 400, where)
    assert body["category"] == "VALIDATION_ERROR"
    assert where in body["message"]
    assert all("propertyName" in e["context"] for e in body["errors"])


async def test_missing_required_fields_are_named(api: httpx.AsyncClient) -> None:
    response = await api.post(f"{BASE}/contacts", json={"name": "x", "type": "string"})
    body = assert_error(response, 400)
    assert {e["in"] for e in body["errors"]} == {"label", "fieldType", "groupName"}


async def test_a_name_in_use_is_a_409(api: httpx.AsyncClient) -> None:
    assert (await api.post(f"{BASE}/contacts", json=color())).status_code == 201
    body = assert_error(await api.post(f"{BASE}/contacts", json=color()), 409)
    assert body["message"] == "Property named 'favorite_color' already exists."
    assert body["category"] == "OBJECT_ALREADY_EXISTS"
    assert_error(await api.post(f"{BASE}/contacts", json=text("firstname")), 409)
    assert (await api.delete(f"{BASE}/contacts/favorite_color")).status_code == 204
    assert_error(await api.post(f"{BASE}/contacts", json=color()), 409)
    assert (
        await api.post(f"{BASE}/companies", json=color(groupName="companyinformation"))
    ).status_code == 201


async def test_at_most_ten_unique_value_properties(api: httpx.AsyncClient) -> None:
    for i in range(10):
        response = await api.post(f"{BASE}/contacts", json=text(f"code_{i}", hasUniqueValue=True))
        assert response.status_code == 201
        assert response.json()["hasUniqueValue"] is True
    response = await api.post(f"{BASE}/contacts", json=text("code_10", hasUniqueValue=True))
    assert_error(response, 400, "hasUniqueValue")
    assert (
        await api.post(
            f"{BASE}/companies",
            json=text("code_0", groupName="companyinformation", hasUniqueValue=True),
        )
    ).status_code == 201


# --- update -----------------------------------------------------------------------------------


async def test_patch_changes_only_what_it_names(api: httpx.AsyncClient) -> None:
    created = (await api.post(f"{BASE}/contacts", json=color())).json()
    changes = {
        "label": "Colour",
        "description": "Pick one",
        "fieldType": "radio",
        "displayOrder": 3,
        "hidden": True,
        "formField": True,
        "options": [{"label": "Red", "value": "red", "hidden": False, "description": "warm"}],
    }
    response = await api.patch(f"{BASE}/contacts/favorite_color", json=changes)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert {k: updated[k] for k in changes if k != "options"} == {
        k: v for k, v in changes.items() if k != "options"
    }
    assert updated["options"] == [
        {"label": "Red", "value": "red", "hidden": False, "displayOrder": 0, "description": "warm"}
    ]
    assert (updated["type"], updated["groupName"]) == ("enumeration", "contactinformation")
    assert updated["createdAt"] == created["createdAt"]
    assert (await api.get(f"{BASE}/contacts/favorite_color")).json() == updated
    relabeled = await api.patch(f"{BASE}/contacts/favorite_color", json={"label": "Hue"})
    assert relabeled.json()["options"] == updated["options"]


async def test_patch_validates_the_result(api: httpx.AsyncClient) -> None:
    await api.post(f"{BASE}/contacts", json=color())
    path = f"{BASE}/contacts/favorite_color"
    assert_error(await api.patch(path, json={"fieldType": "text"}), 400, "fieldType")
    assert_error(await api.patch(path, json={"options": []}), 400, "options")
    assert_error(await api.patch(path, json={"label": " "}), 400, "label")
    assert_error(await api.patch(path, json={"groupName": "nowhere"}), 400, "groupName")
    assert_error(await api.patch(path, json={"type": "date"}), 400, "fieldType")
    assert_error(await api.patch(f"{BASE}/contacts/no_such_thing", json={"label": "x"}), 404)
    moved = await api.patch(path, json={"groupName": "sales_properties"})
    assert moved.json()["groupName"] == "sales_properties"


async def test_type_changes_only_on_unused_custom_properties(
    app: HubtrailApp, client: httpx.AsyncClient, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await api.post(f"{BASE}/contacts", json=color())
    path = f"{BASE}/contacts/favorite_color"
    changed = await api.patch(path, json={"type": "string", "fieldType": "text"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["type"], changed.json()["options"]) == ("string", [])
    to_bool = await api.patch(path, json={"type": "bool", "fieldType": "booleancheckbox"})
    assert [o["value"] for o in to_bool.json()["options"]] == ["true", "false"]
    await api.patch(path, json={"type": "string", "fieldType": "text"})
    await client.get(
        "/v1/event",
        params={"_a": portal.hub_id, "_n": "x", "email": "a@example.com", "favorite_color": "red"},
    )
    await app.runtime.processor.drain()
    used = await api.patch(path, json={"type": "number", "fieldType": "number"})
    assert "values" in assert_error(used, 400, "type")["message"]
    default = await api.patch(f"{BASE}/contacts/firstname", json={"type": "number"})
    assert "HubSpot-defined" in assert_error(default, 400, "type")["message"]


async def test_default_properties_can_be_relabeled_unless_hubspot_computes_them(
    api: httpx.AsyncClient,
) -> None:
    relabeled = await api.patch(f"{BASE}/contacts/firstname", json={"label": "Given name"})
    assert relabeled.status_code == 200
    assert relabeled.json()["hubspotDefined"] is True
    body = assert_error(await api.patch(f"{BASE}/contacts/createdate", json={"label": "x"}), 400)
    assert body["errors"][0]["code"] == "READ_ONLY_DEFINITION"


# --- archive ----------------------------------------------------------------------------------


async def test_delete_archives_and_archived_query_reads_it(api: httpx.AsyncClient) -> None:
    await api.post(f"{BASE}/contacts", json=color())
    response = await api.delete(f"{BASE}/contacts/favorite_color")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await api.get(f"{BASE}/contacts/favorite_color"), 404)
    live = (await api.get(f"{BASE}/contacts")).json()["results"]
    assert "favorite_color" not in [p["name"] for p in live]
    for flag in ("True", "true"):
        archived = (await api.get(f"{BASE}/contacts", params={"archived": flag})).json()
        [only] = archived["results"]
        assert only["name"] == "favorite_color"
        assert only["archived"] is True
        assert re.match(ISO_MS, only["archivedAt"])
        one = await api.get(f"{BASE}/contacts/favorite_color", params={"archived": flag})
        assert one.json()["archived"] is True
    assert_error(await api.delete(f"{BASE}/contacts/favorite_color"), 404)
    assert_error(await api.patch(f"{BASE}/contacts/favorite_color", json={"label": "x"}), 404)


async def test_default_properties_cannot_be_archived(api: httpx.AsyncClient) -> None:
    body = assert_error(await api.delete(f"{BASE}/contacts/email"), 400)
    assert "HubSpot-defined" in body["message"]
    assert body["errors"][0]["context"] == {"propertyName": ["email"]}
    assert (await api.get(f"{BASE}/contacts/email")).status_code == 200
    assert_error(await api.delete(f"{BASE}/contacts/no_such_thing"), 404)


# --- batch ------------------------------------------------------------------------------------


async def test_batch_read_answers_207_naming_the_missing(api: httpx.AsyncClient) -> None:
    path = f"{BASE}/contacts/batch/read"
    every = await api.post(path, json={"inputs": [{"name": "email"}, {"name": "zip"}]})
    assert every.status_code == 200
    body = every.json()
    assert body["status"] == "COMPLETE"
    assert [p["name"] for p in body["results"]] == ["email", "zip"]
    assert re.match(ISO_MS, body["startedAt"])
    assert re.match(ISO_MS, body["completedAt"])
    assert "errors" not in body
    some = await api.post(path, json={"inputs": [{"name": "email"}, {"name": "nope"}]})
    assert some.status_code == 207
    body = some.json()
    assert [p["name"] for p in body["results"]] == ["email"]
    assert body["numErrors"] == 1
    [error] = body["errors"]
    assert (error["status"], error["category"]) == ("error", "OBJECT_NOT_FOUND")
    assert error["context"] == {"propertyName": ["nope"]}


async def test_batch_read_of_archived_properties(api: httpx.AsyncClient) -> None:
    await api.post(f"{BASE}/contacts", json=color())
    await api.delete(f"{BASE}/contacts/favorite_color")
    body = {"inputs": [{"name": "favorite_color"}], "archived": True}
    response = await api.post(f"{BASE}/contacts/batch/read", json=body)
    assert response.status_code == 200
    assert response.json()["results"][0]["archived"] is True


async def test_batch_create_is_all_or_nothing(api: httpx.AsyncClient) -> None:
    path = f"{BASE}/contacts/batch/create"
    bad = {"inputs": [text("shoe_size"), text("Bad Name"), text("hs_x")]}
    body = assert_error(await api.post(path, json=bad), 400)
    assert [e["in"] for e in body["errors"]] == ["inputs[1].name", "inputs[2].name"]
    assert_error(await api.get(f"{BASE}/contacts/shoe_size"), 404)
    twice = {"inputs": [text("shoe_size"), text("shoe_size")]}
    assert_error(await api.post(path, json=twice), 409)
    good = {"inputs": [text("shoe_size"), color()]}
    response = await api.post(path, json=good)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "COMPLETE"
    assert [p["name"] for p in created["results"]] == ["shoe_size", "favorite_color"]
    assert_error(await api.post(path, json={"inputs": [color()]}), 409)


async def test_batches_hold_at_most_100_inputs(api: httpx.AsyncClient) -> None:
    names = {"inputs": [{"name": f"p{i}"} for i in range(101)]}
    assert_error(await api.post(f"{BASE}/contacts/batch/read", json=names), 400, "inputs")
    assert_error(await api.post(f"{BASE}/contacts/batch/archive", json=names), 400, "inputs")


async def test_batch_archive_answers_204_even_for_unknown_names(api: httpx.AsyncClient) -> None:
    await api.post(f"{BASE}/contacts", json=color())
    body = {"inputs": [{"name": "favorite_color"}, {"name": "never_existed"}]}
    response = await api.post(f"{BASE}/contacts/batch/archive", json=body)
    assert response.status_code == 204
    assert_error(await api.get(f"{BASE}/contacts/favorite_color"), 404)
    again = await api.post(f"{BASE}/contacts/batch/archive", json=body)
    assert again.status_code == 204
    defaults = {"inputs": [{"name": "email"}]}
    assert_error(await api.post(f"{BASE}/contacts/batch/archive", json=defaults), 400)


# --- groups -----------------------------------------------------------------------------------


async def test_groups_lifecycle(api: httpx.AsyncClient) -> None:
    groups = (await api.get(f"{BASE}/contacts/groups")).json()["results"]
    assert groups[0] == {
        "name": "contactinformation",
        "label": "Contact information",
        "displayOrder": 0,
        "archived": False,
    }
    body = {"name": "preferences", "label": "Preferences", "displayOrder": 7}
    created = await api.post(f"{BASE}/contacts/groups", json=body)
    assert created.status_code == 201
    assert created.json() == {**body, "archived": False}
    assert (await api.get(f"{BASE}/contacts/groups/preferences")).json() == created.json()
    conflict = assert_error(await api.post(f"{BASE}/contacts/groups", json=body), 409)
    assert conflict["category"] == "OBJECT_ALREADY_EXISTS"
    patched = await api.patch(f"{BASE}/contacts/groups/preferences", json={"label": "Prefs"})
    assert patched.json() == {**body, "label": "Prefs", "archived": False}
    await api.post(f"{BASE}/contacts", json=color(groupName="preferences"))
    held = assert_error(await api.delete(f"{BASE}/contacts/groups/preferences"), 400)
    assert "favorite_color" in held["message"]
    await api.delete(f"{BASE}/contacts/favorite_color")
    assert (await api.delete(f"{BASE}/contacts/groups/preferences")).status_code == 204
    assert_error(await api.get(f"{BASE}/contacts/groups/preferences"), 404)
    names = [g["name"] for g in (await api.get(f"{BASE}/contacts/groups")).json()["results"]]
    assert "preferences" not in names
    assert_error(await api.post(f"{BASE}/contacts", json=text("x", groupName="preferences")), 400)
    revived = await api.post(f"{BASE}/contacts/groups", json={"name": "preferences", "label": "P"})
    assert revived.status_code == 201
    assert revived.json() == {
        "name": "preferences",
        "label": "P",
        "displayOrder": -1,
        "archived": False,
    }


async def test_group_validation_and_defaults(api: httpx.AsyncClient) -> None:
    path = f"{BASE}/contacts/groups"
    assert_error(await api.post(path, json={"name": "Bad Name", "label": "x"}), 400, "name")
    assert_error(await api.post(path, json={"name": "fine", "label": ""}), 400, "label")
    assert_error(await api.post(path, json={"name": "fine"}), 400, "label")
    assert_error(await api.get(f"{path}/nowhere"), 404)
    assert_error(await api.patch(f"{path}/nowhere", json={"label": "x"}), 404)
    assert_error(await api.delete(f"{path}/nowhere"), 404)
    assert_error(await api.patch(f"{path}/contactinformation", json={"label": ""}), 400, "label")
    body = assert_error(await api.delete(f"{BASE}/companies/groups/companyinformation"), 400)
    assert "HubSpot-defined" in body["message"]


# --- tenancy ----------------------------------------------------------------------------------


async def test_another_portal_never_sees_or_changes_these_definitions(
    app: HubtrailApp, api: httpx.AsyncClient
) -> None:
    await api.post(f"{BASE}/contacts", json=color())
    await api.post(f"{BASE}/contacts/groups", json={"name": "preferences", "label": "Prefs"})
    other = await create_portal(app, "Other")
    async with other_client(app, other) as them:
        path = f"{BASE}/contacts/favorite_color"
        assert_error(await them.get(path), 404)
        assert_error(await them.patch(path, json={"label": "Mine"}), 404)
        assert_error(await them.delete(path), 404)
        listed = (await them.get(f"{BASE}/contacts")).json()["results"]
        assert "favorite_color" not in [p["name"] for p in listed]
        read = await them.post(
            f"{BASE}/contacts/batch/read", json={"inputs": [{"name": "favorite_color"}]}
        )
        assert (read.status_code, read.json()["results"]) == (207, [])
        archive = {"inputs": [{"name": "favorite_color"}]}
        assert (await them.post(f"{BASE}/contacts/batch/archive", json=archive)).status_code == 204
        assert_error(await them.get(f"{BASE}/contacts/groups/preferences"), 404)
        assert_error(await them.delete(f"{BASE}/contacts/groups/preferences"), 404)
        assert (await them.post(f"{BASE}/contacts", json=color(label="Theirs"))).status_code == 201
    mine = (await api.get(f"{BASE}/contacts/favorite_color")).json()
    assert (mine["label"], mine["archived"]) == ("Favorite color", False)
    assert (await api.get(f"{BASE}/contacts/groups/preferences")).status_code == 200


# --- values through the event pipeline ----------------------------------------------------------


async def test_a_custom_property_takes_values_until_archived(
    app: HubtrailApp, client: httpx.AsyncClient, api: httpx.AsyncClient, portal: PortalKeys
) -> None:
    async def hit(value: str) -> None:
        params = {"_a": portal.hub_id, "_n": "x", "email": "a@example.com", "favorite_color": value}
        assert (await client.get("/v1/event", params=params)).status_code == 200
        await app.runtime.processor.drain()

    await hit("blue")
    assert "favorite_color" not in await contact_values(app, portal.hub_id, "a@example.com")
    assert (await api.post(f"{BASE}/contacts", json=color())).status_code == 201
    await hit("blue")
    assert (await contact_values(app, portal.hub_id, "a@example.com"))["favorite_color"] == "blue"
    await hit("purple")
    assert (await outcomes(app))[-1]["notes"][0]["code"] == "INVALID_OPTION"
    assert (await api.delete(f"{BASE}/contacts/favorite_color")).status_code == 204
    await hit("green")
    assert (await contact_values(app, portal.hub_id, "a@example.com"))["favorite_color"] == "blue"
    assert (await outcomes(app))[-1]["notes"][0]["code"] == "PROPERTY_DOESNT_EXIST"
