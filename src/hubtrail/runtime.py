"""The running parts of one hubtrail process, built from `Settings` and started together.

`Runtime` owns the database, the inbox writer, the processor, the forwarder, the portal
directory and the in-memory counts of the API's rate-limit emulation. The HTTP app (`app.py`),
the worker command and the tests all build one; nothing is module-global.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hubtrail.config import Settings
from hubtrail.core.ratelimit import RateLimiter
from hubtrail.forward.engine import Forwarder
from hubtrail.metrics import Metrics
from hubtrail.process.processor import Processor, now_ms
from hubtrail.store import destinations, inbox
from hubtrail.store.db import Database
from hubtrail.store.directory import PortalDirectory
from hubtrail.store.group_commit import GroupCommitter
from hubtrail.store.migrate import upgrade

log = logging.getLogger("hubtrail.runtime")


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        run_processor: bool = True,
        run_forwarder: bool | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.db = Database(settings)
        self.directory = PortalDirectory(self.db, settings.portal_cache_ttl_s)
        self.processor = Processor(
            self.db,
            self.metrics,
            batch_size=settings.process_batch_size,
            poll_ms=settings.process_poll_ms,
            slice_ms=settings.process_slice_ms,
        )
        self.committer = GroupCommitter(
            self.db,
            self.metrics,
            window_ms=settings.commit_window_ms,
            max_messages=settings.commit_max_messages,
            max_waiting_messages=settings.commit_max_waiting_messages,
            on_commit=self.processor.wakeup.set,
        )
        self.clock_ms = now_ms
        # Per access token, per process; tests replace its `clock_ms`.
        self.rate_limiter = RateLimiter(now_ms)
        self.forwarder = Forwarder(self.db, settings, self.metrics, clock_ms=now_ms)
        self._run_processor = run_processor
        self._run_forwarder = (
            run_processor and settings.forward_in_server if run_forwarder is None else run_forwarder
        )
        self._processor_task: asyncio.Task[None] | None = None
        self._forwarder_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Set when the server is asked to stop, before it waits for open connections: long
        # responses (the debugger's event streams) end themselves instead of being cut off.
        self.closing = False

    async def start(self) -> None:
        """Migrate the schema, then start the inbox writer and (unless disabled) the processor."""
        await upgrade(self.db)
        self.committer.start()
        if self._run_processor:
            self._processor_task = asyncio.create_task(self.processor.run(), name="processor")
        if self._run_forwarder:
            self._forwarder_task = asyncio.create_task(
                self.forwarder.run(self._stopping), name="forwarder"
            )
        log.info("hubtrail started on %s", self.db.url.render_as_string(hide_password=True))

    async def stop(self) -> None:
        """Commit what requests are waiting on, stop the processor, close the database."""
        await self.committer.stop()
        self._stopping.set()
        if self._forwarder_task is not None:
            await self._forwarder_task
            self._forwarder_task = None
        await self.forwarder.close()
        if self._processor_task is not None:
            self._processor_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._processor_task
            self._processor_task = None
        await self.db.close()

    async def refresh_inbox_depth(self) -> None:
        self.metrics.inbox_depth.set(await self.db.read(inbox.pending_count))

    async def run_workers(self) -> None:
        """The processor and the forwarder, until cancelled (`hubtrail worker`)."""
        await asyncio.gather(self.processor.run(), self.forwarder.run(self._stopping))

    async def forward_once(self) -> None:
        """Send what is due now to every destination (`hubtrail worker --once`)."""
        for destination in await self.db.read(destinations.all_destinations):
            await self.forwarder.drain(destination.id)

    async def close_workers(self) -> None:
        self._stopping.set()
        await self.forwarder.close()
