"""Every request the forwarder sends, compared with the snapshot files beside this test (the
contract with HubSpot's API); `UPDATE_SNAPSHOTS=1 pytest …` rewrites them after a deliberate
change. And how the answers are read, 207s included."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from hubtrail.forward import hubspot

SNAPSHOTS = Path(__file__).parent / "snapshots"
AT_MS = 1_764_583_200_000  # 2025-12-01T10:00:00Z

CALLS = {
    "contacts_upsert": hubspot.contacts_upsert(
        [
            ("ada@example.com", {"email": "ada@example.com", "firstname": "Ada"}),
            ("grace@example.com", {"email": "grace@example.com", "lifecyclestage": "lead"}),
        ]
    ),
    "contacts_search": hubspot.contacts_search(["ada@example.com"]),
    "companies_search": hubspot.companies_search(["acme.example.com", "bolt.example.com"]),
    "companies_create": hubspot.objects_create(
        "companies", [("7", {"domain": "bolt.example.com", "name": "Bolt"})]
    ),
    "companies_update": hubspot.objects_update(
        "companies", [("555", {"name": "Acme", "industry": "X"})]
    ),
    "contacts_create": hubspot.objects_create("contacts", [("12", {"firstname": "Nomail"})]),
    "contacts_update": hubspot.objects_update(
        "contacts", [("9001", {"email": "late@example.com", "firstname": "Nomail"})]
    ),
    "associate": hubspot.associate([("9001", "555")]),
    "create_definition": hubspot.create_definition(
        "order_completed", "Order Completed", [("order_id", "Order id", "string")]
    ),
    "create_event_property": hubspot.create_event_property(
        "order_completed", "total", "Total", "number"
    ),
    "submit_form": hubspot.submit_form(
        "https://api.hsforms.com",
        555,
        "remote-form-guid",
        [("0-1", "email", "ada@example.com"), ("0-2", "name", "Acme")],
        {
            "hutk": "0123456789abcdef0123456789abcdef",
            "pageUri": "https://x.example/",
            "pageName": "",
        },
        AT_MS,
    ),
    "send_events": hubspot.send_events(
        1000001,
        [
            hubspot.Occurrence(
                "s:order-1",
                "pe777_order_completed",
                AT_MS,
                {"total": 30, "paid": True},
                email="ada@example.com",
            ),
            hubspot.Occurrence("t:abc", "pe777_order_completed", AT_MS + 1, {}, object_id="9001"),
            hubspot.Occurrence(
                "t:def",
                "pe777_hubtrail_page_view",
                AT_MS + 2,
                {"url": "https://x.example/"},
                utk="0123456789abcdef0123456789abcdef",
            ),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_outbound_payloads_match_their_snapshots(name: str) -> None:
    call = CALLS[name]
    shown = {"method": call.method, "path": call.path, "body": call.body}
    if call.base_url:
        shown["base_url"] = call.base_url
    path = SNAPSHOTS / f"{name}.json"
    text = orjson.dumps(shown, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") == "true" and not path.exists():
            pytest.fail(f"{path} is missing")
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from {path}"


def test_an_event_keeps_its_uuid_across_resends() -> None:
    assert hubspot.event_uuid(1, "s:a") == hubspot.event_uuid(1, "s:a")
    assert hubspot.event_uuid(1, "s:a") != hubspot.event_uuid(2, "s:a")


def test_reading_a_207_names_each_refused_input() -> None:
    body = {
        "status": "COMPLETE",
        "results": [{"id": "11", "properties": {"domain": "a.example"}, "objectWriteTraceId": "1"}],
        "numErrors": 2,
        "errors": [
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": "bad name",
                "context": {"objectWriteTraceId": ["2", "3"]},
            },
            {"status": "error", "message": "no context"},
        ],
    }
    answer = hubspot.read_create(body, [], "domain")
    assert answer.ids == {"1": "11"}
    assert [(e.key, e.message) for e in answer.errors] == [
        ("2", "VALIDATION_ERROR: bad name"),
        ("3", "VALIDATION_ERROR: bad name"),
        ("", "no context"),
    ]


def test_created_objects_are_matched_to_inputs_without_trace_ids_too() -> None:
    sent = [
        ("1", {"firstname": "Ann", "email": "ann@example.com"}),
        ("2", {}),
        ("3", {"firstname": "Bea"}),
        ("4", {"domain": "acme.example.com", "name": "Acme"}),
    ]
    body = {
        "results": [
            {"id": "20", "properties": {"firstname": None, "email": None}},
            {"id": "30", "properties": {"firstname": "Bea", "email": None}},
            {"id": "10", "properties": {"firstname": "Ann", "email": "Ann@Example.com"}},
            {"id": "40", "properties": {"domain": "acme.example.com", "name": "ACME Inc"}},
        ]
    }
    assert hubspot.read_create(body, sent[:3], "email").ids == {"2": "20", "3": "30", "1": "10"}
    assert hubspot.read_create(body, sent[3:], "domain").ids == {"4": "40"}


def test_reading_upsert_and_search_answers() -> None:
    upsert = {"results": [{"id": "5", "properties": {"email": "Ada@Example.com"}, "new": True}]}
    assert hubspot.read_upsert(upsert).ids == {"ada@example.com": "5"}
    search = {
        "results": [
            {"id": "8", "properties": {"domain": "acme.example.com"}},
            {"id": "9", "properties": {"domain": "acme.example.com"}},
        ]
    }
    assert hubspot.read_search(search, "domain") == {"acme.example.com": "8"}
    assert hubspot.read_search({"unexpected": 1}, "domain") == {}


def test_error_messages_keep_hubspots_words() -> None:
    body = {
        "status": "error",
        "category": "RATE_LIMITS",
        "message": "You have reached your daily limit.",
    }
    assert hubspot.error_message(body, "x") == "RATE_LIMITS: You have reached your daily limit."
    assert hubspot.error_message("not json", "502 Bad Gateway") == "502 Bad Gateway"
