"""Dashboard pages: the contact list (search and filters, as the CRM search API runs them) and a
contact's page (properties with history, identities, companies, and one timeline).

The list's form is plain GET: `q` (free text), then `prop`/`op`/`value`/`high` repeated once per
filter (ANDed, as one HubSpot filter group), and `after`, the search's offset cursor. The helpers
for lists, property tables and timelines are shared with the company pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from hubtrail.core.errors import NotFoundError, ValidationError
from hubtrail.core.messages import Source
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.properties import ObjectType, PropertyDefinition, PropertyType, parse_instant_ms
from hubtrail.core.search import ASSOCIATIONS_PREFIX, RawFilter, Search, Sort, check_search
from hubtrail.store import crm_pages, properties, timeline
from hubtrail.store.crm_pages import Merged, Record, RecordPage
from hubtrail.store.timeline import Cursor, Item, Kind
from hubtrail.web.dashboard.auth import PortalContext, PortalView, runtime_of
from hubtrail.web.dashboard.templating import render, when

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
TIMELINE_PAGE = 50
HISTORY_SHOWN = 10  # changes listed per property; the count says how many more there are
LINKED_SHOWN = 100
MAX_FILTERS = 6  # one search filter group
NEWEST_FIRST = Sort("createdate", descending=True)

OPERATORS = (
    ("EQ", "is"),
    ("NEQ", "is not"),
    ("CONTAINS_TOKEN", "contains"),
    ("NOT_CONTAINS_TOKEN", "does not contain"),
    ("HAS_PROPERTY", "is known"),
    ("NOT_HAS_PROPERTY", "is unknown"),
    ("GT", "is greater than"),
    ("LT", "is less than"),
    ("BETWEEN", "is between"),
)
_OPERATOR_LABELS = dict(OPERATORS)
_WITHOUT_VALUE = {"HAS_PROPERTY", "NOT_HAS_PROPERTY"}
ASSOCIATED_COMPANY = ASSOCIATIONS_PREFIX + "company"

SOURCE_LABELS = {
    Source.TRACKING_CODE: "tracking code",
    Source.HTTP_EVENTS: "HTTP events",
    Source.EVENTS_API: "events API",
    Source.SEGMENT: "Segment",
    Source.CRM_API: "CRM API",
    Source.FORM: "form",
    Source.IMPORT: "import",
}
IDENTITY_LABELS = {"email": "Email", "external_id": "External ID", "visitor": "Visitor"}
STAGE_LABELS = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "marketingqualifiedlead": "Marketing Qualified Lead",
    "salesqualifiedlead": "Sales Qualified Lead",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "evangelist": "Evangelist",
    "other": "Other",
}
STAGE_TONES = {
    "marketingqualifiedlead": "accent",
    "salesqualifiedlead": "accent",
    "opportunity": "warn",
    "customer": "ok",
    "evangelist": "ok",
}


# --- lists -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilterInput:
    """One filter as typed in the form (before the search checks it)."""

    prop: str
    op: str
    value: str = ""
    high: str = ""

    def params(self) -> list[tuple[str, str]]:
        return [("prop", self.prop), ("op", self.op), ("value", self.value), ("high", self.high)]


@dataclass(frozen=True, slots=True)
class ListQuery:
    text: str
    filters: list[FilterInput]
    offset_raw: str

    @classmethod
    def parse(cls, params: QueryParams) -> ListQuery:
        columns = [params.getlist(name) for name in ("prop", "op", "value", "high")]
        rows = max((len(c) for c in columns), default=0)
        padded = [c + [""] * (rows - len(c)) for c in columns]
        filters = [
            FilterInput(prop.strip(), op.strip().upper() or "EQ", value.strip(), high.strip())
            for prop, op, value, high in zip(*padded, strict=True)
            if prop.strip() or value.strip()
        ]
        return cls(params.get("q", "").strip(), filters, params.get("after", "").strip())

    def url(self, path: str, *, without: int | None = None, after: int | None = None) -> str:
        """This list's URL, optionally without one filter or at another offset."""
        pairs: list[tuple[str, str]] = [("q", self.text)] if self.text else []
        for index, item in enumerate(self.filters):
            if index != without:
                pairs += item.params()
        if after:
            pairs.append(("after", str(after)))
        return f"{path}?{urlencode(pairs)}" if pairs else path


