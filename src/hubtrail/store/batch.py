"""One write transaction and what it has already read (the processor's batches, CRM API writes).

A batch applies hundreds of messages that mostly touch the same few definitions, visitors and
contacts. `Batch` reads each of those once, keeps what the batch itself changed, buffers event
occurrences and contact touches, and writes them together in `flush`. The processor holds the only
writer (SQLite) or the partitions' locks (PostgreSQL), so nothing it caches can change underneath.

It also notes what a destination would want sent (a contact or company whose sendable
properties changed, an association, an event, a page view) and queues it on the outbox in
`flush`, in the same transaction as the change itself: nothing changes without being queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.delivery import is_sendable_property
from hubtrail.core.messages import Source
from hubtrail.core.portal_settings import PortalSettings
from hubtrail.core.properties import ObjectType, PropertyDefinition
from hubtrail.store import (
    contacts,
    daily_stats,
    destinations,
    events,
    objects,
    outbox,
    page_views,
    portals,
    properties,
)
from hubtrail.store.contacts import Contact, Visitor
from hubtrail.store.events import EventDefinition

ORIGINAL_SOURCE = (
    "hs_analytics_source",
    "hs_analytics_source_data_1",
    "hs_analytics_source_data_2",
)


class Batch:
    def __init__(self, conn: AsyncConnection, at_ms: int) -> None:
        self.conn = conn
        self.at_ms = at_ms
        self._definitions: dict[tuple[int, ObjectType], dict[str, PropertyDefinition]] = {}
        self._events_by_name: dict[tuple[int, str], EventDefinition] = {}
        self._events_by_id: dict[tuple[int, int], EventDefinition | None] = {}
        self._visitors: dict[tuple[int, str], Visitor] = {}
        self._contacts_by_email: dict[tuple[int, str], Contact] = {}
        self._values: dict[tuple[int, ObjectType, int], dict[str, str]] = {}
        self._occurrences: list[dict[str, Any]] = []
        self._page_views: list[dict[str, Any]] = []
        self._analytics_due: set[tuple[int, int]] = set()
        self._settings: dict[int, PortalSettings] = {}
        self._touched: set[tuple[ObjectType, int]] = set()
        self._to_forward = ForwardNotes()

    # --- definitions ---------------------------------------------------------------------

    async def property_definitions(
        self, portal_id: int, object_type: ObjectType
    ) -> dict[str, PropertyDefinition]:
        key = (portal_id, object_type)
        if key not in self._definitions:
            self._definitions[key] = await properties.load_definitions(
                self.conn, portal_id, object_type
            )
        return self._definitions[key]

    async def event_definition_by_id(
        self, portal_id: int, definition_id: int
    ) -> EventDefinition | None:
        key = (portal_id, definition_id)
        if key not in self._events_by_id:
            self._events_by_id[key] = await events.get_definition(
                self.conn, portal_id, definition_id
            )
        return self._events_by_id[key]

    async def event_definition(
        self, portal_id: int, name: str, label: str, created_by: Source
    ) -> tuple[EventDefinition, bool]:
        """The definition named `name`, created on its first use; True when just created."""
        key = (portal_id, name)
        if key in self._events_by_name:
            return self._events_by_name[key], False
        definition, created = await events.get_or_create_definition(
            self.conn, portal_id, name, label, created_by.value, self.at_ms
        )
        self._events_by_name[key] = definition
        return definition, created

    # --- identity ------------------------------------------------------------------------

    async def visitor(self, portal_id: int, visitor_key: str) -> Visitor:
        key = (portal_id, visitor_key)
        if key not in self._visitors:
            self._visitors[key] = await contacts.get_or_create_visitor(
                self.conn, portal_id, visitor_key, self.at_ms
            )
        return self._visitors[key]

    async def link_visitor(self, portal_id: int, visitor: Visitor, contact_id: int) -> Visitor:
        """Tie the visitor to the contact; its buffered anonymous activity goes along."""
        await self._flush_activity()
        await contacts.link_visitor(self.conn, portal_id, visitor, contact_id, self.at_ms)
        self._analytics_due.add((portal_id, contact_id))
        if not is_usertoken(visitor.visitor_key):  # sent without a utk, its history waited
            self._to_forward.linked_visitors.add((portal_id, visitor.id))
        linked = replace(visitor, contact_id=contact_id)
        self._visitors[(portal_id, visitor.visitor_key)] = linked
        return linked

    async def keep_traits(self, portal_id: int, visitor: Visitor, traits: dict[str, Any]) -> None:
        """Store traits waiting on the visitor ({} clears them), keeping the cache current."""
        await contacts.save_pending_traits(self.conn, visitor.id, traits)
        self._visitors[(portal_id, visitor.visitor_key)] = replace(visitor, pending_traits=traits)

    async def remember_external_id(
        self, portal_id: int, visitor: Visitor, external_id: str
    ) -> None:
        """An id seen on this browser before any contact: kept for when the contact appears."""
        if visitor.external_id is None:
            await contacts.remember_external_id(self.conn, visitor.id, external_id)
            self._visitors[(portal_id, visitor.visitor_key)] = replace(
                visitor, external_id=external_id
            )

    def forget_definitions(self, portal_id: int, object_type: ObjectType) -> None:
        """Read the definitions again next time (after creating some)."""
        self._definitions.pop((portal_id, object_type), None)

    async def contact_by_email(
        self, portal_id: int, email: str, *, first_seen_ms: int | None = None
    ) -> tuple[Contact, bool]:
        """The contact with this email, created when missing. A new contact's `createdate` is
        when the message that made it happened (`first_seen_ms`, e.g. an imported Segment
        call's timestamp) when that is earlier than now, as for a HubSpot import."""
        key = (portal_id, email.lower())
        if key in self._contacts_by_email:
            return self._contacts_by_email[key], False
        created_at = min(self.at_ms, first_seen_ms) if first_seen_ms else self.at_ms
        contact, created = await contacts.get_or_create_by_email(
            self.conn, portal_id, email, created_at
        )
        self._contacts_by_email[key] = contact
        if created:
            self._to_forward.objects.add((portal_id, ObjectType.CONTACT, contact.id))
        return contact, created

    async def set_external_id(self, portal_id: int, contact: Contact, external_id: str) -> None:
        await contacts.set_external_id(self.conn, portal_id, contact.id, external_id, self.at_ms)
        self._contacts_by_email = {
            key: replace(c, external_id=external_id) if c.id == contact.id else c
            for key, c in self._contacts_by_email.items()
        }

    # --- properties ----------------------------------------------------------------------

    async def values(
        self, portal_id: int, object_type: ObjectType, object_id: int
    ) -> dict[str, str]:
        key = (portal_id, object_type, object_id)
        if key not in self._values:
            self._values[key] = await properties.current_values(
                self.conn, portal_id, object_type, object_id
            )
        return self._values[key]

    async def _refresh_analytics(self, portal_id: int, contact_id: int) -> None:
        derived = await page_views.analytics(self.conn, portal_id, contact_id)
        current = await self.values(portal_id, ObjectType.CONTACT, contact_id)
        if current.get("hs_analytics_source"):  # the original source, once set, stays
            for name in ORIGINAL_SOURCE:
                derived.pop(name, None)
        await self.write_values(
            portal_id,
            ObjectType.CONTACT,
            contact_id,
            derived,
            source=Source.TRACKING_CODE,
            source_id=None,
        )

    async def write_values(
        self,
        portal_id: int,
        object_type: ObjectType,
        object_id: int,
        values: Mapping[str, str],
        *,
        source: Source,
        source_id: str | None,
    ) -> list[str]:
        """Store the values that differ from the current ones; returns their names."""
        current = await self.values(portal_id, object_type, object_id)
        changed = {name: value for name, value in values.items() if current.get(name) != value}
        definitions = await self.property_definitions(portal_id, object_type)
        await properties.save_changes(
            self.conn,
            portal_id,
            object_type,
            object_id,
            changed,
            types={name: definitions[name].type for name in changed if name in definitions},
            source=source,
            source_id=source_id,
            at_ms=self.at_ms,
        )
        current.update(changed)
        if changed:
            self._touched.add((object_type, object_id))
            if any(is_sendable_property(name, definitions.get(name)) for name in changed):
                self.note_changed(portal_id, object_type, object_id)
        return list(changed)

    def note_changed(self, portal_id: int, object_type: ObjectType, object_id: int) -> None:
        """An object destinations should be sent again (say, the primary of a merge)."""
        self._to_forward.objects.add((portal_id, object_type, object_id))

    def note_gone(self, portal_id: int, object_type: ObjectType, ids: Iterable[int]) -> None:
        """Objects archived, merged away or deleted: destinations sent deletions mirror that."""
        self._to_forward.gone.update((portal_id, object_type, object_id) for object_id in ids)

    def note_submission(self, portal_id: int, form_guid: str, message_id: str) -> None:
        """A form submission was recorded: destinations mapping its form send it on."""
        self._to_forward.submissions.add((portal_id, form_guid, message_id))

    def note_association(self, portal_id: int, contact_id: int, company_id: int) -> None:
        """A contact ↔ company association was added: destinations may want it."""
        self._to_forward.associations.add((portal_id, contact_id, company_id))

    # --- buffered writes -----------------------------------------------------------------

    async def portal_settings(self, portal_id: int) -> PortalSettings:
        if portal_id not in self._settings:
            self._settings[portal_id] = await portals.get_settings(self.conn, portal_id)
        return self._settings[portal_id]

    def add_occurrence(self, row: dict[str, Any]) -> None:
        self._occurrences.append(row)

    def add_page_view(self, row: dict[str, Any]) -> None:
        """Buffer a page view; the contact's analytics are recomputed at `flush`."""
        self._page_views.append(row)
        if row["contact_id"] is not None and not row["is_bot"]:
            self._analytics_due.add((row["portal_id"], row["contact_id"]))

    async def _flush_activity(self) -> None:
        await events.add_occurrences(self.conn, self._occurrences)
        await page_views.add(self.conn, self._page_views)
        await daily_stats.record(self.conn, self._occurrences, self._page_views)
        self._to_forward.note_activity(self._occurrences, self._page_views, self._visitor_keys())
        self._occurrences, self._page_views = [], []

    def _visitor_keys(self) -> dict[int, str]:
        return {visitor.id: visitor.visitor_key for visitor in self._visitors.values()}

    async def flush(self) -> None:
        """Write what the batch buffered; call once, before its transaction commits."""
        await self._flush_activity()
        for portal_id, contact_id in sorted(self._analytics_due):
            await self._refresh_analytics(portal_id, contact_id)
        self._analytics_due.clear()
        for object_type in ObjectType:
            ids = sorted(i for t, i in self._touched if t is object_type)
            await objects.touch(self.conn, object_type, ids, self.at_ms)
        self._touched.clear()
        await self._queue_forwarding()

    async def _queue_forwarding(self) -> None:
        """Put what changed on each interested destination's outbox."""
        notes, self._to_forward = self._to_forward, ForwardNotes()
        entries: list[outbox.Entry] = []
        for portal_id in sorted(notes.portals()):
            wanted = await destinations.all_destinations(self.conn, portal_id)
            if not wanted:
                continue
            linked = [v for p, v in notes.linked_visitors if p == portal_id]
            history = await outbox.visitor_history(self.conn, portal_id, linked)
            forms = await destinations.form_targets(self.conn, [d.id for d in wanted])
            for destination in wanted:
                mapped = set(forms.get(destination.id, {}))
                entries.extend(notes.entries(destination, history, mapped))
        await outbox.enqueue(self.conn, entries, self.at_ms)


def is_usertoken(visitor_key: str) -> bool:
    """A HubSpot usertoken (`hubspotutk`): HubSpot itself can tie events sent with it."""
    return len(visitor_key) == 32 and all(c in "0123456789abcdef" for c in visitor_key)


class ForwardNotes:
    """What one batch changed that destinations may want, until `flush` queues it."""

    def __init__(self) -> None:
        self.objects: set[tuple[int, ObjectType, int]] = set()
        self.associations: set[tuple[int, int, int]] = set()
        self.activity: set[tuple[int, outbox.Kind, str]] = set()
        self.linked_visitors: set[tuple[int, int]] = set()
        self.submissions: set[tuple[int, str, str]] = set()  # portal, form guid, message id
        self.gone: set[tuple[int, ObjectType, int]] = set()  # archived, merged away, deleted

    def portals(self) -> set[int]:
        return (
            {p for p, _, _ in self.objects}
            | {p for p, _, _ in self.associations}
            | {p for p, _, _ in self.activity}
            | {p for p, _ in self.linked_visitors}
            | {p for p, _, _ in self.submissions}
            | {p for p, _, _ in self.gone}
        )

    def note_activity(
        self,
        occurrences: list[dict[str, Any]],
        views: list[dict[str, Any]],
        visitor_keys: Mapping[int, str],
    ) -> None:
        """Events and views a destination can tie to someone: a contact, or a usertoken."""
        for kind, rows in ((outbox.Kind.EVENT, occurrences), (outbox.Kind.PAGEVIEW, views)):
            for row in rows:
                if row.get("is_bot"):
                    continue
                key = visitor_keys.get(row.get("visitor_id") or 0, "")
                if row["contact_id"] is not None or is_usertoken(key):
                    self.activity.add((row["portal_id"], kind, row["message_id"]))

    def entries(
        self,
        destination: destinations.Destination,
        history: list[tuple[outbox.Kind, str]],
        mapped_forms: set[str] | None = None,
    ) -> list[outbox.Entry]:
        portal, sends, d = destination.portal_id, destination.sends, destination.id
        kinds = {
            outbox.Kind.CONTACT: destinations.Sends.CONTACTS,
            outbox.Kind.COMPANY: destinations.Sends.COMPANIES,
            outbox.Kind.ASSOCIATION: destinations.Sends.ASSOCIATIONS,
            outbox.Kind.EVENT: destinations.Sends.EVENTS,
            outbox.Kind.PAGEVIEW: destinations.Sends.PAGEVIEWS,
        }
        found: list[tuple[outbox.Kind, str]] = []
        for p, object_type, object_id in self.objects:
            if p == portal:
                found.append((_object_kind(object_type), str(object_id)))
        found += [
            (outbox.Kind.ASSOCIATION, f"{contact}:{company}")
            for p, contact, company in self.associations
            if p == portal
        ]
        found += [(kind, key) for p, kind, key in self.activity if p == portal]
        found += history
        wanted = {(kind, key) for kind, key in found if kinds[kind] in sends}
        if destinations.Sends.DELETIONS in sends:  # the sender finds them gone and says so
            wanted |= {
                (_object_kind(object_type), str(object_id))
                for p, object_type, object_id in self.gone
                if p == portal
            }
        chosen = sorted(wanted)
        chosen += [
            (outbox.Kind.SUBMISSION, message_id)
            for p, guid, message_id in sorted(self.submissions)
            if p == portal and guid in (mapped_forms or set())
        ]
        return [outbox.Entry(d, portal, kind, key) for kind, key in chosen]


def _object_kind(object_type: ObjectType) -> outbox.Kind:
    return outbox.Kind.CONTACT if object_type is ObjectType.CONTACT else outbox.Kind.COMPANY
