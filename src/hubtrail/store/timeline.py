"""One timeline per CRM object, newest first, merged from several sources.

Each source is one function that reads its newest items older than a cursor from its own table;
`page` asks every source for one more than a page and keeps the newest. A new kind of activity
(form submissions, say) is one more `Kind` and one more function in a source list.

Items are ordered by `(at_ms, kind rank, row id)`, all descending, and the cursor is that triple:
rows sharing a millisecond are never repeated or skipped across pages.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, false, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core import messages
from hubtrail.core.forms import HONEYPOT_FIELD
from hubtrail.core.properties import ObjectType
from hubtrail.store.schema import (
    contact_identities,
    event_definitions,
    event_occurrences,
    form_submissions,
    forms,
    page_views,
    property_history,
)

MAX_PAGE = 200
# Properties kept up to date from other records (page views, associations): their every change
# would drown the timeline, and what caused it is on the timeline or on the page already.
DERIVED_PREFIXES = {
    ObjectType.CONTACT: ("hs_analytics_", "hs_latest_source"),
    ObjectType.COMPANY: ("num_associated_contacts",),
}


class Kind(StrEnum):
    PAGE_VIEW = "page_view"
    EVENT = "event"
    IDENTITY = "identity"
    PROPERTY = "property"
    FORM_SUBMISSION = "form_submission"


# Ties within one millisecond: a property change sorts below the identify, view or form
# submission that caused it.
_RANK = {
    Kind.PROPERTY: 0,
    Kind.IDENTITY: 1,
    Kind.PAGE_VIEW: 2,
    Kind.EVENT: 3,
    Kind.FORM_SUBMISSION: 4,
}


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the next page holds the items strictly after it (older)."""

    at_ms: int
    rank: int
    row_id: int

    def encode(self) -> str:
        return f"{self.at_ms}.{self.rank}.{self.row_id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """A cursor from its text, or None for anything malformed (the newest page)."""
        parts = (raw or "").split(".")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts):
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]))


@dataclass(frozen=True, slots=True)
class Item:
    """One thing that happened. `title` and `detail` by kind: page title and URL, event label
    and internal name, identity kind and value, property name and new value, form name and
    page URL (the submitted name/value pairs, in their order, in `values`)."""

    at_ms: int
    kind: Kind
    row_id: int
    title: str
    detail: str
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    values: tuple[tuple[str, str], ...] = ()

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at_ms, _RANK[self.kind], self.row_id)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose timeline: objects of one type in one portal (a contact and those merged into it)."""

    portal_id: int
    object_type: ObjectType
    object_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TimelinePage:
    items: list[Item]
    older: Cursor | None  # None on the last page


Source = Callable[[AsyncConnection, Scope, Cursor | None, int], Awaitable[list[Item]]]


def _older_than(
    kind: Kind, at: ColumnElement[Any], row_id: ColumnElement[Any], cursor: Cursor | None
) -> ColumnElement[bool]:
    if cursor is None:
        return true()
    rank = _RANK[kind]
    if rank < cursor.rank:
        return at <= cursor.at_ms
    if rank > cursor.rank:
        return at < cursor.at_ms
    return or_(at < cursor.at_ms, and_(at == cursor.at_ms, row_id < cursor.row_id))


async def page_views_of(
    conn: AsyncConnection, scope: Scope, before: Cursor | None, limit: int
) -> list[Item]:
    """Page views, including those a visitor made before it was tied to the contact."""
    if scope.object_type is not ObjectType.CONTACT:
        return []
    pv = page_views.c
    query = (
        select(
            pv.id,
            pv.occurred_at_ms,
            pv.url,
            pv.title,
            pv.referrer,
            pv.source,
            pv.traffic_source,
            pv.is_bot,
        )
        .where(
            pv.portal_id == scope.portal_id,
            pv.contact_id.in_(scope.object_ids),
            _older_than(Kind.PAGE_VIEW, pv.occurred_at_ms, pv.id, before),
        )
        .order_by(pv.occurred_at_ms.desc(), pv.id.desc())
        .limit(limit)
    )
    items = []
    for row in await conn.execute(query):
        extra = {"referrer": row.referrer, "traffic_source": row.traffic_source}
        if row.is_bot:
            extra["bot"] = "yes"
        items.append(
            Item(row.occurred_at_ms, Kind.PAGE_VIEW, row.id, row.title, row.url, row.source, extra)
        )
    return items


async def events_of(
    conn: AsyncConnection, scope: Scope, before: Cursor | None, limit: int
) -> list[Item]:
    """Custom event occurrences, with their properties."""
    if scope.object_type is not ObjectType.CONTACT:
        return []
    eo, ed = event_occurrences.c, event_definitions.c
    query = (
        select(eo.id, eo.occurred_at_ms, eo.properties, eo.revenue, eo.source, ed.name, ed.label)
        .join(event_definitions, ed.id == eo.definition_id)
        .where(
            eo.portal_id == scope.portal_id,
            eo.contact_id.in_(scope.object_ids),
            _older_than(Kind.EVENT, eo.occurred_at_ms, eo.id, before),
        )
        .order_by(eo.occurred_at_ms.desc(), eo.id.desc())
        .limit(limit)
    )
    items = []
    for row in await conn.execute(query):
        extra = {name: _text(value) for name, value in _json_object(row.properties).items()}
        if row.revenue:
            extra.setdefault("revenue", row.revenue)
        items.append(
            Item(
                row.occurred_at_ms,
                Kind.EVENT,
                row.id,
                row.label or row.name,
                row.name,
                row.source,
                extra,
            )
        )
    return items


