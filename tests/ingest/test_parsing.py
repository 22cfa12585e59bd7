"""The wire formats of /v1/event and /events/v3/send, parsed without I/O."""

import pytest

from hubtrail.core.errors import ValidationError
from hubtrail.core.messages import Kind, Source
from hubtrail.ingest.hubspot_events import parse_v1_event, parse_v3_batch, parse_v3_occurrence


def test_v1_event_maps_every_parameter() -> None:
    pairs = [
        ("_a", "62515"),
        ("_n", "000000001625"),
        ("email", "a@b.com"),
        ("_m", "9.5"),
        ("id", "ext-1"),
        ("firstname", "Ann"),
        ("lifecyclestage", "customer"),
    ]
    message = parse_v1_event(pairs, 1000, "m1")
    assert message.portal_id == 62515
    assert message.kind is Kind.TRACK
    assert message.source is Source.HTTP_EVENTS
    assert (message.event, message.email, message.revenue, message.external_id) == (
        "000000001625",
        "a@b.com",
        "9.5",
        "ext-1",
    )
    assert message.contact_properties == {"firstname": "Ann", "lifecyclestage": "customer"}
    assert message.occurred_at_ms == 1000


@pytest.mark.parametrize(
    ("pairs", "named"),
    [
        ([("_n", "x")], "_a"),
        ([("_a", ""), ("_n", "x")], "_a"),
        ([("_a", "12ab"), ("_n", "x")], "_a"),
        ([("_a", "1")], "_n"),
        ([("_a", "1"), ("_n", "  ")], "_n"),
    ],
)
def test_v1_event_bad_parameters_are_named(pairs: list[tuple[str, str]], named: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_v1_event(pairs, 1, "m")
    assert named in caught.value.message


def test_v3_occurrence() -> None:
    message = parse_v3_occurrence(
        {
            "eventName": "pe1_login",
            "email": "a@b.com",
            "utk": "f" * 32,
            "objectId": 608051,
            "occurredAt": "2026-01-20T21:14:16.512Z",
            "uuid": "u-1",
            "properties": {"hs_city": "Cambridge"},
        },
        1,
        5,
    )
    assert message.message_id == "v3:u-1"
    assert message.object_id == "608051"
    assert message.visitor_key == "f" * 32
    assert message.occurred_at_ms == 1768943656512
    assert message.event_properties == {"hs_city": "Cambridge"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@b.com"}, "eventName"),
        ({"eventName": "x"}, "objectId"),
        ({"eventName": "x", "email": "a@b.com", "properties": []}, "properties"),
        (
            {"eventName": "x", "email": "a@b.com", "properties": {"p": {"nested": 1}}},
            "properties.p",
        ),
        ({"eventName": "x", "email": "a@b.com", "occurredAt": "whenever"}, "occurredAt"),
        ({"eventName": "x", "email": ["a"]}, "email"),
    ],
)
def test_v3_invalid_bodies_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_v3_occurrence(body, 1, 1)
    assert field in caught.value.message
    assert any(error.in_ == field for error in caught.value.errors)


def test_v3_batch_is_rejected_whole_with_every_bad_input_named() -> None:
    good = {"eventName": "x", "email": "a@b.com"}
    with pytest.raises(ValidationError) as caught:
        parse_v3_batch({"inputs": [good, {"email": "a@b.com"}, good, {"eventName": "y"}]}, 1, 1)
    assert "inputs[1].eventName" in caught.value.message
    assert "inputs[3].objectId" in caught.value.message
    with pytest.raises(ValidationError):
        parse_v3_batch({"inputs": [good] * 501}, 1, 1)
    with pytest.raises(ValidationError):
        parse_v3_batch({"inputs": []}, 1, 1)
    assert len(parse_v3_batch({"inputs": [good] * 500}, 1, 1)) == 500
