"""CRM object rows (contacts, companies): lookup by id or unique property, paging, property reads.

System properties HubSpot computes (`createdate`, `lastmodifieddate` / `hs_lastmodifieddate`,
`hs_object_id`, `hs_merged_object_ids`) come from the object rows, not from stored values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.emails import email_key
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.properties import ObjectType, format_datetime_ms
from hubtrail.store.schema import (
    companies,
    contact_identities,
    contacts,
    property_history,
    property_values,
)

TABLES: dict[ObjectType, Table] = {ObjectType.CONTACT: contacts, ObjectType.COMPANY: companies}
MODIFIED_PROPERTY = {
    ObjectType.CONTACT: "lastmodifieddate",
    ObjectType.COMPANY: "hs_lastmodifieddate",
}
SYSTEM_PROPERTIES = frozenset(
    {
        "createdate",
        "lastmodifieddate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_merged_object_ids",
    }
)


@dataclass(frozen=True, slots=True)
class ObjectRow:
    id: int
    created_at_ms: int
    updated_at_ms: int
    archived_at_ms: int | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    value: str
    timestamp_ms: int
    source: str
    source_id: str | None


def _row(row: object) -> ObjectRow:
    r = row._mapping  # type: ignore[attr-defined]
    return ObjectRow(r["id"], r["created_at_ms"], r["updated_at_ms"], r["archived_at_ms"])


async def fetch(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    ids: Iterable[int],
    *,
    archived: bool = False,
) -> dict[int, ObjectRow]:
    """Rows by id: live ones, or (with `archived`) archived ones only, as HubSpot's flag means."""
    table = TABLES[object_type]
    wanted = list(ids)
    if not wanted:
        return {}
    state = table.c.archived_at_ms.is_not(None) if archived else table.c.archived_at_ms.is_(None)
    query = select(table).where(
        table.c.portal_id == portal_id,
        table.c.id.in_(wanted),
        state,
        table.c.merged_into_id.is_(None),
    )
    return {row.id: _row(row) for row in await conn.execute(query)}


async def resolve(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    raw_ids: Sequence[str],
    id_property: str | None,
) -> dict[str, int]:
    """Client ids → object ids, by `hs_object_id` (following merges) or a unique property."""
    if not raw_ids:
        return {}
    if id_property in (None, "", "hs_object_id"):
        numeric = {raw: int(raw) for raw in raw_ids if is_ascii_digits(raw.strip())}
        return await _follow_merges(conn, portal_id, object_type, numeric)
    if object_type is ObjectType.CONTACT and id_property == "email":
        return await _contacts_by_email(conn, portal_id, raw_ids)
    if object_type is ObjectType.COMPANY and id_property == "domain":
        keys = {raw: raw.strip().lower() for raw in raw_ids}
        return await _by_column(conn, portal_id, companies, companies.c.domain_key, keys)
    assert id_property is not None
    return await _by_property(conn, portal_id, object_type, id_property, raw_ids)


async def _follow_merges(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, numeric: dict[str, int]
) -> dict[str, int]:
    table = TABLES[object_type]
    query = select(table.c.id, table.c.merged_into_id).where(
        table.c.portal_id == portal_id, table.c.id.in_(list(numeric.values()))
    )
    merged = {row.id: row.merged_into_id for row in await conn.execute(query)}
    found = {}
    for raw, object_id in numeric.items():
        if object_id in merged:
            found[raw] = merged[object_id] or object_id
    return found


async def _contacts_by_email(
    conn: AsyncConnection, portal_id: int, raw_ids: Sequence[str]
) -> dict[str, int]:
    keys = {raw: email_key(raw) for raw in raw_ids}
    found = await _by_column(conn, portal_id, contacts, contacts.c.email_key, keys)
    missing = {raw: key for raw, key in keys.items() if raw not in found}
    if missing:
        query = (
            select(contact_identities.c.value, contact_identities.c.contact_id)
            .join(contacts, contacts.c.id == contact_identities.c.contact_id)
            .where(
                contact_identities.c.portal_id == portal_id,
                contact_identities.c.kind == "email",
                contact_identities.c.value.in_(list(missing.values())),
                contacts.c.archived_at_ms.is_(None),
            )
        )
        by_key = {row.value: row.contact_id for row in await conn.execute(query)}
        found.update({raw: by_key[key] for raw, key in missing.items() if key in by_key})
    return found


async def _by_column(
    conn: AsyncConnection,
    portal_id: int,
    table: Table,
    column: ColumnElement[str],
    keys: dict[str, str],
) -> dict[str, int]:
    query = (
        select(column.label("key"), table.c.id)
        .where(
            table.c.portal_id == portal_id,
            column.in_(list(keys.values())),
            table.c.archived_at_ms.is_(None),
        )
        .order_by(table.c.id)
    )
    first: dict[str, int] = {}
    for row in await conn.execute(query):
        first.setdefault(row.key, row.id)
    return {raw: first[key] for raw, key in keys.items() if key in first}


async def _by_property(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    name: str,
    raw_ids: Sequence[str],
) -> dict[str, int]:
    table = TABLES[object_type]
    pv = property_values
    query = (
        select(pv.c.value, pv.c.object_id)
        .join(table, table.c.id == pv.c.object_id)
        .where(
            pv.c.portal_id == portal_id,
            pv.c.object_type == object_type.value,
            pv.c.name == name,
            pv.c.value.in_(list(raw_ids)),
            table.c.archived_at_ms.is_(None),
        )
    )
    by_value = {row.value: row.object_id for row in await conn.execute(query)}
    return {raw: by_value[raw] for raw in raw_ids if raw in by_value}


