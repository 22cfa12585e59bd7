"""What every sender shares: the forwarder it calls through, and the target's ids it remembers.

A destination's `destination_ids` map a local object (a contact or company id, an event
definition name) to the target's id for it, with a little detail (the email a contact was sent
under, the properties an event definition has there).
"""

from __future__ import annotations

from typing import Any, Protocol

from hubtrail.forward import hubspot
from hubtrail.store import destinations
from hubtrail.store.db import Database
from hubtrail.store.destinations import Destination, RemoteId

CONTACT, COMPANY, DEFINITION = "contact", "company", "event_definition"


class Forwarding(Protocol):
    db: Database

    async def call(self, destination: Destination, call: hubspot.Call) -> tuple[int, Any]: ...


async def remote_ids(
    fw: Forwarding, d: Destination, object_type: str, keys: list[str]
) -> dict[str, RemoteId]:
    return await fw.db.read(lambda c: destinations.remote_ids(c, d.id, object_type, keys))


async def remember(
    fw: Forwarding, d: Destination, object_type: str, found: dict[str, RemoteId]
) -> None:
    if found:
        await fw.db.write(lambda c: destinations.remember_ids(c, d.id, object_type, found))


async def forget(fw: Forwarding, d: Destination, object_type: str, keys: list[str]) -> None:
    if keys:
        await fw.db.write(lambda c: destinations.forget_ids(c, d.id, object_type, keys))
