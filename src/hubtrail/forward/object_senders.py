"""Contacts and companies to the target: upserts by email, creates and updates by the target's
id, and (for a destination sent deletions) archives, merges and GDPR deletions.

Each sender reads the current state of the objects its rows name, so several changes to one
object are one input and a replay sends today's data; a row whose object is gone is a deletion
for a destination that wants them, and done for any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubtrail.core.properties import ObjectType
from hubtrail.forward import hubspot
from hubtrail.forward.outcome import CallFailed, Result
from hubtrail.forward.targets import (
    COMPANY,
    CONTACT,
    Forwarding,
    forget,
    remember,
    remote_ids,
)
from hubtrail.store import forward_reads
from hubtrail.store.destinations import Destination, RemoteId, Sends
from hubtrail.store.outbox import Row

# --- contacts and companies -------------------------------------------------------------------


async def send_contacts(fw: Forwarding, d: Destination, rows: list[Row], result: Result) -> None:
    """Contacts with an email go as one upsert by email. A contact without one, or whose email
    is not the one the target got (an upsert by the new email would make a second contact
    there), is updated by the target's id, or created and its id remembered."""
    by_id = {row.object_key: row for row in rows}
    records = await fw.db.read(
        lambda c: forward_reads.records(c, d.portal_id, ObjectType.CONTACT, [int(k) for k in by_id])
    )
    known = await remote_ids(fw, d, CONTACT, list(by_id))
    by_email: dict[str, tuple[str, Row]] = {}
    inputs = []
    by_target_id: dict[str, forward_reads.Record] = {}
    gone: dict[str, Row] = {}
    for key, row in by_id.items():
        record = records.get(int(key))
        if record is None:
            gone[key] = row
            continue
        email = record.key.lower()
        remote = known.get(key)
        # ids remembered before emails were kept with them count as the email they have now
        if email and (remote is None or remote.detail.get("email", email) == email):
            by_email[email] = (key, row)
            inputs.append((record.key, record.properties))
        else:
            by_target_id[key] = record
    if inputs:
        await _upsert_contacts(fw, d, inputs, by_email, result)
    if by_target_id:
        await _update_or_create(
            fw, d, CONTACT, by_target_id, known, by_id, result, detail=_email_detail
        )
    await _send_gone(fw, d, CONTACT, gone, result)


def _email_detail(record: forward_reads.Record) -> dict[str, Any]:
    """What a contact's remembered target id keeps: the email the target has it under."""
    return {"email": record.key.lower()}


async def _upsert_contacts(
    fw: Forwarding,
    d: Destination,
    inputs: list[tuple[str, dict[str, str]]],
    by_email: dict[str, tuple[str, Row]],
    result: Result,
) -> None:
    try:
        _, body = await fw.call(d, hubspot.contacts_upsert(inputs))
    except CallFailed as error:
        result.fail([row.id for _, row in by_email.values()], error)
        return
    answer = hubspot.read_upsert(body)
    refused = {error.key: error.message for error in answer.errors}
    unattributed = refused.pop("", None)
    for email, (_, row) in by_email.items():
        if email in refused:
            result.dead.append(([row.id], refused[email]))
        elif unattributed is not None and email not in answer.ids:
            result.fail([row.id], CallFailed(400, unattributed))
        else:
            result.sent.append(row.id)
    found = {
        key: RemoteId(answer.ids[email], {"email": email})
        for email, (key, _) in by_email.items()
        if email in answer.ids
    }
    await remember(fw, d, CONTACT, found)


async def send_companies(fw: Forwarding, d: Destination, rows: list[Row], result: Result) -> None:
    """Companies by domain: found on the target by search (once), then updated by the target's
    id; the others created, each traced by its local id so a 207 names the failed ones."""
    by_id = {row.object_key: row for row in rows}
    records = await fw.db.read(
        lambda c: forward_reads.records(c, d.portal_id, ObjectType.COMPANY, [int(k) for k in by_id])
    )
    gone = {key: row for key, row in by_id.items() if int(key) not in records}
    live = {key: records[int(key)] for key in by_id if int(key) in records}
    known = await remote_ids(fw, d, COMPANY, list(live))
    unknown_domains = {r.key: key for key, r in live.items() if key not in known and r.key}
    try:
        if unknown_domains:
            _, body = await fw.call(d, hubspot.companies_search(list(unknown_domains)))
            found = hubspot.read_search(body, "domain")
            matched = {
                unknown_domains[domain]: RemoteId(remote, {})
                for domain, remote in found.items()
                if domain in unknown_domains
            }
            await remember(fw, d, COMPANY, matched)
            known.update(matched)
    except CallFailed as error:
        result.fail([by_id[key].id for key in live], error)
    else:
        await _update_or_create(fw, d, COMPANY, live, known, by_id, result)
    await _send_gone(fw, d, COMPANY, gone, result)


_OBJECT_TYPES = {CONTACT: "contacts", COMPANY: "companies"}
_KEY_NAMES = {CONTACT: "email", COMPANY: "domain"}


