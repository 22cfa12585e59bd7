"""Contacts and companies CRUD, paging, errors and tenancy, in HubSpot's shapes."""

from __future__ import annotations

import json

import httpx

from hubtrail.app import HubtrailApp
from tests.conftest import create_portal

CONTACTS = "/crm/v3/objects/contacts"
COMPANIES = "/crm/v3/objects/companies"


async def create_contact(api: httpx.AsyncClient, **properties: object) -> dict[str, object]:
    response = await api.post(CONTACTS, json={"properties": properties})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_create_then_get_by_id_and_by_email(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="Ann@Example.com", firstname="Ann", lastname="Lee")
    assert created["id"].isdigit()  # type: ignore[union-attr]
    props = created["properties"]
    assert props["email"] == "Ann@example.com"  # type: ignore[index]
    assert props["hs_object_id"] == created["id"]  # type: ignore[index]
    assert created["archived"] is False
    assert str(created["createdAt"]).endswith("Z")
    by_id = (await api.get(f"{CONTACTS}/{created['id']}")).json()
    assert by_id["properties"]["firstname"] == "Ann"
    assert set(by_id["properties"]) >= {
        "email",
        "firstname",
        "lastname",
        "createdate",
        "hs_object_id",
        "lastmodifieddate",
    }
    by_email = await api.get(f"{CONTACTS}/ann%40example.com", params={"idProperty": "email"})
    assert by_email.status_code == 200
    assert by_email.json()["id"] == created["id"]


