"""The rate-limit emulation's limiter: rolling window, daily reset at midnight UTC, changes."""

from __future__ import annotations

from hubtrail.core.portal_settings import DAY_MS, PortalSettings
from hubtrail.core.ratelimit import Limits, Policy, RateLimiter, TokenWindow

# 2024-03-05 12:00:00 UTC
NOON_MS = 1_709_640_000_000


def test_the_window_allows_max_per_interval_then_refuses_until_it_rolls() -> None:
    window = TokenWindow()
    limits = Limits(interval_ms=10_000, max_per_interval=3, daily=1000)
    first = window.check(NOON_MS, limits)
    assert first.allowed
    assert (first.interval_remaining, first.daily_remaining) == (2, 999)
    assert window.check(NOON_MS + 4_000, limits).allowed
    third = window.check(NOON_MS + 8_000, limits)
    assert third.allowed
    assert third.interval_remaining == 0

    refused = window.check(NOON_MS + 9_000, limits)
    assert not refused.allowed
    assert refused.policy is Policy.TEN_SECONDLY_ROLLING
    assert refused.interval_remaining == 0
    assert refused.daily_remaining == 997, "a refused request is not counted"
    assert refused.retry_after_s == 1  # the first request leaves the window at +10 s

    # At +10 s the first request has left the rolling window; the others have not.
    again = window.check(NOON_MS + 10_000, limits)
    assert again.allowed
    assert again.interval_remaining == 0
    late = window.check(NOON_MS + 10_500, limits)
    assert late.policy is Policy.TEN_SECONDLY_ROLLING
    assert late.retry_after_s == 4  # the +4 s request leaves at +14 s
    assert window.check(NOON_MS + 14_000, limits).allowed


def test_secondly_is_the_interval_limit_per_second() -> None:
    window = TokenWindow()
    limits = Limits(interval_ms=10_000, max_per_interval=100, daily=250_000)
    assert limits.secondly == 10
    decision = window.check(NOON_MS, limits)
    assert (decision.interval_remaining, decision.secondly_remaining) == (99, 9)
    window.check(NOON_MS + 500, limits)
    assert window.check(NOON_MS + 1_200, limits).secondly_remaining == 8


def test_the_daily_budget_resets_at_midnight_utc() -> None:
    window = TokenWindow()
    limits = Limits(interval_ms=1_000, max_per_interval=100, daily=2)
    last_minute_ms = NOON_MS + 12 * 3_600_000 - 60_000  # 23:59:00 UTC
    assert window.check(last_minute_ms, limits).allowed
    second = window.check(last_minute_ms + 1, limits)
    assert second.allowed
    assert second.daily_remaining == 0
    refused = window.check(last_minute_ms + 30_000, limits)
    assert not refused.allowed
    assert refused.policy is Policy.DAILY
    assert refused.retry_after_s == 30
    midnight_ms = NOON_MS + 12 * 3_600_000
    assert midnight_ms % DAY_MS == 0
    assert not window.check(midnight_ms - 1, limits).allowed
    after = window.check(midnight_ms, limits)
    assert after.allowed
    assert after.daily_remaining == 1


def test_daily_is_reported_before_the_interval_and_zero_means_no_daily_limit() -> None:
    window = TokenWindow()
    both = Limits(interval_ms=10_000, max_per_interval=1, daily=1)
    assert window.check(NOON_MS, both).allowed
    assert window.check(NOON_MS + 1, both).policy is Policy.DAILY
    unlimited = Limits(interval_ms=10_000, max_per_interval=1000, daily=0)
    for i in range(50):
        assert window.check(NOON_MS + 2 + i, unlimited).allowed


def test_changed_limits_apply_to_the_next_request() -> None:
    window = TokenWindow()
    roomy = Limits(interval_ms=10_000, max_per_interval=10, daily=100)
    for i in range(5):
        assert window.check(NOON_MS + i, roomy).allowed
    tight = Limits(interval_ms=10_000, max_per_interval=3, daily=100)
    lowered = window.check(NOON_MS + 10, tight)
    assert lowered.policy is Policy.TEN_SECONDLY_ROLLING
    assert lowered.interval_remaining == 0
    assert lowered.retry_after_s == 10  # three of the five must leave: the third leaves at +10 s
    # A shorter interval lets the same requests out of the window sooner.
    short = Limits(interval_ms=1_000, max_per_interval=3, daily=100)
    assert window.check(NOON_MS + 1_010, short).allowed
    assert window.check(NOON_MS + 1_020, Limits(1_000, 3, daily=6)).policy is Policy.DAILY
    assert window.check(NOON_MS + 1_030, Limits(1_000, 3, daily=7)).allowed


def test_the_limiter_keeps_one_window_per_token_on_its_clock() -> None:
    now_ms = [NOON_MS]
    limiter = RateLimiter(clock_ms=lambda: now_ms[0])
    limits = Limits.of(PortalSettings(rate_limit_max_per_interval=1, rate_limit_interval_ms=2_000))
    assert limiter.check("token-a", limits).allowed
    assert not limiter.check("token-a", limits).allowed
    assert limiter.check("token-b", limits).allowed
    now_ms[0] += 2_000
    assert limiter.check("token-a", limits).allowed
