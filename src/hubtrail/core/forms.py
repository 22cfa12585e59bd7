"""Forms, pure: what a form is (its fields, their validation, what happens after a submit), and
how a submission is checked against it.

A form belongs to a portal and has a guid (as HubSpot's). Each field writes one contact or
company property (`object_type`). Validation is the same on the server and in the embedded form:
required fields, email syntax, number ranges, dates as YYYY-MM-DD, values from the option list.
`check_submission` turns submitted name/value pairs into the contact's and the company's
property values, or into one error per field, in HubSpot's submission-error shape.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from hubtrail.core.emails import check_email
from hubtrail.core.properties import ObjectType

MAX_FIELDS = 50
MAX_VALUE_CHARS = 65_536
HONEYPOT_FIELD = "hs_website_hp"  # rendered hidden by the embed; a person never fills it in


class FieldType(StrEnum):
    EMAIL = "email"
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    SELECT = "select"
    CHECKBOX = "checkbox"  # one box (true/false), or several with options (a multi-value list)
    RADIO = "radio"
    DATE = "date"
    HIDDEN = "hidden"


# HubSpot's v3 forms API names for each field type (`fieldType`), both ways.
HUBSPOT_FIELD_TYPES = {
    FieldType.EMAIL: "email",
    FieldType.TEXT: "single_line_text",
    FieldType.TEXTAREA: "multi_line_text",
    FieldType.NUMBER: "number",
    FieldType.SELECT: "dropdown",
    FieldType.CHECKBOX: "multiple_checkboxes",
    FieldType.RADIO: "radio",
    FieldType.DATE: "datepicker",
    FieldType.HIDDEN: "single_line_text",
}
OBJECT_TYPE_IDS = {ObjectType.CONTACT: "0-1", ObjectType.COMPANY: "0-2"}


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class FormField:
    """One field: `name` is the property it writes on `object_type`."""

    name: str
    label: str
    type: FieldType
    object_type: ObjectType = ObjectType.CONTACT
    required: bool = False
    help_text: str = ""
    placeholder: str = ""
    default_value: str = ""
    options: tuple[Option, ...] = ()
    min_value: float | None = None  # numbers
    max_value: float | None = None


@dataclass(frozen=True, slots=True)
class Form:
    guid: str
    portal_id: int
    name: str
    fields: tuple[FormField, ...]
    submit_label: str = "Submit"
    thank_you_message: str = "Thanks for submitting the form."
    redirect_url: str = ""  # when set, the browser goes there instead of showing the message
    archived: bool = False
    created_at_ms: int = 0
    updated_at_ms: int = 0

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


def new_guid() -> str:
    return str(uuid.uuid4())


# --- checking a definition ----------------------------------------------------------------------

_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")


def definition_problems(form: Form) -> list[tuple[str, str]]:
    """What is wrong with a form's definition, as (where, message) pairs; empty when valid."""
    problems: list[tuple[str, str]] = []
    if not form.name.strip():
        problems.append(("name", "a form needs a name"))
    if not form.fields:
        problems.append(("fields", "a form needs at least one field"))
    if len(form.fields) > MAX_FIELDS:
        problems.append(("fields", f"a form has at most {MAX_FIELDS} fields"))
    seen: set[tuple[ObjectType, str]] = set()
    for index, item in enumerate(form.fields):
        where = f"fields[{index}]"
        if not _NAME.fullmatch(item.name):
            problems.append((f"{where}.name", f"{item.name!r} is not a property name"))
        if (item.object_type, item.name) in seen:
            problems.append((f"{where}.name", f"{item.name} is on the form twice"))
        seen.add((item.object_type, item.name))
        if not item.label.strip() and item.type is not FieldType.HIDDEN:
            problems.append((f"{where}.label", "a visible field needs a label"))
        if item.type in (FieldType.SELECT, FieldType.RADIO) and not item.options:
            problems.append((f"{where}.options", f"a {item.type.value} field needs options"))
        if (
            item.min_value is not None
            and item.max_value is not None
            and item.min_value > item.max_value
        ):
            problems.append((f"{where}.validation", "the minimum is above the maximum"))
    if not any(f.object_type is ObjectType.CONTACT and f.name == "email" for f in form.fields):
        problems.append(("fields", "a form needs an email field: it is how contacts are found"))
    if form.redirect_url and not form.redirect_url.startswith(("https://", "http://", "/")):
        problems.append(("redirectUrl", "a redirect must be an http(s) URL or a path"))
    return problems


# --- checking a submission ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    """HubSpot's submission error: `message` names the field as `fields.<name>`."""

    name: str
    error_type: str  # REQUIRED_FIELD, INVALID_EMAIL, NUMBER_OUT_OF_RANGE, INVALID_OPTION, …
    message: str


@dataclass(slots=True)
class CheckedSubmission:
    email: str | None = None
    contact_values: dict[str, str] = field(default_factory=dict)
    company_values: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)


def _error(name: str, kind: str, text: str) -> FieldError:
    return FieldError(name, kind, f"Error in 'fields.{name}'. {text}")


