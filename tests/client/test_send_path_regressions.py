"""Regression tests for the client's send path.

Each test failed before its fix: replayed push keys, the API key leaking into errors, per-user
waits blocking other users, HTTP-date Retry-After ignored, and a closed client hanging a generator.
"""

from __future__ import annotations

import random
import threading
import time
from email.utils import format_datetime

import pytest
import requests

from onesig_nb.errors import APIError, ConfigError, TransportError
from onesig_nb.onesignal import NotificationRequest, OneSignal, RetryPolicy, TagEdit
from onesig_nb.onesignal.ratelimit import RateLimiter
from onesig_nb.onesignal.retry import parse_retry_after, transport_error

from .client_fakes import API_KEY, APP_ID

PAYLOAD = {"contents": {"en": "Hi"}}
EPOCH = 1_800_000_000.0  # a fixed "now" for HTTP-date tests


def _idempotent_api(fake_api):
    """Make the fake API behave like OneSignal: a key it saw before replays the first answer."""
    answers: dict[str, tuple] = {}
    delivered: list[str] = []

    def handler(seen):
        key = seen.body["idempotency_key"]
        if key in answers:
            return (*answers[key][:2], {"Idempotent-Replayed": "true"})
        answers[key] = (200, {"id": f"n{len(answers)}", "recipients": 1})
        delivered.extend(seen.body["include_aliases"]["external_id"])
        return answers[key]

    fake_api.handler = handler
    return delivered


# -- #1: send_push batch keys follow the batch content ----------------------------------------


def test_reusing_a_push_key_with_other_ids_sends_them_instead_of_replaying(make_client, fake_api):
    delivered = _idempotent_api(fake_api)
    client = make_client()
    key = "5b1f0b2e-0000-4000-8000-000000000001"
    first = client.send_push(["u0", "u1", "u2"], PAYLOAD, idempotency_key=key)
    second = client.send_push(["u3", "u4", "u5"], PAYLOAD, idempotency_key=key)
    assert delivered == ["u0", "u1", "u2", "u3", "u4", "u5"]  # nobody silently lost
    assert not any(r.replayed for r in second.responses)
    assert first.notification_ids != second.notification_ids


def test_reusing_a_push_key_with_another_payload_or_platform_is_sent(make_client, fake_api):
    delivered = _idempotent_api(fake_api)
    client = make_client()
    key = "push-key-1"
    client.send_push(["u0"], PAYLOAD, idempotency_key=key)
    other = client.send_push(["u0"], {"contents": {"en": "Other"}}, idempotency_key=key)
    web = client.send_push(["u0"], PAYLOAD, idempotency_key=key, platforms=["web"])
    assert delivered == ["u0", "u0", "u0"]
    assert not other.responses[0].replayed and not web.responses[0].replayed


def test_same_key_same_ids_in_another_order_is_a_safe_resend(make_client, fake_api):
    delivered = _idempotent_api(fake_api)
    client = make_client("current")
    ids = [f"u{i}" for i in range(25_000)]
    first = client.send_push(ids, PAYLOAD, idempotency_key="k")
    again = client.send_push(list(reversed(ids)) + ["u7"], PAYLOAD, idempotency_key="k")
    assert len(fake_api.seen) == 4 and sorted(delivered) == sorted(ids)  # 2 sent, 2 replayed
    assert all(r.replayed for r in again.responses)
    assert again.notification_ids == first.notification_ids
    assert sorted(again.to_frame()["external_id"]) == sorted(ids)


# -- #4: the API key never leaks -----------------------------------------------------------------


def test_api_key_with_a_trailing_newline_works_on_both_paths(fake_api):
    client = OneSignal(f" {APP_ID}\n", API_KEY + "\n", base_url=fake_api.url, rate_limits=False)
    req = NotificationRequest(payload=PAYLOAD, external_ids=("a",), idempotency_key="k1", ref=0)
    with client:
        assert client.create_notification(req).id == "n-1"
        assert [r.id for r in client.iter_notifications([req])] == ["n-1"]
    assert client.app_id == APP_ID
    assert {s.headers["Authorization"] for s in fake_api.seen} == {f"Key {API_KEY}"}


