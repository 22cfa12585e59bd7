"""What the dashboard's contact and company pages read, each in a fixed number of queries.

Lists come from the CRM search (`store.search.run`, as `POST /crm/v3/objects/*/search`), so a
filter means on the page exactly what it means in the API. Timelines are in `store.timeline`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.properties import ObjectType, PropertyDefinition
from hubtrail.core.search import Search
from hubtrail.store import associations, objects, properties, search, timeline
from hubtrail.store.objects import TABLES, HistoryEntry, ObjectRow
from hubtrail.store.schema import associations as associations_table
from hubtrail.store.schema import contact_identities, page_views, property_history, visitors
from hubtrail.store.timeline import Cursor, Scope, TimelinePage

LIST_PROPERTIES = {
    ObjectType.CONTACT: (
        "firstname",
        "lastname",
        "email",
        "lifecyclestage",
        "company",
        "hs_analytics_last_timestamp",
    ),
    ObjectType.COMPANY: ("name", "domain", "website", "city", "country"),
}
LINKED_PROPERTIES = {
    ObjectType.CONTACT: ("firstname", "lastname", "email", "lifecyclestage"),
    ObjectType.COMPANY: ("name", "domain"),
}
PRIMARY_TYPE_IDS = frozenset({1, 2})  # contact → company and back, "Primary"
MAX_MERGE_HOPS = 20
MAX_IDENTITIES = 200


@dataclass(frozen=True, slots=True)
class Linked:
    """An associated object, with a few properties to name it."""

    id: int
    properties: dict[str, str | None]
    primary: bool


@dataclass(frozen=True, slots=True)
class Listed:
    row: ObjectRow
    properties: dict[str, str | None]
    companies: list[Linked] = field(default_factory=list)  # contacts: primary first
    contact_count: int = 0  # companies


@dataclass(frozen=True, slots=True)
class Listing:
    total: int
    rows: list[Listed]


@dataclass(frozen=True, slots=True)
class PropertyHistory:
    recent: list[HistoryEntry]  # newest first
    total: int


@dataclass(frozen=True, slots=True)
class Identity:
    kind: str  # email, external_id, visitor
    value: str
    linked_at_ms: int
    first_seen_ms: int | None = None  # visitors: when the browser was first seen
    last_seen_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One contact or company, as its page shows it."""

    row: ObjectRow
    properties: dict[str, str | None]
    history: dict[str, PropertyHistory]
    merged_ids: list[int]
    linked: list[Linked]  # companies of a contact, contacts of a company
    linked_total: int
    identities: list[Identity] = field(default_factory=list)


async def listing(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    request: Search,
    definitions: Mapping[str, PropertyDefinition],
) -> Listing:
    """One page of a search, with what the list shows of each object (`ValidationError` for a
    filter the search cannot run)."""
    total, rows = await search.run(conn, portal_id, object_type, request, definitions)
    values = await objects.values(conn, portal_id, object_type, rows, LIST_PROPERTIES[object_type])
    ids = [row.id for row in rows]
    if object_type is ObjectType.CONTACT:
        companies = await linked(conn, portal_id, object_type, ids, ObjectType.COMPANY)
        listed = [Listed(r, values[r.id], companies=companies.get(r.id, [])) for r in rows]
    else:
        counts = await _link_counts(conn, portal_id, object_type, ids, ObjectType.CONTACT)
        listed = [Listed(r, values[r.id], contact_count=counts.get(r.id, 0)) for r in rows]
    return Listing(total, listed)


async def linked(
    conn: AsyncConnection,
    portal_id: int,
    from_type: ObjectType,
    from_ids: Sequence[int],
    to_type: ObjectType,
    *,
    limit: int | None = None,
) -> dict[int, list[Linked]]:
    """Each object's live associated objects of `to_type`, the primary first, then by id."""
    if not from_ids:
        return {}
    links = await associations.links(conn, portal_id, from_type, from_ids, to_type, limit=limit)
    target_ids = sorted({link.to_id for found in links.values() for link in found})
    rows = await objects.fetch(conn, portal_id, to_type, target_ids)
    values = await objects.values(
        conn, portal_id, to_type, list(rows.values()), LINKED_PROPERTIES[to_type]
    )
    result: dict[int, list[Linked]] = {}
    for from_id, found in links.items():
        primary = {link.to_id for link in found if link.type_id in PRIMARY_TYPE_IDS}
        items = [
            Linked(to_id, values[to_id], to_id in primary)
            for to_id in dict.fromkeys(link.to_id for link in found)
            if to_id in rows
        ]
        result[from_id] = sorted(items, key=lambda item: (not item.primary, item.id))
    return result


async def _link_counts(
    conn: AsyncConnection,
    portal_id: int,
    from_type: ObjectType,
    from_ids: Sequence[int],
    to_type: ObjectType,
) -> dict[int, int]:
    if not from_ids:
        return {}
    a = associations_table.c
    target = TABLES[to_type]
    query = (
        select(a.from_id, func.count(func.distinct(a.to_id)))
        .join(target, target.c.id == a.to_id)
        .where(
            a.portal_id == portal_id,
            a.from_type == from_type.value,
            a.from_id.in_(list(from_ids)),
            a.to_type == to_type.value,
            target.c.archived_at_ms.is_(None),
        )
        .group_by(a.from_id)
    )
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def surviving_id(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, object_id: int
) -> int | None:
    """The live object `object_id` is now (itself, or what it was merged into); None when it is
    unknown in this portal or archived."""
    table = TABLES[object_type]
    current = object_id
    for _ in range(MAX_MERGE_HOPS):
        query = select(table.c.archived_at_ms, table.c.merged_into_id).where(
            table.c.portal_id == portal_id, table.c.id == current
        )
        row = (await conn.execute(query)).first()
        if row is None:
            return None
        if row.merged_into_id is None:
            return current if row.archived_at_ms is None else None
        current = row.merged_into_id
    return None


