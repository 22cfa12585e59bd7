"""CRM search: every operator, sorting, free text, paging, totals and limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_objects import create_contact

SEARCH = "/crm/v3/objects/contacts/search"


@pytest.fixture
async def people(api: httpx.AsyncClient) -> dict[str, str]:
    rows = [
        ("ann@acme.io", "Ann", "Lee", "customer", "42", "Acme Corp"),
        ("bob@acme.io", "Bob", "Stone", "lead", "7", "Acme Corp"),
        ("cy@other.org", "Cy", "Lee", "lead", "100", "Other"),
        ("dee@other.org", "Dee", "Moss", "", "", ""),
    ]
    ids = {}
    for email, first, last, stage, employees, company in rows:
        props = {
            "email": email,
            "firstname": first,
            "lastname": last,
            "company": company,
            "lifecyclestage": stage,
            "associatedcompanyid": employees,
        }
        ids[first] = (await create_contact(api, **{k: v for k, v in props.items() if v}))["id"]
    return ids  # type: ignore[return-value]


async def find(
    api: httpx.AsyncClient, *filters: dict[str, Any], **body: Any
) -> tuple[list[str], dict[str, Any]]:
    payload = {"filterGroups": [{"filters": list(filters)}] if filters else [], **body}
    response = await api.post(SEARCH, json=payload)
    assert response.status_code == 200, response.text
    data = response.json()
    return [item["properties"].get("firstname") for item in data["results"]], data


def f(name: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "propertyName": name,
        "operator": op,
        **({"value": value} if value is not None else {}),
        **extra,
    }


@pytest.mark.usefixtures("people")
async def test_every_operator(api: httpx.AsyncClient) -> None:
    cases = [
        (f("lastname", "EQ", "lee"), ["Ann", "Cy"]),
        (f("email", "EQ", "BOB@ACME.IO"), ["Bob"]),
        (f("lastname", "NEQ", "Lee"), ["Bob", "Dee"]),
        (f("associatedcompanyid", "GT", "7"), ["Ann", "Cy"]),
        (f("associatedcompanyid", "GTE", "7"), ["Ann", "Bob", "Cy"]),
        (f("associatedcompanyid", "LT", "42"), ["Bob"]),
        (f("associatedcompanyid", "LTE", "42"), ["Ann", "Bob"]),
        (f("associatedcompanyid", "BETWEEN", "8", highValue="100"), ["Ann", "Cy"]),
        (f("lifecyclestage", "IN", values=["lead"]), ["Bob", "Cy"]),
        (f("lifecyclestage", "NOT_IN", values=["lead"]), ["Ann", "Dee"]),
        (f("lifecyclestage", "HAS_PROPERTY"), ["Ann", "Bob", "Cy"]),
        (f("lifecyclestage", "NOT_HAS_PROPERTY"), ["Dee"]),
        (f("email", "CONTAINS_TOKEN", "*@other.org"), ["Cy", "Dee"]),
        (f("company", "CONTAINS_TOKEN", "acme"), ["Ann", "Bob"]),
        (f("company", "NOT_CONTAINS_TOKEN", "acme"), ["Cy", "Dee"]),
        (f("lifecyclestage", "EQ", "Customer"), []),
    ]
    for flt, expected in cases:
        found, data = await find(api, flt)
        assert found == expected, flt
        assert data["total"] == len(expected)


@pytest.mark.usefixtures("people")
async def test_groups_are_ored_filters_anded(api: httpx.AsyncClient) -> None:
    body = {
        "filterGroups": [
            {"filters": [f("lastname", "EQ", "Lee"), f("lifecyclestage", "EQ", "lead")]},
            {"filters": [f("firstname", "EQ", "Dee")]},
        ]
    }
    found, _ = await find(api, **body)
    assert found == ["Cy", "Dee"]


async def test_system_properties_and_sorting(
    api: httpx.AsyncClient, people: dict[str, str]
) -> None:
    found, _ = await find(api, f("hs_object_id", "EQ", people["Bob"]))
    assert found == ["Bob"]
    found, _ = await find(
        api, sorts=[{"propertyName": "associatedcompanyid", "direction": "DESCENDING"}]
    )
    assert found == ["Cy", "Ann", "Bob", "Dee"]
    found, _ = await find(api, sorts=["firstname"])
    assert found == ["Ann", "Bob", "Cy", "Dee"]
    found, _ = await find(api, sorts=["-createdate"])
    assert found == ["Dee", "Cy", "Bob", "Ann"]
    found, _ = await find(api, f("createdate", "GTE", "2000-01-01T00:00:00Z"))
    assert len(found) == 4


@pytest.mark.usefixtures("people")
async def test_query_properties_paging_and_total(api: httpx.AsyncClient) -> None:
    found, data = await find(api, query="acme")
    assert found == ["Ann", "Bob"]
    _, data = await find(api, properties=["company"], limit=1)
    assert data["total"] == 4
    assert set(data["results"][0]["properties"]) >= {"company", "hs_object_id"}
    assert data["paging"]["next"]["after"] == "1"
    names, after = [], None
    while True:
        _, page = await find(api, limit=3, **({"after": after} if after else {}))
        names += [r["properties"]["firstname"] for r in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
    assert names == ["Ann", "Bob", "Cy", "Dee"]


async def test_limits_and_bad_requests_are_400(api: httpx.AsyncClient) -> None:
    one = {"filters": [f("email", "EQ", "a@b.com")]}
    bad_bodies = [
        {"filterGroups": [one] * 6},
        {"filterGroups": [{"filters": [f("email", "EQ", "x")] * 7}]},
        {"filterGroups": [{"filters": [f("email", "EQ", "x")] * 6}] * 4},
        {"filterGroups": [{"filters": [f("email", "LIKE", "x")]}]},
        {"filterGroups": [{"filters": [f("email", "EQ")]}]},
        {"filterGroups": [{"filters": [f("nope", "EQ", "x")]}]},
        {"filterGroups": [{"filters": [f("associatedcompanyid", "GT", "many")]}]},
        {"limit": 201},
        {"limit": 0},
        {"after": "x"},
        {"after": "9999", "limit": 10},
        {"sorts": ["nope"]},
    ]
    for body in bad_bodies:
        response = await api.post(SEARCH, json=body)
        assert response.status_code == 400, body
        assert response.json()["category"] == "VALIDATION_ERROR"
