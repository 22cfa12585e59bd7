"""CRM API writes: create, update, archive, merge, GDPR delete, with HubSpot's validation.

Each function runs inside one write transaction (a `Batch`) and either does all it was asked or
raises a `HubtrailError` before writing anything for that object: values are checked first, rows
written after. Changes are kept in property history with the source `crm_api`, and each object
created or updated is also kept on the inbox as an applied message, for the live debugger.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
import sqlalchemy as sa
from sqlalchemy import delete, func, or_, select

from hubtrail.core.default_properties import LIFECYCLE_STAGES
from hubtrail.core.domains import domain_from_website, normalize_domain
from hubtrail.core.emails import check_email, email_key
from hubtrail.core.errors import ConflictError, NotFoundError, ValidationError
from hubtrail.core.messages import Kind, Message, Source, new_message_id
from hubtrail.core.outcomes import Outcome
from hubtrail.core.properties import (
    ObjectType,
    PropertyError,
    coerce_properties,
    property_values_error,
)
from hubtrail.store import associations, contacts, objects
from hubtrail.store.batch import Batch
from hubtrail.store.inbox import record_applied
from hubtrail.store.schema import (
    contact_identities,
    event_occurrences,
    inbox,
    page_views,
    property_history,
    property_values,
    visitors,
)
from hubtrail.store.schema import contacts as contacts_table

RawProperties = Mapping[str, object]


def not_found(object_id: str) -> NotFoundError:
    """HubSpot's 404 for an object id that is not there (or belongs to another portal)."""
    return NotFoundError(
        "Object not found.  objectId are usually numeric.", context={"id": [object_id]}
    )


async def _checked_values(
    batch: Batch,
    portal_id: int,
    object_type: ObjectType,
    raw: RawProperties,
    object_id: int | None,
) -> dict[str, str]:
    """Coerce and validate writes to one object; raise HubSpot's 400 listing every bad value."""
    definitions = await batch.property_definitions(portal_id, object_type)
    current = await batch.values(portal_id, object_type, object_id) if object_id else {}
    coerced = coerce_properties(definitions, raw, current)
    errors = list(coerced.errors)
    values = coerced.values
    email = values.get("email") if object_type is ObjectType.CONTACT else None
    if email:
        check = check_email(email)
        if check.email is None:
            errors.append(
                PropertyError("email", "INVALID_EMAIL", f"Email address {email} is invalid")
            )
        else:
            values["email"] = check.email
    stage_error = _lifecycle_error(current.get("lifecyclestage"), values.get("lifecyclestage"))
    if stage_error:
        errors.append(stage_error)
    if errors:
        raise property_values_error(errors)
    if object_type is ObjectType.COMPANY and not values.get("domain") and values.get("website"):
        derived = domain_from_website(values["website"])
        if derived and not current.get("domain"):
            values["domain"] = derived
    return values


def _lifecycle_error(current: str | None, new: str | None) -> PropertyError | None:
    """Lifecycle stages move forward only; clearing with "" first allows going back."""
    if not current or not new or current not in LIFECYCLE_STAGES or new not in LIFECYCLE_STAGES:
        return None
    if LIFECYCLE_STAGES.index(new) >= LIFECYCLE_STAGES.index(current):
        return None
    return PropertyError(
        "lifecyclestage",
        "INVALID_OPTION",
        f'lifecyclestage can only move forward ({current} → {new}); set it to "" first',
    )


async def create(batch: Batch, portal_id: int, object_type: ObjectType, raw: RawProperties) -> int:
    """A new object with these properties; 409 when a contact with the email exists."""
    values = await _checked_values(batch, portal_id, object_type, raw, None)
    keys: dict[str, str | None] = {}
    if object_type is ObjectType.CONTACT and values.get("email"):
        email = values["email"]
        existing = await objects.resolve(batch.conn, portal_id, object_type, [email], "email")
        if existing:
            raise ConflictError(f"Contact already exists. Existing ID: {existing[email]}")
        keys = {"email": email, "email_key": email_key(email)}
    if object_type is ObjectType.COMPANY and values.get("domain"):
        keys = {"domain_key": normalize_domain(values["domain"])}
    object_id = await objects.add_row(batch.conn, portal_id, object_type, batch.at_ms, **keys)
    if "email_key" in keys:
        await contacts.add_identity(
            batch.conn, portal_id, object_id, "email", str(keys["email_key"]), batch.at_ms
        )
    await batch.write_values(
        portal_id, object_type, object_id, values, source=Source.CRM_API, source_id=None
    )
    await _record(batch, portal_id, object_type, object_id, values, created=True)
    return object_id


