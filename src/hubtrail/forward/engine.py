"""The forwarder: drains each destination's outbox into the target, within its limits.

One worker at a time holds a destination (a lease on its row, renewed as it works; a worker that
dies loses it when it expires and its in-flight rows are sent again, which the target's keys make
harmless). A cycle picks one kind of change — contacts first, then companies, associations,
events and page views, so a contact exists before what refers to it — takes up to a batch of
due rows, marks them in flight, sends (`forward/senders.py`), and records the result in one
transaction: sent rows deleted, failed ones due again after a backoff or moved to the dead
letter with the target's message. Every call first takes a token from the destination's shared
bucket; the target's rate-limit headers and `Retry-After` pause the destination; a spent daily
budget stops it until midnight UTC.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from hubtrail.config import Settings
from hubtrail.core.delivery import (
    RateLimitHeaders,
    backoff_ms,
    budget_gap_ms,
    next_midnight_ms,
)
from hubtrail.forward import hubspot
from hubtrail.forward.outcome import CallFailed, Held, LeaseLost, Result
from hubtrail.forward.senders import send
from hubtrail.metrics import Metrics
from hubtrail.store import destinations, outbox
from hubtrail.store.db import Database
from hubtrail.store.destinations import Destination
from hubtrail.store.outbox import Kind, Row

log = logging.getLogger("hubtrail.forward")

BATCH_SIZES = {
    Kind.CONTACT: hubspot.CONTACT_BATCH,
    Kind.COMPANY: hubspot.COMPANY_BATCH,
    Kind.ASSOCIATION: hubspot.ASSOCIATION_BATCH,
    Kind.EVENT: hubspot.EVENT_BATCH,
    Kind.PAGEVIEW: hubspot.EVENT_BATCH,
    Kind.SUBMISSION: 1,  # HubSpot takes one submission a call
}
DEFAULT_429_PAUSE_MS = 10_000  # HubSpot's ten-secondly window, when no Retry-After says otherwise
AUTH_PAUSE_MS = 300_000
LONGEST_WAIT_IN_CYCLE_MS = 2_000  # a longer pause ends the cycle; its rows wait, not in flight


class Forwarder:
    """Runs inside `hubtrail serve` and alone as `hubtrail worker`; any number may run."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        metrics: Metrics,
        *,
        clock_ms: Callable[[], int],
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        owner: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.metrics = metrics
        self.clock_ms = clock_ms
        self.sleep = sleep
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            transport=transport, timeout=settings.forward_timeout_s, trust_env=False
        )
        self._held: set[int] = set()

    async def close(self) -> None:
        for destination_id in list(self._held):
            await self.db.write(self._release(destination_id))
        self._held.clear()
        await self._client.aclose()

    def _release(self, destination_id: int) -> Callable[[Any], Awaitable[None]]:
        return lambda conn: destinations.release_lease(conn, destination_id, self.owner)

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set; sleep `forward_poll_ms` when there is nothing to do."""
        while not stopping.is_set():
            worked = False
            try:
                for destination in await self.db.read(destinations.all_destinations):
                    worked = await self.deliver_once(destination.id) or worked
            except Exception:
                log.exception("forwarding cycle failed; trying again")
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stopping.wait(), timeout=self.settings.forward_poll_ms / 1000
                    )

    async def drain(self, destination_id: int, max_cycles: int = 100_000) -> None:
        """Cycle until nothing is due now (tests and `deliveries flush`)."""
        for _ in range(max_cycles):
            if not await self.deliver_once(destination_id):
                return

    # --- one cycle ----------------------------------------------------------------------------

    async def deliver_once(self, destination_id: int) -> bool:
        """Send one batch for the destination if one is due; True when something was sent or
        settled (so the caller goes on at once)."""
        now = self.clock_ms()
        destination = await self.db.read(lambda c: destinations.get(c, destination_id))
        if destination is None or destination.paused_until_ms > now:
            return False
        if not await self._hold(destination, now):
            return False
        if destination.calls_left_today(now) <= 0:
            await self._pause_for_budget(destination, now)
            return False
        rows = await self.db.read(
            lambda c: outbox.due(c, destination_id, now, self.settings.forward_scan_rows)
        )
        batch = self.pick(rows, now)
        gap_ms = budget_gap_ms(now, destination.calls_left_today(now))
        part_filled = batch and len(batch) < BATCH_SIZES[batch[0].kind] and not batch[0].attempts
        # A part-filled batch waits until the day's budget allows one more call (a trickle of
        # changes must not spend it by noon): briefly here, or for a later cycle.
        budget_wait_ms = gap_ms - (now - destination.bucket.at_ms) if part_filled else 0
        if budget_wait_ms > LONGEST_WAIT_IN_CYCLE_MS:
            batch = []
        elif budget_wait_ms > 0:
            await self.sleep(budget_wait_ms / 1000)
        if not batch:
            self._gauge(destination, rows)
            return False
        expired = [
            r.id for r in batch if now - r.created_at_ms > self.settings.forward_max_age_s * 1000
        ]
        result = Result()
        if expired:
            last = next(r.last_error for r in batch if r.id == expired[0]) or "never sent"
            result.dead.append((expired, f"older than the age limit; last error: {last}"))
        live = [r for r in batch if r.id not in set(expired)]
        await self.db.write(lambda c: outbox.mark_inflight(c, [r.id for r in live]))
        if live:
            try:
                await send(self, destination, live, result)
            except Held as held:
                filed = result.filed()
                result.wait.append(([r.id for r in live if r.id not in filed], held.reason))
            except LeaseLost:
                log.warning(
                    "destination %d: lease lost mid-cycle; leaving the rows", destination_id
                )
                return True
        await self._settle(destination, batch, result)
        self._gauge(destination, rows[len(batch) :])
        return True

    def pick(self, rows: list[Row], now_ms: int) -> list[Row]:
        """The next batch: the first kind (in send order) with a full batch due, or whose oldest
        due row has waited `forward_linger_ms` (fewer calls: each one carries more)."""
        by_kind: dict[Kind, list[Row]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        for kind in Kind:
            found = by_kind.get(kind, [])
            if not found:
                continue
            first = found[0]
            limit = min(BATCH_SIZES[kind], first.max_batch or BATCH_SIZES[kind])
            same = [r for r in found if r.max_batch == first.max_batch][:limit]
            waited = now_ms - min(r.created_at_ms for r in same)
            if len(same) >= limit or waited >= self.settings.forward_linger_ms or first.attempts:
                return same
        return []

    async def _hold(self, destination: Destination, now: int) -> bool:
        lease_ms = int(self.settings.forward_lease_s * 1000)
        fresh = destination.lease_owner != self.owner or destination.lease_until_ms < now

        async def take(conn: Any) -> bool:
            if not await destinations.take_lease(conn, destination.id, self.owner, now, lease_ms):
                return False
            if fresh:
                resent = await outbox.reset_inflight(conn, destination.id, now)
                if resent:
                    log.warning(
                        "destination %d: %d rows resent after a stop", destination.id, resent
                    )
            return True

        held = bool(await self.db.write(take))
        if held:
            self._held.add(destination.id)
        return held

    async def _pause_for_budget(self, destination: Destination, now: int) -> None:
        until = next_midnight_ms(now)
        reason = f"daily budget of {destination.daily_budget} calls spent; resumes at 00:00 UTC"
        log.warning("destination %d: %s", destination.id, reason)
        await self.db.write(
            lambda c: destinations.pause(c, destination.id, until, reason, throttled=False)
        )

    async def _settle(self, destination: Destination, batch: list[Row], result: Result) -> None:
        now = self.clock_ms()
        attempts = {r.id: r.attempts for r in batch}
        limit = self.settings.forward_max_attempts
        retried = 0

        async def write(conn: Any) -> None:
            nonlocal retried
            await outbox.finish(conn, result.sent)
            for ids, error in result.dead:
                await outbox.kill(conn, ids, error, now)
            for ids, error in result.retry:
                spent = [i for i in ids if attempts.get(i, 0) + 1 >= limit]
                again = [i for i in ids if i not in set(spent)]
                await outbox.kill(conn, spent, f"gave up after {limit} attempts: {error}", now)
                attempt = max((attempts.get(i, 0) for i in again), default=0) + 1
                due = now + backoff_ms(
                    attempt,
                    base_ms=self.settings.forward_retry_base_ms,
                    cap_ms=self.settings.forward_retry_cap_ms,
                    rng=self.rng,
                )
                await outbox.retry_later(conn, again, next_attempt_at_ms=due, error=error)
                retried += len(again)
            for ids, error in result.wait:
                await outbox.retry_later(
                    conn, ids, next_attempt_at_ms=now, error=error, count_attempt=False
                )
                retried += len(ids)
            for ids, error in result.split:
                await outbox.retry_later(
                    conn,
                    ids,
                    next_attempt_at_ms=now,
                    error=error,
                    count_attempt=False,
                    max_batch=max(1, len(ids) // 2),
                )
            await destinations.count_delivery(
                conn, destination.id, sent=len(result.sent), retried=retried
            )

        await self.db.write(write)
        label = str(destination.id)
        self.metrics.forward_sent.labels(label).inc(len(result.sent))
        self.metrics.forward_retried.labels(label).inc(retried)
        self.metrics.forward_dead.labels(label).inc(sum(len(ids) for ids, _ in result.dead))
        for ids, error in result.dead:
            log.warning(
                "destination %d: %d changes dead-lettered: %s", destination.id, len(ids), error
            )

    def _gauge(self, destination: Destination, rows: list[Row]) -> None:
        label = str(destination.id)
        self.metrics.forward_queued.labels(label).set(len(rows))
        self.metrics.forward_budget_left.labels(label).set(
            destination.calls_left_today(self.clock_ms())
        )

    # --- one call -----------------------------------------------------------------------------

    async def call(self, destination: Destination, call: hubspot.Call) -> tuple[int, Any]:
        """Send one request when the destination's bucket allows; (status, JSON body) on a 2xx,
        else `CallFailed`. Rate-limit headers and `Retry-After` pause the destination."""
        await self._take_token(destination)
        label = str(destination.id)
        self.metrics.forward_calls.labels(label).inc()
        try:
            response = await self._client.request(
                call.method,
                (call.base_url or destination.base_url) + call.path,
                json=call.body,
                headers={"Authorization": f"Bearer {destination.token}"},
            )
        except httpx.HTTPError as exc:
            raise CallFailed(
                None, f"{call.method} {call.path}: {type(exc).__name__}: {exc}"
            ) from exc
        body = _json(response)
        limits = RateLimitHeaders.parse(response.headers)
        now = self.clock_ms()
        if response.status_code == 429:
            self.metrics.forward_throttled.labels(label).inc()
            hold = limits.retry_after_ms or DEFAULT_429_PAUSE_MS
            message = hubspot.error_message(body, "429 Too Many Requests")
            await self._pause(destination, now + hold, f"the target answered 429: {message}", True)
            raise CallFailed(429, message)
        if limits.daily_remaining == 0:
            await self._pause(
                destination, next_midnight_ms(now), "the target's daily limit is spent", False
            )
        elif hold := limits.hold_ms():
            await self._pause(
                destination, now + hold, "pacing: the target's window is nearly full", False
            )
        if response.status_code in (401, 403):
            message = hubspot.error_message(body, f"{response.status_code} from the target")
            await self._pause(
                destination,
                now + AUTH_PAUSE_MS,
                f"the target refused the token ({response.status_code}): {message}; "
                "set a new one with `hubtrail destination set-token`",
                False,
            )
            raise CallFailed(response.status_code, message)
        if response.status_code >= 400:
            fallback = f"{response.status_code} {response.reason_phrase}"
            raise CallFailed(response.status_code, hubspot.error_message(body, fallback))
        return response.status_code, body

    def _renew_lease(self, destination_id: int, now: int) -> Callable[[Any], Awaitable[bool]]:
        lease_ms = int(self.settings.forward_lease_s * 1000)
        return lambda c: destinations.take_lease(c, destination_id, self.owner, now, lease_ms)

    @staticmethod
    def _take_call(destination: Destination, now: int) -> Callable[[Any], Awaitable[int]]:
        return lambda conn: destinations.take_call(conn, destination, now)

    async def _take_token(self, destination: Destination) -> None:
        while True:
            now = self.clock_ms()
            current = await self.db.read(lambda c: destinations.get(c, destination.id))
            if current is None:
                raise CallFailed(None, "the destination was removed")
            if current.paused_until_ms > now + LONGEST_WAIT_IN_CYCLE_MS:
                raise Held(current.pause_reason or "the destination is paused")
            if current.paused_until_ms > now:
                await self.sleep((current.paused_until_ms - now) / 1000)
                continue
            if current.calls_left_today(now) <= 0:
                await self._pause_for_budget(current, now)
                raise Held("daily budget spent")
            if not await self.db.write(self._renew_lease(destination.id, now)):
                raise LeaseLost()
            wait_ms = await self.db.write(self._take_call(current, now))
            if not wait_ms:
                return
            await self.sleep(wait_ms / 1000)

    async def _pause(
        self, destination: Destination, until_ms: int, reason: str, throttled: bool
    ) -> None:
        await self.db.write(
            lambda c: destinations.pause(c, destination.id, until_ms, reason, throttled=throttled)
        )


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {"message": response.text[:500]}
