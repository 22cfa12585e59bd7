"""Associations v4, merges and GDPR deletion."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from hubtrail.app import HubtrailApp
from hubtrail.store.schema import event_occurrences, property_history
from tests.api.test_objects import create_contact
from tests.conftest import PortalKeys
from tests.ingest.helpers import query

V4 = "/crm/v4/objects"


async def create_company(api: httpx.AsyncClient, **properties: object) -> dict[str, object]:
    response = await api.post("/crm/v3/objects/companies", json={"properties": properties})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_default_and_primary_associations(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, email="a@example.com")
    company = await create_company(api, name="Acme", domain="acme.io")
    default = await api.put(
        f"{V4}/contacts/{contact['id']}/associations/default/companies/{company['id']}"
    )
    assert default.status_code == 200
    specs = {r["associationSpec"]["associationTypeId"] for r in default.json()["results"]}
    assert specs == {279, 280}
    primary = await api.put(
        f"{V4}/contact/{contact['id']}/associations/company/{company['id']}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    assert primary.status_code == 201
    assert primary.json()["labels"] == ["Primary"]
    assert primary.json()["fromObjectTypeId"] == "0-1"
    listed = (await api.get(f"{V4}/contacts/{contact['id']}/associations/companies")).json()
    [result] = listed["results"]
    assert result["toObjectId"] == int(str(company["id"]))
    assert {t["typeId"] for t in result["associationTypes"]} == {1, 279}
    back = (await api.get(f"{V4}/companies/{company['id']}/associations/contacts")).json()
    assert {t["typeId"] for t in back["results"][0]["associationTypes"]} == {2, 280}
    got = (
        await api.get(
            f"/crm/v3/objects/contacts/{contact['id']}",
            params={"associations": "companies", "properties": "associatedcompanyid"},
        )
    ).json()
    assert got["properties"]["associatedcompanyid"] == company["id"]
    types = {r["type"] for r in got["associations"]["companies"]["results"]}
    assert types == {"contact_to_company", "contact_to_company_unlabeled"}
    count = (
        await api.get(
            f"/crm/v3/objects/companies/{company['id']}",
            params={"properties": "num_associated_contacts"},
        )
    ).json()
    assert count["properties"]["num_associated_contacts"] == "1"
    removed = await api.delete(
        f"{V4}/contacts/{contact['id']}/associations/companies/{company['id']}"
    )
    assert removed.status_code == 204
    assert (await api.get(f"{V4}/contacts/{contact['id']}/associations/companies")).json()[
        "results"
    ] == []


async def test_association_errors(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, email="a@example.com")
    company = await create_company(api, name="Acme")
    wrong_type = await api.put(
        f"{V4}/contacts/{contact['id']}/associations/companies/{company['id']}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}],
    )
    assert wrong_type.status_code == 400
    missing = await api.put(f"{V4}/contacts/{contact['id']}/associations/default/companies/99999")
    assert missing.status_code == 404


async def test_batch_associations_and_inline_create(api: httpx.AsyncClient) -> None:
    company = await create_company(api, name="Acme")
    contacts = [await create_contact(api, email=f"u{i}@example.com") for i in range(3)]
    batch = await api.post(
        "/crm/v4/associations/contacts/companies/batch/associate/default",
        json={"inputs": [{"from": {"id": c["id"]}, "to": {"id": company["id"]}} for c in contacts]},
    )
    assert batch.status_code == 200
    read = await api.post(
        "/crm/v4/associations/companies/contacts/batch/read",
        json={"inputs": [{"id": company["id"]}]},
    )
    assert len(read.json()["results"][0]["to"]) == 3
    archive = await api.post(
        "/crm/v4/associations/contacts/companies/batch/archive",
        json={"inputs": [{"from": {"id": contacts[0]["id"]}, "to": [{"id": company["id"]}]}]},
    )
    assert archive.status_code == 204
    created = await api.post(
        "/crm/v3/objects/contacts",
        json={
            "properties": {"email": "inline@example.com"},
            "associations": [
                {
                    "to": {"id": company["id"]},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        },
    )
    assert created.status_code == 201
    read = await api.post(
        "/crm/v4/associations/companies/contacts/batch/read",
        json={"inputs": [{"id": company["id"]}]},
    )
    assert len(read.json()["results"][0]["to"]) == 3


async def test_merge_keeps_primary_values_and_redirects_the_merged_id(
    api: httpx.AsyncClient,
) -> None:
    primary = await create_contact(api, email="a@example.com", firstname="Ann")
    other = await create_contact(
        api, email="ann.old@example.com", firstname="Annie", jobtitle="CTO"
    )
    merged = await api.post(
        "/crm/v3/objects/contacts/merge",
        json={"primaryObjectId": primary["id"], "objectIdToMerge": other["id"]},
    )
    assert merged.status_code == 200
    assert merged.json()["id"] == primary["id"]
    props = (
        await api.get(
            f"/crm/v3/objects/contacts/{other['id']}",
            params={"properties": "firstname,jobtitle,hs_additional_emails,hs_merged_object_ids"},
        )
    ).json()
    assert props["id"] == primary["id"]
    assert props["properties"]["firstname"] == "Ann"
    assert props["properties"]["jobtitle"] == "CTO"
    assert props["properties"]["hs_additional_emails"] == "ann.old@example.com"
    assert props["properties"]["hs_merged_object_ids"] == other["id"]
    by_old_email = await api.get(
        "/crm/v3/objects/contacts/ann.old@example.com", params={"idProperty": "email"}
    )
    assert by_old_email.json()["id"] == primary["id"]
    same = await api.post(
        "/crm/v3/objects/contacts/merge",
        json={"primaryObjectId": primary["id"], "objectIdToMerge": primary["id"]},
    )
    assert same.status_code == 400


async def test_gdpr_delete_removes_everything(
    app: HubtrailApp, api: httpx.AsyncClient, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    await client.get(
        "/v1/event",
        params={"_a": portal.hub_id, "_n": "bought", "email": "gone@example.com", "firstname": "G"},
    )
    await client.get(
        "/v1/event", params={"_a": portal.hub_id, "_n": "bought", "email": "stay@example.com"}
    )
    await app.runtime.processor.drain()
    response = await api.post(
        "/crm/v3/objects/contacts/gdpr-delete",
        json={"objectId": "gone@example.com", "idProperty": "email"},
    )
    assert response.status_code == 204
    assert (
        await api.get("/crm/v3/objects/contacts/gone@example.com", params={"idProperty": "email"})
    ).status_code == 404
    assert len(await query(app, select(event_occurrences))) == 1
    history = await query(app, select(property_history.c.value))
    assert "gone@example.com" not in {row.value for row in history}
    exported = (await api.get("/crm/v3/objects/contacts")).json()["results"]
    assert [c["properties"]["email"] for c in exported] == ["stay@example.com"]
    unknown = await api.post(
        "/crm/v3/objects/contacts/gdpr-delete",
        json={"objectId": "nobody@example.com", "idProperty": "email"},
    )
    assert unknown.status_code == 204
    missing_id = await api.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": "999999"})
    assert missing_id.status_code == 404


async def test_events_for_a_merged_email_reach_the_primary_contact(
    app: HubtrailApp, api: httpx.AsyncClient, client: httpx.AsyncClient, portal: PortalKeys
) -> None:
    primary = await create_contact(api, email="keep@example.com")
    other = await create_contact(api, email="old@example.com")
    merged = await api.post(
        "/crm/v3/objects/contacts/merge",
        json={"primaryObjectId": primary["id"], "objectIdToMerge": other["id"]},
    )
    assert merged.status_code == 200
    await client.get(
        "/v1/event", params={"_a": portal.hub_id, "_n": "bought", "email": "OLD@example.com"}
    )
    await app.runtime.processor.drain()
    [occurrence] = await query(app, select(event_occurrences))
    assert str(occurrence.contact_id) == primary["id"]
    listed = (await api.get("/crm/v3/objects/contacts")).json()["results"]
    assert [c["id"] for c in listed] == [primary["id"]]