async def update(
    batch: Batch, portal_id: int, object_type: ObjectType, object_id: int, raw: RawProperties
) -> None:
    """Overwrite the given properties; `""` clears one. 400 when an email is taken."""
    values = await _checked_values(batch, portal_id, object_type, raw, object_id)
    if object_type is ObjectType.CONTACT and "email" in values:
        await _change_email(batch, portal_id, object_id, values["email"])
    if object_type is ObjectType.COMPANY and "domain" in values:
        domain = normalize_domain(values["domain"]) if values["domain"] else None
        await objects.set_keys(batch.conn, object_type, object_id, batch.at_ms, domain_key=domain)
    await batch.write_values(
        portal_id, object_type, object_id, values, source=Source.CRM_API, source_id=None
    )
    await _record(batch, portal_id, object_type, object_id, values, created=False)


async def _record(
    batch: Batch,
    portal_id: int,
    object_type: ObjectType,
    object_id: int,
    values: Mapping[str, str],
    *,
    created: bool,
) -> None:
    """An applied inbox row for one object written: an identify (contact) or group (company)
    message carrying the values, and an outcome naming the object."""
    contact = object_type is ObjectType.CONTACT
    message = Message(
        message_id=new_message_id(),
        portal_id=portal_id,
        source=Source.CRM_API,
        kind=Kind.IDENTIFY if contact else Kind.GROUP,
        received_at_ms=batch.at_ms,
        occurred_at_ms=batch.at_ms,
        email=(values.get("email") or None) if contact else None,
        object_id=str(object_id),
        contact_properties=dict(values) if contact else {},
        traits={} if contact else dict(values),
        group_id=None if contact else str(object_id),
    )
    outcome = Outcome(
        contact_id=object_id if contact else None,
        contact_created=created and contact,
        properties_written=sorted(values),
    )
    document = {
        **orjson.loads(outcome.to_json()),
        "object_type": object_type.value,
        "object_id": object_id,
        "created": created,
    }
    await record_applied(batch.conn, message, orjson.dumps(document).decode(), batch.at_ms)


async def _change_email(batch: Batch, portal_id: int, contact_id: int, email: str) -> None:
    if email:
        holder = await objects.resolve(batch.conn, portal_id, ObjectType.CONTACT, [email], "email")
        if holder and holder[email] != contact_id:
            raise ValidationError(
                f"Cannot set email={email} on {contact_id}. "
                f"{holder[email]} already has that value.",
                context={"propertyName": ["email"]},
            )
        await contacts.add_identity(
            batch.conn, portal_id, contact_id, "email", email_key(email), batch.at_ms
        )
    key = email_key(email) if email else None
    await objects.set_keys(
        batch.conn, ObjectType.CONTACT, contact_id, batch.at_ms, email=email or None, email_key=key
    )


async def merge(
    batch: Batch, portal_id: int, object_type: ObjectType, primary_id: int, merged_id: int
) -> None:
    """Fold `merged_id` into `primary_id`: its values fill the primary's gaps, its identities,
    activity and associations move over, and its id keeps resolving to the primary."""
    if primary_id == merged_id:
        raise ValidationError("primaryObjectId and objectIdToMerge must be different objects")
    conn = batch.conn
    primary = await batch.values(portal_id, object_type, primary_id)
    other = await batch.values(portal_id, object_type, merged_id)
    fill = {name: value for name, value in other.items() if value and not primary.get(name)}
    fill.pop("email", None)
    fill.pop("domain", None)
    if object_type is ObjectType.CONTACT:
        fill.update(_appended(primary, "hs_additional_emails", other.get("email")))
        await _move_contact_activity(batch, portal_id, merged_id, primary_id)
    else:
        fill.update(_appended(primary, "hs_additional_domains", other.get("domain")))
    await associations.move_all(conn, portal_id, object_type, merged_id, primary_id)
    table = objects.TABLES[object_type]
    cleared = {"email": None, "email_key": None} if object_type is ObjectType.CONTACT else {}
    await conn.execute(
        sa.update(table)
        .where(table.c.id == merged_id)
        .values(archived_at_ms=batch.at_ms, merged_into_id=primary_id, **cleared)
    )
    await batch.write_values(
        portal_id, object_type, primary_id, fill, source=Source.CRM_API, source_id=None
    )
    batch.note_changed(portal_id, object_type, primary_id)  # the target gets the merged values
    batch.note_gone(portal_id, object_type, [merged_id])


