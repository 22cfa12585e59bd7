"""Dashboard page: contact and company properties, and a form to create a custom one.

Creating goes through `store.property_definitions.create_properties`, the function the
properties API calls, so names, labels, types and options are checked by the same rules and a
refusal carries the same messages; here they are shown beside the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData

from hubtrail.core.associations import parse_object_type
from hubtrail.core.errors import FieldError, HubtrailError
from hubtrail.core.properties import ObjectType, normalize_property_name
from hubtrail.store import property_definitions, property_groups
from hubtrail.store.property_definitions import PropertyOption, PropertySpec, StoredProperty
from hubtrail.store.property_groups import StoredGroup
from hubtrail.web.dashboard.auth import PortalContext, PortalView, checked_form, runtime_of
from hubtrail.web.dashboard.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
MAX_SEARCH_CHARS = 100
MAX_OPTIONS = 500

# The field types the form offers, as HubSpot's property editor names them: (type, fieldType).
FIELD_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("string", "text", "Single-line text"),
    ("string", "textarea", "Multi-line text"),
    ("string", "phonenumber", "Phone number"),
    ("string", "html", "Rich text"),
    ("string", "file", "File"),
    ("number", "number", "Number"),
    ("date", "date", "Date picker"),
    ("datetime", "date", "Date and time picker"),
    ("enumeration", "select", "Dropdown select"),
    ("enumeration", "radio", "Radio select"),
    ("enumeration", "checkbox", "Multiple checkboxes"),
    ("bool", "booleancheckbox", "Single checkbox (yes / no)"),
)
_CHOICE_LABELS = {(kind, field): label for kind, field, label in FIELD_CHOICES}
# Which form field each domain error is about (`FieldError.in_`), to show it beside that field.
_FORM_FIELDS = {"name": "name", "label": "label", "type": "kind", "fieldType": "kind"}
_FORM_FIELDS |= {"groupName": "group", "options": "options"}
OBJECT_TABS = (
    (ObjectType.CONTACT, "Contact properties"),
    (ObjectType.COMPANY, "Company properties"),
)
ORIGINS = {"all": "All", "custom": "Custom", "hubspot": "HubSpot-defined"}


def chosen_object_type(raw: str | None) -> ObjectType:
    return (parse_object_type(raw) if raw else None) or ObjectType.CONTACT


def kind_label(kind: str, field_type: str) -> str:
    return _CHOICE_LABELS.get((kind, field_type), f"{kind} / {field_type}")


@dataclass(frozen=True, slots=True)
class Listing:
    properties: list[StoredProperty]
    groups: list[StoredGroup]


async def read_listing(conn: AsyncConnection, portal_id: int, object_type: ObjectType) -> Listing:
    return Listing(
        await property_definitions.list_properties(conn, portal_id, object_type),
        await property_groups.list_groups(conn, portal_id, object_type),
    )


@dataclass(frozen=True, slots=True)
class Filters:
    q: str
    origin: str
    page: int

    @classmethod
    def of(cls, q: str | None, origin: str | None, page: str | None) -> Filters:
        number = int(page) if page and page.isdigit() and int(page) > 0 else 1
        return cls(
            (q or "").strip()[:MAX_SEARCH_CHARS],
            origin if origin in ORIGINS else "all",
            number,
        )

    def keeps(self, stored: StoredProperty) -> bool:
        if self.origin == "custom" and stored.hubspot_defined:
            return False
        if self.origin == "hubspot" and not stored.hubspot_defined:
            return False
        needle = self.q.lower()
        return not needle or needle in stored.spec.name or needle in stored.spec.label.lower()


def _form_values(form: FormData | None, groups: list[StoredGroup]) -> dict[str, str]:
    """What the create form shows: what was posted (after an error), else the defaults."""
    default_group = groups[0].name if groups else ""
    fields = ("label", "name", "kind", "group", "description", "options")
    values = {key: str(form.get(key) or "") if form else "" for key in fields}
    values["kind"] = values["kind"] or "string:text"
    values["group"] = values["group"] or default_group
    return values


async def _page(
    request: Request,
    view: PortalContext,
    object_type: ObjectType,
    filters: Filters,
    *,
    form: FormData | None = None,
    errors: list[FieldError] | None = None,
    created: str | None = None,
    status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)
    listing = await runtime.db.read(lambda conn: read_listing(conn, view.hub_id, object_type))
    group_labels = {group.name: group.label for group in listing.groups}
    kept = [p for p in listing.properties if filters.keeps(p)]
    kept.sort(key=lambda p: (p.spec.label.lower(), p.spec.name))
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    page = min(filters.page, pages)
    shown = kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    by_field: dict[str, list[str]] = {}
    for error in errors or []:
        where = (error.in_ or "").split("[")[0]
        by_field.setdefault(_FORM_FIELDS.get(where, "form"), []).append(error.message)
    found = next((p for p in listing.properties if p.spec.name == created), None)
    context: dict[str, Any] = {
        "portal": view.portal,
        "title": "Properties",
        "object_type": object_type.value,
        "tabs": [(t.value, label) for t, label in OBJECT_TABS],
        "origins": ORIGINS,
        "filters": filters,
        "rows": [
            {
                "property": p,
                "kind": kind_label(p.spec.type, p.spec.field_type),
                "group": group_labels.get(p.spec.group_name, p.spec.group_name),
            }
            for p in shown
        ],
        "total": len(listing.properties),
        "matching": len(kept),
        "page": page,
        "pages": pages,
        "groups": listing.groups,
        "choices": [(f"{kind}:{field}", label) for kind, field, label in FIELD_CHOICES],
        "values": _form_values(form, listing.groups),
        "errors": by_field,
        "notice": f"Property “{found.spec.label}” ({found.spec.name}) created." if found else None,
    }
    return render(request, "properties.html", context, status_code=status_code)


@router.get("/app/{hub_id}/properties")
async def properties(
    request: Request,
    view: PortalView,
    objectType: str | None = None,  # HubSpot's own parameter name
    q: str | None = None,
    origin: str | None = None,
    page: str | None = None,
    created: str | None = None,
) -> Response:
    filters = Filters.of(q, origin, page)
    return await _page(request, view, chosen_object_type(objectType), filters, created=created)


def spec_from_form(form: FormData) -> PropertySpec:
    """The property a create form asks for. Nothing is checked here: `create_properties` does,
    so a name or type the API would refuse is refused here with the same message."""
    label = str(form.get("label") or "").strip()
    name = str(form.get("name") or "").strip() or normalize_property_name(label)
    kind, _, field_type = str(form.get("kind") or "").partition(":")
    lines = str(form.get("options") or "").splitlines()
    labels = list(dict.fromkeys(line.strip() for line in lines if line.strip()))[:MAX_OPTIONS]
    options = tuple(PropertyOption(text, text) for text in labels) if kind == "enumeration" else ()
    return PropertySpec(
        name=name,
        label=label,
        type=kind,
        field_type=field_type,
        group_name=str(form.get("group") or ""),
        description=str(form.get("description") or "").strip(),
        options=options,
    )


@router.post("/app/{hub_id}/properties")
async def create_property(request: Request, view: PortalView) -> Response:
    form = await checked_form(request, view.viewer)
    object_type = chosen_object_type(str(form.get("objectType") or ""))
    spec = spec_from_form(form)
    runtime = runtime_of(request)
    now = runtime.clock_ms()
    try:
        await runtime.db.write(
            lambda conn: property_definitions.create_properties(
                conn, view.hub_id, object_type, [spec], now
            )
        )
    except HubtrailError as error:
        errors = error.errors or [FieldError(error.message, error.category)]
        filters = Filters.of(None, None, None)
        return await _page(
            request, view, object_type, filters, form=form, errors=errors, status_code=error.status
        )
    target = (
        f"/app/{view.hub_id}/properties?objectType={object_type.value}"
        f"&created={quote(spec.name)}#p-{quote(spec.name)}"
    )
    return RedirectResponse(target, status_code=303)
