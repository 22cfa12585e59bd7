"""How each kind of change reaches the target: one batch of outbox rows in, a `Result` out.

Every sender reads the current state of what its rows name (so several changes to one object
are one input, and a replay sends today's data), makes its calls through the forwarder (which
paces them), and files each row as sent, to retry, or dead with the target's message. Rows whose
object is gone (archived, merged, deleted) are done: there is nothing left to send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from hubtrail.core.forms import OBJECT_TYPE_IDS, Form
from hubtrail.core.properties import ObjectType
from hubtrail.forward import hubspot
from hubtrail.forward.outcome import CallFailed, Result
from hubtrail.store import destinations, forms, forward_reads
from hubtrail.store.batch import is_usertoken
from hubtrail.store.db import Database
from hubtrail.store.destinations import Destination, RemoteId, Sends
from hubtrail.store.outbox import Kind, Row

CONTACT, COMPANY, DEFINITION = "contact", "company", "event_definition"
_TARGET_TYPES = {"string", "number", "datetime", "bool"}  # others go as string


class Forwarding(Protocol):
    db: Database

    async def call(self, destination: Destination, call: hubspot.Call) -> tuple[int, Any]: ...


async def send(fw: Forwarding, destination: Destination, rows: list[Row], result: Result) -> None:
    """Send one batch of rows, all of one kind."""
    await SENDERS[rows[0].kind](fw, destination, rows, result)


async def _remote(
    fw: Forwarding, d: Destination, object_type: str, keys: list[str]
) -> dict[str, RemoteId]:
    return await fw.db.read(lambda c: destinations.remote_ids(c, d.id, object_type, keys))


async def _remember(
    fw: Forwarding, d: Destination, object_type: str, found: dict[str, RemoteId]
) -> None:
    if found:
        await fw.db.write(lambda c: destinations.remember_ids(c, d.id, object_type, found))


async def _forget(fw: Forwarding, d: Destination, object_type: str, key: str) -> None:
    await fw.db.write(lambda c: destinations.forget_id(c, d.id, object_type, key))


# --- contacts and companies -------------------------------------------------------------------


async def send_contacts(fw: Forwarding, d: Destination, rows: list[Row], result: Result) -> None:
    """Contacts with an email go as one upsert by email. A contact without one, or whose email
    is not the one the target got (an upsert by the new email would make a second contact
    there), is updated by the target's id, or created and its id remembered."""
    by_id = {row.object_key: row for row in rows}
    records = await fw.db.read(
        lambda c: forward_reads.records(c, d.portal_id, ObjectType.CONTACT, [int(k) for k in by_id])
    )
    known = await _remote(fw, d, CONTACT, list(by_id))
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
    await _remember(fw, d, CONTACT, found)


