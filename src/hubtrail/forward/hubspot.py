"""HubSpot's API as a destination: every request hubtrail sends and how it reads the answers.

Pure: each function builds one `Call` (method, path, JSON body) or reads one answer; the engine
(`forward/engine.py`) sends them. The endpoints and limits:

- contacts: `POST /crm/v3/objects/contacts/batch/upsert`, keyed by email, ≤ 100 inputs;
- companies: `POST /crm/v3/objects/companies/search` by domain (IN, ≤ 100 values), then
  `…/companies/batch/create` (each input with an `objectWriteTraceId`, so a 207 names the failed
  ones) and `…/companies/batch/update` by the target's ids, ≤ 100 each;
- contacts without a known target id: `POST /crm/v3/objects/contacts/search` by email;
- associations: `POST /crm/v4/associations/contacts/companies/batch/associate/default`, ≤ 100;
- event definitions: `GET|POST /events/v3/event-definitions[/{name}]`, and
  `POST /events/v3/event-definitions/{name}/property` for a property the target lacks;
- events: `POST /events/v3/send/batch`, ≤ 500, each with a stable `uuid`, so a resend is harmless;
- form submissions, for a form mapped to a HubSpot form: one
  `POST {api.hsforms.com}/submissions/v3/integration/secure/submit/{portalId}/{formGuid}` each.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CONTACT_BATCH = 100
COMPANY_BATCH = 100
ASSOCIATION_BATCH = 100
EVENT_BATCH = 500
PAGE_VIEW_EVENT = "hubtrail_page_view"  # page views go as this custom event
PAGE_VIEW_LABEL = "Page view (hubtrail)"
PAGE_VIEW_PROPERTIES = ("url", "title", "referrer")
_UUID_NAMESPACE = uuid.UUID("6f1c9f9e-8d0c-4c55-9a57-58a8b1f0e2a1")


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    base_url: str | None = None  # another host than the destination's API (HubSpot's forms)


@dataclass(frozen=True, slots=True)
class InputError:
    """One input the target refused, with its message."""

    key: str
    message: str


@dataclass(slots=True)
class BatchAnswer:
    """What a batch endpoint did: the target's id per key, and the inputs it refused."""

    ids: dict[str, str] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)


def error_message(body: Any, fallback: str) -> str:
    """HubSpot's `message` (with its `category`) from an error body, else `fallback`."""
    if isinstance(body, dict) and body.get("message"):
        category = body.get("category") or body.get("errorType") or ""
        return f"{category}: {body['message']}" if category else str(body["message"])
    return fallback


# --- contacts ---------------------------------------------------------------------------------


def contacts_upsert(inputs: Sequence[tuple[str, Mapping[str, str]]]) -> Call:
    """`(email, properties)` pairs as one upsert by email."""
    return Call(
        "POST",
        "/crm/v3/objects/contacts/batch/upsert",
        {
            "inputs": [
                {"id": email, "idProperty": "email", "properties": dict(props)}
                for email, props in inputs
            ]
        },
    )


def read_upsert(body: Any) -> BatchAnswer:
    """Target ids by (lowercased) email; errors name emails when the target says which."""
    answer = BatchAnswer()
    for result in _list(body, "results"):
        email = str((result.get("properties") or {}).get("email") or "").lower()
        if email and result.get("id") is not None:
            answer.ids[email] = str(result["id"])
    answer.errors = _input_errors(body, ("emails", "email", "ids", "id"))
    return answer


def contacts_search(emails: Sequence[str]) -> Call:
    return _search("contacts", "email", emails)


def companies_search(domains: Sequence[str]) -> Call:
    return _search("companies", "domain", domains)


def _search(object_type: str, name: str, values: Sequence[str]) -> Call:
    return Call(
        "POST",
        f"/crm/v3/objects/{object_type}/search",
        {
            "filterGroups": [
                {"filters": [{"propertyName": name, "operator": "IN", "values": list(values)}]}
            ],
            "properties": [name],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "limit": 100,
        },
    )


