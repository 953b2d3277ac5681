"""Retry decisions and the client-side rate limiter, with a fake clock (nothing really waits)."""

from __future__ import annotations

import random

import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.onesignal.ratelimit import RateLimiter, TokenBucket
from onesig_nb.onesignal.retry import CONNECTION, TIMEOUT, RetryPolicy, parse_retry_after


@pytest.fixture
def policy():
    return RetryPolicy(max_attempts=5, base=0.5, cap=4.0, rng=random.Random(0))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_client_errors_are_never_retried(policy, status):
    assert policy.delay(1, status=status) is None


@pytest.mark.parametrize(
    "outcome",
    [
        {"status": 429},
        {"status": 500},
        {"status": 502},
        {"status": 503},
        {"status": 504},
        {"kind": TIMEOUT},
        {"kind": CONNECTION},
    ],
)
def test_transient_failures_are_retried(policy, outcome):
    delay = policy.delay(1, **outcome)
    assert delay is not None and 0.25 <= delay <= 0.5


def test_attempts_are_capped(policy):
    assert policy.delay(4, status=503) is not None
    assert policy.delay(5, status=503) is None


def test_backoff_grows_exponentially_and_is_capped(policy):
    waits = [policy.delay(n, status=503) for n in range(1, 5)]
    ceilings = [0.5, 1.0, 2.0, 4.0]
    for wait, ceiling in zip(waits, ceilings, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    big = RetryPolicy(max_attempts=50, base=0.5, cap=4.0, rng=random.Random(1))
    assert max(big.delay(n, status=500) for n in range(1, 40)) <= 4.0


def test_jitter_spreads_waits(policy):
    waits = {round(policy.delay(3, kind=TIMEOUT), 6) for _ in range(20)}
    assert len(waits) > 10


def test_retry_after_is_honoured_on_429_and_503(policy):
    assert policy.delay(1, status=429, retry_after=7) == 7
    assert policy.delay(1, status=503, retry_after=9) == 9
    # a smaller Retry-After never shortens the backoff
    assert policy.delay(4, status=429, retry_after=0.01) >= 2.0


def test_retry_after_beyond_the_limit_gives_up(policy):
    assert policy.delay(1, status=429, retry_after=policy.max_retry_after + 1) is None


def test_non_idempotent_requests_retry_only_on_429(policy):
    assert policy.delay(1, status=429, idempotent=False) is not None
    assert policy.delay(1, status=503, idempotent=False) is None
    assert policy.delay(1, kind=TIMEOUT, idempotent=False) is None


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("3", 3.0),
        ("1.5", 1.5),
        (None, None),
        ("", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: go now
        ("soon", None),
        ("-4", 0.0),
    ],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def _drive(limiter, n, group="users", user=None):
    """Send n requests through the limiter on a fake clock; return the elapsed fake time."""
    start = limiter.clock()
    for _ in range(n):
        wait = limiter.reserve(group, user)
        limiter._fake.now += wait
    return limiter.clock() - start


def _limiter(rates):
    class Clock:
        now = 0.0

    clock = Clock()
    limiter = RateLimiter(rates, clock=lambda: clock.now)
    limiter._fake = clock
    return limiter


def test_bucket_holds_the_configured_rate():
    limiter = _limiter({"users": 1_000})
    elapsed = _drive(limiter, 5_000)
    rate = 5_000 / elapsed
    assert 1_000 <= rate <= 1_000 * 1.02  # a 50 ms burst at most


def test_create_bucket_defaults_to_the_free_plan():
    limiter = _limiter(None)
    elapsed = _drive(limiter, 1_500, group="create")
    assert 1_500 / elapsed == pytest.approx(150, rel=0.02)


def test_one_user_gets_one_update_per_second():
    limiter = _limiter({"users": 1_000})
    elapsed = _drive(limiter, 5, user="u1")
    assert elapsed == pytest.approx(4.0)
    # other users are not held back by u1
    assert limiter.reserve("users", "u2") < 0.01


def test_a_group_can_be_turned_off():
    limiter = _limiter({"users": None, "per_user": None})
    assert _drive(limiter, 10_000, user="u1") == 0


def test_unknown_group_and_bad_rate_are_refused():
    with pytest.raises(ValidationError, match="Unknown rate limit group"):
        RateLimiter({"tags": 5})
    with pytest.raises(ValidationError):
        TokenBucket(0)


def test_bucket_is_idle_friendly():
    bucket = TokenBucket(10, burst=5)
    assert [bucket.reserve(100.0) for _ in range(5)] == [0.0] * 5
    assert bucket.reserve(100.0) == pytest.approx(0.1)
