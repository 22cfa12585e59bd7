"""Group commit: many requests' messages share one inbox transaction.

A request hands its messages to `submit` and waits; the writer task gathers what arrives within
`window_ms` (or up to `max_messages`), writes it in one transaction and wakes every waiting
request with the result. When `max_waiting_messages` already wait, a request is refused at once
with a 429 (`OverloadedError`): the client backs off instead of piling onto a writer that cannot
keep up. A request's messages always go into the same transaction, so a batch is
committed whole or not at all. Nothing is held only in memory once `submit` has returned.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from hubtrail.core.errors import OverloadedError, UnavailableError
from hubtrail.core.messages import Message
from hubtrail.metrics import Metrics
from hubtrail.store import inbox
from hubtrail.store.db import Database

log = logging.getLogger("hubtrail.store.group_commit")

_Waiter = tuple[Sequence[Message], "asyncio.Future[None]"]


class GroupCommitter:
    """The inbox's single writer task and the queue of requests waiting on it."""

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        *,
        window_ms: float,
        max_messages: int,
        max_waiting_messages: int = 50_000,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._window_s = window_ms / 1000
        self._max_messages = max_messages
        self._on_commit = on_commit
        self._max_waiting_messages = max_waiting_messages
        self._waiting: list[_Waiter] = []
        self._waiting_messages = 0
        self._arrived = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hubtrail-group-commit")

    async def submit(self, messages: Sequence[Message]) -> None:
        """Return once `messages` are committed; raise `UnavailableError` if they could not be."""
        if self._closing or self._task is None:
            raise UnavailableError("hubtrail is shutting down; retry shortly")
        if self._waiting and self._waiting_messages + len(messages) > self._max_waiting_messages:
            self._metrics.overloaded.inc()
            raise OverloadedError(
                f"{self._waiting_messages} messages are waiting to be stored; retry shortly"
            )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((messages, done))
        self._waiting_messages += len(messages)
        self._arrived.set()
        await done

    async def stop(self) -> None:
        """Commit what is already waiting, then end the writer task."""
        self._closing = True
        self._arrived.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            if not self._waiting:
                if self._closing:
                    return
                self._arrived.clear()
                continue
            if not self._closing:
                # Let requests that are already readable reach the queue, then (optionally) wait
                # a little longer for more: under load the commit in flight does the gathering.
                await asyncio.sleep(self._window_s)
            group = self._take_group()
            await self._commit(group)

    def _take_group(self) -> list[_Waiter]:
        """Whole requests, oldest first, up to `max_messages` (at least one request)."""
        taken, count = 0, 0
        for messages, _ in self._waiting:
            if taken and count + len(messages) > self._max_messages:
                break
            taken += 1
            count += len(messages)
        group, self._waiting = self._waiting[:taken], self._waiting[taken:]
        self._waiting_messages -= count
        return group

    async def _commit(self, group: list[_Waiter]) -> None:
        messages = [m for batch, _ in group for m in batch]
        started = time.perf_counter()
        try:
            await self._db.write(lambda conn: inbox.append(conn, messages))
        except Exception as exc:
            log.exception("inbox commit of %d messages failed", len(messages))
            error = UnavailableError("the inbox could not commit this request; retry it")
            error.__cause__ = exc
            for _, done in group:
                if not done.done():
                    done.set_exception(error)
            return
        self._metrics.commit_latency.observe(time.perf_counter() - started)
        self._metrics.commit_batch.observe(len(messages))
        self._metrics.committed.inc(len(messages))
        for _, done in group:
            if not done.done():
                done.set_result(None)
        self._on_commit()
