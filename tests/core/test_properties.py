import pytest

from hubtrail.core.default_properties import DEFAULT_COMPANY_PROPERTIES, DEFAULT_CONTACT_PROPERTIES
from hubtrail.core.properties import (
    PROPERTY_NAME_RE,
    Option,
    PropertyDefinition,
    PropertyError,
    PropertyType,
    add_numbers,
    coerce_value,
    format_datetime_ms,
    parse_instant_ms,
)


def prop(
    kind: PropertyType, field_type: str = "text", options: tuple[Option, ...] = ()
) -> PropertyDefinition:
    return PropertyDefinition("p", "P", kind, field_type, "g", options=options)


NUMBER = prop(PropertyType.NUMBER, "number")
DATE = prop(PropertyType.DATE, "date")
DATETIME = prop(PropertyType.DATETIME, "date")
BOOL = prop(PropertyType.BOOL, "booleancheckbox")
SELECT = prop(PropertyType.ENUMERATION, "select", (Option("A", "a"), Option("B", "b")))
CHECKBOX = prop(
    PropertyType.ENUMERATION, "checkbox", (Option("A", "a"), Option("B", "b"), Option("C", "c"))
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", "10"),
        (10, "10"),
        ("1.50", "1.5"),
        (2.5, "2.5"),
        ("-3", "-3"),
        ("1e3", "1000"),
        (" 7 ", "7"),
    ],
)
def test_numbers_become_canonical_strings(raw: object, expected: str) -> None:
    assert coerce_value(NUMBER, raw) == expected


@pytest.mark.parametrize("raw", ["ten", "1,000", "NaN", "Infinity", True])
def test_bad_numbers_are_invalid_integer(raw: object) -> None:
    result = coerce_value(NUMBER, raw)
    assert isinstance(result, PropertyError)
    assert result.code == "INVALID_INTEGER"


def test_empty_string_clears_any_type() -> None:
    for definition in (NUMBER, DATE, DATETIME, BOOL, SELECT):
        assert coerce_value(definition, "") == ""


def test_dates_must_be_midnight_utc() -> None:
    assert coerce_value(DATE, "2015-05-01") == "2015-05-01"
    assert coerce_value(DATE, 1430438400000) == "2015-05-01"
    assert coerce_value(DATE, "2015-05-01T00:00:00Z") == "2015-05-01"
    late = coerce_value(DATE, "1635535865")
    assert isinstance(late, PropertyError)
    assert late.code == "INVALID_DATE"
    assert "not midnight" in late.message
    garbage = coerce_value(DATE, "yesterday")
    assert isinstance(garbage, PropertyError)
    assert garbage.code == "INVALID_DATE"


def test_datetimes_accept_epoch_ms_and_iso() -> None:
    assert coerce_value(DATETIME, 1427997766000) == "2015-04-02T18:02:46.000Z"
    assert coerce_value(DATETIME, "2015-04-02T20:02:46.5+02:00") == "2015-04-02T18:02:46.500Z"
    bad = coerce_value(DATETIME, "tomorrow")
    assert bad == PropertyError("p", "INVALID_LONG", "tomorrow was not a valid long.")


def test_bools() -> None:
    assert coerce_value(BOOL, True) == "true"
    assert coerce_value(BOOL, "No") == "false"
    result = coerce_value(BOOL, "maybe")
    assert isinstance(result, PropertyError)
    assert result.code == "INVALID_BOOLEAN"


def test_enumerations_take_option_values() -> None:
    assert coerce_value(SELECT, "A") == "a"
    wrong = coerce_value(SELECT, "z")
    assert isinstance(wrong, PropertyError)
    assert wrong.code == "INVALID_OPTION"
    two = coerce_value(SELECT, "a;b")
    assert isinstance(two, PropertyError)


def test_checkbox_values_append_with_leading_semicolon() -> None:
    assert coerce_value(CHECKBOX, "a;b") == "a;b"
    assert coerce_value(CHECKBOX, ";c", current="a;b") == "a;b;c"
    assert coerce_value(CHECKBOX, "c", current="a;b") == "c"


def test_long_strings_are_refused() -> None:
    result = coerce_value(prop(PropertyType.STRING), "x" * 70_000)
    assert isinstance(result, PropertyError)
    assert result.code == "VALUE_TOO_LONG"


def test_instants_and_formatting() -> None:
    assert parse_instant_ms("2026-01-20T21:14:16.512Z") == 1768943656512
    assert parse_instant_ms("soon") is None
    assert format_datetime_ms(0) == "1970-01-01T00:00:00.000Z"


def test_add_numbers() -> None:
    assert add_numbers(None, "12.5") == "12.5"
    assert add_numbers("12.5", "0.5") == "13"


def test_default_properties_follow_hubspot_name_rules() -> None:
    for definitions in (DEFAULT_CONTACT_PROPERTIES, DEFAULT_COMPANY_PROPERTIES):
        names = [d.name for d in definitions]
        assert len(names) == len(set(names))
        assert all(PROPERTY_NAME_RE.match(name) for name in names)
    contact = {d.name: d for d in DEFAULT_CONTACT_PROPERTIES}
    assert contact["hs_analytics_revenue"].read_only_value
    assert not contact["firstname"].read_only_value
    assert [o.value for o in contact["lifecyclestage"].options][:2] == ["subscriber", "lead"]
