"""Applying Segment calls by the HubSpot destination's rules: traits, group and alias.

Identify, track and page share the general path in `apply.py`; this module adds what only Segment
has: trait mapping (with drops recorded), traits kept on a visitor until its contact is known,
companies from `group`, and `alias` links that never merge two people.
"""

from __future__ import annotations

from typing import Any

from hubtrail.core.associations import default_type
from hubtrail.core.domains import domain_from_website
from hubtrail.core.errors import HubtrailError
from hubtrail.core.messages import Message
from hubtrail.core.outcomes import Outcome
from hubtrail.core.properties import ObjectType, coerce_properties
from hubtrail.core.property_rules import definition_name_problem
from hubtrail.core.segment_traits import (
    company_properties,
    contact_properties,
    date_problems,
    flat_values,
)
from hubtrail.store import associations, contacts, objects
from hubtrail.store.batch import Batch
from hubtrail.store.contacts import Contact, Visitor
from hubtrail.store.property_definitions import PropertySpec, create_properties


async def write_traits(
    batch: Batch,
    message: Message,
    object_type: ObjectType,
    object_id: int,
    mapped: dict[str, object],
    outcome: Outcome,
) -> list[str]:
    """Check mapped traits against the definitions and write the valid ones; note the rest."""
    portal = message.portal_id
    values, refused = flat_values(mapped)
    definitions = await batch.property_definitions(portal, object_type)
    unknown = [name for name in values if name not in definitions]
    settings = await batch.portal_settings(portal)
    if unknown and settings.segment_create_unknown_traits:
        definitions = await _create_string_properties(batch, portal, object_type, unknown)
    problems = [*refused, *date_problems(definitions, values)]
    dated = {p.name for p in problems}
    current = await batch.values(portal, object_type, object_id)
    coerced = coerce_properties(
        definitions, {k: v for k, v in values.items() if k not in dated}, current
    )
    for error in [*problems, *coerced.errors]:
        outcome.note(error.code, error.name, error.message)
    written = await batch.write_values(
        portal,
        object_type,
        object_id,
        coerced.values,
        source=message.source,
        source_id=message.message_id,
    )
    outcome.properties_written.extend(written)
    return written


async def _create_string_properties(
    batch: Batch, portal_id: int, object_type: ObjectType, names: list[str]
) -> dict[str, Any]:
    """The portal asked for unknown traits to become string properties: create the valid ones."""
    group = "contactinformation" if object_type is ObjectType.CONTACT else "companyinformation"
    specs = [
        PropertySpec(
            name=n,
            label=n.replace("_", " ").title(),
            type="string",
            field_type="text",
            group_name=group,
        )
        for n in names
        if definition_name_problem(n) is None
    ]
    for spec in specs:
        try:
            await create_properties(batch.conn, portal_id, object_type, [spec], batch.at_ms)
        except HubtrailError:
            continue  # an archived name stays unusable; the trait is then dropped with a reason
    batch.forget_definitions(portal_id, object_type)
    return await batch.property_definitions(portal_id, object_type)


async def apply_contact_traits(
    batch: Batch,
    message: Message,
    contact: Contact | None,
    visitor: Visitor | None,
    outcome: Outcome,
) -> None:
    """Segment traits onto the contact, or onto the visitor until a contact is known."""
    waiting = visitor.pending_traits if visitor else {}
    if contact is None:
        if message.traits and visitor is not None:
            await batch.keep_traits(message.portal_id, visitor, {**waiting, **message.traits})
            outcome.note(
                "WAITING_FOR_CONTACT",
                "traits",
                "no email and no linked contact yet: traits kept on the visitor until one is known",
            )
        return
    traits = {**waiting, **message.traits}
    if waiting and visitor is not None:
        await batch.keep_traits(message.portal_id, visitor, {})
    if traits:
        mapped = contact_properties(traits)
        await write_traits(batch, message, ObjectType.CONTACT, contact.id, mapped, outcome)


async def apply_group(batch: Batch, message: Message) -> Outcome:
    """A company keyed by the domain of the `website` trait, associated with the user's contact."""
    outcome = Outcome()
    portal = message.portal_id
    website = str(message.traits.get("website") or "")
    domain = domain_from_website(website) if website else None
    if domain is None:
        outcome.note(
            "NO_WEBSITE",
            "traits.website",
            "group needs a website trait with a full URL (its domain keys the company); "
            "no company was written",
        )
        return outcome
    found = await objects.resolve(batch.conn, portal, ObjectType.COMPANY, [domain], "domain")
    company_id = found.get(domain)
    if company_id is None:
        company_id = await objects.add_row(
            batch.conn, portal, ObjectType.COMPANY, batch.at_ms, domain_key=domain
        )
    mapped = {**company_properties(message.traits), "domain": domain}
    await write_traits(batch, message, ObjectType.COMPANY, company_id, mapped, outcome)
    contact = await _user_contact(batch, message)
    kind = default_type(ObjectType.CONTACT, ObjectType.COMPANY)
    if contact is None or kind is None:
        outcome.note(
            "NO_CONTACT",
            "userId",
            f"no contact is known for userId {message.external_id!r}: the company was written "
            "without an association",
        )
    else:
        await associations.add(batch, portal, kind, contact.id, company_id)
        outcome.contact_id = contact.id
    return outcome


async def _user_contact(batch: Batch, message: Message) -> Contact | None:
    portal = message.portal_id
    if message.external_id:
        contact = await contacts.find_by_external_id(batch.conn, portal, message.external_id)
        if contact is not None:
            return contact
    if message.visitor_key:
        visitor = await batch.visitor(portal, message.visitor_key)
        if visitor.contact_id is not None:
            return await contacts.get_contact(batch.conn, portal, visitor.contact_id)
    return None


async def apply_alias(batch: Batch, message: Message) -> Outcome:
    """`previousId` and `userId` become one identity; two contacts are never merged."""
    outcome = Outcome()
    portal = message.portal_id
    assert message.previous_id is not None
    assert message.external_id is not None
    if message.previous_id == message.external_id:
        # analytics.js stamps the current userId on every call, so alias(U) after identify(U)
        # arrives as {userId: U, previousId: U}: nothing to join.
        outcome.note("SELF_ALIAS", "previousId", "previousId equals userId: nothing to alias")
        return outcome
    previous = await batch.visitor(portal, message.previous_id)
    outcome.visitor_id = previous.id
    user = await contacts.find_by_external_id(batch.conn, portal, message.external_id)
    if previous.external_id not in (None, message.external_id):
        outcome.note(
            "ALIAS_CONFLICT",
            "previousId",
            f"{message.previous_id!r} is already {previous.external_id!r}; "
            f"not also {message.external_id!r}: two people are never merged",
        )
        return outcome
    if user is None and previous.contact_id is None:
        await batch.remember_external_id(portal, previous, message.external_id)
        return outcome
    if user is not None and previous.contact_id not in (None, user.id):
        outcome.note(
            "ALIAS_CONFLICT",
            "previousId",
            f"{message.previous_id!r} belongs to contact {previous.contact_id} and "
            f"{message.external_id!r} to contact {user.id}: two people are never merged",
        )
        return outcome
    contact_id = user.id if user is not None else previous.contact_id
    assert contact_id is not None
    if previous.contact_id is None:
        await batch.link_visitor(portal, previous, contact_id)
    if user is None:
        await contacts.set_external_id(
            batch.conn, portal, contact_id, message.external_id, batch.at_ms
        )
    outcome.contact_id = contact_id
    return outcome
