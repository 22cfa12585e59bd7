"""Property definitions, name rules and value coercion: HubSpot's property model, without I/O.

Every value travels as a string. Coercion turns whatever a client sent (a string, a number, a bool)
into the canonical string kept in the store, or into a `PropertyError` shaped like HubSpot's
validation results (`code`, `message`, property `name`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import orjson

from hubtrail.core.errors import FieldError, ValidationError

MAX_STRING_CHARS = 65_536
VALUE_KEY_CHARS = 200
PROPERTY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_EPOCH_MS_RE = re.compile(r"^-?[0-9]{1,15}$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TRUE = frozenset({"true", "yes", "1", "on", "y"})
_FALSE = frozenset({"false", "no", "0", "off", "n"})
MS_PER_DAY = 86_400_000


class ObjectType(StrEnum):
    CONTACT = "contacts"
    COMPANY = "companies"


class PropertyType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    ENUMERATION = "enumeration"
    BOOL = "bool"


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    value: str
    hidden: bool = False
    display_order: int = 0


@dataclass(frozen=True, slots=True)
class PropertyDefinition:
    """One property of one object type, as HubSpot's properties API describes it."""

    name: str
    label: str
    type: PropertyType
    field_type: str
    group_name: str
    description: str = ""
    options: tuple[Option, ...] = ()
    read_only_value: bool = False
    hubspot_defined: bool = True
    has_unique_value: bool = False

    @property
    def multiple(self) -> bool:
        """Whether an enumeration takes several `;`-separated values."""
        return self.type is PropertyType.ENUMERATION and self.field_type == "checkbox"


@dataclass(frozen=True, slots=True)
class PropertyError:
    """Why a value was refused, in HubSpot's validation-result terms."""

    name: str
    code: str
    message: str


# --- coercion -------------------------------------------------------------------------------


def coerce_value(
    definition: PropertyDefinition, raw: object, current: str | None = None
) -> str | PropertyError:
    """The canonical string for `raw` under `definition`, or why it is not valid.

    An empty string clears a property. `current` is needed for enumerations, where a leading `;`
    appends to the values already set.
    """
    if raw is None or raw == "":
        return ""
    kind = definition.type
    if kind is PropertyType.STRING:
        return _coerce_string(definition, raw)
    if kind is PropertyType.NUMBER:
        return _coerce_number(definition, raw)
    if kind is PropertyType.BOOL:
        return _coerce_bool(definition, raw)
    if kind is PropertyType.DATE:
        return _coerce_date(definition, raw)
    if kind is PropertyType.DATETIME:
        return _coerce_datetime(definition, raw)
    return _coerce_enumeration(definition, raw, current)


