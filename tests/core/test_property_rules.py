"""The definition rules the properties API applies: names, labels, field types, options."""

import pytest

from hubtrail.core.default_properties import DEFAULT_PROPERTIES
from hubtrail.core.properties import Option, PropertyType
from hubtrail.core.property_rules import (
    FIELD_TYPES,
    definition_errors,
    definition_name_problem,
    field_type_problem,
    label_problem,
    options_problem,
)

A, B = Option("A", "a"), Option("B", "b")


@pytest.mark.parametrize("name", ["a", "favorite_color", "x1_2", "a" * 99, "hs"])
def test_valid_names(name: str) -> None:
    assert definition_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "required"),
        ("a" * 100, "less than 100"),
        ("Color", "lowercase"),
        ("1color", "start with a letter"),
        ("_color", "start with a letter"),
        ("fav.color", "a-z, 0-9 and _"),
        ("fav-color", "a-z, 0-9 and _"),
        ("fav color", "a-z, 0-9 and _"),
        ("café", "a-z, 0-9 and _"),
    ],
)
def test_invalid_names_say_why(name: str, fragment: str) -> None:
    problem = definition_name_problem(name)
    assert problem is not None
    assert fragment in problem


def test_group_names_use_the_same_rule_and_say_group() -> None:
    problem = definition_name_problem("Bad", "group")
    assert problem is not None
    assert "group" in problem


def test_labels() -> None:
    assert label_problem("Favorite color") is None
    assert label_problem("x" * 200) is None
    assert label_problem("  ") == "A property needs a label."
    assert "200" in (label_problem("x" * 201) or "")


@pytest.mark.parametrize(
    ("kind", "field_type"),
    [(kind, field_type) for kind, allowed in FIELD_TYPES.items() for field_type in allowed],
)
def test_every_listed_field_type_fits_its_type(kind: PropertyType, field_type: str) -> None:
    assert field_type_problem(kind, field_type) is None


@pytest.mark.parametrize(
    ("kind", "field_type"),
    [
        (PropertyType.STRING, "select"),
        (PropertyType.NUMBER, "text"),
        (PropertyType.DATE, "text"),
        (PropertyType.DATETIME, "number"),
        (PropertyType.BOOL, "checkbox"),
        (PropertyType.ENUMERATION, "text"),
        (PropertyType.STRING, "nonsense"),
    ],
)
def test_mismatched_field_types_list_the_allowed_ones(kind: PropertyType, field_type: str) -> None:
    problem = field_type_problem(kind, field_type)
    assert problem is not None
    assert ", ".join(FIELD_TYPES[kind]) in problem


def test_calculated_properties_are_refused_plainly() -> None:
    problem = field_type_problem(PropertyType.NUMBER, "calculation_equation")
    assert problem is not None
    assert "not supported" in problem


def test_every_default_property_passes_the_rules_it_would_be_updated_under() -> None:
    for definitions in DEFAULT_PROPERTIES.values():
        for d in definitions:
            errors = definition_errors(
                d.name, d.label, d.type.value, d.field_type, d.options, new=False
            )
            assert errors == [], d.name


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        (PropertyType.ENUMERATION, (A, B), None),
        (PropertyType.ENUMERATION, (), ("options", "at least one option")),
        (PropertyType.ENUMERATION, (A, Option("A2", "A")), ("options[1].value", "twice")),
        (PropertyType.ENUMERATION, (Option(" ", "a"),), ("options[0].label", "label")),
        (PropertyType.ENUMERATION, (Option("A", ""),), ("options[0].value", "value")),
        (PropertyType.ENUMERATION, (Option("A", "a;b"),), ("options[0].value", "';'")),
        (PropertyType.STRING, (), None),
        (PropertyType.STRING, (A,), ("options", "Only enumeration and bool")),
        (PropertyType.DATE, (A,), ("options", "Only enumeration and bool")),
        (PropertyType.BOOL, (), None),
        (PropertyType.BOOL, (Option("Yes", "true"), Option("No", "false")), None),
        (PropertyType.BOOL, (Option("Yes", "yes"), Option("No", "no")), ("options", "true")),
    ],
)
def test_options(
    kind: PropertyType, options: tuple[Option, ...], expected: tuple[str, str] | None
) -> None:
    problem = options_problem(kind, options)
    if expected is None:
        assert problem is None
        return
    assert problem is not None
    assert problem[0] == expected[0]
    assert expected[1] in problem[1]


def test_definition_errors_name_each_field_and_the_property() -> None:
    errors = definition_errors("Bad", "", "enumeration", "text", (), new=True)
    assert [(e.in_, e.code) for e in errors] == [
        ("name", "INVALID_PROPERTY_NAME"),
        ("label", "INVALID_LABEL"),
        ("fieldType", "INVALID_FIELD_TYPE"),
        ("options", "INVALID_OPTIONS"),
    ]
    assert all(e.context == {"propertyName": ["Bad"]} for e in errors)


def test_hs_prefix_is_reserved_for_new_properties_only() -> None:
    [error] = definition_errors("hs_thing", "Thing", "string", "text", (), new=True)
    assert (error.in_, error.code) == ("name", "INVALID_PROPERTY_NAME")
    assert "hs_" in error.message
    assert definition_errors("hs_thing", "Thing", "string", "text", (), new=False) == []


def test_an_unknown_type_stops_the_checks_that_depend_on_it() -> None:
    errors = definition_errors("x", "X", "phone_number", "text", (), new=True)
    assert [(e.in_, e.code) for e in errors] == [("type", "INVALID_PROPERTY_TYPE")]
    assert "string, number, date, datetime, enumeration, bool" in errors[0].message
