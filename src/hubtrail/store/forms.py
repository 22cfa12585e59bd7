"""Form definitions and their submissions.

A definition is stored as its name plus one JSON document (`core.forms.form_to_json`); it is
found by its guid, always within a portal. Submissions are written by the processor when it
applies a form message, with what was sent and who sent it (the contact, the visitor).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.forms import Form, form_from_json, form_to_json
from hubtrail.store.schema import form_submissions, forms
from hubtrail.store.sql import insert_ignoring


def _form(row: Any) -> Form:
    return form_from_json(
        row.guid,
        row.portal_id,
        row.name,
        orjson.loads(row.definition),
        archived=row.archived_at_ms is not None,
        created_at_ms=row.created_at_ms,
        updated_at_ms=row.updated_at_ms,
    )


async def create_form(conn: AsyncConnection, form: Form, at_ms: int) -> Form:
    await conn.execute(
        insert(forms).values(
            portal_id=form.portal_id,
            guid=form.guid,
            name=form.name,
            definition=orjson.dumps(form_to_json(form)).decode(),
            created_at_ms=at_ms,
            updated_at_ms=at_ms,
        )
    )
    found = await get_form(conn, form.portal_id, form.guid)
    assert found is not None
    return found


async def update_form(conn: AsyncConnection, form: Form, at_ms: int) -> Form | None:
    """Replace a live form's name and definition; None when the portal has no such form."""
    result = await conn.execute(
        update(forms)
        .where(
            forms.c.portal_id == form.portal_id,
            forms.c.guid == form.guid,
            forms.c.archived_at_ms.is_(None),
        )
        .values(
            name=form.name,
            definition=orjson.dumps(form_to_json(form)).decode(),
            updated_at_ms=at_ms,
        )
    )
    return await get_form(conn, form.portal_id, form.guid) if result.rowcount else None


async def archive_form(conn: AsyncConnection, portal_id: int, guid: str, at_ms: int) -> bool:
    result = await conn.execute(
        update(forms)
        .where(
            forms.c.portal_id == portal_id, forms.c.guid == guid, forms.c.archived_at_ms.is_(None)
        )
        .values(archived_at_ms=at_ms, updated_at_ms=at_ms)
    )
    return bool(result.rowcount)


async def get_form(conn: AsyncConnection, portal_id: int, guid: str) -> Form | None:
    """The portal's form with this guid (archived ones too: check `archived`)."""
    row = (
        await conn.execute(
            select(forms).where(forms.c.portal_id == portal_id, forms.c.guid == guid)
        )
    ).first()
    return _form(row) if row is not None else None


async def form_id(conn: AsyncConnection, portal_id: int, guid: str) -> int | None:
    query = select(forms.c.id).where(forms.c.portal_id == portal_id, forms.c.guid == guid)
    value = (await conn.execute(query)).scalar()
    return int(value) if value is not None else None


async def list_forms(
    conn: AsyncConnection,
    portal_id: int,
    *,
    after_id: int = 0,
    limit: int = 100,
    archived: bool = False,
) -> list[tuple[int, Form]]:
    """(row id, form) pairs in id order after `after_id`: live forms, or archived ones."""
    state = forms.c.archived_at_ms.is_not(None) if archived else forms.c.archived_at_ms.is_(None)
    query = (
        select(forms)
        .where(forms.c.portal_id == portal_id, forms.c.id > after_id, state)
        .order_by(forms.c.id)
        .limit(limit)
    )
    return [(row.id, _form(row)) for row in await conn.execute(query)]


# --- submissions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    form_guid: str
    message_id: str
    submitted_at_ms: int
    submitted: list[tuple[str, str]]
    page_uri: str
    page_name: str
    hutk: str
    ip_address: str
    contact_id: int | None
    visitor_id: int | None


async def add_submission(conn: AsyncConnection, row: dict[str, Any]) -> None:
    """Record one (keys: the `form_submissions` columns but `id`; `submitted` a list of
    [name, value]); a message applied twice records it once."""
    values = {**row, "submitted": orjson.dumps(row["submitted"]).decode()}
    await conn.execute(insert_ignoring(conn, form_submissions, ["portal_id", "message_id"]), values)


def _submission(row: Any) -> Submission:
    return Submission(
        id=row.id,
        form_guid=row.guid,
        message_id=row.message_id,
        submitted_at_ms=row.submitted_at_ms,
        submitted=[(str(n), str(v)) for n, v in orjson.loads(row.submitted)],
        page_uri=row.page_uri,
        page_name=row.page_name,
        hutk=row.hutk,
        ip_address=row.ip_address,
        contact_id=row.contact_id,
        visitor_id=row.visitor_id,
    )


def _submissions_query() -> Any:
    s = form_submissions
    return select(s, forms.c.guid).join(forms, forms.c.id == s.c.form_id)


async def submissions_of_form(
    conn: AsyncConnection,
    portal_id: int,
    guid: str,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Submission]:
    """A form's submissions, newest first, paged by `before_id`."""
    s = form_submissions
    query = _submissions_query().where(s.c.portal_id == portal_id, forms.c.guid == guid)
    if before_id is not None:
        query = query.where(s.c.id < before_id)
    rows = await conn.execute(query.order_by(s.c.id.desc()).limit(limit))
    return [_submission(row) for row in rows]


async def submissions_of_contacts(
    conn: AsyncConnection, portal_id: int, contact_ids: Sequence[int], limit: int = 200
) -> list[Submission]:
    """Submissions by these contacts (a contact and those merged into it), newest first."""
    s = form_submissions
    query = (
        _submissions_query()
        .where(s.c.portal_id == portal_id, s.c.contact_id.in_(list(contact_ids)))
        .order_by(s.c.submitted_at_ms.desc(), s.c.id.desc())
        .limit(limit)
    )
    return [_submission(row) for row in await conn.execute(query)]


async def submission_by_message(
    conn: AsyncConnection, portal_id: int, message_id: str
) -> Submission | None:
    s = form_submissions
    query = _submissions_query().where(s.c.portal_id == portal_id, s.c.message_id == message_id)
    row = (await conn.execute(query)).first()
    return _submission(row) if row is not None else None


async def count_submissions(conn: AsyncConnection, portal_id: int, guid: str) -> int:
    s = form_submissions
    query = (
        select(func.count())
        .select_from(s.join(forms, forms.c.id == s.c.form_id))
        .where(s.c.portal_id == portal_id, forms.c.guid == guid)
    )
    return int((await conn.execute(query)).scalar() or 0)


async def count_by_form(
    conn: AsyncConnection, portal_id: int, form_ids: Sequence[int]
) -> dict[int, int]:
    """Submissions per form row id, in one query (forms without any are missing)."""
    if not form_ids:
        return {}
    s = form_submissions
    query = (
        select(s.c.form_id, func.count())
        .where(s.c.portal_id == portal_id, s.c.form_id.in_(list(form_ids)))
        .group_by(s.c.form_id)
    )
    return {int(row[0]): int(row[1]) for row in await conn.execute(query)}


async def walk_submissions(
    conn: AsyncConnection, portal_id: int, guid: str, batch: int = 1000
) -> AsyncIterator[Submission]:
    """Every submission of a form, oldest first (exports)."""
    s = form_submissions
    after = 0
    while True:
        query = (
            _submissions_query()
            .where(s.c.portal_id == portal_id, forms.c.guid == guid, s.c.id > after)
            .order_by(s.c.id)
            .limit(batch)
        )
        rows = [_submission(row) for row in await conn.execute(query)]
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = rows[-1].id