def _text(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _coerce_string(definition: PropertyDefinition, raw: object) -> str | PropertyError:
    text = _text(raw)
    if "\x00" in text:
        return PropertyError(
            definition.name,
            "INVALID_STRING",
            f"{definition.name} contains a NUL (\\u0000) character.",
        )
    if len(text) > MAX_STRING_CHARS:
        return PropertyError(
            definition.name,
            "VALUE_TOO_LONG",
            f"{definition.name} is {len(text)} characters long; the limit is {MAX_STRING_CHARS}.",
        )
    return text


def format_number(value: Decimal) -> str:
    """A number as HubSpot returns it: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _coerce_number(definition: PropertyDefinition, raw: object) -> str | PropertyError:
    text = _text(raw).strip()
    try:
        number = None if isinstance(raw, bool) else Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        return PropertyError(definition.name, "INVALID_INTEGER", f"{text} was not a valid number.")
    return format_number(number)


def _coerce_bool(definition: PropertyDefinition, raw: object) -> str | PropertyError:
    text = _text(raw).strip().lower()
    if text in _TRUE:
        return "true"
    if text in _FALSE:
        return "false"
    return PropertyError(definition.name, "INVALID_BOOLEAN", f"{raw} was not a valid boolean.")


def parse_instant_ms(raw: object) -> int | None:
    """Epoch milliseconds from epoch ms (number or digits) or an ISO-8601 string, else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return int(raw)
    text = str(raw).strip()
    if _EPOCH_MS_RE.match(text):
        return int(text)
    if _DATE_RE.match(text):
        text += "T00:00:00+00:00"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def format_datetime_ms(ms: int) -> str:
    """Epoch ms as HubSpot writes datetimes: ISO-8601 UTC with milliseconds and `Z`."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _coerce_date(definition: PropertyDefinition, raw: object) -> str | PropertyError:
    ms = parse_instant_ms(raw)
    if ms is None:
        return PropertyError(
            definition.name, "INVALID_DATE", f"{raw} is not a valid date (use YYYY-MM-DD)."
        )
    if ms % MS_PER_DAY:
        at = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%H:%M:%S.") + f"{ms % 1000:03d}"
        return PropertyError(
            definition.name, "INVALID_DATE", f"{raw} is at {at} UTC, not midnight!"
        )
    return _iso_day(ms)


def _iso_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


def _coerce_datetime(definition: PropertyDefinition, raw: object) -> str | PropertyError:
    ms = parse_instant_ms(raw)
    if ms is None:
        return PropertyError(definition.name, "INVALID_LONG", f"{raw} was not a valid long.")
    return format_datetime_ms(ms)


def _coerce_enumeration(
    definition: PropertyDefinition, raw: object, current: str | None
) -> str | PropertyError:
    text = _text(raw)
    appending = text.startswith(";")
    wanted = [part.strip() for part in text.split(";") if part.strip()]
    by_key = {option.value.lower(): option.value for option in definition.options}
    chosen: list[str] = []
    for value in wanted:
        canonical = by_key.get(value.lower())
        if canonical is None:
            allowed = ", ".join(option.value for option in definition.options)
            return PropertyError(
                definition.name,
                "INVALID_OPTION",
                f"{value} was not one of the allowed options: [{allowed}]",
            )
        if canonical not in chosen:
            chosen.append(canonical)
    if definition.multiple and appending and current:
        chosen = [*current.split(";"), *(v for v in chosen if v not in current.split(";"))]
    if len(chosen) > 1 and not definition.multiple:
        return PropertyError(
            definition.name, "INVALID_OPTION", f"{definition.name} takes one value, not {text}."
        )
    return ";".join(chosen)


@dataclass(frozen=True, slots=True)
class CoercedProperties:
    """The canonical values that passed, and one error per value that did not."""

    values: dict[str, str]
    errors: list[PropertyError]


def coerce_properties(
    definitions: Mapping[str, PropertyDefinition],
    raw: Mapping[str, object],
    current: Mapping[str, str],
    *,
    fold_case: bool = False,
) -> CoercedProperties:
    """Check a set of writes against the definitions: unknown, read-only and invalid values fail.

    `fold_case` lowercases names first (query-string parameters); the CRM API is exact, as
    HubSpot's is.
    """
    values: dict[str, str] = {}
    errors: list[PropertyError] = []
    for raw_name, raw_value in raw.items():
        name = raw_name.lower() if fold_case else raw_name
        definition = definitions.get(name)
        if definition is None:
            errors.append(
                PropertyError(
                    raw_name, "PROPERTY_DOESNT_EXIST", f'Property "{raw_name}" does not exist'
                )
            )
        elif definition.read_only_value:
            errors.append(
                PropertyError(
                    raw_name,
                    "READ_ONLY_VALUE",
                    f'Property "{raw_name}" is read-only and cannot be set',
                )
            )
        else:
            coerced = coerce_value(definition, raw_value, current.get(name))
            if isinstance(coerced, PropertyError):
                errors.append(coerced)
            else:
                values[name] = coerced
    return CoercedProperties(values, errors)


def value_key(kind: PropertyType, value: str) -> str:
    """A stored value as search compares it, cut to the indexed length: lowercased for text
    (HubSpot's search ignores case), exact for enumerations and bools (which it does not)."""
    key = value[:VALUE_KEY_CHARS]
    return key if kind in (PropertyType.ENUMERATION, PropertyType.BOOL) else key.lower()


def value_number(kind: PropertyType, value: str) -> float | None:
    """A stored value as a number for range filters and sorting, or None when it has none.

    Numbers are themselves; dates and datetimes are epoch milliseconds; bools are 1 and 0.
    """
    if not value:
        return None
    if kind is PropertyType.NUMBER:
        return float(Decimal(value))
    if kind in (PropertyType.DATE, PropertyType.DATETIME):
        ms = parse_instant_ms(value)
        return float(ms) if ms is not None else None
    if kind is PropertyType.BOOL:
        return 1.0 if value == "true" else 0.0
    return None


def add_numbers(current: str | None, amount: str) -> str:
    """`current + amount` for number properties (revenue, counters); an empty current is 0."""
    base = Decimal(current) if current else Decimal(0)
    return format_number(base + Decimal(amount))


def normalize_property_name(raw: str) -> str:
    """Lowercase, spaces and dots to `_`: how HubSpot's UI turns labels into internal names."""
    return re.sub(r"[^a-z0-9_]", "_", raw.strip().lower())


def property_values_error(errors: list[PropertyError]) -> ValidationError:
    """HubSpot's 400 for invalid writes: the results as JSON in `message`, again in `errors[]`."""
    results = [
        {"isValid": False, "message": e.message, "error": e.code, "name": e.name} for e in errors
    ]
    return ValidationError(
        "Property values were not valid: " + orjson.dumps(results).decode(),
        errors=[FieldError(e.message, e.code, {"propertyName": [e.name]}) for e in errors],
    )