def read_search(body: Any, name: str) -> dict[str, str]:
    """Target id by the (lowercased) value of `name`; the oldest record wins a tie."""
    found: dict[str, str] = {}
    for result in _list(body, "results"):
        value = str((result.get("properties") or {}).get(name) or "").lower()
        if value and value not in found and result.get("id") is not None:
            found[value] = str(result["id"])
    return found


# --- companies --------------------------------------------------------------------------------


def objects_create(object_type: str, inputs: Sequence[tuple[str, Mapping[str, str]]]) -> Call:
    """`(local id, properties)`: each input traced by the local id, so errors come one by one."""
    return Call(
        "POST",
        f"/crm/v3/objects/{object_type}/batch/create",
        {
            "inputs": [
                {"properties": dict(props), "objectWriteTraceId": key, "associations": []}
                for key, props in inputs
            ]
        },
    )


def read_create(
    body: Any, inputs: Sequence[tuple[str, Mapping[str, str]]], key_name: str
) -> BatchAnswer:
    """Target ids by local id: by the `objectWriteTraceId` HubSpot echoes; from a target that
    echoes none, by the input whose `key_name` value (without one: every value) it has."""
    answer = BatchAnswer()
    # inputs without properties last: they would match any result
    unclaimed = dict(sorted(inputs, key=lambda item: not item[1]))
    for result in _list(body, "results"):
        if result.get("id") is None:
            continue
        key = result.get("objectWriteTraceId")
        if key is None:
            key = _input_shown(result.get("properties") or {}, unclaimed, key_name)
        if key is not None:
            unclaimed.pop(str(key), None)
            answer.ids[str(key)] = str(result["id"])
    answer.errors = _input_errors(body, ("objectWriteTraceId",))
    return answer


def _input_shown(
    shown: Mapping[str, Any], inputs: Mapping[str, Mapping[str, str]], key_name: str
) -> str | None:
    def same(a: Any, b: Any) -> bool:
        return str(a or "").strip().lower() == str(b or "").strip().lower()

    for key, sent in inputs.items():
        names = [key_name] if sent.get(key_name) else list(sent)
        if all(same(shown.get(name), sent.get(name)) for name in names):
            return key
    return None


def objects_update(object_type: str, inputs: Sequence[tuple[str, Mapping[str, str]]]) -> Call:
    """`(target id, properties)` pairs."""
    return Call(
        "POST",
        f"/crm/v3/objects/{object_type}/batch/update",
        {"inputs": [{"id": remote, "properties": dict(props)} for remote, props in inputs]},
    )


def read_update(body: Any) -> BatchAnswer:
    """Errors by target id (an object deleted on the target comes back as a 207 error)."""
    return BatchAnswer(errors=_input_errors(body, ("ids", "id")))


# --- deletions --------------------------------------------------------------------------------


def objects_archive(object_type: str, remote_ids: Sequence[str]) -> Call:
    return Call(
        "POST",
        f"/crm/v3/objects/{object_type}/batch/archive",
        {"inputs": [{"id": remote} for remote in remote_ids]},
    )


def objects_merge(object_type: str, primary_id: str, merged_id: str) -> Call:
    return Call(
        "POST",
        f"/crm/v3/objects/{object_type}/merge",
        {"primaryObjectId": primary_id, "objectIdToMerge": merged_id},
    )


def contact_gdpr_delete(remote_id: str) -> Call:
    return Call("POST", "/crm/v3/objects/contacts/gdpr-delete", {"objectId": remote_id})


# --- associations -----------------------------------------------------------------------------


def associate(pairs: Sequence[tuple[str, str]]) -> Call:
    """`(target contact id, target company id)` pairs, HubSpot's default association."""
    return Call(
        "POST",
        "/crm/v4/associations/contacts/companies/batch/associate/default",
        {"inputs": [{"from": {"id": c}, "to": {"id": co}} for c, co in pairs]},
    )


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """What the target knows of one definition: its name to send, and its property names."""

    fully_qualified_name: str
    properties: frozenset[str]


