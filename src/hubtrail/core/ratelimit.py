"""HubSpot's API rate limits, emulated: a rolling interval window and a daily budget per token.

HubSpot counts each private app's requests in a rolling window (`TEN_SECONDLY_ROLLING`, 100 per
10 s on the free tier) and per day (`DAILY`, reset at midnight in the account's time zone; here
midnight UTC). `TokenWindow` is the pure state of one token: it is given the time on every call and
does no I/O, so tests drive it with any clock. A request over a limit is refused and not counted,
so a client that backs off recovers once the window rolls on.

`RateLimiter` keeps one window per token in memory and reads its injected clock; counts are per
process (two API processes each allow the full rate), which is what an emulation for testing
clients needs. Limits are passed on every call, so a portal's changed settings apply at once.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from hubtrail.core.portal_settings import DAY_MS, PortalSettings

SECOND_MS = 1000


class Policy(StrEnum):
    """The limit that refused a request, by HubSpot's `policyName`."""

    TEN_SECONDLY_ROLLING = "TEN_SECONDLY_ROLLING"
    DAILY = "DAILY"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one token may do: `max_per_interval` per rolling `interval_ms`, `daily` per UTC day
    (0: no daily limit)."""

    interval_ms: int = 10_000
    max_per_interval: int = 100
    daily: int = 40_000

    @classmethod
    def of(cls, settings: PortalSettings) -> Limits:
        return cls(
            settings.rate_limit_interval_ms,
            settings.rate_limit_max_per_interval,
            settings.rate_limit_daily,
        )

    @property
    def secondly(self) -> int:
        """The per-interval limit as a per-second rate (HubSpot's deprecated `Secondly`)."""
        return max(1, self.max_per_interval * SECOND_MS // self.interval_ms)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one request and what is left after it (the `X-HubSpot-RateLimit-*` values).

    `policy` is the limit that refused the request (None when allowed); `retry_after_s` is how
    long until that limit lets a request through again (0 when allowed).
    """

    allowed: bool
    policy: Policy | None
    limits: Limits
    interval_remaining: int
    daily_remaining: int
    secondly_remaining: int
    retry_after_s: int


class TokenWindow:
    """One token's recent requests: accepted times within the interval and today's count."""

    __slots__ = ("_accepted_ms", "_day", "_day_count")

    def __init__(self) -> None:
        self._accepted_ms: deque[int] = deque()
        self._day = -1
        self._day_count = 0

    def check(self, now_ms: int, limits: Limits) -> Decision:
        """Count a request at `now_ms` if both limits allow it; else say which limit refused it."""
        day = now_ms // DAY_MS
        if day != self._day:
            self._day, self._day_count = day, 0
        window = self._accepted_ms
        while window and window[0] <= now_ms - limits.interval_ms:
            window.popleft()

        policy: Policy | None = None
        retry_after_ms = 0
        if limits.daily and self._day_count >= limits.daily:
            policy, retry_after_ms = Policy.DAILY, (day + 1) * DAY_MS - now_ms
        elif len(window) >= limits.max_per_interval:
            # The request that frees a slot is the one that leaves the window first.
            leaving = window[len(window) - limits.max_per_interval]
            policy, retry_after_ms = (
                Policy.TEN_SECONDLY_ROLLING,
                leaving + limits.interval_ms - now_ms,
            )
        else:
            window.append(now_ms)
            self._day_count += 1

        return Decision(
            allowed=policy is None,
            policy=policy,
            limits=limits,
            interval_remaining=max(0, limits.max_per_interval - len(window)),
            daily_remaining=max(0, limits.daily - self._day_count),
            secondly_remaining=max(0, limits.secondly - self._count_since(now_ms - SECOND_MS)),
            retry_after_s=max(1, math.ceil(retry_after_ms / SECOND_MS)) if policy else 0,
        )

    def _count_since(self, since_ms: int) -> int:
        count = 0
        for at_ms in reversed(self._accepted_ms):
            if at_ms <= since_ms:
                break
            count += 1
        return count


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class RateLimiter:
    """Per-token windows of one process; `clock_ms` (epoch ms) may be replaced, e.g. by tests."""

    def __init__(self, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.clock_ms = clock_ms
        self._windows: dict[str, TokenWindow] = {}

    def check(self, key: str, limits: Limits) -> Decision:
        """Count one request of `key` (an access token) against `limits`."""
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = TokenWindow()
        return window.check(self.clock_ms(), limits)
