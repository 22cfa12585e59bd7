"""Dashboard pages: the portal's forms, a builder with a live preview, and each form's submissions.

- `GET /app/{hub}/forms`: the live forms (or, with `archived=1`, the archived ones) with their
  field and submission counts and the embed code to copy.
- `GET|POST /app/{hub}/forms/new` and `/app/{hub}/forms/{guid}`: the builder. Each field is one
  row of inputs named `f{i}_{part}`. The `op` buttons (`add`, `remove:i`, `up:i`, `down:i`)
  answer with the rows changed and nothing saved, so the builder works without scripts;
  form-builder.js does the same in the page and renders the live preview through the embed
  script's `hbspt.forms.renderDefinition`. Saving checks the form with
  `core.forms.definition_problems` and shows each problem beside its input.
- `POST /app/{hub}/forms/{guid}/archive`.
- `GET /app/{hub}/forms/{guid}/submissions`: newest first, paged by `before` (a row id).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData

from hubtrail.core.errors import NotFoundError
from hubtrail.core.forms import (
    HONEYPOT_FIELD,
    MAX_FIELDS,
    FieldType,
    Form,
    FormField,
    Option,
    definition_problems,
    new_guid,
)
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.properties import ObjectType, PropertyDefinition, PropertyType
from hubtrail.store import forms, properties
from hubtrail.store.forms import Submission
from hubtrail.web.dashboard.auth import PortalContext, PortalView, checked_form, runtime_of
from hubtrail.web.dashboard.contacts import safe_href
from hubtrail.web.dashboard.templating import render
from hubtrail.web.script import public_base

router = APIRouter(include_in_schema=False)

FORMS_PAGE = 50
SUBMISSIONS_PAGE = 50
BLANK_ROWS = 2  # empty rows under the fields, to add fields without scripts
MAX_ROWS = MAX_FIELDS + 10
MAX_NAME_CHARS = 200  # the `forms.name` column
MAX_LABEL_CHARS = 500
MAX_MESSAGE_CHARS = 5000
MAX_URL_CHARS = 2000

TYPE_LABELS = {
    FieldType.EMAIL: "Email",
    FieldType.TEXT: "Single-line text",
    FieldType.TEXTAREA: "Multi-line text",
    FieldType.NUMBER: "Number",
    FieldType.SELECT: "Dropdown",
    FieldType.CHECKBOX: "Checkbox(es)",
    FieldType.RADIO: "Radio buttons",
    FieldType.DATE: "Date",
    FieldType.HIDDEN: "Hidden",
}
WITH_OPTIONS = (FieldType.SELECT, FieldType.RADIO, FieldType.CHECKBOX)
# The property select's groups: their label, and what each option's text starts with (a company
# property often has a contact property's label: "Number of Employees").
OBJECT_GROUPS = {
    ObjectType.CONTACT: ("Contact properties", ""),
    ObjectType.COMPANY: ("Company properties", "Company · "),
}
# Where each `definition_problems` finding is shown: the part of the field row it is about.
_ROW_PARTS = {"name": "property", "label": "label", "options": "options", "validation": "range"}
_PROBLEM_AT = re.compile(r"fields\[(\d+)\]\.(\w+)")
_ROW_KEY = re.compile(r"f(\d{1,3})_[a-z]+")
SAVED = "Form saved. Pages that embed it show the change within a minute."
ARCHIVED = "Form archived: it no longer renders or accepts submissions. Its submissions are kept."


# --- the builder's rows -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One field as the builder shows it: every input as typed (`target` is the property the
    field writes, `objectType:name`, as the property select posts it)."""

    kind: str = FieldType.TEXT.value
    target: str = ""
    label: str = ""
    required: bool = False
    help_text: str = ""
    placeholder: str = ""
    default_value: str = ""
    options: str = ""
    minimum: str = ""
    maximum: str = ""

    @property
    def blank(self) -> bool:
        """A row left empty: ignored on save (how a field is dropped without scripts)."""
        typed = (self.target, self.label, self.help_text, self.options, self.default_value)
        return not any(part.strip() for part in typed)

    @classmethod
    def of(cls, item: FormField) -> Row:
        return cls(
            kind=item.type.value,
            target=f"{item.object_type.value}:{item.name}",
            label=item.label,
            required=item.required,
            help_text=item.help_text,
            placeholder=item.placeholder,
            default_value=item.default_value,
            options="\n".join(
                o.value if o.label == o.value else f"{o.label}|{o.value}" for o in item.options
            ),
            minimum=_number_text(item.min_value),
            maximum=_number_text(item.max_value),
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """The builder's state: what was posted, or a stored form's."""

    name: str = ""
    rows: tuple[Row, ...] = ()
    submit_label: str = "Submit"
    after: str = "message"  # or "redirect"
    thank_you_message: str = "Thanks for submitting the form."
    redirect_url: str = ""

    @classmethod
    def of(cls, form: Form) -> Draft:
        return cls(
            name=form.name,
            rows=tuple(Row.of(item) for item in form.fields),
            submit_label=form.submit_label,
            after="redirect" if form.redirect_url else "message",
            thank_you_message=form.thank_you_message,
            redirect_url=form.redirect_url,
        )

    @classmethod
    def posted(cls, form: FormData) -> Draft:
        def text(key: str) -> str:
            return str(form.get(key) or "")

        indices = sorted({int(m.group(1)) for key in form if (m := _ROW_KEY.fullmatch(key))})
        rows = tuple(
            Row(
                kind=text(f"f{i}_type"),
                target=text(f"f{i}_property"),
                label=text(f"f{i}_label"),
                required=bool(text(f"f{i}_required")),
                help_text=text(f"f{i}_help"),
                placeholder=text(f"f{i}_placeholder"),
                default_value=text(f"f{i}_default"),
                options=text(f"f{i}_options"),
                minimum=text(f"f{i}_min"),
                maximum=text(f"f{i}_max"),
            )
            for i in indices[:MAX_ROWS]
        )
        return cls(
            name=text("name"),
            rows=rows,
            submit_label=text("submit_label"),
            after="redirect" if text("after") == "redirect" else "message",
            thank_you_message=text("thank_you_message"),
            redirect_url=text("redirect_url"),
        )

    def changed(self, op: str) -> Draft:
        """The rows after an `op` button: `add`, `remove:i`, `up:i` or `down:i`."""
        rows = list(self.rows)
        verb, _, raw = op.partition(":")
        index = int(raw) if is_ascii_digits(raw, max_chars=3) else -1
        if verb == "add" and len(rows) < MAX_ROWS:
            rows.append(Row())
        elif verb == "remove" and 0 <= index < len(rows):
            del rows[index]
        elif verb == "up" and 0 < index < len(rows):
            rows[index - 1], rows[index] = rows[index], rows[index - 1]
        elif verb == "down" and 0 <= index < len(rows) - 1:
            rows[index], rows[index + 1] = rows[index + 1], rows[index]
        return replace(self, rows=tuple(rows))


@dataclass(slots=True)
class Problems:
    """What keeps a draft from being saved, by where it is shown: `name`, `fields`,
    `submit_label`, `message`, `redirect_url`, or `{row}.{part}` for a field row's input."""

    at: dict[str, list[str]] = field(default_factory=dict)

    def add(self, where: str, message: str) -> None:
        self.at.setdefault(where, []).append(message[:1].upper() + message[1:])

    def __len__(self) -> int:
        return sum(len(messages) for messages in self.at.values())


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _number(text: str, where: str, problems: Problems) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.add(where, f"{text.strip()!r} is not a number")
        return None
    return value


def _property_of(choice: str) -> tuple[ObjectType | None, str]:
    """`contacts:email` → (contacts, "email"); an unknown object type → (None, name)."""
    raw, _, name = choice.partition(":")
    try:
        return ObjectType(raw), name
    except ValueError:
        return None, name


def _options(text: str) -> tuple[Option, ...]:
    """One option a line: `label|value`, or just the value (its own label)."""
    found: list[Option] = []
    for line in text.splitlines():
        label, bar, value = line.partition("|")
        label, value = label.strip(), value.strip()
        if bar and value:
            found.append(Option(label or value, value))
        elif label:
            found.append(Option(label, label))
    return tuple(found)


def built(
    draft: Draft,
    guid: str,
    portal_id: int,
    known: dict[ObjectType, dict[str, PropertyDefinition]],
) -> tuple[Form, Problems]:
    """The form a draft describes and what is wrong with it (nothing, when it can be saved)."""
    problems = Problems()
    fields: list[FormField] = []
    rows_of_fields: list[int] = []  # the row each field came from, to place its problems
    for index, row in enumerate(draft.rows):
        if row.blank:
            continue
        where = f"{index}."
        try:
            kind = FieldType(row.kind)
        except ValueError:
            problems.add(where + "type", "choose a field type")
            continue
        object_type, name = _property_of(row.target)
        if object_type is None or name not in known.get(object_type, {}):
            message = "choose the property this field fills in"
            if object_type is not None and name:
                noun = "contact" if object_type is ObjectType.CONTACT else "company"
                message = f"there is no {noun} property {name!r}: create it under Properties"
            problems.add(where + "property", message)
            continue
        options = _options(row.options) if kind in WITH_OPTIONS else ()
        own = known[object_type][name]
        if kind in WITH_OPTIONS and not options and own.type is PropertyType.ENUMERATION:
            options = tuple(Option(o.label, o.value) for o in own.options if not o.hidden)
        if len(row.label) > MAX_LABEL_CHARS:
            problems.add(where + "label", f"a label has at most {MAX_LABEL_CHARS} characters")
        number = kind is FieldType.NUMBER
        fields.append(
            FormField(
                name=name,
                label=row.label.strip(),
                type=kind,
                object_type=object_type,
                required=row.required and kind is not FieldType.HIDDEN,
                help_text=row.help_text.strip(),
                placeholder=row.placeholder.strip(),
                default_value=row.default_value.strip(),
                options=options,
                min_value=_number(row.minimum, where + "range", problems) if number else None,
                max_value=_number(row.maximum, where + "range", problems) if number else None,
            )
        )
        rows_of_fields.append(index)
    redirect = draft.redirect_url.strip() if draft.after == "redirect" else ""
    if draft.after == "redirect" and not redirect:
        problems.add("redirect_url", "enter the page to send people to, or show a message")
    form = Form(
        guid=guid,
        portal_id=portal_id,
        name=draft.name.strip(),
        fields=tuple(fields),
        submit_label=draft.submit_label.strip() or "Submit",
        thank_you_message=draft.thank_you_message.strip(),
        redirect_url=redirect,
    )
    if len(form.name) > MAX_NAME_CHARS:
        problems.add("name", f"a name has at most {MAX_NAME_CHARS} characters")
    if len(form.submit_label) > MAX_LABEL_CHARS:
        problems.add("submit_label", f"at most {MAX_LABEL_CHARS} characters")
    if len(form.thank_you_message) > MAX_MESSAGE_CHARS:
        problems.add("message", f"a message has at most {MAX_MESSAGE_CHARS} characters")
    if len(redirect) > MAX_URL_CHARS:
        problems.add("redirect_url", f"a URL has at most {MAX_URL_CHARS} characters")
    for where, message in definition_problems(form):
        at = _PROBLEM_AT.fullmatch(where)
        if at is not None:
            row_index = rows_of_fields[int(at.group(1))]
            problems.add(f"{row_index}.{_ROW_PARTS.get(at.group(2), 'property')}", message)
        else:
            problems.add({"redirectUrl": "redirect_url"}.get(where, where), message)
    return form, problems


# --- what the pages show ------------------------------------------------------------------------


def suggested_type(definition: PropertyDefinition) -> FieldType:
    """The field type a property usually gets on a form (the builder's first guess)."""
    if definition.name == "email":
        return FieldType.EMAIL
    if definition.type is PropertyType.NUMBER:
        return FieldType.NUMBER
    if definition.type in (PropertyType.DATE, PropertyType.DATETIME):
        return FieldType.DATE
    if definition.type is PropertyType.BOOL:
        return FieldType.CHECKBOX
    if definition.type is PropertyType.ENUMERATION:
        choices = {"radio": FieldType.RADIO, "checkbox": FieldType.CHECKBOX}
        return choices.get(definition.field_type, FieldType.SELECT)
    return FieldType.TEXTAREA if definition.field_type == "textarea" else FieldType.TEXT


def property_choices(
    known: dict[ObjectType, dict[str, PropertyDefinition]],
) -> list[dict[str, Any]]:
    """The property select's option groups: properties a form may write (not read-only ones)."""
    groups = []
    for object_type, (label, prefix) in OBJECT_GROUPS.items():
        definitions = sorted(
            (d for d in known.get(object_type, {}).values() if not d.read_only_value),
            key=lambda d: (d.name != "email", d.label.lower(), d.name),
        )
        options = [
            {
                "value": f"{object_type.value}:{d.name}",
                "label": d.label,
                "name": d.name,
                "type": suggested_type(d).value,
                "options": "\n".join(
                    o.value if o.label == o.value else f"{o.label}|{o.value}"
                    for o in d.options
                    if not o.hidden
                ),
            }
            for d in definitions
        ]
        groups.append({"label": label, "prefix": prefix, "options": options})
    return groups


def embed_code(base: str, hub_id: int, guid: str) -> str:
    return (
        '<div id="hubtrail-form"></div>\n'
        f'<script src="{base}/forms/embed/v2.js"></script>\n'
        f'<script>hbspt.forms.create({{ portalId: "{hub_id}", formId: "{guid}", '
        'target: "#hubtrail-form" });</script>'
    )


def submitted_pairs(form: Form, submission: Submission) -> list[tuple[str, str]]:
    """What was sent, each value under its field's label where the form still has the field."""
    pairs = []
    for name, value in submission.submitted:
        if name == HONEYPOT_FIELD:
            continue
        found = form.field(name)
        pairs.append((found.label if found is not None and found.label else name, value))
    return pairs


def submitted_email(submission: Submission) -> str:
    return next((value for name, value in submission.submitted if name == "email"), "")


async def read_known(
    conn: AsyncConnection, portal_id: int
) -> dict[ObjectType, dict[str, PropertyDefinition]]:
    return {t: await properties.load_definitions(conn, portal_id, t) for t in ObjectType}


# --- the list -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    row_id: int
    form: Form
    submissions: int


async def read_list(
    conn: AsyncConnection, portal_id: int, after_id: int, archived: bool
) -> list[Listed]:
    found = await forms.list_forms(
        conn, portal_id, after_id=after_id, limit=FORMS_PAGE + 1, archived=archived
    )
    counts = await forms.count_by_form(conn, portal_id, [row_id for row_id, _ in found])
    return [Listed(row_id, form, counts.get(row_id, 0)) for row_id, form in found]


@router.get("/app/{hub_id}/forms")
async def forms_page(
    request: Request,
    view: PortalView,
    after: str | None = None,
    archived: str | None = None,
    created: str | None = None,
    done: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    after_id = int(after) if after and is_ascii_digits(after, max_chars=18) else 0
    show_archived = archived == "1"
    listed = await runtime.db.read(
        lambda conn: read_list(conn, view.hub_id, after_id, show_archived)
    )
    shown = listed[:FORMS_PAGE]
    base = public_base(runtime.settings, request)
    notice = ARCHIVED if done == "archived" else None
    just_made = next((item.form for item in shown if item.form.guid == created), None)
    if just_made is not None:
        notice = f"Form “{just_made.name}” created. Copy its embed code into your site."
    context = {
        "portal": view.portal,
        "title": "Forms",
        "rows": [
            {
                "row_id": item.row_id,
                "form": item.form,
                "submissions": item.submissions,
                "embed": embed_code(base, view.hub_id, item.form.guid),
            }
            for item in shown
        ],
        "archived": show_archived,
        "paged": after_id > 0,
        "next_after": shown[-1].row_id if len(listed) > FORMS_PAGE else None,
        "created": created,
        "notice": notice,
    }
    return render(request, "forms.html", context)


# --- the builder --------------------------------------------------------------------------------


async def _builder(
    request: Request,
    view: PortalContext,
    draft: Draft,
    *,
    form: Form | None,
    problems: Problems | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)
    known = await runtime.db.read(lambda conn: read_known(conn, view.hub_id))
    rows = list(draft.rows)
    if not any(row.blank for row in rows):
        rows += [Row()] * min(BLANK_ROWS, MAX_ROWS - len(rows))
    base = public_base(runtime.settings, request)
    groups = property_choices(known)
    context = {
        "portal": view.portal,
        "title": form.name if form else "New form",
        "form": form,
        "draft": draft,
        "rows": rows,
        "types": [(t.value, label) for t, label in TYPE_LABELS.items()],
        "property_groups": groups,
        "property_values": {p["value"] for group in groups for p in group["options"]},
        "blank_row": Row(),
        "problems": (problems or Problems()).at,
        "problem_count": len(problems or Problems()),
        "honeypot": HONEYPOT_FIELD,
        "embed": embed_code(base, view.hub_id, form.guid) if form else None,
        "notice": notice,
    }
    return render(request, "form_builder.html", context, status_code=status_code)


async def _live_form(request: Request, view: PortalContext, guid: str) -> Form:
    found = await runtime_of(request).db.read(lambda c: forms.get_form(c, view.hub_id, guid))
    if found is None or found.archived:
        raise NotFoundError("This portal has no such form (or it was archived).")
    return found


async def _save(
    request: Request, view: PortalContext, form_data: FormData, existing: Form | None
) -> Response:
    """An `op` button's builder, the builder with the problems, or the saved form's page."""
    draft = Draft.posted(form_data)
    op = str(form_data.get("op") or "save")
    if op != "save":
        return await _builder(request, view, draft.changed(op), form=existing)
    runtime = runtime_of(request)
    known = await runtime.db.read(lambda conn: read_known(conn, view.hub_id))
    guid = existing.guid if existing else new_guid()
    form, problems = built(draft, guid, view.hub_id, known)
    if problems:
        return await _builder(
            request, view, draft, form=existing, problems=problems, status_code=400
        )
    now = runtime.clock_ms()
    if existing is None:
        await runtime.db.write(lambda conn: forms.create_form(conn, form, now))
        return RedirectResponse(f"/app/{view.hub_id}/forms?created={guid}", status_code=303)
    saved = await runtime.db.write(lambda conn: forms.update_form(conn, form, now))
    if saved is None:
        raise NotFoundError("This portal has no such form (or it was archived).")
    return RedirectResponse(f"/app/{view.hub_id}/forms/{guid}?done=saved", status_code=303)


@router.get("/app/{hub_id}/forms/new")
async def new_form(request: Request, view: PortalView) -> Response:
    email = Row(kind=FieldType.EMAIL.value, target="contacts:email", label="Email")
    draft = Draft(rows=(replace(email, required=True),))
    return await _builder(request, view, draft, form=None)


@router.post("/app/{hub_id}/forms/new")
async def create_form(request: Request, view: PortalView) -> Response:
    form_data = await checked_form(request, view.viewer)
    return await _save(request, view, form_data, None)


@router.get("/app/{hub_id}/forms/{guid}")
async def edit_form(
    request: Request, view: PortalView, guid: str, done: str | None = None
) -> Response:
    found = await _live_form(request, view, guid)
    notice = SAVED if done == "saved" else None
    return await _builder(request, view, Draft.of(found), form=found, notice=notice)


@router.post("/app/{hub_id}/forms/{guid}")
async def save_form(request: Request, view: PortalView, guid: str) -> Response:
    form_data = await checked_form(request, view.viewer)
    return await _save(request, view, form_data, await _live_form(request, view, guid))


@router.post("/app/{hub_id}/forms/{guid}/archive")
async def archive_form(request: Request, view: PortalView, guid: str) -> Response:
    await checked_form(request, view.viewer)
    runtime = runtime_of(request)
    now = runtime.clock_ms()
    done = await runtime.db.write(lambda conn: forms.archive_form(conn, view.hub_id, guid, now))
    if not done:
        raise NotFoundError("This portal has no such form (or it was archived).")
    return RedirectResponse(f"/app/{view.hub_id}/forms?done=archived", status_code=303)


# --- submissions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmissionsPage:
    form: Form
    submissions: list[Submission]
    total: int


async def read_submissions(
    conn: AsyncConnection, portal_id: int, guid: str, before_id: int | None
) -> SubmissionsPage | None:
    form = await forms.get_form(conn, portal_id, guid)
    if form is None:
        return None
    found = await forms.submissions_of_form(
        conn, portal_id, guid, before_id=before_id, limit=SUBMISSIONS_PAGE + 1
    )
    return SubmissionsPage(form, found, await forms.count_submissions(conn, portal_id, guid))


@router.get("/app/{hub_id}/forms/{guid}/submissions")
async def submissions_page(
    request: Request, view: PortalView, guid: str, before: str | None = None
) -> Response:
    before_id = int(before) if before and is_ascii_digits(before, max_chars=18) else None
    loaded = await runtime_of(request).db.read(
        lambda conn: read_submissions(conn, view.hub_id, guid, before_id)
    )
    if loaded is None:
        raise NotFoundError("This portal has no such form.")
    shown = loaded.submissions[:SUBMISSIONS_PAGE]
    context = {
        "portal": view.portal,
        "title": f"Submissions · {loaded.form.name}",
        "form": loaded.form,
        "total": loaded.total,
        "rows": [
            {
                "s": s,
                "pairs": submitted_pairs(loaded.form, s),
                "email": submitted_email(s),
                "page_href": safe_href(s.page_uri),
            }
            for s in shown
        ],
        "paged": before_id is not None,
        "next_before": shown[-1].id if len(loaded.submissions) > SUBMISSIONS_PAGE else None,
    }
    return render(request, "form_submissions.html", context)
