"""Behavioral event names: how a name or id sent by a client finds (or makes) a definition.

HubSpot fires an event by numeric id or by name; a name with no definition creates one, once.
Internal names follow HubSpot's event rule `^[a-z][a-z0-9_]*$`, at most 50 characters; the
fully qualified name is `pe{hubId}_{name}`.

Also the rules of the event definitions API (names, labels, property types, enumeration options)
and the parsing of the events read API's parameters (object types, sort, times, paging cursors),
kept here so both are testable without HTTP or SQL.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from enum import StrEnum

from hubtrail.core.errors import FieldError, ValidationError
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.properties import parse_instant_ms

MAX_EVENT_NAME_CHARS = 50
MAX_EVENT_LABEL_CHARS = 100
_QUALIFIED_RE = re.compile(r"^pe([0-9]+)_(.+)$")
_INT = re.compile(r"^-?[0-9]{1,18}$")


@dataclass(frozen=True, slots=True)
class EventRef:
    """What a client named: a definition id (digits) and/or an internal name, with its label."""

    definition_id: int | None
    name: str | None
    label: str


def internal_event_name(label: str) -> str | None:
    """HubSpot's internal name for a label, or None when nothing usable is left.

    `"Clicked Buy Button"` → `"clicked_buy_button"`; a name that would start with a digit gets an
    `e_` prefix so it stays valid.
    """
    name = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
    if not name:
        return None
    if not name[0].isalpha():
        name = "e_" + name
    return name[:MAX_EVENT_NAME_CHARS].rstrip("_")


def parse_event_ref(raw: str, hub_id: int) -> EventRef | None:
    """Read `_n`, `eventName` or a Segment event name. None when it names nothing usable.

    All digits: a definition id (HubSpot's `000000001625` form included); if no definition has it,
    the processor falls back to the name. `pe{hubId}_name` is unwrapped to `name`.
    """
    text = raw.strip()
    if not text:
        return None
    qualified = _QUALIFIED_RE.match(text)
    if qualified and int(qualified.group(1)) == hub_id:
        text = qualified.group(2)
    definition_id = int(text) if is_ascii_digits(text) else None
    return EventRef(
        definition_id=definition_id,
        name=internal_event_name(text),
        label=text[:MAX_EVENT_LABEL_CHARS],
    )


def qualified_event_name(hub_id: int, name: str) -> str:
    return f"pe{hub_id}_{name}"


# --- the event definitions API's rules ---------------------------------------------------------

EVENT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_PROPERTY_NAME_CHARS = 50
MAX_PROPERTY_LABEL_CHARS = 50
MAX_PROPERTIES_PER_DEFINITION = 50
MAX_DEFINITIONS_PER_PORTAL = 500
RESERVED_PROPERTY_PREFIX = "hs_"  # HubSpot's default event properties


class EventPropertyType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    ENUMERATION = "enumeration"
    DATETIME = "datetime"
    DATE = "date"
    BOOL = "bool"


# How HubSpot's UI shows each type (the `fieldType` every Property carries).
FIELD_TYPES = {
    EventPropertyType.STRING: "text",
    EventPropertyType.NUMBER: "number",
    EventPropertyType.ENUMERATION: "select",
    EventPropertyType.DATETIME: "date",
    EventPropertyType.DATE: "date",
    EventPropertyType.BOOL: "booleancheckbox",
}


@dataclass(frozen=True, slots=True)
class EventOption:
    """One choice of an enumeration property."""

    label: str
    value: str
    hidden: bool = False
    display_order: int = -1
    description: str = ""


@dataclass(frozen=True, slots=True)
class EventPropertyInput:
    """A custom event property as a client sent it, before the rules are applied."""

    label: str
    type: str
    name: str | None = None
    description: str = ""
    options: tuple[EventOption, ...] = ()


@dataclass(frozen=True, slots=True)
class EventPropertySpec:
    """A custom event property that passed the rules: named, typed, options checked."""

    name: str
    label: str
    type: EventPropertyType
    description: str = ""
    options: tuple[EventOption, ...] = ()


@dataclass(frozen=True, slots=True)
class EventDefinitionSpec:
    """A new event definition that passed the rules."""

    name: str
    label: str
    description: str
    properties: tuple[EventPropertySpec, ...]


def _field_error(field: str, message: str, code: str = "INVALID") -> FieldError:
    return FieldError(message, code, {"field": [field]}, in_=field)


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError("; ".join(e.message for e in errors), errors=errors)


def name_errors(name: str, field: str, max_chars: int = MAX_EVENT_NAME_CHARS) -> list[FieldError]:
    """Why `name` is not a valid internal name (`^[a-z][a-z0-9_]*$`, at most `max_chars`)."""
    if not EVENT_NAME_RE.match(name):
        return [
            _field_error(
                field,
                f"{field} '{name}' must start with a lowercase letter and contain only "
                "lowercase letters, digits and underscores",
                "INVALID_NAME",
            )
        ]
    if len(name) > max_chars:
        return [_field_error(field, f"{field} is longer than {max_chars} characters", "TOO_LONG")]
    return []


def label_errors(label: str, field: str, max_chars: int) -> list[FieldError]:
    if not label.strip():
        return [_field_error(field, f"{field} must not be blank", "REQUIRED")]
    if len(label) > max_chars:
        return [_field_error(field, f"{field} is longer than {max_chars} characters", "TOO_LONG")]
    return []


def option_errors(
    kind: EventPropertyType, options: tuple[EventOption, ...], path: str
) -> list[FieldError]:
    """Enumerations need distinct, non-blank options; other types take none."""
    field = f"{path}options"
    if kind is not EventPropertyType.ENUMERATION:
        if options:
            return [_field_error(field, f"{field} are only allowed on enumeration properties")]
        return []
    if not options:
        return [_field_error(field, f"{field} are required for an enumeration", "REQUIRED")]
    errors = []
    values = [option.value for option in options]
    if any(not value.strip() for value in values):
        errors.append(_field_error(field, f"{field} must not have a blank value"))
    if len(set(values)) != len(values):
        errors.append(_field_error(field, f"{field} have duplicate values", "DUPLICATE_VALUE"))
    return errors


def _property_spec(
    raw: EventPropertyInput, path: str
) -> tuple[EventPropertySpec | None, list[FieldError]]:
    errors = label_errors(raw.label, f"{path}label", MAX_PROPERTY_LABEL_CHARS)
    name = raw.name if raw.name is not None else internal_event_name(raw.label)
    if name is None:
        errors.append(_field_error(f"{path}name", f"{path}name cannot be made from the label"))
    else:
        errors += name_errors(name, f"{path}name", MAX_PROPERTY_NAME_CHARS)
        if name.startswith(RESERVED_PROPERTY_PREFIX):
            errors.append(
                _field_error(f"{path}name", f"names starting with hs_ are HubSpot's: {name}")
            )
    try:
        kind = EventPropertyType(raw.type)
    except ValueError:
        allowed = ", ".join(t.value for t in EventPropertyType)
        errors.append(_field_error(f"{path}type", f"{path}type must be one of: {allowed}"))
        return None, errors
    errors += option_errors(kind, raw.options, path)
    if errors or name is None:
        return None, errors
    return EventPropertySpec(name, raw.label, kind, raw.description, raw.options), errors


def check_property(raw: EventPropertyInput) -> EventPropertySpec:
    """The property as stored, its name made from the label when missing; or ValidationError."""
    spec, errors = _property_spec(raw, "")
    _raise_if(errors)
    assert spec is not None
    return spec


def check_definition(
    *,
    label: str,
    name: str | None,
    description: str,
    primary_object: str,
    properties: list[EventPropertyInput],
) -> EventDefinitionSpec:
    """A create request checked against HubSpot's rules; every problem in one ValidationError."""
    errors = label_errors(label, "label", MAX_EVENT_LABEL_CHARS)
    final_name = name if name is not None else internal_event_name(label)
    if final_name is None:
        errors.append(_field_error("name", "name cannot be made from the label"))
    else:
        errors += name_errors(final_name, "name")
    if primary_object.upper() != "CONTACT":
        errors.append(
            _field_error("primaryObject", "hubtrail ties events to contacts: use CONTACT")
        )
    if len(properties) > MAX_PROPERTIES_PER_DEFINITION:
        errors.append(
            _field_error(
                "propertyDefinitions",
                f"an event has at most {MAX_PROPERTIES_PER_DEFINITION} properties",
                "TOO_MANY",
            )
        )
    specs = []
    for index, raw in enumerate(properties):
        spec, problems = _property_spec(raw, f"propertyDefinitions[{index}].")
        errors += problems
        if spec is not None:
            specs.append(spec)
    names = [spec.name for spec in specs]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        errors.append(_field_error("propertyDefinitions", f"property {duplicate} is defined twice"))
    _raise_if(errors)
    assert final_name is not None
    return EventDefinitionSpec(final_name, label, description, tuple(specs))


def check_property_patch(
    kind: EventPropertyType, label: str | None, options: tuple[EventOption, ...] | None
) -> None:
    """A property update (label, description, options) checked against the property's type."""
    errors = []
    if label is not None:
        errors += label_errors(label, "label", MAX_PROPERTY_LABEL_CHARS)
    if options is not None:
        errors += option_errors(kind, options, "")
    _raise_if(errors)


def check_definition_label(label: str | None) -> None:
    if label is not None:
        _raise_if(label_errors(label, "label", MAX_EVENT_LABEL_CHARS))


# --- reading occurrences -------------------------------------------------------------------------

CONTACT_OBJECT_TYPE_ID = "0-1"
_OBJECT_TYPE_IDS = {"contact": "0-1", "contacts": "0-1", "company": "0-2", "companies": "0-2"}
_OBJECT_TYPE_IDS |= {"deal": "0-3", "deals": "0-3", "ticket": "0-5", "tickets": "0-5"}
_PROPERTY_FILTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
SORT_ERROR = "Only a single sort field 'occurredAt' is supported"


def object_type_id(raw: str) -> str:
    """HubSpot's objectTypeId for `contact`, `contacts`, `CONTACT`, `0-1` and the like."""
    text = raw.strip().lower()
    if text in _OBJECT_TYPE_IDS.values():
        return text
    if text in _OBJECT_TYPE_IDS:
        return _OBJECT_TYPE_IDS[text]
    raise ValidationError(
        f"Unable to infer object type from: {raw}",
        errors=[_field_error("objectType", f"unknown object type {raw}")],
    )


def sort_descending(values: list[str]) -> bool:
    """Read `sort`: `occurredAt` (or ASCENDING) is oldest first; `-occurredAt` (or DESCENDING),
    also the default, is newest first, as a timeline reads."""
    choices = {value.strip() for value in values if value.strip()}
    if not choices:
        return True
    if len(choices) == 1:
        choice = choices.pop()
        if choice == "occurredAt" or choice.upper() == "ASCENDING":
            return False
        if choice == "-occurredAt" or choice.upper() == "DESCENDING":
            return True
    raise ValidationError(SORT_ERROR, errors=[_field_error("sort", SORT_ERROR)])


def record_and_property_filters(
    params: list[tuple[str, str]],
) -> tuple[str | None, list[tuple[str, str]]]:
    """The `objectProperty.email` and `property.{name}` parameters among a query's `params`."""
    email = None
    properties = []
    for key, value in params:
        if key.startswith("objectProperty."):
            if key != "objectProperty.email":
                message = f"{key}: only objectProperty.email identifies a contact"
                raise ValidationError(message, errors=[_field_error(key, message)])
            email = value
        elif key.startswith("property."):
            name = key.removeprefix("property.")
            if not _PROPERTY_FILTER_NAME.match(name):
                message = f"{key} does not name an event property"
                raise ValidationError(message, errors=[_field_error(key, message)])
            properties.append((name, value))
    return email, properties


def instant_param_ms(raw: str, field: str) -> int:
    """A time filter as epoch ms, from ISO-8601 or epoch ms; ValidationError if neither."""
    ms = parse_instant_ms(raw)
    if ms is None:
        message = f"{field} must be an ISO-8601 datetime or epoch milliseconds, not '{raw}'"
        raise ValidationError(message, errors=[_field_error(field, message)])
    return ms


def event_name_of(raw: str, hub_id: int) -> str:
    """The internal name in `{eventName}` or `eventType`: bare, or `pe{hubId}_{name}` unwrapped."""
    text = raw.strip()
    qualified = _QUALIFIED_RE.match(text)
    if qualified and int(qualified.group(1)) == hub_id:
        return qualified.group(2)
    return text


def property_text(value: object) -> str | None:
    """An occurrence property as the API returns it: a string (None for a JSON null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def encode_cursor(*parts: int | str) -> str:
    """An opaque paging cursor (`paging.next.after`) carrying `parts`."""
    text = "\n".join(str(part) for part in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int, *, numbers: bool = False) -> list[str]:
    """The `count` parts of a cursor made by `encode_cursor` (all integers if `numbers`);
    ValidationError if it is not one."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    parts = text.split("\n")
    if len(parts) != count or not all(parts) or (numbers and not all(map(_INT.match, parts))):
        message = f"'{cursor}' is not a paging cursor this API returned"
        raise ValidationError(message, errors=[_field_error("after", message)])
    return parts
