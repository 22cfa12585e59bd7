"""How one message changes the store: identity resolution, events and contact properties.

The rules themselves (email validity, coercion, event names) live in `hubtrail.core`; this module
sequences them against the batch's transaction (`Batch`, which caches reads and buffers writes).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import orjson

from hubtrail.core.attribution import classify, is_internal
from hubtrail.core.emails import check_email
from hubtrail.core.events import parse_event_ref
from hubtrail.core.messages import Kind, Message, Source
from hubtrail.core.outcomes import Outcome
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.properties import ObjectType, add_numbers, coerce_properties
from hubtrail.process.form_apply import apply_form
from hubtrail.process.segment_apply import apply_alias, apply_contact_traits, apply_group
from hubtrail.store import contacts
from hubtrail.store.batch import Batch
from hubtrail.store.contacts import Contact, Visitor

REVENUE = "hs_analytics_revenue"
EVENT_COMPLETIONS = "hs_analytics_num_event_completions"


async def apply_message(batch: Batch, message: Message) -> Outcome:
    """Apply one message and say what happened. Raises only on store failures."""
    if message.device_mode_copy:
        outcome = Outcome()
        outcome.note(
            "DEVICE_MODE_COPY",
            "type",
            f"Segment device mode: the HubSpot plugin sent this {message.kind.value} through the "
            "tracking code, where it was applied; this copy from analytics.js is kept, not "
            "applied, so it does not count twice",
        )
        return outcome
    if message.kind is Kind.GROUP:
        return await apply_group(batch, message)
    if message.kind is Kind.ALIAS:
        return await apply_alias(batch, message)
    outcome = Outcome()
    visitor = None
    if message.visitor_key:
        visitor = await batch.visitor(message.portal_id, message.visitor_key)
        outcome.visitor_id = visitor.id
    if message.is_bot:
        outcome.note(
            "BOT", "user-agent", "a bot: its activity is kept, flagged, and identifies no one"
        )
        contact = None
    else:
        contact = await _resolve_contact(batch, message, visitor, outcome)
    recorded = False
    if message.kind is Kind.TRACK:
        recorded = await _record_event(batch, message, contact, outcome)
    if message.page is not None and message.kind is Kind.PAGE:
        _record_page_view(batch, message, contact, outcome)
    if message.is_bot:
        return outcome
    if message.source is Source.SEGMENT:
        await apply_contact_traits(batch, message, contact, visitor, outcome)
    if contact is not None:
        await _write_contact_properties(batch, message, contact, recorded, outcome)
    elif message.contact_properties or message.revenue:
        for name in [*message.contact_properties, *(["_m"] if message.revenue else [])]:
            outcome.note("NO_CONTACT", name, "dropped: the message identifies no contact")
    if message.source is Source.FORM:
        await apply_form(batch, message, contact, outcome)
    return outcome


async def _resolve_contact(
    batch: Batch, message: Message, visitor: Visitor | None, outcome: Outcome
) -> Contact | None:
    """Find the contact a message is about, by objectId, then email, then visitor, then id."""
    portal = message.portal_id
    contact: Contact | None = None
    if message.object_id is not None:
        if is_ascii_digits(message.object_id):
            contact = await contacts.get_contact(batch.conn, portal, int(message.object_id))
        if contact is None:
            outcome.note("OBJECT_NOT_FOUND", "objectId", f"no contact has id {message.object_id}")
    if contact is None and message.email is not None:
        check = check_email(message.email)
        if check.email is None:
            outcome.note("INVALID_EMAIL", "email", check.reason or "invalid email")
        else:
            contact, created = await batch.contact_by_email(
                portal, check.email, first_seen_ms=message.occurred_at_ms
            )
            outcome.contact_created = created
            if created:
                await batch.write_values(
                    portal,
                    ObjectType.CONTACT,
                    contact.id,
                    {"email": check.email},
                    source=message.source,
                    source_id=message.message_id,
                )
    if contact is None and visitor is not None and visitor.contact_id is not None:
        contact = await contacts.get_contact(batch.conn, portal, visitor.contact_id)
    if contact is None and message.external_id:
        contact = await contacts.find_by_external_id(batch.conn, portal, message.external_id)
    if contact is None and visitor is not None and message.external_id:
        # `id` alone creates no contact: it waits on the browser for an email to come with.
        await batch.remember_external_id(portal, visitor, message.external_id)
    if contact is not None:
        if not await _attach_identities(batch, message, contact, visitor, outcome):
            return None  # the guard refused this browser: its activity stays anonymous
        outcome.contact_id = contact.id
    return contact


async def _attach_identities(
    batch: Batch,
    message: Message,
    contact: Contact,
    visitor: Visitor | None,
    outcome: Outcome,
) -> bool:
    """Tie ids and the browser to the contact; False when the identity guard refuses."""
    external_id = message.external_id or (visitor.external_id if visitor else None)
    if external_id and contact.external_id is None:
        await batch.set_external_id(message.portal_id, contact, external_id)
        for waiting in await contacts.waiting_visitors(batch.conn, message.portal_id, external_id):
            if waiting.id != (visitor.id if visitor else None):
                await batch.link_visitor(message.portal_id, waiting, contact.id)
    elif external_id and contact.external_id != external_id:
        outcome.note(
            "EXTERNAL_ID_KEPT",
            "id",
            f"contact {contact.id} keeps its first external id; '{external_id}' not attached",
        )
    if visitor is not None and visitor.contact_id != contact.id:
        settings = await batch.portal_settings(message.portal_id)
        linked = await contacts.count_visitors(batch.conn, contact.id)
        if linked >= settings.max_visitors_per_contact:
            outcome.note(
                "IDENTITY_GUARD",
                "email",
                f"contact {contact.id} is already linked to {linked} browsers; this one is not "
                "linked (a shared or placeholder address?)",
            )
            return False
        await batch.link_visitor(message.portal_id, visitor, contact.id)
    return True


async def _record_event(
    batch: Batch, message: Message, contact: Contact | None, outcome: Outcome
) -> bool:
    """Buffer the event occurrence; False when there is none to store (and why is noted)."""
    ref = parse_event_ref(message.event or "", message.portal_id)
    if ref is None or ref.name is None:
        outcome.note("INVALID_EVENT", "event", f"'{message.event}' names no event")
        return False
    definition = None
    if ref.definition_id is not None:
        definition = await batch.event_definition_by_id(message.portal_id, ref.definition_id)
    if definition is None:
        definition, created = await batch.event_definition(
            message.portal_id, ref.name, ref.label, message.source
        )
        outcome.event_definition_created = created
    outcome.event_definition_id = definition.id
    if definition.archived:
        outcome.note(
            "EVENT_ARCHIVED",
            "event",
            f"event '{definition.name}' was deleted; a deleted event is never recreated",
        )
        return False
    batch.add_occurrence(
        {
            "portal_id": message.portal_id,
            "definition_id": definition.id,
            "contact_id": contact.id if contact else None,
            "visitor_id": outcome.visitor_id,
            "occurred_at_ms": message.occurred_at_ms,
            "revenue": message.revenue if _is_number(message.revenue) else None,
            "properties": orjson.dumps(message.event_properties).decode(),
            "source": message.source.value,
            "message_id": message.message_id,
        }
    )
    return True


def _record_page_view(
    batch: Batch, message: Message, contact: Contact | None, outcome: Outcome
) -> None:
    page = message.page
    assert page is not None
    landing = page.url
    if page.campaign and "utm_" not in landing:
        landing += ("&" if "?" in landing else "?") + page.campaign
    # The tracking code numbers views within a session (1: the landing); Segment sends none (0),
    # so a view whose referrer is the same site is a click within a visit, not a new source.
    lands = page.view_in_session == 1 or (
        page.view_in_session == 0 and not is_internal(page.url, page.referrer)
    )
    source = classify(landing, page.referrer) if lands else None
    batch.add_page_view(
        {
            "portal_id": message.portal_id,
            "visitor_id": outcome.visitor_id,
            "contact_id": contact.id if contact else None,
            "occurred_at_ms": message.occurred_at_ms,
            "url": page.url,
            "title": page.title,
            "referrer": page.referrer,
            "content_type": page.content_type,
            "page_id": page.page_id,
            "session_number": page.session_number,
            "view_in_session": page.view_in_session,
            "is_bot": message.is_bot,
            "traffic_source": source.source if source else "",
            "traffic_source_data_1": source.data_1 if source else "",
            "traffic_source_data_2": source.data_2 if source else "",
            "source": message.source.value,
            "message_id": message.message_id,
        }
    )


def _is_number(text: str | None) -> bool:
    if not text:
        return False
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


async def _write_contact_properties(
    batch: Batch, message: Message, contact: Contact, event_recorded: bool, outcome: Outcome
) -> None:
    portal = message.portal_id
    definitions = await batch.property_definitions(portal, ObjectType.CONTACT)
    current = await batch.values(portal, ObjectType.CONTACT, contact.id)
    writes = dict(message.contact_properties)
    for name in [n for n in writes if n.lower() == "email"]:
        del writes[name]
        outcome.note(
            "READ_ONLY_VALUE", name, "a message's email identifies the contact; it never changes it"
        )
    coerced = coerce_properties(definitions, writes, current, fold_case=True)
    for error in coerced.errors:
        outcome.note(error.code, error.name, error.message)
    values = coerced.values
    revenue = message.revenue if event_recorded else None
    if event_recorded:
        values[EVENT_COMPLETIONS] = add_numbers(current.get(EVENT_COMPLETIONS), "1")
    if revenue:
        if _is_number(revenue):
            values[REVENUE] = add_numbers(current.get(REVENUE), revenue)
        else:
            outcome.note("INVALID_INTEGER", "_m", f"{revenue} was not a valid number.")
    written = await batch.write_values(
        portal,
        ObjectType.CONTACT,
        contact.id,
        values,
        source=message.source,
        source_id=message.message_id,
    )
    outcome.properties_written.extend(written)