def build_search(query: ListQuery, definitions: Mapping[str, PropertyDefinition]) -> Search:
    """The CRM search the form asks for, checked by `check_search` as the API checks it; a
    `ValidationError` with a message for people otherwise."""
    if len(query.filters) > MAX_FILTERS:
        raise ValidationError(f"Use at most {MAX_FILTERS} filters at a time.")
    raw = []
    for item in query.filters:
        if not item.prop:
            raise ValidationError(f"Choose a property to compare with {item.value!r}.")
        label = property_label(item.prop, definitions)
        if item.op not in _OPERATOR_LABELS:
            raise ValidationError(f"{label}: {item.op!r} is not a condition this page knows.")
        if item.op not in _WITHOUT_VALUE and not item.value:
            raise ValidationError(f"{label} {_OPERATOR_LABELS[item.op]}: enter a value.")
        if item.op == "BETWEEN" and not item.high:
            raise ValidationError(f"{label} is between: enter the upper value too.")
        definition = definitions.get(item.prop)
        value = _option_value(definition, item.value) if item.value else None
        high = item.high if item.op == "BETWEEN" else None
        raw.append(RawFilter(item.prop, item.op, value, high))
    return check_search(
        groups=[raw] if raw else [],
        sort=NEWEST_FIRST,
        query=query.text or None,
        properties=None,
        limit=PAGE_SIZE,
        after=query.offset_raw or None,
    )


def _option_value(definition: PropertyDefinition | None, typed: str) -> str:
    """An enumeration's option may be typed by its label ("Lead" for `lead`)."""
    if definition is None or definition.type is not PropertyType.ENUMERATION:
        return typed
    if any(option.value == typed for option in definition.options):
        return typed
    for option in definition.options:
        shown = (option.label, option_label(definition, option.value))
        if typed.lower() in (label.lower() for label in shown):
            return option.value
    return typed


def property_label(name: str, definitions: Mapping[str, PropertyDefinition]) -> str:
    if name == ASSOCIATED_COMPANY:
        return "Associated company ID"
    definition = definitions.get(name)
    return definition.label if definition else name


def describe(item: FilterInput, definitions: Mapping[str, PropertyDefinition]) -> str:
    text = f"{property_label(item.prop, definitions)} {_OPERATOR_LABELS.get(item.op, item.op)}"
    if item.op in _WITHOUT_VALUE:
        return text
    if item.op == "BETWEEN":
        return f"{text} {item.value} and {item.high}"
    return f"{text} {item.value}"


@dataclass(frozen=True, slots=True)
class Pager:
    total: int
    offset: int
    shown: int
    previous_url: str | None
    next_url: str | None


def pager(query: ListQuery, path: str, search: Search, total: int, shown: int) -> Pager:
    previous = None
    if search.offset > 0:
        previous = query.url(path, after=max(0, search.offset - search.limit))
    following = None
    if shown and search.offset + shown < total:
        following = query.url(path, after=search.offset + shown)
    return Pager(total, search.offset, shown, previous, following)


def filter_choices(definitions: Mapping[str, PropertyDefinition]) -> list[tuple[str, str]]:
    """(name, label) of every property a filter may use, by label."""
    choices = [(d.name, d.label) for d in definitions.values()]
    choices.append((ASSOCIATED_COMPANY, property_label(ASSOCIATED_COMPANY, definitions)))
    return sorted(choices, key=lambda choice: (choice[1].lower(), choice[0]))


