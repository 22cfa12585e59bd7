"""Portals (hub ids), their settings and their credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.credentials import CredentialKind, new_secret, secret_digest, secret_hint
from hubtrail.core.default_properties import DEFAULT_GROUPS, DEFAULT_PROPERTIES
from hubtrail.core.errors import NotFoundError
from hubtrail.core.portal_settings import PortalSettings, apply_changes, load_settings
from hubtrail.store.schema import credentials, portals, property_definitions, property_groups

FIRST_HUB_ID = 1_000_001


@dataclass(frozen=True, slots=True)
class Portal:
    hub_id: int
    name: str
    created_at_ms: int


async def create_portal(
    conn: AsyncConnection, name: str, at_ms: int, hub_id: int | None = None
) -> Portal:
    """A new portal with HubSpot's default contact and company properties."""
    if hub_id is None:
        highest = (await conn.execute(select(func.max(portals.c.id)))).scalar()
        hub_id = max(FIRST_HUB_ID, (highest or 0) + 1)
    await conn.execute(insert(portals).values(id=hub_id, name=name, created_at_ms=at_ms))
    rows = [
        {
            "portal_id": hub_id,
            "object_type": object_type.value,
            "name": d.name,
            "label": d.label,
            "type": d.type.value,
            "field_type": d.field_type,
            "group_name": d.group_name,
            "description": d.description,
            "options": orjson.dumps(
                [
                    {"label": o.label, "value": o.value, "hidden": o.hidden, "displayOrder": i}
                    for i, o in enumerate(d.options)
                ]
            ).decode(),
            "hubspot_defined": True,
            "read_only_value": d.read_only_value,
            "has_unique_value": d.has_unique_value,
            "created_at_ms": at_ms,
            "updated_at_ms": at_ms,
        }
        for object_type, definitions in DEFAULT_PROPERTIES.items()
        for d in definitions
    ]
    await conn.execute(insert(property_definitions), rows)
    groups = [
        {
            "portal_id": hub_id,
            "object_type": object_type.value,
            "name": name,
            "label": label,
            "display_order": order,
            "created_at_ms": at_ms,
        }
        for object_type, object_groups in DEFAULT_GROUPS.items()
        for order, (name, label) in enumerate(object_groups)
    ]
    await conn.execute(insert(property_groups), groups)
    return Portal(hub_id, name, at_ms)


async def get_portal(conn: AsyncConnection, hub_id: int) -> Portal | None:
    row = (await conn.execute(select(portals).where(portals.c.id == hub_id))).first()
    return Portal(row.id, row.name, row.created_at_ms) if row else None


async def find_portal_by_name(conn: AsyncConnection, name: str) -> Portal | None:
    query = select(portals).where(portals.c.name == name).order_by(portals.c.id).limit(1)
    row = (await conn.execute(query)).first()
    return Portal(row.id, row.name, row.created_at_ms) if row else None


async def find_settings(conn: AsyncConnection, hub_id: int) -> PortalSettings | None:
    """The portal's settings, or None when there is no such portal."""
    query = select(portals.c.settings).where(portals.c.id == hub_id)
    document = (await conn.execute(query)).scalar()
    return None if document is None else load_settings(_settings_document(document))


async def get_settings(conn: AsyncConnection, hub_id: int) -> PortalSettings:
    """The portal's settings; `NotFoundError` when there is no such portal."""
    settings = await find_settings(conn, hub_id)
    if settings is None:
        raise NotFoundError(f"no portal has hub id {hub_id}")
    return settings


async def update_settings(
    conn: AsyncConnection, hub_id: int, changes: dict[str, Any]
) -> PortalSettings:
    """Validate `changes` against the portal's current settings, store them, return the result.

    Only the changed keys are rewritten: keys this version does not know (written by a newer one)
    are kept, and settings never set keep following their defaults. The row is locked (PostgreSQL)
    so two concurrent changes do not lose one another.
    """
    query = select(portals.c.settings).where(portals.c.id == hub_id).with_for_update()
    document = (await conn.execute(query)).scalar()
    if document is None:
        raise NotFoundError(f"no portal has hub id {hub_id}")
    stored = _settings_document(document)
    updated = apply_changes(load_settings(stored), changes)
    values = updated.model_dump(include=set(changes))
    await conn.execute(
        update(portals)
        .where(portals.c.id == hub_id)
        .values(settings=orjson.dumps({**stored, **values}).decode())
    )
    return updated


def _settings_document(text: str) -> dict[str, Any]:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return document if isinstance(document, dict) else {}


async def issue_credential(
    conn: AsyncConnection, portal_id: int, kind: CredentialKind, at_ms: int
) -> str:
    """A new secret for the portal; only its digest is stored, so it is shown this once."""
    secret = new_secret(kind)
    await conn.execute(
        insert(credentials).values(
            portal_id=portal_id,
            kind=kind.value,
            secret_sha256=secret_digest(secret),
            hint=secret_hint(secret),
            created_at_ms=at_ms,
        )
    )
    return secret


async def portal_for_secret(conn: AsyncConnection, secret: str, kind: CredentialKind) -> int | None:
    """The portal a live credential belongs to, or None."""
    query = select(credentials.c.portal_id).where(
        credentials.c.secret_sha256 == secret_digest(secret),
        credentials.c.kind == kind.value,
        credentials.c.revoked_at_ms.is_(None),
    )
    return (await conn.execute(query)).scalar()


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential as it can be shown: its kind and hint, never the secret."""

    id: int
    kind: CredentialKind
    hint: str
    created_at_ms: int
    revoked_at_ms: int | None


async def list_credentials(conn: AsyncConnection, portal_id: int) -> list[Credential]:
    """The portal's credentials, live and revoked, oldest first."""
    c = credentials.c
    query = (
        select(c.id, c.kind, c.hint, c.created_at_ms, c.revoked_at_ms)
        .where(c.portal_id == portal_id)
        .order_by(c.id)
    )
    return [
        Credential(row.id, CredentialKind(row.kind), row.hint, row.created_at_ms, row.revoked_at_ms)
        for row in await conn.execute(query)
    ]


async def revoke_credential(
    conn: AsyncConnection, portal_id: int, credential_id: int, at_ms: int
) -> bool:
    """Revoke one of the portal's live credentials; False when it has none with that id.

    Running processes stop accepting it once their cached answer expires (`portal_cache_ttl_s`)."""
    c = credentials.c
    result = await conn.execute(
        update(credentials)
        .where(c.id == credential_id, c.portal_id == portal_id, c.revoked_at_ms.is_(None))
        .values(revoked_at_ms=at_ms)
    )
    return bool(result.rowcount)