async def send_companies(fw: Forwarding, d: Destination, rows: list[Row], result: Result) -> None:
    """Companies by domain: found on the target by search (once), then updated by the target's
    id; the others created, each traced by its local id so a 207 names the failed ones."""
    by_id = {row.object_key: row for row in rows}
    records = await fw.db.read(
        lambda c: forward_reads.records(c, d.portal_id, ObjectType.COMPANY, [int(k) for k in by_id])
    )
    gone = {key: row for key, row in by_id.items() if int(key) not in records}
    live = {key: records[int(key)] for key in by_id if int(key) in records}
    known = await _remote(fw, d, COMPANY, list(live))
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
            await _remember(fw, d, COMPANY, matched)
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
    by its local id, and their new ids remembered (with `detail`, also after an update)."""
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
            updated = {}
            for key, record in updates:
                if known[key].remote_id.lower() in gone:  # deleted on the target: create again
                    await _forget(fw, d, kind, key)
                    result.retry.append(([by_id[key].id], f"the {kind} was deleted on the target"))
                else:
                    result.sent.append(by_id[key].id)
                    updated[key] = RemoteId(known[key].remote_id, detail(record) if detail else {})
            if detail:
                await _remember(fw, d, kind, updated)
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
        await _remember(
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
    known = await _remote(fw, d, kind, [*rows, *primaries])
    to_archive = []
    for key, row in rows.items():
        remote, why = known.get(key), reasons.get(int(key))
        if remote is None or why is None:  # the target never had it (or it is live again)
            result.sent.append(row.id)
        elif why.merged_into is not None:
            primary = known.get(str(why.merged_into))
            if primary is None:  # the target's copy becomes the primary's
                await _remember(fw, d, kind, {str(why.merged_into): remote})
                await _forget(fw, d, kind, key)
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
        remote_ids = [known[key].remote_id for key in to_archive]
        call = hubspot.objects_archive(_OBJECT_TYPES[kind], remote_ids)
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
    for key in rows:
        await _forget(fw, d, kind, key)
    result.sent.extend(row.id for row in rows.values())


# --- associations -----------------------------------------------------------------------------


async def send_associations(
    fw: Forwarding, d: Destination, rows: list[Row], result: Result
) -> None:
    """Contact ↔ company, once both are on the target (a contact it has not reported an id for
    is looked up by email)."""
    pairs = {row.id: tuple(row.object_key.split(":", 1)) for row in rows}
    contact_ids = sorted({c for c, _ in pairs.values()})
    contacts = await _remote(fw, d, CONTACT, contact_ids)
    companies = await _remote(fw, d, COMPANY, sorted({co for _, co in pairs.values()}))
    missing = [int(c) for c in contact_ids if c not in contacts]
    if missing:
        records = await fw.db.read(
            lambda c: forward_reads.records(c, d.portal_id, ObjectType.CONTACT, missing)
        )
        emails = {r.key.lower(): str(r.id) for r in records.values() if r.key}
        if emails:
            try:
                _, body = await fw.call(d, hubspot.contacts_search(list(emails)))
            except CallFailed as error:
                result.fail(list(pairs), error)
                return
            found = {
                emails[email]: RemoteId(remote, {})
                for email, remote in hubspot.read_search(body, "email").items()
                if email in emails
            }
            await _remember(fw, d, CONTACT, found)
            contacts.update(found)
    ready = []
    for row_id, (contact, company) in pairs.items():
        if contact in contacts and company in companies:
            ready.append((row_id, contacts[contact].remote_id, companies[company].remote_id))
        else:
            result.retry.append(
                ([row_id], "waiting for the contact and company to reach the target")
            )
    if not ready:
        return
    try:
        status, _ = await fw.call(d, hubspot.associate([(c, co) for _, c, co in ready]))
    except CallFailed as error:
        result.fail([row_id for row_id, _, _ in ready], error)
        return
    if status == 207 and len(ready) > 1:
        result.split.append(([row_id for row_id, _, _ in ready], "some associations were refused"))
    elif status == 207:
        result.dead.append(([ready[0][0]], "the target refused the association"))
    else:
        result.sent.extend(row_id for row_id, _, _ in ready)


# --- events and page views --------------------------------------------------------------------


async def send_events(fw: Forwarding, d: Destination, rows: list[Row], result: Result) -> None:
    keys = [row.object_key for row in rows]
    found = await fw.db.read(lambda c: forward_reads.occurrences(c, d.portal_id, keys))
    definitions = await fw.db.read(
        lambda c: forward_reads.event_definitions_by_id(
            c, d.portal_id, sorted({a.definition_id for a in found.values() if a.definition_id})
        )
    )

    def definition_of(activity: forward_reads.Activity) -> forward_reads.EventDefinitionInfo:
        assert activity.definition_id is not None
        return definitions[activity.definition_id]

    await _send_activity(fw, d, rows, result, found, definition_of)


_PAGE_VIEW = forward_reads.EventDefinitionInfo(
    0,
    hubspot.PAGE_VIEW_EVENT,
    hubspot.PAGE_VIEW_LABEL,
    {name: (name.title(), "string") for name in hubspot.PAGE_VIEW_PROPERTIES},
)


async def send_page_views(fw: Forwarding, d: Destination, rows: list[Row], result: Result) -> None:
    keys = [row.object_key for row in rows]
    found = await fw.db.read(lambda c: forward_reads.views(c, d.portal_id, keys))
    await _send_activity(fw, d, rows, result, found, lambda _: _PAGE_VIEW)


async def _send_activity(
    fw: Forwarding,
    d: Destination,
    rows: list[Row],
    result: Result,
    found: dict[str, forward_reads.Activity],
    definition_of: Callable[[forward_reads.Activity], forward_reads.EventDefinitionInfo],
) -> None:
    """Events through `/events/v3/send/batch`, their definitions (and properties) made on the
    target first; each tied by email, else the target's contact id, else the usertoken."""
    contacts = await _remote(
        fw, d, CONTACT, sorted({str(a.contact_id) for a in found.values() if a.contact_id})
    )
    by_definition: dict[str, list[tuple[Row, forward_reads.Activity]]] = {}
    for row in rows:
        activity = found.get(row.object_key)
        if activity is None:
            result.sent.append(row.id)  # deleted since (GDPR, a deleted definition)
            continue
        by_definition.setdefault(definition_of(activity).name, []).append((row, activity))
    ready: list[tuple[Row, hubspot.Occurrence]] = []
    for items in by_definition.values():
        definition = definition_of(items[0][1])
        used = sorted({name for _, a in items for name in a.properties})
        try:
            target = await _ensure_definition(fw, d, definition, used)
        except CallFailed as error:
            result.fail([row.id for row, _ in items], error)
            continue
        for row, activity in items:
            occurrence = _occurrence(row, activity, target, contacts)
            if occurrence is None:
                result.retry.append(([row.id], "waiting for a contact with an email to tie it to"))
            else:
                ready.append((row, occurrence))
    if not ready:
        return
    try:
        await fw.call(d, hubspot.send_events(d.portal_id, [o for _, o in ready]))
    except CallFailed as error:
        result.fail([row.id for row, _ in ready], error)
        return
    result.sent.extend(row.id for row, _ in ready)


