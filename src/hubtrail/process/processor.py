"""The processor loop: claims inbox messages in batches and applies them in order.

Each batch is one transaction (claim, apply, mark processed), so a crash mid-batch leaves the
messages unprocessed and they are applied again from scratch: a message takes effect exactly once.
A batch that fails is retried one message at a time, so one bad message cannot stall the rest:
it is marked failed, with its error kept on the inbox row.

A transaction runs at most `slice_ms` (the SQLite writer is shared with ingestion), so it claims
about as many messages as the last one got through, not the whole `batch_size`: reading 500
payloads to apply a dozen would cost more than applying them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.messages import Message
from hubtrail.core.outcomes import Outcome
from hubtrail.metrics import Metrics
from hubtrail.process.apply import apply_message
from hubtrail.store import inbox
from hubtrail.store.batch import Batch
from hubtrail.store.db import Database

log = logging.getLogger("hubtrail.process.processor")

MIN_CLAIM = 8  # messages a transaction claims at the least


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def next_claim_size(claimed: int, applied: int, limit: int, batch_size: int) -> int:
    """What the next transaction claims: twice what this one applied when the slice ran out
    first, twice its claim when it applied all it could get; within MIN_CLAIM..batch_size."""
    wanted = 2 * applied if applied < claimed else 2 * limit
    return max(MIN_CLAIM, min(batch_size, wanted))


class Processor:
    """Applies the inbox; run it as a task (`run`) or step it (`run_once`, `drain`)."""

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        *,
        batch_size: int,
        poll_ms: float,
        slice_ms: float,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_s = poll_ms / 1000
        self._slice_s = slice_ms / 1000
        self._clock_ms = clock_ms
        self._claim_size = batch_size  # adapts to how many fit in a slice
        self.wakeup = asyncio.Event()

    async def run_once(self) -> int:
        """Apply one batch; returns how many messages it took off the inbox."""
        try:
            count = await self._db.write(
                lambda conn: self._apply_batch(conn, self._claim_size), background=True
            )
        except Exception:
            log.exception("a processing batch failed; applying its messages one at a time")
            count = await self._apply_singly()
        if count:
            depth = await self._db.read(inbox.pending_count)
            self._metrics.inbox_depth.set(depth)
        return count

    async def drain(self) -> int:
        """Apply until the inbox is empty (`hubtrail worker --once`, tests)."""
        total = 0
        while count := await self.run_once():
            total += count
        return total

    async def run(self) -> None:
        """Apply forever: right after a commit wakes it, or every `poll_ms` when idle."""
        while True:
            self.wakeup.clear()
            try:
                count = await self.run_once()
            except Exception:
                log.exception("processor step failed; retrying after the poll interval")
                count = 0
            if not count:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self._poll_s)

    async def _apply_batch(self, conn: AsyncConnection, limit: int) -> int:
        claimed = await inbox.claim(conn, limit)
        batch = Batch(conn, self._clock_ms())
        deadline = time.perf_counter() + self._slice_s
        outcomes = []
        for seq, payload in claimed:
            outcomes.append((seq, await apply_message(batch, Message.from_json(payload))))
            if time.perf_counter() > deadline:
                break  # the rest stay in the inbox for the next transaction
        self._claim_size = next_claim_size(len(claimed), len(outcomes), limit, self._batch_size)
        await batch.flush()
        await inbox.mark_processed(conn, [(seq, o.to_json()) for seq, o in outcomes], batch.at_ms)
        for _, outcome in outcomes:
            self._metrics.processed.labels(outcome.status.value).inc()
        return len(outcomes)

    async def _apply_singly(self) -> int:
        done = 0
        for _ in range(self._batch_size):
            try:
                count = await self._db.write(
                    lambda conn: self._apply_batch(conn, 1), background=True
                )
            except Exception as exc:
                log.exception("message failed; marking it failed")
                count = await self._db.write(partial(self._fail_next, error=repr(exc)))
            if not count:
                break
            done += count
        return done

    async def _fail_next(self, conn: AsyncConnection, *, error: str) -> int:
        claimed = await inbox.claim(conn, 1)
        failed = Outcome(error=error)
        await inbox.mark_processed(
            conn, [(seq, failed.to_json()) for seq, _ in claimed], self._clock_ms()
        )
        self._metrics.processed.labels(failed.status.value).inc(len(claimed))
        return len(claimed)
