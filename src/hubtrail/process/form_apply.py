"""Applying a form submission: what it adds to the identify that `apply.py` has already done.

`apply_message` treats a submission as an identify (the contact by the submitted email, created
when new; the `hutk` browser linked to it by the identity rules, so its anonymous page views join
the contact; the contact fields written as for every source). This module then adds HubSpot's
conversion properties on the contact, writes the company fields to the company keyed by the
`domain` field (else the email's domain) and associates it with the contact, and records the
submission for the form's list and the contact's timeline.
"""

from __future__ import annotations

from hubtrail.core.associations import default_type
from hubtrail.core.domains import domain_from_website, normalize_domain
from hubtrail.core.messages import Message
from hubtrail.core.outcomes import Outcome
from hubtrail.core.properties import ObjectType, add_numbers, coerce_properties, format_datetime_ms
from hubtrail.store import associations, objects
from hubtrail.store import forms as form_store
from hubtrail.store.batch import Batch
from hubtrail.store.contacts import Contact

# Mailbox providers: their domain is nobody's company, so it never keys one.
FREE_EMAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "web.de",
        "yahoo.com",
        "yandex.ru",
        "zoho.com",
    }
)
# How many of a contact's submissions are read to count the distinct forms it submitted.
MAX_SUBMISSIONS_COUNTED = 1000


async def apply_form(
    batch: Batch, message: Message, contact: Contact | None, outcome: Outcome
) -> None:
    """The form-only effects of a submission whose identify part is applied (`contact` is who
    it identified, None when no one)."""
    portal = message.portal_id
    guid = message.form_guid or ""
    form = await form_store.get_form(batch.conn, portal, guid)
    row_id = await form_store.form_id(batch.conn, portal, guid)
    if form is None or row_id is None:
        outcome.note("FORM_NOT_FOUND", "formGuid", f"portal {portal} has no form {guid!r}")
        return
    if message.company_properties:
        await _write_company(batch, message, contact, outcome)
    context = message.form_context
    await form_store.add_submission(
        batch.conn,
        {
            "portal_id": portal,
            "form_id": row_id,
            "message_id": message.message_id,
            "submitted_at_ms": message.occurred_at_ms,
            "submitted": message.form_submitted,
            "page_uri": context.get("pageUri", ""),
            "page_name": context.get("pageName", ""),
            "hutk": context.get("hutk", ""),
            "ip_address": context.get("ipAddress", ""),
            "contact_id": contact.id if contact else None,
            "visitor_id": outcome.visitor_id,
        },
    )
    batch.note_submission(portal, guid, message.message_id)
    if contact is not None:
        await _count_conversion(batch, message, contact, form.name, outcome)


async def _count_conversion(
    batch: Batch, message: Message, contact: Contact, form_name: str, outcome: Outcome
) -> None:
    """HubSpot's conversion properties: first and most recent form, and how many."""
    portal = message.portal_id
    current = await batch.values(portal, ObjectType.CONTACT, contact.id)
    at = format_datetime_ms(message.occurred_at_ms)
    submitted = await form_store.submissions_of_contacts(
        batch.conn, portal, [contact.id], limit=MAX_SUBMISSIONS_COUNTED
    )
    values = {
        "num_conversion_events": add_numbers(current.get("num_conversion_events"), "1"),
        "num_unique_conversion_events": str(len({s.form_guid for s in submitted})),
    }
    first = current.get("first_conversion_date")
    if not first or at < first:
        values["first_conversion_date"] = at
        values["first_conversion_event_name"] = form_name
    recent = current.get("recent_conversion_date")
    if not recent or at >= recent:
        values["recent_conversion_date"] = at
        values["recent_conversion_event_name"] = form_name
    written = await batch.write_values(
        portal,
        ObjectType.CONTACT,
        contact.id,
        values,
        source=message.source,
        source_id=message.message_id,
    )
    outcome.properties_written.extend(written)


def company_domain(message: Message) -> str | None:
    """The domain keying the submission's company: the `domain` field's, else the email's
    (unless it is a mailbox provider's)."""
    typed = message.company_properties.get("domain", "")
    if typed:
        return normalize_domain(typed) or domain_from_website(typed)
    if not message.email:
        return None
    domain = normalize_domain(message.email.rpartition("@")[2])
    return domain if domain not in FREE_EMAIL_DOMAINS else None


async def _write_company(
    batch: Batch, message: Message, contact: Contact | None, outcome: Outcome
) -> None:
    portal = message.portal_id
    domain = company_domain(message)
    if domain is None:
        outcome.note(
            "NO_COMPANY_DOMAIN",
            "domain",
            "no company domain (the domain field's, else the email's, which a mailbox "
            "provider's is not): the company fields were dropped",
        )
        return
    found = await objects.resolve(batch.conn, portal, ObjectType.COMPANY, [domain], "domain")
    company_id = found.get(domain)
    if company_id is None:
        company_id = await objects.add_row(
            batch.conn, portal, ObjectType.COMPANY, batch.at_ms, domain_key=domain
        )
    definitions = await batch.property_definitions(portal, ObjectType.COMPANY)
    current = await batch.values(portal, ObjectType.COMPANY, company_id)
    coerced = coerce_properties(
        definitions, {**message.company_properties, "domain": domain}, current
    )
    for error in coerced.errors:
        outcome.note(error.code, error.name, error.message)
    written = await batch.write_values(
        portal,
        ObjectType.COMPANY,
        company_id,
        coerced.values,
        source=message.source,
        source_id=message.message_id,
    )
    outcome.properties_written.extend(f"company.{name}" for name in written)
    kind = default_type(ObjectType.CONTACT, ObjectType.COMPANY)
    if contact is None or kind is None:
        outcome.note(
            "NO_CONTACT", "domain", f"company {company_id} was written without an association"
        )
        return
    await associations.add(batch, portal, kind, contact.id, company_id)