async def _update_or_create(
    fw: Forwarding,
    d: Destination,
    kind: str,
    live: dict[str, forward_reads.Record],
    known: dict[str, RemoteId],
    by_id: dict[str, Row],
    result: Result,
    *,
    detail: Callable[[forward_reads.Record], dict[str, Any]] | None = None,
) -> None:
    """Records the target has an id for are updated by it; the others are created, each traced
    by its local id, and their new ids remembered (with `detail`, which an update refreshes
    when it changed)."""
    object_type = _OBJECT_TYPES[kind]
    updates = [(key, r) for key, r in live.items() if key in known]
    creates = [(key, r) for key, r in live.items() if key not in known]
    if updates:
        inputs = [(known[k].remote_id, r.properties) for k, r in updates]
        try:
            _, body = await fw.call(d, hubspot.objects_update(object_type, inputs))
        except CallFailed as error:
            result.fail([by_id[k].id for k, _ in updates], error)
        else:
            gone = {e.key for e in hubspot.read_update(body).errors}
            deleted_there, changed = [], {}
            for key, record in updates:
                if known[key].remote_id.lower() in gone:  # deleted on the target: create again
                    deleted_there.append(key)
                    result.retry.append(([by_id[key].id], f"the {kind} was deleted on the target"))
                else:
                    result.sent.append(by_id[key].id)
                    if detail and detail(record) != known[key].detail:
                        changed[key] = RemoteId(known[key].remote_id, detail(record))
            await forget(fw, d, kind, deleted_there)
            await remember(fw, d, kind, changed)
    if creates:
        inputs = [(k, r.properties) for k, r in creates]
        try:
            _, body = await fw.call(d, hubspot.objects_create(object_type, inputs))
        except CallFailed as error:
            result.fail([by_id[k].id for k, _ in creates], error)
            return
        answer = hubspot.read_create(body, inputs, _KEY_NAMES[kind])
        refused = {e.key: e.message for e in answer.errors}
        for key, _ in creates:
            if key in answer.ids:
                result.sent.append(by_id[key].id)
            else:
                message = refused.get(key) or refused.get("") or "the target created nothing"
                result.dead.append(([by_id[key].id], message))
        records = dict(creates)
        await remember(
            fw,
            d,
            kind,
            {
                k: RemoteId(v, detail(records[k]) if detail else {})
                for k, v in answer.ids.items()
                if k in records
            },
        )


# --- deletions --------------------------------------------------------------------------------


async def _send_gone(
    fw: Forwarding, d: Destination, kind: str, rows: dict[str, Row], result: Result
) -> None:
    """Objects no longer live here. A destination sent deletions gets the archive, merge or
    GDPR deletion of those it has (after this cycle's creates, so a merge finds its primary);
    otherwise, or when the target never had them, there is nothing to send."""
    if not rows:
        return
    if Sends.DELETIONS not in d.sends:
        result.sent.extend(row.id for row in rows.values())
        return
    object_type = ObjectType.CONTACT if kind == CONTACT else ObjectType.COMPANY
    reasons = await fw.db.read(
        lambda c: forward_reads.gone(c, d.portal_id, object_type, [int(k) for k in rows])
    )
    primaries = sorted({str(g.merged_into) for g in reasons.values() if g.merged_into})
    known = await remote_ids(fw, d, kind, [*rows, *primaries])
    to_archive = []
    for key, row in rows.items():
        remote, why = known.get(key), reasons.get(int(key))
        if remote is None or why is None:  # the target never had it (or it is live again)
            result.sent.append(row.id)
        elif why.merged_into is not None:
            primary = known.get(str(why.merged_into))
            if primary is None:  # the target's copy becomes the primary's
                await remember(fw, d, kind, {str(why.merged_into): remote})
                await forget(fw, d, kind, [key])
                result.sent.append(row.id)
            else:
                call = hubspot.objects_merge(
                    _OBJECT_TYPES[kind], primary.remote_id, remote.remote_id
                )
                await _call_then_forget(fw, d, kind, {key: row}, call, result)
        elif why.deleted and kind == CONTACT:
            call = hubspot.contact_gdpr_delete(remote.remote_id)
            await _call_then_forget(fw, d, kind, {key: row}, call, result)
        else:
            to_archive.append(key)
    if to_archive:
        target_ids = [known[key].remote_id for key in to_archive]
        call = hubspot.objects_archive(_OBJECT_TYPES[kind], target_ids)
        await _call_then_forget(fw, d, kind, {k: rows[k] for k in to_archive}, call, result)


async def _call_then_forget(
    fw: Forwarding,
    d: Destination,
    kind: str,
    rows: dict[str, Row],
    call: hubspot.Call,
    result: Result,
) -> None:
    """A deletion call; once done (or the target no longer has the object: 404), the target's
    id is forgotten."""
    try:
        await fw.call(d, call)
    except CallFailed as error:
        if error.status != 404:
            result.fail([row.id for row in rows.values()], error)
            return
    await forget(fw, d, kind, list(rows))
    result.sent.extend(row.id for row in rows.values())