async def page(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    after_id: int,
    limit: int,
    *,
    archived: bool,
) -> list[ObjectRow]:
    """Up to `limit` rows with an id above `after_id`, in id order."""
    table = TABLES[object_type]
    state = table.c.archived_at_ms.is_not(None) if archived else table.c.archived_at_ms.is_(None)
    query = (
        select(table)
        .where(
            table.c.portal_id == portal_id,
            table.c.id > after_id,
            state,
            table.c.merged_into_id.is_(None),
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    return [_row(row) for row in await conn.execute(query)]


async def values(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    rows: Sequence[ObjectRow],
    names: Iterable[str] | None,
) -> dict[int, dict[str, str | None]]:
    """Each object's properties: the `names` asked for (missing ones None), or all it has."""
    ids = [row.id for row in rows]
    wanted = None if names is None else list(dict.fromkeys(names))
    pv = property_values
    query = select(pv.c.object_id, pv.c.name, pv.c.value).where(
        pv.c.portal_id == portal_id, pv.c.object_type == object_type.value, pv.c.object_id.in_(ids)
    )
    if wanted is not None:
        query = query.where(pv.c.name.in_(wanted))
    stored: dict[int, dict[str, str | None]] = defaultdict(dict)
    for value_row in await conn.execute(query):
        stored[value_row.object_id][value_row.name] = value_row.value
    merged = await merged_ids(conn, portal_id, object_type, ids)
    result = {}
    for row in rows:
        props: dict[str, str | None] = dict.fromkeys(wanted) if wanted else {}
        props.update(stored.get(row.id, {}))
        props.update(_system(object_type, row, merged.get(row.id)))
        result[row.id] = props
    return result


def _system(object_type: ObjectType, row: ObjectRow, merged: list[int] | None) -> dict[str, str]:
    system = {
        "createdate": format_datetime_ms(row.created_at_ms),
        MODIFIED_PROPERTY[object_type]: format_datetime_ms(row.updated_at_ms),
        "hs_object_id": str(row.id),
    }
    if merged:
        system["hs_merged_object_ids"] = ";".join(str(i) for i in merged)
    return system


async def merged_ids(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, ids: list[int]
) -> dict[int, list[int]]:
    table = TABLES[object_type]
    query = select(table.c.id, table.c.merged_into_id).where(
        table.c.portal_id == portal_id, table.c.merged_into_id.in_(ids)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for row in await conn.execute(query.order_by(table.c.id)):
        found[row.merged_into_id].append(row.id)
    return found


async def histories(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    ids: Sequence[int],
    names: Sequence[str],
) -> dict[int, dict[str, list[HistoryEntry]]]:
    """Every change to the named properties of each object, newest first."""
    ph = property_history
    query = (
        select(ph)
        .where(
            ph.c.portal_id == portal_id,
            ph.c.object_type == object_type.value,
            ph.c.object_id.in_(list(ids)),
            ph.c.name.in_(list(names)),
        )
        .order_by(ph.c.timestamp_ms.desc(), ph.c.id.desc())
    )
    found: dict[int, dict[str, list[HistoryEntry]]] = defaultdict(lambda: defaultdict(list))
    for row in await conn.execute(query):
        entry = HistoryEntry(row.value, row.timestamp_ms, row.source, row.source_id)
        found[row.object_id][row.name].append(entry)
    return found


async def add_row(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, at_ms: int, **keys: str | None
) -> int:
    """A new, empty object row (`email`/`email_key` or `domain_key` as keys)."""
    result = await conn.execute(
        insert(TABLES[object_type]).values(
            portal_id=portal_id, created_at_ms=at_ms, updated_at_ms=at_ms, **keys
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def set_keys(
    conn: AsyncConnection, object_type: ObjectType, object_id: int, at_ms: int, **keys: str | None
) -> None:
    table = TABLES[object_type]
    await conn.execute(
        update(table).where(table.c.id == object_id).values(updated_at_ms=at_ms, **keys)
    )


async def touch(
    conn: AsyncConnection, object_type: ObjectType, ids: Sequence[int], at_ms: int
) -> None:
    """Mark objects as modified now (`lastmodifieddate` / `hs_lastmodifieddate`)."""
    if ids:
        table = TABLES[object_type]
        await conn.execute(
            update(table).where(table.c.id.in_(list(ids))).values(updated_at_ms=at_ms)
        )


async def archive(
    conn: AsyncConnection, portal_id: int, object_type: ObjectType, ids: list[int], at_ms: int
) -> None:
    table = TABLES[object_type]
    await conn.execute(
        update(table)
        .where(
            table.c.portal_id == portal_id, table.c.id.in_(ids), table.c.archived_at_ms.is_(None)
        )
        .values(archived_at_ms=at_ms)
    )


async def count_live(conn: AsyncConnection, portal_id: int, object_type: ObjectType) -> int:
    table = TABLES[object_type]
    query = select(func.count()).where(
        table.c.portal_id == portal_id, table.c.archived_at_ms.is_(None)
    )
    return int((await conn.execute(query)).scalar() or 0)
