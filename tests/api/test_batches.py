"""Batch read, create, update, upsert, archive: limits, 207 multi-status, all-or-nothing."""

from __future__ import annotations

import httpx

from tests.api.test_objects import create_contact

BATCH = "/crm/v3/objects/contacts/batch"


async def test_batch_upsert_of_100_creates_then_updates(api: httpx.AsyncClient) -> None:
    inputs = [
        {"id": f"u{i}@example.com", "idProperty": "email", "properties": {"firstname": f"U{i}"}}
        for i in range(100)
    ]
    first = await api.post(f"{BATCH}/upsert", json={"inputs": inputs})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "COMPLETE"
    assert len(body["results"]) == 100
    assert all(item["new"] for item in body["results"])
    assert body["results"][0]["properties"]["email"] == "u0@example.com"
    again = await api.post(
        f"{BATCH}/upsert", json={"inputs": [{**inputs[0], "properties": {"lastname": "X"}}]}
    )
    [item] = again.json()["results"]
    assert item["new"] is False
    assert item["properties"]["lastname"] == "X"
    assert item["properties"]["firstname"] == "U0"
    too_many = await api.post(f"{BATCH}/upsert", json={"inputs": inputs + inputs[:1]})
    assert too_many.status_code == 400
    bad_key = await api.post(
        f"{BATCH}/upsert",
        json={"inputs": [{"id": "x", "idProperty": "firstname", "properties": {}}]},
    )
    assert bad_key.status_code == 400


async def test_batch_read_reports_missing_ids_in_a_207(api: httpx.AsyncClient) -> None:
    a = await create_contact(api, email="a@example.com", firstname="A")
    response = await api.post(
        f"{BATCH}/read",
        json={"inputs": [{"id": a["id"]}, {"id": "999999"}], "properties": ["firstname"]},
    )
    assert response.status_code == 207
    body = response.json()
    assert [r["properties"]["firstname"] for r in body["results"]] == ["A"]
    assert body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["ids"] == ["999999"]
    by_email = await api.post(
        f"{BATCH}/read", json={"inputs": [{"id": "a@example.com"}], "idProperty": "email"}
    )
    assert by_email.status_code == 200
    assert by_email.json()["results"][0]["id"] == a["id"]


async def test_batch_create_is_all_or_nothing_without_trace_ids(api: httpx.AsyncClient) -> None:
    await create_contact(api, email="taken@example.com")
    inputs = [
        {"properties": {"email": "new@example.com"}},
        {"properties": {"email": "taken@example.com"}},
    ]
    response = await api.post(f"{BATCH}/create", json={"inputs": inputs})
    assert response.status_code == 409
    assert response.json()["message"].startswith("Contact already exists. Existing ID: ")
    listing = (await api.get("/crm/v3/objects/contacts")).json()["results"]
    assert [c["properties"]["email"] for c in listing] == ["taken@example.com"]


async def test_batch_create_with_trace_ids_reports_each_failure(api: httpx.AsyncClient) -> None:
    await create_contact(api, email="taken@example.com")
    inputs = [
        {"properties": {"email": "new@example.com"}, "objectWriteTraceId": "t1"},
        {"properties": {"email": "taken@example.com"}, "objectWriteTraceId": "t2"},
        {"properties": {"email": "bad@example.con"}, "objectWriteTraceId": "t3"},
    ]
    response = await api.post(f"{BATCH}/create", json={"inputs": inputs})
    assert response.status_code == 207
    body = response.json()
    assert [r["properties"]["email"] for r in body["results"]] == ["new@example.com"]
    assert body["results"][0]["objectWriteTraceId"] == "t1", "each result names its input"
    failed = {e["context"]["objectWriteTraceId"][0]: e["category"] for e in body["errors"]}
    assert failed == {"t2": "CONFLICT", "t3": "VALIDATION_ERROR"}


async def test_batch_create_201_and_update_with_missing_ids(api: httpx.AsyncClient) -> None:
    created = await api.post(
        f"{BATCH}/create",
        json={"inputs": [{"properties": {"email": f"c{i}@example.com"}} for i in range(3)]},
    )
    assert created.status_code == 201
    ids = [r["id"] for r in created.json()["results"]]
    update = await api.post(
        f"{BATCH}/update",
        json={
            "inputs": [
                {"id": ids[0], "properties": {"firstname": "One"}},
                {"id": "424242", "properties": {"firstname": "X"}},
            ]
        },
    )
    assert update.status_code == 207
    assert update.json()["results"][0]["properties"]["firstname"] == "One"
    invalid = await api.post(
        f"{BATCH}/update", json={"inputs": [{"id": ids[1], "properties": {"nope": "x"}}]}
    )
    assert invalid.status_code == 400
    archive = await api.post(f"{BATCH}/archive", json={"inputs": [{"id": ids[1]}, {"id": "777"}]})
    assert archive.status_code == 204
    assert (await api.get(f"/crm/v3/objects/contacts/{ids[1]}")).status_code == 404
