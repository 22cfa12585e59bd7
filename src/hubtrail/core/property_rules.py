"""What the properties API accepts as a definition: names, labels, field types, options.

Pure checks that return the problem as text (or None), so the API can name the failing field.
"""

from __future__ import annotations

import re

from hubtrail.core.errors import FieldError
from hubtrail.core.properties import Option, PropertyType

# fieldType values each type takes. HubSpot's `calculation_equation` is left out: hubtrail does not
# evaluate formulas, so a calculated property could never get a value.
FIELD_TYPES: dict[PropertyType, tuple[str, ...]] = {
    PropertyType.STRING: ("text", "textarea", "file", "html", "phonenumber"),
    PropertyType.NUMBER: ("number",),
    PropertyType.DATE: ("date",),
    PropertyType.DATETIME: ("date",),
    PropertyType.ENUMERATION: ("select", "radio", "checkbox", "booleancheckbox"),
    PropertyType.BOOL: ("booleancheckbox",),
}
MAX_DEFINITION_NAME_CHARS = 100  # names must be shorter than this
RESERVED_NAME_PREFIX = "hs_"
MAX_UNIQUE_VALUE_PROPERTIES = 10  # per object type, as in HubSpot
DEFINITION_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_LABEL_CHARS = 200
BOOL_OPTIONS = (Option("Yes", "true", display_order=0), Option("No", "false", display_order=1))


def definition_name_problem(name: str, noun: str = "property") -> str | None:
    """Why `name` cannot be the internal name of a new property (or group), or None.

    Lowercase letters, digits and `_`, starting with a letter, shorter than 100 characters: the
    rule HubSpot's API applies, so a definition made here can be recreated in HubSpot.
    """
    if not name:
        return f"A {noun} name is required."
    if len(name) >= MAX_DEFINITION_NAME_CHARS:
        return (
            f"Names for {noun} should have less than {MAX_DEFINITION_NAME_CHARS} characters; "
            f"this one has {len(name)}."
        )
    if not DEFINITION_NAME_RE.match(name):
        return (
            f"{name!r} is not a valid {noun} name: names should be lowercase, start with a "
            "letter and use only a-z, 0-9 and _."
        )
    return None


def label_problem(label: str, noun: str = "property") -> str | None:
    """Why `label` cannot label a property (or group), or None."""
    if not label.strip():
        return f"A {noun} needs a label."
    if len(label) > MAX_LABEL_CHARS:
        return f"Labels should have at most {MAX_LABEL_CHARS} characters, not {len(label)}."
    return None


def field_type_problem(kind: PropertyType, field_type: str) -> str | None:
    """Why `field_type` does not fit a property of type `kind`, or None."""
    allowed = FIELD_TYPES[kind]
    if field_type in allowed:
        return None
    if field_type == "calculation_equation":
        return "Calculated properties (fieldType calculation_equation) are not supported."
    return (
        f"fieldType {field_type!r} does not fit a {kind.value} property; "
        f"use one of {', '.join(allowed)}."
    )


def options_problem(kind: PropertyType, options: tuple[Option, ...]) -> tuple[str, str] | None:
    """(field, why) when `options` do not suit a property of type `kind`, else None.

    Enumerations need options whose values are unique ignoring case (values are matched that
    way) and free of `;` (it separates multi-select values). Bools take only `true` / `false`.
    """
    if kind not in (PropertyType.ENUMERATION, PropertyType.BOOL):
        if options:
            return "options", "Only enumeration and bool properties take options."
        return None
    if kind is PropertyType.ENUMERATION and not options:
        return "options", "An enumeration property needs at least one option."
    seen: set[str] = set()
    for i, option in enumerate(options):
        if not option.label.strip():
            return f"options[{i}].label", "Every option needs a label."
        if not option.value.strip():
            return f"options[{i}].value", "Every option needs a value."
        if ";" in option.value:
            return f"options[{i}].value", f"Option value {option.value!r} contains ';'."
        if option.value.lower() in seen:
            return f"options[{i}].value", f"Option value {option.value!r} appears twice."
        seen.add(option.value.lower())
    if kind is PropertyType.BOOL and options and seen != {"true", "false"}:
        return "options", "A bool property's options must have the values true and false."
    return None


def definition_errors(
    name: str,
    label: str,
    kind: str,
    field_type: str,
    options: tuple[Option, ...],
    *,
    new: bool,
) -> list[FieldError]:
    """Every reason a property definition is not acceptable, each naming its field.

    `new` adds the name rules, which only creation needs (HubSpot's own `hs_` names exist).
    """

    def error(where: str, code: str, message: str) -> FieldError:
        return FieldError(message, code, {"propertyName": [name]}, where)

    errors: list[FieldError] = []
    if new:
        problem = definition_name_problem(name)
        if problem is None and name.startswith(RESERVED_NAME_PREFIX):
            problem = f"Names starting with {RESERVED_NAME_PREFIX} are reserved for HubSpot."
        if problem is not None:
            errors.append(error("name", "INVALID_PROPERTY_NAME", problem))
    problem = label_problem(label)
    if problem is not None:
        errors.append(error("label", "INVALID_LABEL", problem))
    try:
        property_type = PropertyType(kind)
    except ValueError:
        allowed = ", ".join(t.value for t in PropertyType)
        errors.append(
            error("type", "INVALID_PROPERTY_TYPE", f"{kind!r} is not a type; use one of {allowed}.")
        )
        return errors
    problem = field_type_problem(property_type, field_type)
    if problem is not None:
        errors.append(error("fieldType", "INVALID_FIELD_TYPE", problem))
    option_problem = options_problem(property_type, options)
    if option_problem is not None:
        errors.append(error(option_problem[0], "INVALID_OPTIONS", option_problem[1]))
    return errors
