"""Property definitions, name rules and value coercion: HubSpot's property model, without I/O.

Every value travels as a string. Coercion turns whatever a client sent (a string, a number, a bool)
into the canonical string kept in the store, or into a `PropertyError` shaped like HubSpot's
validation results (`code`, `message`, property `name`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import orjson

from hubtrail.core.errors import FieldError, ValidationError

MAX_STRING_CHARS = 65_536
VALUE_KEY_CHARS = 200
PROPERTY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_EPOCH_MS_RE = re.compile(r"^-?\d{1,15}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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


def value_key(value: str) -> str:
    """A stored value as search compares it: lowercased, cut to the indexed length."""
    return value[:VALUE_KEY_CHARS].lower()


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


# --- the defaults every portal starts with --------------------------------------------------


def _options(*values: str) -> tuple[Option, ...]:
    return tuple(
        Option(label=value.replace("_", " ").title(), value=value, display_order=i)
        for i, value in enumerate(values)
    )


LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
ANALYTICS_SOURCES = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
EMPLOYEE_RANGES = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")

S, N, D, DT, E, B = (
    PropertyType.STRING,
    PropertyType.NUMBER,
    PropertyType.DATE,
    PropertyType.DATETIME,
    PropertyType.ENUMERATION,
    PropertyType.BOOL,
)
_FIELD_TYPES = {S: "text", N: "number", D: "date", DT: "date", E: "select", B: "booleancheckbox"}


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    label: str
    type: PropertyType = S
    group: str = "contactinformation"
    read_only: bool = False
    field_type: str = ""
    options: tuple[Option, ...] = field(default=())


def _build(specs: list[_Spec]) -> tuple[PropertyDefinition, ...]:
    return tuple(
        PropertyDefinition(
            name=spec.name,
            label=spec.label,
            type=spec.type,
            field_type=spec.field_type or _FIELD_TYPES[spec.type],
            group_name=spec.group,
            options=spec.options,
            read_only_value=spec.read_only,
        )
        for spec in specs
    )


_AI = "analyticsinformation"
DEFAULT_CONTACT_PROPERTIES = _build(
    [
        _Spec("email", "Email"),
        _Spec("firstname", "First Name"),
        _Spec("lastname", "Last Name"),
        _Spec("phone", "Phone Number", field_type="phonenumber"),
        _Spec("mobilephone", "Mobile Phone Number", field_type="phonenumber"),
        _Spec("company", "Company Name"),
        _Spec("website", "Website URL"),
        _Spec("address", "Street Address"),
        _Spec("city", "City"),
        _Spec("state", "State/Region"),
        _Spec("zip", "Postal Code"),
        _Spec("country", "Country/Region"),
        _Spec("jobtitle", "Job Title"),
        _Spec("industry", "Industry"),
        _Spec("annualrevenue", "Annual Revenue"),
        _Spec("message", "Message", field_type="textarea", group="contact_activity"),
        _Spec(
            "lifecyclestage",
            "Lifecycle Stage",
            E,
            field_type="radio",
            options=_options(*LIFECYCLE_STAGES),
        ),
        _Spec(
            "hs_lead_status",
            "Lead Status",
            E,
            group="sales_properties",
            field_type="radio",
            options=_options(*LEAD_STATUSES),
        ),
        _Spec("numemployees", "Number of Employees", E, options=_options(*EMPLOYEE_RANGES)),
        _Spec("hubspot_owner_id", "Contact owner", group="sales_properties"),
        _Spec("associatedcompanyid", "Primary Associated Company ID", N),
        _Spec("hs_language", "Preferred language"),
        _Spec("hs_timezone", "Time Zone"),
        _Spec("hs_persona", "Persona"),
        _Spec("createdate", "Create Date", DT, read_only=True),
        _Spec("lastmodifieddate", "Last Modified Date", DT, read_only=True),
        _Spec("hs_object_id", "Record ID", N, read_only=True),
        _Spec("hs_email_domain", "Email Domain", read_only=True),
        _Spec("hs_additional_emails", "Additional email addresses", read_only=True),
        _Spec("hs_merged_object_ids", "Merged Contact IDs", read_only=True),
        _Spec("ip_city", "IP City", group="conversioninformation", read_only=True),
        _Spec("ip_state", "IP State/Region", group="conversioninformation", read_only=True),
        _Spec("ip_country", "IP Country", group="conversioninformation", read_only=True),
        _Spec("hs_email_optout", "Unsubscribed from all email", B, read_only=True),
        _Spec(
            "hs_analytics_source", "Original Source", E, _AI, options=_options(*ANALYTICS_SOURCES)
        ),
        _Spec(
            "hs_analytics_source_data_1", "Original Source Drill-Down 1", group=_AI, read_only=True
        ),
        _Spec(
            "hs_analytics_source_data_2", "Original Source Drill-Down 2", group=_AI, read_only=True
        ),
        _Spec(
            "hs_latest_source",
            "Latest Traffic Source",
            E,
            _AI,
            True,
            options=_options(*ANALYTICS_SOURCES),
        ),
        _Spec("hs_latest_source_timestamp", "Latest Traffic Source Date", DT, _AI, True),
        _Spec("hs_analytics_first_url", "First Page Seen", group=_AI, read_only=True),
        _Spec("hs_analytics_last_url", "Last Page Seen", group=_AI, read_only=True),
        _Spec("hs_analytics_first_referrer", "First Referring Site", group=_AI, read_only=True),
        _Spec("hs_analytics_last_referrer", "Last Referring Site", group=_AI, read_only=True),
        _Spec("hs_analytics_first_timestamp", "Time First Seen", DT, _AI, True),
        _Spec("hs_analytics_last_timestamp", "Time Last Seen", DT, _AI, True),
        _Spec("hs_analytics_first_visit_timestamp", "Time of First Session", DT, _AI, True),
        _Spec("hs_analytics_last_visit_timestamp", "Time of Last Session", DT, _AI, True),
        _Spec("hs_analytics_num_page_views", "Number of Pageviews", N, _AI, True),
        _Spec("hs_analytics_num_visits", "Number of Sessions", N, _AI, True),
        _Spec("hs_analytics_average_page_views", "Average Pageviews", N, _AI, True),
        _Spec("hs_analytics_num_event_completions", "Number of event completions", N, _AI, True),
        _Spec("hs_analytics_revenue", "Event Revenue", N, _AI, True),
        _Spec("first_conversion_date", "First Conversion Date", DT, _AI, True),
        _Spec("recent_conversion_date", "Recent Conversion Date", DT, _AI, True),
        _Spec("first_conversion_event_name", "First Conversion", group=_AI, read_only=True),
        _Spec("recent_conversion_event_name", "Recent Conversion", group=_AI, read_only=True),
        _Spec("num_conversion_events", "Number of Form Submissions", N, _AI, True),
        _Spec("num_unique_conversion_events", "Number of Unique Forms Submitted", N, _AI, True),
        *(
            _Spec(f"hs_lifecyclestage_{stage}_date", f"Became a {stage} Date", DT, _AI, True)
            for stage in LIFECYCLE_STAGES
        ),
    ]
)

_CI = "companyinformation"
DEFAULT_COMPANY_PROPERTIES = _build(
    [
        _Spec("name", "Company name", group=_CI),
        _Spec("domain", "Company Domain Name", group=_CI),
        _Spec("website", "Website URL", group=_CI),
        _Spec("phone", "Phone Number", group=_CI, field_type="phonenumber"),
        _Spec("address", "Street Address", group=_CI),
        _Spec("address2", "Street Address 2", group=_CI),
        _Spec("city", "City", group=_CI),
        _Spec("state", "State/Region", group=_CI),
        _Spec("zip", "Postal Code", group=_CI),
        _Spec("country", "Country/Region", group=_CI),
        _Spec("description", "Description", group=_CI, field_type="textarea"),
        _Spec("industry", "Industry", group=_CI),
        _Spec("numberofemployees", "Number of Employees", N, _CI),
        _Spec("annualrevenue", "Annual Revenue", N, _CI),
        _Spec("lifecyclestage", "Lifecycle Stage", E, _CI, options=_options(*LIFECYCLE_STAGES)),
        _Spec("type", "Type", group=_CI),
        _Spec("hubspot_owner_id", "Company owner", group=_CI),
        _Spec("timezone", "Time Zone", group=_CI),
        _Spec("founded_year", "Year Founded", group=_CI),
        _Spec("is_public", "Is Public", B, _CI),
        _Spec("linkedin_company_page", "LinkedIn Company Page", group=_CI),
        _Spec("facebook_company_page", "Facebook Company Page", group=_CI),
        _Spec("twitterhandle", "Twitter Handle", group=_CI),
        _Spec("about_us", "About Us", group=_CI),
        _Spec("hs_additional_domains", "Additional Domains", group=_CI),
        _Spec("hs_merged_object_ids", "Merged Company IDs", group=_CI, read_only=True),
        _Spec("createdate", "Create Date", DT, _CI, True),
        _Spec("hs_lastmodifieddate", "Last Modified Date", DT, _CI, True),
        _Spec("hs_object_id", "Record ID", N, _CI, True),
        _Spec("num_associated_contacts", "Number of Associated Contacts", N, _CI, True),
        _Spec(
            "hs_analytics_source",
            "Original Source Type",
            E,
            _AI,
            True,
            options=_options(*ANALYTICS_SOURCES),
        ),
        _Spec("hs_analytics_num_page_views", "Number of Pageviews", N, _AI, True),
    ]
)

DEFAULT_GROUPS: dict[ObjectType, tuple[tuple[str, str], ...]] = {
    ObjectType.CONTACT: (
        ("contactinformation", "Contact information"),
        ("sales_properties", "Sales properties"),
        ("contact_activity", "Contact activity"),
        ("conversioninformation", "Conversion information"),
        (_AI, "Web analytics history"),
    ),
    ObjectType.COMPANY: ((_CI, "Company information"), (_AI, "Web analytics history")),
}

DEFAULT_PROPERTIES: dict[ObjectType, tuple[PropertyDefinition, ...]] = {
    ObjectType.CONTACT: DEFAULT_CONTACT_PROPERTIES,
    ObjectType.COMPANY: DEFAULT_COMPANY_PROPERTIES,
}


def property_values_error(errors: list[PropertyError]) -> ValidationError:
    """HubSpot's 400 for invalid writes: the results as JSON in `message`, again in `errors[]`."""
    results = [
        {"isValid": False, "message": e.message, "error": e.code, "name": e.name} for e in errors
    ]
    return ValidationError(
        "Property values were not valid: " + orjson.dumps(results).decode(),
        errors=[FieldError(e.message, e.code, {"propertyName": [e.name]}) for e in errors],
    )


# --- definition rules: what the properties API accepts ----------------------------------------

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