def get_definition(name: str) -> Call:
    return Call("GET", f"/events/v3/event-definitions/{name}")


def create_definition(name: str, label: str, properties: Sequence[tuple[str, str, str]]) -> Call:
    """`properties` are (name, label, type) triples."""
    return Call(
        "POST",
        "/events/v3/event-definitions",
        {
            "name": name,
            "label": label,
            "primaryObject": "CONTACT",
            "includeDefaultProperties": True,
            "propertyDefinitions": [
                {"name": n, "label": lbl, "type": t} for n, lbl, t in properties
            ],
        },
    )


def create_event_property(event_name: str, name: str, label: str, kind: str) -> Call:
    return Call(
        "POST",
        f"/events/v3/event-definitions/{event_name}/property",
        {"name": name, "label": label, "type": kind},
    )


def read_definition(body: Any) -> EventDefinition:
    properties = frozenset(str(p.get("name")) for p in _list(body, "properties") if p.get("name"))
    return EventDefinition(str(body.get("fullyQualifiedName") or body.get("name")), properties)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One event to send: who (email, target object id, or usertoken), what, when."""

    key: str  # the outbox key: the occurrence's message id
    event_name: str  # the target's fully qualified name
    occurred_at_ms: int
    properties: Mapping[str, Any]
    email: str | None = None
    object_id: str | None = None
    utk: str | None = None


def event_uuid(portal_id: int, message_id: str) -> str:
    """The same occurrence always gets the same uuid, so the target counts a resend once."""
    return str(uuid.uuid5(_UUID_NAMESPACE, f"{portal_id}:{message_id}"))


def send_events(portal_id: int, occurrences: Sequence[Occurrence]) -> Call:
    inputs = []
    for occurrence in occurrences:
        item: dict[str, Any] = {
            "eventName": occurrence.event_name,
            "occurredAt": _iso(occurrence.occurred_at_ms),
            "properties": {k: _text(v) for k, v in occurrence.properties.items()},
            "uuid": event_uuid(portal_id, occurrence.key),
        }
        if occurrence.object_id is not None:
            item["objectId"] = occurrence.object_id
        elif occurrence.email is not None:
            item["email"] = occurrence.email
        else:
            item["utk"] = occurrence.utk
        inputs.append(item)
    return Call("POST", "/events/v3/send/batch", {"inputs": inputs})


# --- form submissions ---------------------------------------------------------------------------


def submit_form(
    base_url: str,
    portal_id: int,
    form_guid: str,
    fields: Sequence[tuple[str, str, str]],
    context: Mapping[str, str],
    submitted_at_ms: int,
) -> Call:
    """`fields` are (objectTypeId, name, value); `context` HubSpot's (hutk, pageUri, pageName)."""
    return Call(
        "POST",
        f"/submissions/v3/integration/secure/submit/{portal_id}/{form_guid}",
        {
            "submittedAt": str(submitted_at_ms),
            "fields": [{"objectTypeId": t, "name": n, "value": v} for t, n, v in fields],
            "context": {k: v for k, v in context.items() if v},
        },
        base_url=base_url,
    )


# --- helpers ----------------------------------------------------------------------------------


def _iso(at_ms: int) -> str:
    return (
        datetime.fromtimestamp(at_ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _list(body: Any, name: str) -> list[dict[str, Any]]:
    items = body.get(name) if isinstance(body, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _input_errors(body: Any, context_keys: Sequence[str]) -> list[InputError]:
    """A 207's `errors`, one per input named in each error's `context` (first matching key)."""
    found = []
    for error in _list(body, "errors"):
        message = error_message(error, "refused by the target")
        context = error.get("context") or {}
        for name in context_keys:
            keys = context.get(name)
            if isinstance(keys, list) and keys:
                found += [InputError(str(key).lower(), message) for key in keys]
                break
        else:
            found.append(InputError("", message))
    return found