def _appended(current: Mapping[str, str], name: str, value: str | None) -> dict[str, str]:
    if not value:
        return {}
    parts = [p for p in (current.get(name) or "").split(";") if p]
    return {name: ";".join([*parts, value])} if value not in parts else {}


async def _move_contact_activity(batch: Batch, portal_id: int, from_id: int, into_id: int) -> None:
    conn = batch.conn
    ci = contact_identities.c
    owned = select(ci.kind, ci.value).where(ci.contact_id == into_id)
    await conn.execute(
        delete(contact_identities).where(
            ci.contact_id == from_id,
            ci.portal_id == portal_id,
            ci.value.in_(owned.with_only_columns(ci.value)),
        )
    )
    await conn.execute(
        sa.update(contact_identities).where(ci.contact_id == from_id).values(contact_id=into_id)
    )
    for table in (visitors, event_occurrences, page_views):
        await conn.execute(
            sa.update(table).where(table.c.contact_id == from_id).values(contact_id=into_id)
        )


async def gdpr_delete(batch: Batch, portal_id: int, contact_id: int) -> None:
    """Remove a contact for good: its row, values, history, identities, visitors' activity,
    associations, contacts merged into it, inbox messages that carried its emails, and the CRM
    API writes to it kept on the inbox."""
    conn = batch.conn
    merged = await objects.merged_ids(conn, portal_id, ObjectType.CONTACT, [contact_id])
    ids = [contact_id, *merged.get(contact_id, [])]
    ci = contact_identities.c
    emails = list(
        (
            await conn.execute(select(ci.value).where(ci.contact_id.in_(ids), ci.kind == "email"))
        ).scalars()
    )
    visitor_ids = select(visitors.c.id).where(visitors.c.contact_id.in_(ids))
    for table in (event_occurrences, page_views):
        await conn.execute(
            delete(table).where(
                or_(table.c.contact_id.in_(ids), table.c.visitor_id.in_(visitor_ids))
            )
        )
    await conn.execute(delete(visitors).where(visitors.c.contact_id.in_(ids)))
    for table in (property_values, property_history):
        await conn.execute(
            delete(table).where(
                table.c.portal_id == portal_id,
                table.c.object_type == ObjectType.CONTACT.value,
                table.c.object_id.in_(ids),
            )
        )
    await conn.execute(delete(contact_identities).where(ci.contact_id.in_(ids)))
    for object_id in ids:
        await associations.delete_all(conn, portal_id, ObjectType.CONTACT, object_id)
    for email in emails:
        await conn.execute(
            delete(inbox).where(
                inbox.c.portal_id == portal_id,
                func.lower(inbox.c.payload).contains(email, autoescape=True),
            )
        )
    for object_id in ids:  # CRM API writes kept for the debugger, with or without an email
        await conn.execute(
            delete(inbox).where(
                inbox.c.portal_id == portal_id,
                inbox.c.source == Source.CRM_API.value,
                inbox.c.kind == Kind.IDENTIFY.value,
                inbox.c.payload.contains(f'"object_id":"{object_id}"', autoescape=True),
            )
        )
    await conn.execute(delete(contacts_table).where(contacts_table.c.id.in_(ids)))
    batch.note_gone(portal_id, ObjectType.CONTACT, ids)


async def archive(batch: Batch, portal_id: int, object_type: ObjectType, ids: list[int]) -> None:
    """Move objects to the recycle bin (HubSpot's archive)."""
    await objects.archive(batch.conn, portal_id, object_type, ids, batch.at_ms)
    batch.note_gone(portal_id, object_type, ids)