@pytest.mark.parametrize(
    "app_id, key, says",
    [
        (APP_ID, "os_v2_app_ABC\nDEF0123456789", "ONESIGNAL_REST_API_KEY"),
        (APP_ID, "os_v2_app_ABC DEF0123456789", "a space"),
        (APP_ID, "os_v2_app_ABC\x00DEF0123456789", "ONESIGNAL_REST_API_KEY"),
        (APP_ID, "os_v2_app_ABC\u2019DEF0123456789", "non-ASCII"),
        (APP_ID, " \n ", "No OneSignal API key"),
        ("6f0c6b2e 4c4f", API_KEY, "ONESIGNAL_APP_ID"),
        ("../other-app", API_KEY, "ONESIGNAL_APP_ID"),
        ("  ", API_KEY, "No OneSignal app id"),
    ],
)
def test_malformed_key_or_app_id_is_a_config_error_that_hides_the_key(app_id, key, says):
    with pytest.raises(ConfigError) as info:
        OneSignal(app_id, key)
    text = str(info.value)
    assert says in text and "DEF0123456789" not in text


class _EchoingSession(requests.Session):
    """A session whose transport refuses the header, quoting it (what requests does)."""

    def request(self, method, url, headers=None, **kwargs):
        raise requests.exceptions.InvalidHeader(
            f"Invalid return character in header value: {headers['Authorization']!r}"
        )


def test_a_library_error_quoting_the_key_is_redacted_and_not_blamed_on_the_network():
    client = OneSignal(APP_ID, API_KEY, base_url="http://127.0.0.1:9", session=_EchoingSession())
    with pytest.raises(TransportError) as info:
        client.view_notification("n-1")
    text = str(info.value)
    assert API_KEY not in text and "…" in text
    assert "Check the network" not in text and "ONESIGNAL_REST_API_KEY" in text
    assert API_KEY not in str(
        transport_error("GET", "/x", "u", 1, ValueError(API_KEY), secrets=(API_KEY,))
    )


def test_an_api_answer_that_echoes_the_key_is_redacted_on_both_paths(make_client, fake_api):
    fake_api.handler = lambda seen: (
        400,
        {"errors": [f"bad header {seen.headers['Authorization']}"]},
    )
    client = make_client()
    with pytest.raises(APIError) as info:
        client.edit_tags("u1", {"plan": "pro"})
    [bulk] = client.edit_tags_bulk([TagEdit("u1", {"plan": "pro"})])
    for exc in (info.value, bulk.error):
        assert API_KEY not in str(exc) and API_KEY not in repr(exc.errors + [exc.body])


def test_client_and_engine_state_never_show_the_key(make_client):
    client = make_client()
    engine = client.engine
    assert API_KEY not in repr(vars(client))
    assert API_KEY not in repr(vars(engine))
    # still known to the client for redaction (e.g. of texts the campaign journals)
    assert client.redact(f"said {API_KEY}") == f"said …{API_KEY[-4:]}"


# -- #5: per-user waits do not block other users; the per-user rate holds ---------------------


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


# -- #16: closing the client while a bulk generator is open --------------------------------------


def _stalling_client(fake_api):
    fake_api.handler = lambda seen: ("stall", 0.3, (200, {"id": seen.body["idempotency_key"]}))
    return OneSignal(APP_ID, API_KEY, base_url=fake_api.url, rate_limits=False, max_workers=2)


def _reqs(n):
    return [
        NotificationRequest(
            payload=PAYLOAD, external_ids=(f"u{i}",), idempotency_key=f"k{i}", ref=i
        )
        for i in range(n)
    ]


def test_closing_the_client_ends_an_open_generator_with_a_typed_error(fake_api):
    client = _stalling_client(fake_api)
    results = client.iter_notifications(_reqs(10))
    assert next(results).id == "k0"
    client.close()
    outcome: list = []

    def pull():
        started = time.monotonic()
        try:
            outcome.append(next(results))
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)
        outcome.append(time.monotonic() - started)

    thread = threading.Thread(target=pull, daemon=True)
    thread.start()
    thread.join(5)
    assert outcome, "next() hung after close()"
    error, elapsed = outcome
    assert isinstance(error, TransportError) and "closed" in str(error) and elapsed < 2
    assert next(results, "END") == "END"  # the generator is finished, not stuck


def test_a_generator_first_pulled_after_close_raises_instead_of_restarting(fake_api):
    client = _stalling_client(fake_api)
    engine = client.engine
    results = client.iter_notifications(_reqs(3))
    client.close()
    with pytest.raises(TransportError, match="closed"):
        next(results)
    assert engine._loop is None and not fake_api.seen
