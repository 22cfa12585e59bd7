"""The event definitions API's rules and the events read API's parameter parsing, without I/O."""

import pytest

from hubtrail.core.errors import ValidationError
from hubtrail.core.events import (
    EventOption,
    EventPropertyInput,
    EventPropertyType,
    check_definition,
    check_definition_label,
    check_property,
    check_property_patch,
    decode_cursor,
    encode_cursor,
    event_name_of,
    instant_param_ms,
    name_errors,
    object_type_id,
    property_text,
    record_and_property_filters,
    sort_descending,
)


def fields_of(error: pytest.ExceptionInfo[ValidationError]) -> list[str | None]:
    return [e.in_ for e in error.value.errors]


def test_definition_names_come_from_labels_and_follow_hubspots_rule() -> None:
    spec = check_definition(
        label="Clicked Buy Button",
        name=None,
        description="",
        primary_object="contact",
        properties=[
            EventPropertyInput("Seat count", "number"),
            EventPropertyInput("Plan", "enumeration", "plan", options=(EventOption("Pro", "pro"),)),
        ],
    )
    assert spec.name == "clicked_buy_button"
    assert [(p.name, p.type) for p in spec.properties] == [
        ("seat_count", EventPropertyType.NUMBER),
        ("plan", EventPropertyType.ENUMERATION),
    ]
    assert name_errors("a_1", "name") == []
    for bad in ("1a", "A", "a-b", "a b", "", "é"):
        assert name_errors(bad, "name")[0].code == "INVALID_NAME"
    assert name_errors("a" * 51, "name")[0].code == "TOO_LONG"


def test_every_problem_of_a_definition_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as error:
        check_definition(
            label="",
            name="Bad",
            description="",
            primary_object="DEAL",
            properties=[
                EventPropertyInput("City", "string", "hs_city"),
                EventPropertyInput("Mood", "feeling"),
                EventPropertyInput("Tier", "enumeration"),
                EventPropertyInput("Tier", "enumeration", options=(EventOption("A", "a"),) * 2),
            ],
        )
    assert fields_of(error) == [
        "label",
        "name",
        "primaryObject",
        "propertyDefinitions[0].name",
        "propertyDefinitions[1].type",
        "propertyDefinitions[2].options",
        "propertyDefinitions[3].options",
    ]
    assert error.value.status == 400


def test_duplicate_and_too_many_properties() -> None:
    twice = [EventPropertyInput("Seats", "number")] * 2
    with pytest.raises(ValidationError, match="seats is defined twice"):
        check_definition(
            label="x", name=None, description="", primary_object="CONTACT", properties=twice
        )
    many = [EventPropertyInput(f"p{i}", "bool") for i in range(51)]
    with pytest.raises(ValidationError, match="at most 50"):
        check_definition(
            label="x", name=None, description="", primary_object="CONTACT", properties=many
        )


def test_single_property_and_patch_rules() -> None:
    assert check_property(EventPropertyInput("Signed up at", "datetime")).name == "signed_up_at"
    with pytest.raises(ValidationError) as error:
        check_property(EventPropertyInput("x" * 51, "string", "ok"))
    assert fields_of(error) == ["label"]
    with pytest.raises(ValidationError) as error:
        check_property(EventPropertyInput("X", "string", options=(EventOption("a", "a"),)))
    assert fields_of(error) == ["options"]
    check_property_patch(EventPropertyType.ENUMERATION, "Tier", (EventOption("B", "b"),))
    check_property_patch(EventPropertyType.STRING, None, None)
    with pytest.raises(ValidationError):
        check_property_patch(EventPropertyType.STRING, None, (EventOption("B", "b"),))
    with pytest.raises(ValidationError):
        check_property_patch(EventPropertyType.ENUMERATION, None, (EventOption("B", " "),))
    check_definition_label(None)
    with pytest.raises(ValidationError):
        check_definition_label("x" * 101)


def test_object_types_sort_and_times() -> None:
    for raw in ("contact", "CONTACTS", " 0-1 ", "Contact"):
        assert object_type_id(raw) == "0-1"
    assert object_type_id("companies") == "0-2"
    with pytest.raises(ValidationError, match="Unable to infer object type from: planet"):
        object_type_id("planet")
    assert sort_descending([]) is True
    assert sort_descending(["occurredAt"]) is False
    assert sort_descending(["ascending"]) is False
    assert sort_descending(["-occurredAt", "-occurredAt"]) is True
    assert sort_descending(["DESCENDING"]) is True
    for bad in (["occurredAt", "-occurredAt"], ["hs_city"]):
        with pytest.raises(ValidationError, match="single sort field"):
            sort_descending(bad)
    assert instant_param_ms("1767312000000", "occurredAfter") == 1767312000000
    assert instant_param_ms("2026-01-02T00:00:00Z", "occurredAfter") == 1767312000000
    assert instant_param_ms("2026-01-02T01:00:00+01:00", "occurredAfter") == 1767312000000
    with pytest.raises(ValidationError) as error:
        instant_param_ms("soon", "occurredBefore")
    assert fields_of(error) == ["occurredBefore"]


def test_names_values_and_query_filters() -> None:
    assert event_name_of("pe62515_login", 62515) == "login"
    assert event_name_of("pe1_login", 62515) == "pe1_login"
    assert event_name_of(" login ", 62515) == "login"
    assert [property_text(v) for v in ("a", 5, 1.5, True, False, None)] == [
        "a",
        "5",
        "1.5",
        "true",
        "false",
        None,
    ]
    params = [
        ("objectType", "contact"),
        ("objectProperty.email", "a@example.com"),
        ("property.hs_city", "new york"),
        ("property.plan", "pro"),
    ]
    assert record_and_property_filters(params) == (
        "a@example.com",
        [("hs_city", "new york"), ("plan", "pro")],
    )
    for bad in ("objectProperty.phone", "property.", "property.a.b"):
        with pytest.raises(ValidationError) as error:
            record_and_property_filters([(bad, "1")])
        assert fields_of(error) == [bad]


def test_cursors_round_trip_and_refuse_forgeries() -> None:
    cursor = encode_cursor(1767312000000, 42)
    assert decode_cursor(cursor, 2, numbers=True) == ["1767312000000", "42"]
    assert decode_cursor(encode_cursor("signed_up"), 1) == ["signed_up"]
    for bad in ("", "!!!", "%%%", encode_cursor(1), encode_cursor("a", 2), "bm9wZQ"):
        with pytest.raises(ValidationError) as error:
            decode_cursor(bad, 2, numbers=True)
        assert fields_of(error) == ["after"]
