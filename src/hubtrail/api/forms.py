"""HubSpot's forms API, `/marketing/v3/forms`: list, create, read, update and archive a portal's
form definitions, in HubSpot's v3 shapes (`fieldGroups`, `configuration`, `displayOptions`).

A form's `id` is its guid. hubtrail's forms are flat (`core.forms`): every field is rendered as a
group of its own, and the fields of posted groups are taken in order. The parts of HubSpot's shape
hubtrail has no use for are answered with HubSpot's defaults and ignored when sent. Two readings
to know: a number field's `validation.minAllowedDigits` / `maxAllowedDigits` are its value range
(HubSpot's "number range"), and `postSubmitAction` (in `configuration`, or at the top level) sets
the thank-you message or the redirect. Definitions are checked by `core.forms.definition_problems`;
each problem is one entry of a 400, named by its place in the posted JSON.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from hubtrail.api.auth import PortalId, RuntimeDep
from hubtrail.api.object_models import ERROR_RESPONSES
from hubtrail.core import forms as rules
from hubtrail.core.errors import FieldError, NotFoundError, ValidationError
from hubtrail.core.forms import FieldType, Form, FormField, Option
from hubtrail.core.properties import format_datetime_ms
from hubtrail.store import forms as form_store

router = APIRouter(tags=["Forms"], responses=ERROR_RESPONSES)
FORMS = "/marketing/v3/forms"
FORM = FORMS + "/{formId}"
MAX_PAGE = 100
MAX_NAME_CHARS = 200  # the `forms.name` column

_OBJECT_TYPES = {v: k for k, v in rules.OBJECT_TYPE_IDS.items()}
_FIELD_TYPES = {
    **{
        name: kind
        for kind, name in rules.HUBSPOT_FIELD_TYPES.items()
        if kind is not FieldType.HIDDEN
    },
    "single_checkbox": FieldType.CHECKBOX,
    "phone": FieldType.TEXT,
    "mobile_phone": FieldType.TEXT,
}
_EMAIL_VALIDATION = {"blockedEmailDomains": [], "useDefaultBlockList": False}


class _Wire(BaseModel):
    """HubSpot's JSON: camelCase on the wire, snake_case in Python; unknown keys ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


# --- requests ---------------------------------------------------------------------------------


class OptionIn(_Wire):
    label: str = ""
    value: str
    display_order: int | None = None
    description: str = ""