def _occurrence(
    row: Row,
    activity: forward_reads.Activity,
    target: hubspot.EventDefinition,
    contacts: dict[str, RemoteId],
) -> hubspot.Occurrence | None:
    properties = {k: v for k, v in activity.properties.items() if k in target.properties}
    remote = contacts.get(str(activity.contact_id)) if activity.contact_id else None
    utk = (
        activity.visitor_key
        if activity.visitor_key and is_usertoken(activity.visitor_key)
        else None
    )
    if not (activity.email or remote or utk):
        return None
    return hubspot.Occurrence(
        key=row.object_key,
        event_name=target.fully_qualified_name,
        occurred_at_ms=activity.occurred_at_ms,
        properties=properties,
        email=activity.email,
        object_id=None if activity.email else (remote.remote_id if remote else None),
        utk=utk,
    )


async def _ensure_definition(
    fw: Forwarding, d: Destination, definition: forward_reads.EventDefinitionInfo, used: list[str]
) -> hubspot.EventDefinition:
    """The target's definition for a local one: remembered, or read, or created; with each
    property `used` created on it when missing."""
    known = (await _remote(fw, d, DEFINITION, [definition.name])).get(definition.name)
    if known is not None:
        target = hubspot.EventDefinition(
            known.remote_id, frozenset(known.detail.get("properties", []))
        )
    else:
        try:
            _, body = await fw.call(d, hubspot.get_definition(definition.name))
        except CallFailed as error:
            if error.status != 404:
                raise
            # with every property in use, not only those defined here: one call, not one each
            wanted = {**{name: (name, "string") for name in used}, **definition.properties}
            specs = [
                (name, label, kind if kind in _TARGET_TYPES else "string")
                for name, (label, kind) in sorted(wanted.items())
            ]
            _, body = await fw.call(
                d, hubspot.create_definition(definition.name, definition.label, specs)
            )
        target = hubspot.read_definition(body)
    for name in used:
        if name not in target.properties:
            label, kind = definition.properties.get(name, (name, "string"))
            kind = kind if kind in _TARGET_TYPES else "string"
            try:
                await fw.call(d, hubspot.create_event_property(definition.name, name, label, kind))
            except CallFailed as error:
                if error.status != 409:  # made meanwhile: fine
                    raise
            target = hubspot.EventDefinition(
                target.fully_qualified_name, target.properties | {name}
            )
    remembered = RemoteId(target.fully_qualified_name, {"properties": sorted(target.properties)})
    if known != remembered:
        await _remember(fw, d, DEFINITION, {definition.name: remembered})
    return target


# --- form submissions ---------------------------------------------------------------------------


async def _submission(fw: Forwarding, portal_id: int, message_id: str) -> forms.Submission | None:
    return await fw.db.read(lambda c: forms.submission_by_message(c, portal_id, message_id))


async def _form(fw: Forwarding, portal_id: int, guid: str) -> Form | None:
    return await fw.db.read(lambda c: forms.get_form(c, portal_id, guid))


async def send_submissions(fw: Forwarding, d: Destination, rows: list[Row], result: Result) -> None:
    """Each submission to the HubSpot form its form is mapped to (one call each)."""
    targets = (await fw.db.read(lambda c: destinations.form_targets(c, [d.id]))).get(d.id, {})
    for row in rows:
        found = await _submission(fw, d.portal_id, row.object_key)
        target = targets.get(found.form_guid) if found is not None else None
        if found is None or target is None:  # deleted since, or the mapping was removed
            result.sent.append(row.id)
            continue
        form = await _form(fw, d.portal_id, found.form_guid)
        types = {f.name: OBJECT_TYPE_IDS[f.object_type] for f in form.fields} if form else {}
        fields = [(types.get(n, "0-1"), n, v) for n, v in found.submitted if n in types]
        context = {"hutk": found.hutk, "pageUri": found.page_uri, "pageName": found.page_name}
        call = hubspot.submit_form(
            target.base_url,
            target.remote_portal_id,
            target.remote_form_guid,
            fields,
            context,
            found.submitted_at_ms,
        )
        try:
            await fw.call(d, call)
        except CallFailed as error:
            result.fail([row.id], error)
        else:
            result.sent.append(row.id)


SENDERS: dict[Kind, Callable[[Forwarding, Destination, list[Row], Result], Awaitable[None]]] = {
    Kind.CONTACT: send_contacts,
    Kind.COMPANY: send_companies,
    Kind.ASSOCIATION: send_associations,
    Kind.EVENT: send_events,
    Kind.PAGEVIEW: send_page_views,
    Kind.SUBMISSION: send_submissions,
}
