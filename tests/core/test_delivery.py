"""The pure delivery rules: the bucket, what is retried, backoff, the target's headers."""

from __future__ import annotations

import itertools
import random

import pytest

from hubtrail.core.delivery import (
    DAY_MS,
    Bucket,
    RateLimitHeaders,
    backoff_ms,
    is_retryable,
    is_sendable_property,
    next_midnight_ms,
)
from hubtrail.core.properties import PropertyDefinition, PropertyType


def calls_allowed(rate_per_s: float, window_ms: int, start_ms: int = 0) -> list[int]:
    """When a caller that always wants to call gets to, over `window_ms`."""
    bucket, now, calls = Bucket(1.0, start_ms), start_ms, []
    while now < start_ms + window_ms:
        bucket, wait = bucket.take(now, rate_per_s)
        if wait:
            now += wait
        else:
            calls.append(now)
    return calls


def test_the_bucket_spaces_calls_evenly_and_never_exceeds_the_rate() -> None:
    calls = calls_allowed(10, 10_000)
    gaps = {b - a for a, b in itertools.pairwise(calls)}
    assert gaps == {100}
    for start in range(0, 9_000, 37):  # every 1-second window holds at most 10 calls
        assert sum(start <= t < start + 1000 for t in calls) <= 10


def test_the_bucket_holds_one_call_however_long_it_was_idle() -> None:
    bucket = Bucket(0.0, 0)
    bucket, wait = bucket.take(60_000, 2)  # a minute idle: still only one call at once
    assert wait == 0
    _, wait = bucket.take(60_000, 2)
    assert wait == 500


def test_a_fractional_rate_waits_the_whole_gap() -> None:
    assert Bucket(0.0, 0).take(0, 0.5) == (Bucket(0.0, 0), 2000)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (None, True),
        (408, True),
        (425, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (413, False),
    ],
)
def test_is_retryable(status: int | None, retryable: bool) -> None:
    assert is_retryable(status) is retryable


def test_backoff_doubles_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    first = [backoff_ms(1, base_ms=1000, cap_ms=60_000, rng=rng) for _ in range(200)]
    assert all(500 <= w <= 1000 for w in first)
    assert len(set(first)) > 50  # jitter: workers that failed together spread out
    fourth = [backoff_ms(4, base_ms=1000, cap_ms=60_000, rng=rng) for _ in range(50)]
    assert all(4000 <= w <= 8000 for w in fourth)
    late = [backoff_ms(40, base_ms=1000, cap_ms=60_000, rng=rng) for _ in range(50)]
    assert all(30_000 <= w <= 60_000 for w in late)


def test_rate_limit_headers() -> None:
    headers = {
        "X-HubSpot-RateLimit-Remaining": "1",
        "X-HubSpot-RateLimit-Max": "100",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Daily-Remaining": "2500",
    }
    parsed = RateLimitHeaders.parse(headers)
    assert parsed == RateLimitHeaders(None, 1, 100, 10_000, 2500)
    assert parsed.hold_ms() == 100  # one slot of the window
    assert RateLimitHeaders.parse({**headers, "X-HubSpot-RateLimit-Remaining": "40"}).hold_ms() == 0
    assert RateLimitHeaders.parse({"Retry-After": "3"}).hold_ms() == 3000
    assert RateLimitHeaders.parse({"Retry-After": "soon"}).hold_ms() == 0
    assert RateLimitHeaders.parse({}).hold_ms() == 0


def test_the_daily_budget_resets_at_midnight_utc() -> None:
    assert next_midnight_ms(DAY_MS * 3 + 5) == DAY_MS * 4
    assert next_midnight_ms(DAY_MS * 3) == DAY_MS * 4


def test_only_writable_properties_are_sent() -> None:
    writable = PropertyDefinition("firstname", "First Name", PropertyType.STRING, "text", "g")
    computed = PropertyDefinition(
        "hs_analytics_revenue", "Revenue", PropertyType.NUMBER, "number", "g", read_only_value=True
    )
    assert is_sendable_property("firstname", writable)
    assert not is_sendable_property("hs_analytics_revenue", computed)
    assert not is_sendable_property("associatedcompanyid", writable)  # our own ids mean nothing
    assert not is_sendable_property("made_up", None)
