"""Waits: one user's wait never blocks the others; a Retry-After HTTP-date is honoured once."""

from __future__ import annotations

import random
import time
from email.utils import format_datetime

import pytest

from onesig_nb.onesignal import NotificationRequest, OneSignal, RetryPolicy, TagEdit
from onesig_nb.onesignal.ratelimit import RateLimiter
from onesig_nb.onesignal.retry import parse_retry_after

from .client_fakes import API_KEY, APP_ID

PAYLOAD = {"contents": {"en": "Hi"}}
EPOCH = 1_800_000_000.0  # a fixed "now" for HTTP-date tests


def _clocked_limiter(rates=None):
    now = [0.0]
    return RateLimiter(rates, clock=lambda: now[0]), now


def test_a_user_waiting_for_its_slot_does_not_delay_other_users():
    limiter, _ = _clocked_limiter()
    assert limiter.reserve("users", "u1") == 0
    assert limiter.reserve("users", "u1") == pytest.approx(1.0)  # u1's own 1/s
    assert [limiter.reserve("users", f"other{i}") for i in range(5)] == [0.0] * 5
    for _ in range(100):  # a user with many parts never pushes the shared bucket ahead
        limiter.reserve("users", "busy")
    assert limiter.reserve("users", "newbie") < 0.1


def test_per_user_gap_holds_when_the_shared_bucket_delays_the_first_request():
    limiter, now = _clocked_limiter({"users": 100})  # burst of 5
    for i in range(5):
        limiter.reserve("users", f"x{i}")
    first = limiter.reserve("users", "B")
    assert first > 0  # the bucket delays B's first request
    second = limiter.reserve("users", "B")
    assert second - first >= 1.0
    now[0] = second  # B's second request went out; a retry must still wait out the full second
    assert limiter.user_wait("B") == pytest.approx(1.0)
    assert limiter.user_wait("someone-else") == 0.0


def test_a_per_user_wait_does_not_hold_a_worker_and_retries_keep_the_gap(fake_api):
    arrivals: list[tuple[float, str]] = []
    state = {"u1": 0}

    def handler(seen):
        user = seen.path.rsplit("/", 1)[-1]
        arrivals.append((time.monotonic(), user))
        if user == "u1":
            state["u1"] += 1
            if state["u1"] == 1:
                return (429, {"errors": ["Rate Limit Exceeded"]}, {"Retry-After": "0"})
        return (202, {"properties": {}})

    fake_api.handler = handler
    client = OneSignal(
        APP_ID,
        API_KEY,
        base_url=fake_api.url,
        max_workers=1,
        rate_limits={"per_user": 2},  # one request per user per 0.5 s
        retry=RetryPolicy(base=0.001, cap=0.002, rng=random.Random(1)),
    )
    with client:
        results = client.edit_tags_bulk([TagEdit(f"u{i}", {"plan": "pro"}) for i in range(60)])
    assert all(r.ok for r in results) and len(arrivals) == 61
    u1 = [t for t, user in arrivals if user == "u1"]
    assert u1[1] - u1[0] >= 0.45  # the retry waited for u1's slot
    during = [user for t, user in arrivals if u1[0] < t < u1[1]]
    assert len(during) > 30, f"only {len(during)} other users went while u1 waited"


# -- #14: Retry-After as an HTTP-date ------------------------------------------------------------


def _http_date(epoch: float) -> str:
    from datetime import UTC, datetime

    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


def test_retry_after_http_date_is_measured_against_the_clock():
    assert parse_retry_after(_http_date(EPOCH + 30), now=EPOCH) == 30.0
    assert parse_retry_after(_http_date(EPOCH - 30), now=EPOCH) == 0.0
    assert parse_retry_after("Sun, 29 Nov 2026 13:33:42 -0000", now=EPOCH) is not None
    assert parse_retry_after("nan") == 0.0 and parse_retry_after("in a while") is None
    policy = RetryPolicy(wall_clock=lambda: EPOCH)
    assert policy.retry_after(_http_date(EPOCH + 12)) == 12.0


@pytest.mark.parametrize("bulk", [False, True])
def test_a_429_with_a_date_waits_once_until_then(make_client, fake_api, fake_time, bulk):
    # the default policy measures against the real wall clock; HTTP-dates have whole seconds
    answers = iter(
        [
            lambda: (429, {"errors": ["slow down"]}, {"Retry-After": _http_date(time.time() + 31)}),
            lambda: (200, {"id": "n"}),
        ]
    )
    fake_api.handler = lambda seen: next(answers)()
    client = make_client()
    req = NotificationRequest(payload=PAYLOAD, external_ids=("a",), idempotency_key="k", ref=0)
    if bulk:
        assert [r.id for r in client.iter_notifications([req])] == ["n"]
    else:
        assert client.create_notification(req).id == "n"
    [slept] = fake_time.sleeps
    assert 29 <= slept <= 31 and len(fake_api.seen) == 2