async def test_properties_param_accepts_repeated_and_comma_forms(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com", firstname="A", jobtitle="CTO")
    repeated = await api.get(f"{CONTACTS}/{created['id']}?properties=jobtitle&properties=phone")
    comma = await api.get(f"{CONTACTS}/{created['id']}?properties=jobtitle,phone")
    for response in (repeated, comma):
        props = response.json()["properties"]
        assert props["jobtitle"] == "CTO"
        assert props["phone"] is None
        assert "firstname" not in props


async def test_update_overwrites_and_clears(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com", firstname="A", lastname="B")
    response = await api.patch(
        f"{CONTACTS}/{created['id']}", json={"properties": {"firstname": "Z", "lastname": ""}}
    )
    assert response.status_code == 200
    props = (await api.get(f"{CONTACTS}/{created['id']}")).json()["properties"]
    assert props["firstname"] == "Z"
    assert props["lastname"] in (None, "")
    by_email = await api.patch(
        f"{CONTACTS}/a@example.com?idProperty=email", json={"properties": {"jobtitle": "CEO"}}
    )
    assert by_email.status_code == 200


async def test_duplicate_email_is_409_with_the_existing_id(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com")
    response = await api.post(CONTACTS, json={"properties": {"email": "A@EXAMPLE.COM"}})
    assert response.status_code == 409
    body = response.json()
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {created['id']}"


async def test_setting_an_email_another_contact_holds_is_400(api: httpx.AsyncClient) -> None:
    first = await create_contact(api, email="a@example.com")
    second = await create_contact(api, email="b@example.com")
    response = await api.patch(
        f"{CONTACTS}/{second['id']}", json={"properties": {"email": "a@example.com"}}
    )
    assert response.status_code == 400
    assert f"{first['id']} already has that value" in response.json()["message"]


async def test_invalid_values_are_400_with_hubspot_codes(api: httpx.AsyncClient) -> None:
    response = await api.post(
        CONTACTS,
        json={
            "properties": {
                "email": "bcooper@example.con",
                "testproperty": "x",
                "associatedcompanyid": "ten",
                "hs_object_id": "5",
                "lifecyclestage": "royalty",
            }
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    results = json.loads(body["message"].removeprefix("Property values were not valid: "))
    codes = {item["name"]: item["error"] for item in results}
    assert codes == {
        "email": "INVALID_EMAIL",
        "testproperty": "PROPERTY_DOESNT_EXIST",
        "associatedcompanyid": "INVALID_INTEGER",
        "hs_object_id": "READ_ONLY_VALUE",
        "lifecyclestage": "INVALID_OPTION",
    }
    assert {e["code"] for e in body["errors"]} == set(codes.values())
    assert (await api.get(CONTACTS)).json()["results"] == []


async def test_read_only_analytics_properties_cannot_be_written(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com")
    response = await api.patch(
        f"{CONTACTS}/{created['id']}", json={"properties": {"hs_lifecyclestage_lead_date": "x"}}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "READ_ONLY_VALUE"


async def test_lifecycle_stage_moves_forward_only(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com", lifecyclestage="customer")
    back = await api.patch(
        f"{CONTACTS}/{created['id']}", json={"properties": {"lifecyclestage": "lead"}}
    )
    assert back.status_code == 400
    cleared = await api.patch(
        f"{CONTACTS}/{created['id']}", json={"properties": {"lifecyclestage": ""}}
    )
    assert cleared.status_code == 200
    again = await api.patch(
        f"{CONTACTS}/{created['id']}", json={"properties": {"lifecyclestage": "lead"}}
    )
    assert again.status_code == 200


async def test_archive_then_get_is_404_and_archived_list_shows_it(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com")
    assert (await api.delete(f"{CONTACTS}/{created['id']}")).status_code == 204
    missing = await api.get(f"{CONTACTS}/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    archived = await api.get(CONTACTS, params={"archived": "True"})
    [item] = archived.json()["results"]
    assert item["archived"] is True
    assert "archivedAt" in item
    assert (await api.delete(f"{CONTACTS}/999999")).status_code == 204


async def test_list_pages_with_after(api: httpx.AsyncClient) -> None:
    ids = [(await create_contact(api, email=f"u{i}@example.com"))["id"] for i in range(7)]
    seen, after = [], None
    while True:
        params = {"limit": "3", **({"after": after} if after else {})}
        page = (await api.get(CONTACTS, params=params)).json()
        seen += [item["id"] for item in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
        assert page["paging"]["next"]["link"]
    assert seen == ids
    for bad in ({"limit": "0"}, {"limit": "101"}, {"after": "abc"}):
        response = await api.get(CONTACTS, params=bad)
        assert response.status_code == 400
        assert response.json()["category"] == "VALIDATION_ERROR"


async def test_properties_with_history(api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com", firstname="A")
    await api.patch(f"{CONTACTS}/{created['id']}", json={"properties": {"firstname": "B"}})
    body = (
        await api.get(f"{CONTACTS}/{created['id']}", params={"propertiesWithHistory": "firstname"})
    ).json()
    history = body["propertiesWithHistory"]["firstname"]
    assert [h["value"] for h in history] == ["B", "A"]
    assert history[0]["sourceType"] == "API"
    assert history[0]["timestamp"].endswith("Z")


async def test_companies_derive_domain_from_website(api: httpx.AsyncClient) -> None:
    response = await api.post(
        COMPANIES, json={"properties": {"name": "Acme", "website": "https://www.Acme.io/about"}}
    )
    assert response.status_code == 201
    company = response.json()
    assert company["properties"]["domain"] == "acme.io"
    by_domain = await api.get(f"{COMPANIES}/acme.io", params={"idProperty": "domain"})
    assert by_domain.json()["id"] == company["id"]
    assert company["properties"]["hs_lastmodifieddate"]


async def test_unknown_object_type_and_malformed_bodies(api: httpx.AsyncClient) -> None:
    assert (await api.get("/crm/v3/objects/deals")).status_code in (400, 404)
    bad_json = await api.post(
        CONTACTS, content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["category"] == "VALIDATION_ERROR"
    wrong_type = await api.post(CONTACTS, json={"properties": ["not", "an", "object"]})
    assert wrong_type.status_code == 400
    assert "properties" in wrong_type.json()["message"]


async def test_tokens_see_only_their_portal(app: HubtrailApp, api: httpx.AsyncClient) -> None:
    created = await create_contact(api, email="a@example.com")
    other = await create_portal(app, "Other")
    headers = {"Authorization": f"Bearer {other.access_token}"}
    assert (await api.get(f"{CONTACTS}/{created['id']}", headers=headers)).status_code == 404
    assert (
        await api.patch(f"{CONTACTS}/{created['id']}", json={"properties": {}}, headers=headers)
    ).status_code == 404
    assert (await api.get(CONTACTS, headers=headers)).json()["results"] == []
    mine = await api.post(
        CONTACTS, json={"properties": {"email": "a@example.com"}}, headers=headers
    )
    assert mine.status_code == 201


async def test_missing_or_wrong_token_is_401(api: httpx.AsyncClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer nope"}):
        response = await api.get(CONTACTS, headers=headers)
        assert response.status_code == 401
        assert response.json()["category"] == "INVALID_AUTHENTICATION"
