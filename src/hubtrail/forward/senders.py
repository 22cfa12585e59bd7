"""How each kind of change reaches the target: one batch of outbox rows in, a `Result` out.

Every sender reads the current state of what its rows name (so several changes to one object
are one input, and a replay sends today's data), makes its calls through the forwarder (which
paces them), and files each row as sent, to retry, or dead with the target's message. Contacts
and companies are in `object_senders.py`; associations, events, page views and form
submissions are here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hubtrail.core.forms import OBJECT_TYPE_IDS, Form
from hubtrail.core.properties import ObjectType
from hubtrail.forward import hubspot
from hubtrail.forward.object_senders import send_companies, send_contacts
from hubtrail.forward.outcome import CallFailed, Result
from hubtrail.forward.targets import (
    COMPANY,
    CONTACT,
    DEFINITION,
    Forwarding,
    remember,
    remote_ids,
)
from hubtrail.store import destinations, forms, forward_reads
from hubtrail.store.batch import is_usertoken
from hubtrail.store.destinations import Destination, RemoteId
from hubtrail.store.outbox import Kind, Row

_TARGET_TYPES = {"string", "number", "datetime", "bool"}  # others go as string


async def send(fw: Forwarding, destination: Destination, rows: list[Row], result: Result) -> None:
    """Send one batch of rows, all of one kind."""
    await SENDERS[rows[0].kind](fw, destination, rows, result)


# --- associations -----------------------------------------------------------------------------


async def send_associations(
    fw: Forwarding, d: Destination, rows: list[Row], result: Result
) -> None:
    """Contact ↔ company, once both are on the target (a contact it has not reported an id for
    is looked up by email)."""
    pairs = {row.id: tuple(row.object_key.split(":", 1)) for row in rows}
    contact_ids = sorted({c for c, _ in pairs.values()})
    contacts = await remote_ids(fw, d, CONTACT, contact_ids)
    companies = await remote_ids(fw, d, COMPANY, sorted({co for _, co in pairs.values()}))
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
            await remember(fw, d, CONTACT, found)
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
    contacts = await remote_ids(
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
    known = (await remote_ids(fw, d, DEFINITION, [definition.name])).get(definition.name)
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
        await remember(fw, d, DEFINITION, {definition.name: remembered})
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