async def identities_of(
    conn: AsyncConnection, scope: Scope, before: Cursor | None, limit: int
) -> list[Item]:
    """When an email, a browser (visitor) or an external id was tied to the contact."""
    if scope.object_type is not ObjectType.CONTACT:
        return []
    ci = contact_identities.c
    query = (
        select(ci.id, ci.created_at_ms, ci.kind, ci.value)
        .where(
            ci.portal_id == scope.portal_id,
            ci.contact_id.in_(scope.object_ids),
            _older_than(Kind.IDENTITY, ci.created_at_ms, ci.id, before),
        )
        .order_by(ci.created_at_ms.desc(), ci.id.desc())
        .limit(limit)
    )
    return [
        Item(row.created_at_ms, Kind.IDENTITY, row.id, row.kind, row.value)
        for row in await conn.execute(query)
    ]


async def property_changes_of(
    conn: AsyncConnection, scope: Scope, before: Cursor | None, limit: int
) -> list[Item]:
    """Property changes, but for the derived ones (`DERIVED_PREFIXES`)."""
    ph = property_history.c
    prefixes = DERIVED_PREFIXES.get(scope.object_type, ())
    derived = or_(false(), *(ph.name.startswith(p, autoescape=True) for p in prefixes))
    query = (
        select(ph.id, ph.timestamp_ms, ph.name, ph.value, ph.source)
        .where(
            ph.portal_id == scope.portal_id,
            ph.object_type == scope.object_type.value,
            ph.object_id.in_(scope.object_ids),
            not_(derived),
            _older_than(Kind.PROPERTY, ph.timestamp_ms, ph.id, before),
        )
        .order_by(ph.timestamp_ms.desc(), ph.id.desc())
        .limit(limit)
    )
    return [
        Item(row.timestamp_ms, Kind.PROPERTY, row.id, row.name, row.value, row.source)
        for row in await conn.execute(query)
    ]


async def form_submissions_of(
    conn: AsyncConnection, scope: Scope, before: Cursor | None, limit: int
) -> list[Item]:
    """Form submissions: what was sent, each value under the label its field had on the form,
    and on which page. Read here rather than through `store.forms.submissions_of_contacts`,
    which has no cursor to page by."""
    if scope.object_type is not ObjectType.CONTACT:
        return []
    fs, f = form_submissions.c, forms.c
    query = (
        select(
            fs.id,
            fs.submitted_at_ms,
            fs.submitted,
            fs.page_uri,
            fs.page_name,
            f.guid,
            f.name,
            f.definition,
        )
        .join(forms, f.id == fs.form_id)
        .where(
            fs.portal_id == scope.portal_id,
            fs.contact_id.in_(scope.object_ids),
            _older_than(Kind.FORM_SUBMISSION, fs.submitted_at_ms, fs.id, before),
        )
        .order_by(fs.submitted_at_ms.desc(), fs.id.desc())
        .limit(limit)
    )
    items = []
    labels_of: dict[str, dict[str, str]] = {}  # by form guid: a page often holds one form's
    for row in await conn.execute(query):
        labels = labels_of.get(row.guid)
        if labels is None:
            labels = labels_of[row.guid] = _field_labels(row.definition)
        values = tuple(
            (labels.get(str(name)) or str(name), _text(value))
            for name, value in _json_pairs(row.submitted)
            if name != HONEYPOT_FIELD
        )
        extra = {"form_guid": row.guid, "page_name": row.page_name}
        items.append(
            Item(
                row.submitted_at_ms,
                Kind.FORM_SUBMISSION,
                row.id,
                row.name,
                row.page_uri,
                messages.Source.FORM.value,
                extra,
                values,
            )
        )
    return items


CONTACT_SOURCES: tuple[Source, ...] = (
    page_views_of,
    events_of,
    identities_of,
    property_changes_of,
    form_submissions_of,
)
COMPANY_SOURCES: tuple[Source, ...] = (property_changes_of,)


async def page(
    conn: AsyncConnection,
    scope: Scope,
    sources: Sequence[Source],
    before: Cursor | None,
    limit: int,
) -> TimelinePage:
    """The `limit` newest items older than `before`, from every source, newest first."""
    size = max(1, min(limit, MAX_PAGE))
    if not scope.object_ids:
        return TimelinePage([], None)
    found = [await source(conn, scope, before, size + 1) for source in sources]
    merged = sorted(
        itertools.chain.from_iterable(found),
        key=lambda item: (item.at_ms, _RANK[item.kind], item.row_id),
        reverse=True,
    )
    items = merged[:size]
    older = items[-1].cursor if len(merged) > size else None
    return TimelinePage(items, older)


def _json_object(raw: str | None) -> dict[str, Any]:
    try:
        loaded = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _field_labels(definition: str | None) -> dict[str, str]:
    """A form definition's field labels by field name (`core.forms.form_to_json`'s document)."""
    fields = _json_object(definition).get("fields")
    if not isinstance(fields, list):
        return {}
    return {
        str(item["name"]): str(item.get("label") or "")
        for item in fields
        if isinstance(item, dict) and "name" in item
    }


def _json_pairs(raw: str | None) -> list[tuple[Any, Any]]:
    """`[[name, value], …]` as stored; anything else is no pairs."""
    try:
        loaded = orjson.loads(raw or "[]")
    except orjson.JSONDecodeError:
        return []
    if not isinstance(loaded, list):
        return []
    return [(p[0], p[1]) for p in loaded if isinstance(p, list) and len(p) == 2]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