async def record(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    object_id: int,
    *,
    history_per_property: int,
    linked_limit: int,
) -> Record | None:
    """A live object with all its properties, their recent history, and what it is linked to."""
    rows = await objects.fetch(conn, portal_id, object_type, [object_id])
    row = rows.get(object_id)
    if row is None:
        return None
    values = (await objects.values(conn, portal_id, object_type, [row], None))[object_id]
    merged = (await objects.merged_ids(conn, portal_id, object_type, [object_id])).get(
        object_id, []
    )
    other = ObjectType.COMPANY if object_type is ObjectType.CONTACT else ObjectType.CONTACT
    found = await linked(conn, portal_id, object_type, [object_id], other, limit=linked_limit)
    counts = await _link_counts(conn, portal_id, object_type, [object_id], other)
    identities = (
        await _identities(conn, portal_id, object_id) if object_type is ObjectType.CONTACT else []
    )
    return Record(
        row=row,
        properties=values,
        history=await recent_history(conn, portal_id, object_type, object_id, history_per_property),
        merged_ids=merged,
        linked=found.get(object_id, []),
        linked_total=counts.get(object_id, 0),
        identities=identities,
    )


async def recent_history(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    object_id: int,
    per_property: int,
) -> dict[str, PropertyHistory]:
    """The newest `per_property` changes of each property, and how many there are in all.

    One windowed query: a property changed on every page view keeps thousands of rows, and only
    the newest few are read.
    """
    ph = property_history.c
    order = (ph.timestamp_ms.desc(), ph.id.desc())
    ranked = (
        select(
            ph.name,
            ph.value,
            ph.timestamp_ms,
            ph.source,
            ph.source_id,
            func.row_number().over(partition_by=ph.name, order_by=order).label("position"),
            func.count().over(partition_by=ph.name).label("total"),
        )
        .where(
            ph.portal_id == portal_id,
            ph.object_type == object_type.value,
            ph.object_id == object_id,
        )
        .subquery()
    )
    query = (
        select(ranked)
        .where(ranked.c.position <= per_property)
        .order_by(ranked.c.name, ranked.c.position)
    )
    found: dict[str, PropertyHistory] = {}
    for row in await conn.execute(query):
        entry = HistoryEntry(row.value, row.timestamp_ms, row.source, row.source_id)
        found.setdefault(row.name, PropertyHistory([], int(row.total))).recent.append(entry)
    return found


async def _identities(conn: AsyncConnection, portal_id: int, contact_id: int) -> list[Identity]:
    """Emails, external ids and browsers tied to a contact, oldest first. A browser is first and
    last seen at its first and last page view (a message's own time, which may be long before
    hubtrail received it), or when hubtrail saw it without any view."""
    ci, v, pv = contact_identities.c, visitors.c, page_views.c
    views = select(pv.occurred_at_ms).where(pv.visitor_id == v.id)
    first_view = views.with_only_columns(func.min(pv.occurred_at_ms)).scalar_subquery()
    last_view = views.with_only_columns(func.max(pv.occurred_at_ms)).scalar_subquery()
    query = (
        select(
            ci.kind,
            ci.value,
            ci.created_at_ms,
            func.coalesce(first_view, v.created_at_ms).label("first_seen"),
            func.coalesce(last_view, v.last_seen_at_ms).label("last_seen"),
        )
        .select_from(contact_identities)
        .outerjoin(
            visitors,
            (ci.kind == "visitor") & (v.portal_id == ci.portal_id) & (v.visitor_key == ci.value),
        )
        .where(ci.portal_id == portal_id, ci.contact_id == contact_id)
        .order_by(ci.created_at_ms, ci.kind, ci.value)
        .limit(MAX_IDENTITIES)
    )
    return [
        Identity(row.kind, row.value, row.created_at_ms, row.first_seen, row.last_seen)
        for row in await conn.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class RecordPage:
    record: Record
    definitions: dict[str, PropertyDefinition]
    timeline: TimelinePage


@dataclass(frozen=True, slots=True)
class Merged:
    """The id asked for was merged: the object it lives on as."""

    into_id: int


async def record_page(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    object_id: int,
    *,
    sources: Sequence[timeline.Source],
    before: Cursor | None,
    timeline_limit: int,
    history_per_property: int,
    linked_limit: int,
) -> RecordPage | Merged | None:
    """Everything a contact's or company's page shows, or where a merged id went, or None."""
    current = await surviving_id(conn, portal_id, object_type, object_id)
    if current is not None and current != object_id:
        return Merged(current)
    found = None
    if current is not None:
        found = await record(
            conn,
            portal_id,
            object_type,
            object_id,
            history_per_property=history_per_property,
            linked_limit=linked_limit,
        )
    if found is None:
        return None
    definitions = await properties.load_definitions(conn, portal_id, object_type)
    scope = Scope(portal_id, object_type, (object_id, *found.merged_ids))
    page = await timeline.page(conn, scope, sources, before, timeline_limit)
    return RecordPage(found, definitions, page)