@router.get("/app/{hub_id}/contacts")
async def contact_list(request: Request, view: PortalView) -> Response:
    runtime = runtime_of(request)
    hub = view.hub_id
    query = ListQuery.parse(request.query_params)
    definitions = await runtime.db.read(
        lambda c: properties.load_definitions(c, hub, ObjectType.CONTACT)
    )
    context: dict[str, Any] = {
        "portal": view.portal,
        "title": "Contacts",
        "query": query,
        "choices": filter_choices(definitions),
        "operators": OPERATORS,
        "descriptions": [describe(item, definitions) for item in query.filters],
        "remove_urls": [query.url(request.url.path, without=i) for i in range(len(query.filters))],
        "definitions": definitions,
        "error": None,
        "listing": None,
        **HELPERS,
    }
    try:
        search = build_search(query, definitions)
        listing = await runtime.db.read(
            lambda c: crm_pages.listing(c, hub, ObjectType.CONTACT, search, definitions)
        )
    except ValidationError as error:
        context["error"] = error.message
        return render(request, "contacts.html", context, status_code=400)
    context["listing"] = listing
    context["pager"] = pager(query, request.url.path, search, listing.total, len(listing.rows))
    context["filtered"] = bool(query.text or query.filters)
    return render(request, "contacts.html", context)


# --- one record --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PropertyRow:
    name: str
    label: str
    value: str
    history: crm_pages.PropertyHistory | None


def property_rows(
    record: Record, definitions: Mapping[str, PropertyDefinition]
) -> list[PropertyRow]:
    """Every property with a value, by label."""
    rows = [
        PropertyRow(
            name,
            property_label(name, definitions),
            option_label(definitions.get(name), value),
            record.history.get(name),
        )
        for name, value in record.properties.items()
        if value not in (None, "")
    ]
    return sorted(rows, key=lambda row: (row.label.lower(), row.name))


def option_label(definition: PropertyDefinition | None, value: str | None) -> str:
    """A value as people read it: an enumeration's option labels (`lead` → `Lead`), a datetime
    as `2026-12-01 10:04 UTC`; other values as they are."""
    text = value or ""
    if definition is None or not text:
        return text
    if definition.type is PropertyType.DATETIME:
        return when(parse_instant_ms(text)) or text
    if definition.type is not PropertyType.ENUMERATION:
        return text
    labels = {option.value: option.label for option in definition.options}
    if definition.name == "lifecyclestage":
        return ";".join(stage_label(part, labels.get(part)) for part in text.split(";"))
    return ";".join(labels.get(part, part) for part in text.split(";"))


def stage_label(value: str, label: str | None = None) -> str:
    """A lifecycle stage's label: the portal's, unless it is only the internal name run together
    (`Marketingqualifiedlead`); then HubSpot's own."""
    if label and label.replace(" ", "").lower() != value.lower():
        return label
    return STAGE_LABELS.get(value, label or value)


def stage_of(value: str | None, definitions: Mapping[str, PropertyDefinition] | None = None) -> str:
    """A `lifecyclestage` value as its label (by the contact definitions, when at hand)."""
    definition = (definitions or {}).get("lifecyclestage")
    if definition is not None:
        return option_label(definition, value)
    return stage_label(value or "")


def instant_ms(value: str | None) -> int | None:
    """A datetime property's value as epoch ms (for the `when` filter)."""
    return parse_instant_ms(value) if value else None


def source_label(source: str) -> str:
    try:
        return SOURCE_LABELS[Source(source)]
    except ValueError:
        return source


def traffic_label(source: str) -> str:
    return source.replace("_", " ").capitalize() if source else ""


def safe_href(url: str) -> str | None:
    """A URL worth linking: http(s) only (never `javascript:` from someone's tracking data)."""
    return url if urlsplit(url).scheme in ("http", "https") else None


@dataclass(slots=True)
class Entry:
    """What the timeline shows in one row: one item, or property changes made together."""

    at_ms: int
    kind: Kind
    source: str
    items: list[Item] = field(default_factory=list)