class FieldIn(_Wire):
    object_type_id: str = "0-1"
    name: str
    label: str = ""
    field_type: str
    required: bool = False
    hidden: bool = False
    description: str = ""
    placeholder: str = ""
    default_value: str = ""
    options: list[OptionIn] = Field(default_factory=list)
    validation: dict[str, Any] = Field(default_factory=dict)

    @field_validator("label", "description", "placeholder", "default_value", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("options", "validation", mode="before")
    @classmethod
    def _null_is_none_given(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return [] if info.field_name == "options" else {}
        return value


class FieldGroupIn(_Wire):
    group_type: str = "default_group"
    rich_text_type: str = "text"
    fields: list[FieldIn] = Field(default_factory=list)


class PostSubmitAction(_Wire):
    type: Literal["thank_you", "redirect_url"]
    value: str = ""


class ConfigurationIn(_Wire):
    post_submit_action: PostSubmitAction | None = None


class DisplayOptionsIn(_Wire):
    submit_button_text: str | None = None


class FormPatch(_Wire):
    """A partial update: what is given replaces what the form has (`fieldGroups` as a whole)."""

    name: str | None = Field(None, max_length=MAX_NAME_CHARS)
    field_groups: list[FieldGroupIn] | None = None
    configuration: ConfigurationIn | None = None
    display_options: DisplayOptionsIn | None = None
    post_submit_action: PostSubmitAction | None = None


class FormIn(FormPatch):
    """A whole definition (create, replace)."""

    name: str = Field(max_length=MAX_NAME_CHARS)
    form_type: Literal["hubspot"] = "hubspot"
    field_groups: list[FieldGroupIn] = Field(default_factory=list)


# --- responses --------------------------------------------------------------------------------


class OptionOut(_Wire):
    label: str
    value: str
    display_order: int
    description: str = ""


class FieldOut(_Wire):
    object_type_id: str
    name: str
    label: str
    required: bool
    hidden: bool
    field_type: str
    description: str
    placeholder: str
    default_value: str
    options: list[OptionOut]
    validation: dict[str, Any]
    dependent_fields: list[dict[str, Any]] = Field(default_factory=list)


class FieldGroupOut(_Wire):
    group_type: str = "default_group"
    rich_text_type: str = "text"
    fields: list[FieldOut]


class PostSubmitActionOut(_Wire):
    type: str
    value: str


class ConfigurationOut(_Wire):
    language: str = "en"
    cloneable: bool = True
    post_submit_action: PostSubmitActionOut
    editable: bool = True
    archivable: bool = True
    recaptcha_enabled: bool = False
    notify_contact_owner: bool = False
    notify_recipients: list[str] = Field(default_factory=list)
    create_new_contact_for_new_email: bool = False
    pre_populate_known_values: bool = False
    allow_link_to_reset_known_values: bool = False
    lifecycle_stages: list[dict[str, Any]] = Field(default_factory=list)


class DisplayOptionsOut(_Wire):
    render_raw_html: bool = False
    theme: str = "default_style"
    submit_button_text: str
    style: dict[str, Any] = Field(default_factory=dict)
    css_class: str = ""


class LegalConsentOptionsOut(_Wire):
    type: str = "none"


class FormOut(_Wire):
    """HubSpot's `HubSpotFormDefinition`."""

    id: str
    name: str
    form_type: str = "hubspot"
    created_at: str
    updated_at: str
    archived: bool
    field_groups: list[FieldGroupOut]
    configuration: ConfigurationOut
    display_options: DisplayOptionsOut
    legal_consent_options: LegalConsentOptionsOut = Field(default_factory=LegalConsentOptionsOut)


class NextPage(_Wire):
    after: str
    link: str


class Paging(_Wire):
    next: NextPage


class FormsOut(_Wire):
    results: list[FormOut]
    paging: Paging | None = None


# --- core.forms ↔ the wire --------------------------------------------------------------------


def _number(value: float | None) -> int | float | None:
    return int(value) if value is not None and value.is_integer() else value


def _validation(item: FormField) -> dict[str, Any]:
    if item.type is FieldType.EMAIL:
        return dict(_EMAIL_VALIDATION)
    if item.type is FieldType.NUMBER:
        limits = {"minAllowedDigits": item.min_value, "maxAllowedDigits": item.max_value}
        return {name: _number(v) for name, v in limits.items() if v is not None}
    return {}


def _field_type(item: FormField) -> str:
    if item.type is FieldType.CHECKBOX:
        return "multiple_checkboxes" if item.options else "single_checkbox"
    return rules.HUBSPOT_FIELD_TYPES[item.type]


def field_out(item: FormField) -> FieldOut:
    return FieldOut(
        object_type_id=rules.OBJECT_TYPE_IDS[item.object_type],
        name=item.name,
        label=item.label,
        required=item.required,
        hidden=item.type is FieldType.HIDDEN,
        field_type=_field_type(item),
        description=item.help_text,
        placeholder=item.placeholder,
        default_value=item.default_value,
        options=[
            OptionOut(label=o.label, value=o.value, display_order=i)
            for i, o in enumerate(item.options)
        ],
        validation=_validation(item),
    )


def form_out(form: Form) -> FormOut:
    """The v3 definition of a form: one field per group, as a row each."""
    redirect = bool(form.redirect_url)
    return FormOut(
        id=form.guid,
        name=form.name,
        created_at=format_datetime_ms(form.created_at_ms),
        updated_at=format_datetime_ms(form.updated_at_ms),
        archived=form.archived,
        field_groups=[FieldGroupOut(fields=[field_out(item)]) for item in form.fields],
        configuration=ConfigurationOut(
            post_submit_action=PostSubmitActionOut(
                type="redirect_url" if redirect else "thank_you",
                value=form.redirect_url if redirect else form.thank_you_message,
            )
        ),
        display_options=DisplayOptionsOut(submit_button_text=form.submit_label),
    )


Problems = list[tuple[str, str]]


def _limit(raw: object, where: str, problems: Problems) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        problems.append((where, "must be a number"))
        return None
    return float(raw)


def field_in(raw: FieldIn, where: str, problems: Problems) -> FormField | None:
    """A posted field as hubtrail's, or None with its problems added."""
    object_type = _OBJECT_TYPES.get(raw.object_type_id)
    if object_type is None:
        problems.append((f"{where}.objectTypeId", "must be 0-1 (contacts) or 0-2 (companies)"))
    kind = FieldType.HIDDEN if raw.hidden else _FIELD_TYPES.get(raw.field_type)
    if kind is None:
        supported = ", ".join(sorted(_FIELD_TYPES))
        problems.append((f"{where}.fieldType", f"{raw.field_type!r} is not one of {supported}"))
    minimum = maximum = None
    if kind is FieldType.NUMBER:
        validation = f"{where}.validation"
        minimum = _limit(raw.validation.get("minAllowedDigits"), validation, problems)
        maximum = _limit(raw.validation.get("maxAllowedDigits"), validation, problems)
    if object_type is None or kind is None:
        return None
    return FormField(
        name=raw.name,
        label=raw.label,
        type=kind,
        object_type=object_type,
        required=raw.required,
        help_text=raw.description,
        placeholder=raw.placeholder,
        default_value=raw.default_value,
        options=tuple(Option(o.label or o.value, o.value) for o in raw.options),
        min_value=minimum,
        max_value=maximum,
    )


def _invalid(problems: Problems) -> ValidationError:
    errors = [
        FieldError(f"{where}: {message}", "INVALID", {"field": [where]}, where)
        for where, message in problems
    ]
    places = ", ".join(dict.fromkeys(where for where, _ in problems))
    return ValidationError(f"Invalid input JSON on fields: {places}", errors=errors)


_FIELD_PLACE = re.compile(r"fields\[(\d+)\]")


def _place(where: str, places: list[str]) -> str:
    """A `definition_problems` place (`fields[3].label`) as where it is in the posted JSON."""
    found = _FIELD_PLACE.match(where)
    if found and int(found.group(1)) < len(places):
        return places[int(found.group(1))] + where[found.end() :]
    return {"fields": "fieldGroups", "redirectUrl": "configuration.postSubmitAction.value"}.get(
        where, where
    )


def _blank(form: Form) -> Form:
    """A definition with nothing set but what identifies `form` (for a whole replacement)."""
    return Form(
        guid=form.guid,
        portal_id=form.portal_id,
        name="",
        fields=(),
        created_at_ms=form.created_at_ms,
    )


def changed_form(form: Form, body: FormPatch) -> Form:
    """`form` with what `body` gives; a `ValidationError` lists every problem of the result."""
    problems: Problems = []
    fields = form.fields
    places = [f"fieldGroups[{i}].fields[0]" for i in range(len(fields))]
    if body.field_groups is not None:
        found, places = [], []
        for g, group in enumerate(body.field_groups):
            for j, raw in enumerate(group.fields):
                where = f"fieldGroups[{g}].fields[{j}]"
                item = field_in(raw, where, problems)
                if item is not None:
                    found.append(item)
                    places.append(where)
        fields = tuple(found)
    if problems:
        raise _invalid(problems)
    changed = replace(form, fields=fields, name=form.name if body.name is None else body.name)
    action = body.post_submit_action or (
        body.configuration.post_submit_action if body.configuration else None
    )
    if action is not None and action.type == "redirect_url":
        changed = replace(changed, redirect_url=action.value)
    elif action is not None:
        message = action.value or _blank(form).thank_you_message
        changed = replace(changed, redirect_url="", thank_you_message=message)
    if body.display_options and body.display_options.submit_button_text is not None:
        changed = replace(changed, submit_label=body.display_options.submit_button_text)
    problems = [(_place(w, places), m) for w, m in rules.definition_problems(changed)]
    if problems:
        raise _invalid(problems)
    return changed


# --- routes -----------------------------------------------------------------------------------


def _not_found(guid: str) -> NotFoundError:
    return NotFoundError(f"Form {guid} does not exist")


@router.get(FORMS, response_model_exclude_none=True)
@router.get(FORMS + "/", response_model_exclude_none=True, include_in_schema=False)
async def list_forms(
    request: Request,
    portal: PortalId,
    rt: RuntimeDep,
    after: Annotated[str | None, Query(pattern=r"^[0-9]{0,18}$")] = None,
    limit: Annotated[int, Query(ge=1)] = 20,
    archived: bool = False,
    form_types: Annotated[list[str] | None, Query(alias="formTypes")] = None,
) -> FormsOut:
    """A page of the portal's forms in creation order (at most 100; `paging.next.after`)."""
    if form_types and not {"hubspot", "all"} & {t.strip().lower() for t in form_types}:
        return FormsOut(results=[])  # hubtrail's forms are all `hubspot` forms
    size = min(limit, MAX_PAGE)
    rows = await rt.db.read(
        lambda conn: form_store.list_forms(
            conn, portal, after_id=int(after or 0), limit=size + 1, archived=archived
        )
    )
    body = FormsOut(results=[form_out(form) for _, form in rows[:size]])
    if len(rows) > size:
        cursor = str(rows[size - 1][0])
        link = str(request.url.include_query_params(after=cursor, limit=size))
        body.paging = Paging(next=NextPage(after=cursor, link=link))
    return body


@router.post(FORMS, status_code=201)
@router.post(FORMS + "/", status_code=201, include_in_schema=False)
async def create_form(body: FormIn, portal: PortalId, rt: RuntimeDep) -> FormOut:
    """Create a form; 400 lists every problem of its definition."""
    blank = Form(guid=rules.new_guid(), portal_id=portal, name="", fields=())
    form = changed_form(blank, body)
    at_ms = rt.clock_ms()
    created = await rt.db.write(lambda conn: form_store.create_form(conn, form, at_ms))
    return form_out(created)


@router.get(FORM)
async def get_form(
    formId: str, portal: PortalId, rt: RuntimeDep, archived: bool = False
) -> FormOut:
    """A form; an archived one only with `archived=true`."""
    form = await rt.db.read(lambda conn: form_store.get_form(conn, portal, formId))
    if form is None or form.archived != archived:
        raise _not_found(formId)
    return form_out(form)


async def _update(
    formId: str, body: FormPatch, portal: int, rt: RuntimeDep, *, whole: bool
) -> FormOut:
    form = await rt.db.read(lambda conn: form_store.get_form(conn, portal, formId))
    if form is None or form.archived:
        raise _not_found(formId)
    changed = changed_form(_blank(form) if whole else form, body)
    at_ms = rt.clock_ms()
    updated = await rt.db.write(lambda conn: form_store.update_form(conn, changed, at_ms))
    if updated is None:  # archived meanwhile
        raise _not_found(formId)
    return form_out(updated)


@router.patch(FORM)
async def update_form(formId: str, body: FormPatch, portal: PortalId, rt: RuntimeDep) -> FormOut:
    """Change what the body gives (`fieldGroups` replaces every field)."""
    return await _update(formId, body, portal, rt, whole=False)


@router.put(FORM)
async def replace_form(formId: str, body: FormIn, portal: PortalId, rt: RuntimeDep) -> FormOut:
    """Replace the whole definition."""
    return await _update(formId, body, portal, rt, whole=True)


@router.delete(FORM, status_code=204)
async def archive_form(formId: str, portal: PortalId, rt: RuntimeDep) -> None:
    """Archive a form: it stops taking submissions; its submissions are kept."""
    at_ms = rt.clock_ms()
    if not await rt.db.write(lambda conn: form_store.archive_form(conn, portal, formId, at_ms)):
        raise _not_found(formId)