def _checked(item: FormField, raw: list[str]) -> tuple[str | None, FieldError | None]:
    """One field's stored value (None: nothing submitted) or its error."""
    values = [v.strip() for v in raw if v is not None and v.strip() != ""]
    if not values:
        if item.required:
            return None, _error(item.name, "REQUIRED_FIELD", "Required field is missing")
        return None, None
    if any(len(v) > MAX_VALUE_CHARS for v in values):
        return None, _error(item.name, "FIELD_TOO_LONG", "The value is too long")
    allowed = {o.value for o in item.options}
    if item.type is FieldType.CHECKBOX and item.options:
        wrong = [v for v in values if v not in allowed]
        if wrong:
            return None, _error(item.name, "INVALID_OPTION", f"{wrong[0]!r} is not an option")
        return ";".join(dict.fromkeys(values)), None
    value = values[-1]
    if item.type is FieldType.EMAIL:
        check = check_email(value)
        if check.email is None:
            return None, _error(item.name, "INVALID_EMAIL", "Invalid email address")
        return check.email, None
    if item.type is FieldType.NUMBER:
        try:
            number = float(value)
        except ValueError:
            return None, _error(item.name, "INVALID_NUMBER", "Enter a number")
        if (item.min_value is not None and number < item.min_value) or (
            item.max_value is not None and number > item.max_value
        ):
            low = "" if item.min_value is None else f"{item.min_value:g}"
            high = "" if item.max_value is None else f"{item.max_value:g}"
            return None, _error(
                item.name, "NUMBER_OUT_OF_RANGE", f"Enter a number between {low} and {high}"
            )
        return value, None
    if item.type is FieldType.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, _error(item.name, "INVALID_DATE", "Enter a date as YYYY-MM-DD")
        return value, None
    if item.type in (FieldType.SELECT, FieldType.RADIO) and value not in allowed:
        return None, _error(item.name, "INVALID_OPTION", f"{value!r} is not an option")
    if item.type is FieldType.CHECKBOX:
        return ("true" if value.lower() in ("true", "on", "yes", "1", "checked") else "false"), None
    return value, None


def check_submission(form: Form, submitted: list[tuple[str, str]]) -> CheckedSubmission:
    """Submitted (name, value) pairs against the form: every field's error, or the values.

    Names the form does not have are ignored, as HubSpot ignores them; a repeated name is a
    multi-value field (checkboxes)."""
    by_name: dict[str, list[str]] = {}
    for name, raw in submitted:
        by_name.setdefault(name, []).append(raw)
    checked = CheckedSubmission()
    for item in form.fields:
        value, error = _checked(item, by_name.get(item.name, []))
        if error is not None:
            checked.errors.append(error)
        elif value is not None:
            target = (
                checked.contact_values
                if item.object_type is ObjectType.CONTACT
                else checked.company_values
            )
            target[item.name] = value
    checked.email = checked.contact_values.get("email")
    return checked


def is_spam(submitted: list[tuple[str, str]]) -> bool:
    """The honeypot: a field hidden from people, filled in by bots."""
    return any(name == HONEYPOT_FIELD and value.strip() for name, value in submitted)


def form_to_json(form: Form) -> dict[str, Any]:
    """The stored document of a definition (the `forms.definition` column)."""
    return {
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "type": f.type.value,
                "objectType": f.object_type.value,
                "required": f.required,
                "helpText": f.help_text,
                "placeholder": f.placeholder,
                "defaultValue": f.default_value,
                "options": [{"label": o.label, "value": o.value} for o in f.options],
                "min": f.min_value,
                "max": f.max_value,
            }
            for f in form.fields
        ],
        "submitLabel": form.submit_label,
        "thankYouMessage": form.thank_you_message,
        "redirectUrl": form.redirect_url,
    }


def form_from_json(
    guid: str,
    portal_id: int,
    name: str,
    document: dict[str, Any],
    *,
    archived: bool = False,
    created_at_ms: int = 0,
    updated_at_ms: int = 0,
) -> Form:
    """A definition from its stored document (the inverse of `form_to_json`); `ValueError`
    names a field whose type or object type is unknown."""
    fields = []
    for raw in document.get("fields", []):
        fields.append(
            FormField(
                name=str(raw["name"]),
                label=str(raw.get("label", "")),
                type=FieldType(raw["type"]),
                object_type=ObjectType(raw.get("objectType", ObjectType.CONTACT.value)),
                required=bool(raw.get("required", False)),
                help_text=str(raw.get("helpText", "")),
                placeholder=str(raw.get("placeholder", "")),
                default_value=str(raw.get("defaultValue", "")),
                options=tuple(
                    Option(str(o["label"]), str(o["value"])) for o in raw.get("options", [])
                ),
                min_value=raw.get("min"),
                max_value=raw.get("max"),
            )
        )
    return Form(
        guid=guid,
        portal_id=portal_id,
        name=name,
        fields=tuple(fields),
        submit_label=str(document.get("submitLabel", "Submit")),
        thank_you_message=str(document.get("thankYouMessage", "Thanks for submitting the form.")),
        redirect_url=str(document.get("redirectUrl", "")),
        archived=archived,
        created_at_ms=created_at_ms,
        updated_at_ms=updated_at_ms,
    )