def entries(items: Sequence[Item]) -> list[Entry]:
    """Items in order, property changes from one write (same time and source) in one entry."""
    grouped: list[Entry] = []
    for item in items:
        last = grouped[-1] if grouped else None
        if (
            item.kind is Kind.PROPERTY
            and last is not None
            and last.kind is Kind.PROPERTY
            and (last.at_ms, last.source) == (item.at_ms, item.source)
        ):
            last.items.append(item)
        else:
            grouped.append(Entry(item.at_ms, item.kind, item.source, [item]))
    return grouped


def record_context(
    view: PortalContext, loaded: RecordPage, base_path: str, before: Cursor | None
) -> dict[str, Any]:
    """What contact.html and company.html share."""
    definitions = loaded.definitions
    older = loaded.timeline.older
    return {
        "portal": view.portal,
        "record": loaded.record,
        "definitions": definitions,
        "property_rows": property_rows(loaded.record, definitions),
        "history_shown": HISTORY_SHOWN,
        "entries": entries(loaded.timeline.items),
        "older_url": f"{base_path}?before={older.encode()}#timeline" if older else None,
        "newest_url": f"{base_path}#timeline" if before else None,
        "changes": lambda items: [
            (
                property_label(item.title, definitions),
                option_label(definitions.get(item.title), item.detail) or "(cleared)",
            )
            for item in items
        ],
        **HELPERS,
    }


async def load_record(
    request: Request,
    hub: int,
    object_type: ObjectType,
    raw_id: str,
    sources: Sequence[timeline.Source],
) -> tuple[RecordPage, Cursor | None]:
    """The record's page data and the timeline cursor it was read from. A merged id answers
    with a redirect (`Redirect`), an unknown one, or another portal's, with a 404."""
    noun = "contact" if object_type is ObjectType.CONTACT else "company"
    missing = NotFoundError(f"There is no {noun} {raw_id} in this portal.")
    if not is_ascii_digits(raw_id, max_chars=18):
        raise missing
    before = Cursor.decode(request.query_params.get("before"))
    found = await runtime_of(request).db.read(
        lambda conn: crm_pages.record_page(
            conn,
            hub,
            object_type,
            int(raw_id),
            sources=sources,
            before=before,
            timeline_limit=TIMELINE_PAGE,
            history_per_property=HISTORY_SHOWN,
            linked_limit=LINKED_SHOWN,
        )
    )
    if found is None:
        raise missing
    if isinstance(found, Merged):
        raise Redirect(request.url.path.rsplit("/", 1)[0] + f"/{found.into_id}")
    return found, before


class Redirect(Exception):
    """A record page asked for by an id that was merged: go to the surviving record."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@router.get("/app/{hub_id}/contacts/{contact_id}")
async def contact_page(request: Request, view: PortalView, contact_id: str) -> Response:
    try:
        loaded, before = await load_record(
            request, view.hub_id, ObjectType.CONTACT, contact_id, timeline.CONTACT_SOURCES
        )
    except Redirect as moved:
        return RedirectResponse(moved.location, status_code=303)
    context = record_context(view, loaded, request.url.path, before)
    context["title"] = contact_name(loaded.record.properties, loaded.record.row.id)
    return render(request, "contact.html", context)


def contact_name(values: Mapping[str, str | None], contact_id: int) -> str:
    name = " ".join(v for v in (values.get("firstname"), values.get("lastname")) if v)
    return name or values.get("email") or f"Contact {contact_id}"


HELPERS: dict[str, Any] = {
    "source_label": source_label,
    "traffic_label": traffic_label,
    "safe_href": safe_href,
    "identity_labels": IDENTITY_LABELS,
    "stage_tones": STAGE_TONES,
    "instant_ms": instant_ms,
    "option_label": option_label,
    "stage_label": stage_of,
    "contact_name": contact_name,
}
