"""The rules of delivering to a rate-limited target, pure: no HTTP, no SQL, no clock of its own.

- `Bucket`: a token bucket holding at most one call, refilled at the destination's rate, so calls
  are spaced evenly and no window of any length ever sees more than the configured rate.
- `is_retryable`: which failures are worth another attempt.
- `backoff_ms`: capped exponential backoff with jitter.
- `RateLimitHeaders`: what HubSpot's `X-HubSpot-RateLimit-*` and `Retry-After` headers ask for.
- `daily budget`: calls are counted per UTC day; a spent budget stops the destination until
  the next midnight UTC.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from hubtrail.core.properties import PropertyDefinition

DAY_MS = 86_400_000
# Values that only mean something in this hubtrail (ids of its own records).
LOCAL_ONLY_PROPERTIES = frozenset({"hs_object_id", "associatedcompanyid", "hs_merged_object_ids"})
RETRYABLE_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class Bucket:
    """Tokens available (0..1) as of `at_ms`; one token is one call."""

    tokens: float
    at_ms: int

    def refilled(self, now_ms: int, rate_per_s: float) -> Bucket:
        elapsed_ms = max(0, now_ms - self.at_ms)
        return Bucket(
            min(1.0, self.tokens + elapsed_ms * rate_per_s / 1000), max(now_ms, self.at_ms)
        )

    def take(self, now_ms: int, rate_per_s: float) -> tuple[Bucket, int]:
        """(the bucket after, 0) when a call may go now; else (unchanged, ms to wait)."""
        bucket = self.refilled(now_ms, rate_per_s)
        if bucket.tokens >= 1.0 - 1e-9:
            return Bucket(bucket.tokens - 1.0, bucket.at_ms), 0
        wait_ms = (1.0 - bucket.tokens) * 1000 / rate_per_s
        return self, max(1, int(wait_ms + 0.999))


def is_retryable(status: int | None) -> bool:
    """None is a network failure (refused, reset, timed out): retry; so are 408, 425, 429, 5xx.
    Every other 4xx is the request's own fault and would fail again."""
    return status is None or status in RETRYABLE_STATUSES or status >= 500


def backoff_ms(
    attempt: int,
    *,
    base_ms: int = 1_000,
    cap_ms: int = 600_000,
    rng: random.Random | None = None,
) -> int:
    """Wait before attempt `attempt + 1` (attempt ≥ 1): base·2^(attempt−1), capped, with "full
    jitter" between half and all of it, so workers that failed together do not retry together."""
    ceiling = min(cap_ms, base_ms * 2 ** min(attempt - 1, 30))
    draw = (rng or random).random()
    return int(ceiling / 2 + draw * ceiling / 2)


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """The target's own account of its limits, from one response."""

    retry_after_ms: int | None = None
    remaining: int | None = None
    max_per_interval: int | None = None
    interval_ms: int | None = None
    daily_remaining: int | None = None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RateLimitHeaders:
        lower = {k.lower(): v for k, v in headers.items()}

        def number(name: str) -> int | None:
            text = lower.get(name, "").strip()
            return int(text) if text.isascii() and text.isdigit() else None

        retry_after_s = number("retry-after")
        return cls(
            retry_after_ms=retry_after_s * 1000 if retry_after_s is not None else None,
            remaining=number("x-hubspot-ratelimit-remaining"),
            max_per_interval=number("x-hubspot-ratelimit-max"),
            interval_ms=number("x-hubspot-ratelimit-interval-milliseconds"),
            daily_remaining=number("x-hubspot-ratelimit-daily-remaining"),
        )

    def hold_ms(self) -> int:
        """How long to hold the next call beyond the bucket's own pacing.

        `Retry-After` wins. Otherwise, when the target's window is nearly used up (at most one
        call left), wait one slot of it (interval / max): a target whose rolling window we share
        with network jitter, or with another client, is never pushed into a 429."""
        if self.retry_after_ms is not None:
            return self.retry_after_ms
        if (
            self.remaining is not None
            and self.remaining <= 1
            and self.interval_ms
            and self.max_per_interval
        ):
            return max(1, self.interval_ms // self.max_per_interval)
        return 0


def budget_gap_ms(now_ms: int, calls_left_today: int) -> int:
    """The least time between two part-filled batches so that the calls left last until
    midnight UTC: a steady trickle of changes (one a second) then goes a batch every few
    seconds, not one call per change, and never stops the destination for the day."""
    return (next_midnight_ms(now_ms) - now_ms) // max(1, calls_left_today)


def utc_day(at_ms: int) -> int:
    """Days since the epoch: the daily budget's counter resets when this changes."""
    return at_ms // DAY_MS


def next_midnight_ms(at_ms: int) -> int:
    return (utc_day(at_ms) + 1) * DAY_MS


def is_sendable_property(name: str, definition: PropertyDefinition | None) -> bool:
    """Whether a destination is sent this property: a defined, writable one. Read-only values
    (`createdate`, the `hs_analytics_*` figures HubSpot computes itself) and hubtrail's own ids
    are not, so a change to them alone queues nothing."""
    return (
        definition is not None
        and not definition.read_only_value
        and name not in LOCAL_ONLY_PROPERTIES
    )
