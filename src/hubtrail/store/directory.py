"""Which portals exist, their settings, and which credential opens which portal, cached for the
hot path.

Lookups go to the database at most once per `ttl_s` per key (answers, including "no such portal",
are cached), so a new portal, a changed setting or a revoked token takes effect within a few
seconds in every running process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hubtrail.core.credentials import CredentialKind
from hubtrail.core.portal_settings import PortalSettings
from hubtrail.store import portals
from hubtrail.store.db import Database


class PortalDirectory:
    def __init__(
        self, db: Database, ttl_s: float, clock_s: Callable[[], float] = time.monotonic
    ) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._clock_s = clock_s
        self._portals: dict[int, tuple[float, PortalSettings | None]] = {}
        self._secrets: dict[tuple[str, CredentialKind], tuple[float, int | None]] = {}

    async def exists(self, hub_id: int) -> bool:
        return await self.settings(hub_id) is not None

    async def settings(self, hub_id: int) -> PortalSettings | None:
        """The portal's settings, None when there is no such portal."""
        now = self._clock_s()
        cached = self._portals.get(hub_id)
        if cached and cached[0] > now:
            return cached[1]
        found = await self._db.read(lambda conn: portals.find_settings(conn, hub_id))
        if len(self._portals) > 10_000:
            self._portals.clear()
        self._portals[hub_id] = (now + self._ttl_s, found)
        return found

    async def portal_for(self, secret: str, kind: CredentialKind) -> int | None:
        now = self._clock_s()
        cached = self._secrets.get((secret, kind))
        if cached and cached[0] > now:
            return cached[1]
        portal_id = await self._db.read(lambda conn: portals.portal_for_secret(conn, secret, kind))
        if len(self._secrets) > 10_000:
            self._secrets.clear()
        self._secrets[(secret, kind)] = (now + self._ttl_s, portal_id)
        return portal_id
