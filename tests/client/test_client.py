"""The client against a scripted fake API on 127.0.0.1: retries, idempotency, errors, batching."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest

from onesig_nb.errors import APIError, AuthError, RateLimited, TransportError, ValidationError
from onesig_nb.onesignal import NotificationRequest, OneSignal, TagEdit
from onesig_nb.onesignal.push import batch_key

from .client_fakes import API_KEY, APP_ID

PAYLOAD = {"contents": {"en": "Hi"}}
AUTH_401 = (
    401,
    {"errors": [{"code": "auth-1", "title": "This operation requires 'Authorization'"}]},
)
LEGACY_400 = (
    400,
    {
        "errors": [
            "Please include a case-sensitive header of Authorization: Basic <KEY> with a valid key."
        ]
    },
)


def _req(i=0, ids=("a", "b")):
    return NotificationRequest(payload=PAYLOAD, external_ids=ids, idempotency_key=f"key-{i}", ref=i)


def test_single_push_sends_current_body_and_key_auth(make_client, fake_api):
    client = make_client()
    resp = client.create_notification(_req())
    assert resp.id == "n-1" and resp.sent
    seen = fake_api.seen[0]
    assert (seen.method, seen.path) == ("POST", "/notifications")
    assert seen.headers["Authorization"] == f"Key {API_KEY}"
    assert seen.body["include_aliases"] == {"external_id": ["a", "b"]}
    assert seen.body["app_id"] == APP_ID


def test_legacy_push_uses_api_v1_and_basic_auth(make_client, fake_api):
    client = make_client("legacy")
    client.create_notification(_req())
    seen = fake_api.seen[0]
    assert seen.path == "/api/v1/notifications"
    assert seen.headers["Authorization"] == f"Basic {API_KEY}"
    assert seen.body["external_id"] == "key-0"


@pytest.mark.parametrize("api, answer", [("current", AUTH_401), ("legacy", LEGACY_400)])
def test_a_bad_key_costs_exactly_one_request_single_and_bulk(make_client, fake_api, api, answer):
    fake_api.handler = lambda seen: answer
    client = make_client(api)
    with pytest.raises(AuthError, match="ONESIGNAL_REST_API_KEY"):
        client.create_notification(_req())
    assert len(fake_api.seen) == 1

    fake_api.seen.clear()
    with pytest.raises(AuthError):
        list(client.iter_tag_edits(TagEdit(f"u{i}", {"plan": "pro"}) for i in range(500)))
    assert len(fake_api.seen) == 1

    fake_api.seen.clear()
    with pytest.raises(AuthError):
        client.send_push([f"u{i}" for i in range(50_000)], PAYLOAD)
    assert len(fake_api.seen) == 1


def test_auth_failure_mid_run_stops_everything(make_client, fake_api):
    count = {"n": 0}

    def handler(seen):
        count["n"] += 1
        return AUTH_401 if count["n"] > 20 else (202, {"properties": {}})

    fake_api.handler = handler
    client = make_client(max_workers=4)
    got = []
    with pytest.raises(AuthError):
        for result in client.iter_tag_edits(TagEdit(f"u{i}", {"a": "1"}) for i in range(1_000)):
            got.append(result)
    assert 20 <= len(got) < 30
    assert len(fake_api.seen) < 40  # no more than what was in flight


@pytest.mark.parametrize(
    "failure",
    ["reset", (503, {"errors": ["Service temporarily unavailable"]}), ("stall", 1.0, None)],
)
def test_post_is_retried_with_the_same_idempotency_key(make_client, fake_api, fake_time, failure):
    calls = {"n": 0}

    def handler(seen):
        calls["n"] += 1
        if calls["n"] <= 2:
            if isinstance(failure, tuple) and failure[0] == "stall":
                return ("stall", 1.0, (200, {"id": "late"}))
            return failure
        return (200, {"id": "n-ok"})

    fake_api.handler = handler
    client = make_client(timeout=0.3)
    resp = client.create_notification(_req())
    assert resp.id == "n-ok"
    keys = {s.body["idempotency_key"] for s in fake_api.seen}
    assert len(fake_api.seen) == 3 and keys == {"key-0"}
    assert len(fake_time.sleeps) == 2  # backoff happened on the fake clock only


def test_bulk_retries_keep_the_key_too(make_client, fake_api):
    state = {}

    def handler(seen):
        key = seen.body["idempotency_key"]
        state[key] = state.get(key, 0) + 1
        return (503, {"errors": ["busy"]}) if state[key] == 1 else (200, {"id": f"n-{key}"})

    fake_api.handler = handler
    client = make_client()
    results = list(client.iter_notifications(_req(i) for i in range(10)))
    assert sorted(r.id for r in results) == sorted(f"n-key-{i}" for i in range(10))
    assert all(n == 2 for n in state.values())


def test_retry_after_is_honoured(make_client, fake_api, fake_time):
    answers = iter(
        [(429, {"errors": ["API rate limit exceeded"]}, {"Retry-After": "7"}), (200, {"id": "n"})]
    )
    fake_api.handler = lambda seen: next(answers)
    client = make_client()
    assert client.create_notification(_req()).id == "n"
    assert fake_time.sleeps == [7.0]


def test_429_that_outlives_the_retries_raises_rate_limited(make_client, fake_api, fake_time):
    fake_api.handler = lambda seen: (
        429,
        {"errors": ["API rate limit exceeded"]},
        {"Retry-After": "2"},
    )
    client = make_client()
    with pytest.raises(RateLimited) as info:
        client.edit_tags("u1", {"plan": "pro"})
    assert info.value.retry_after == 2
    assert len(fake_api.seen) == client.retry.max_attempts
    assert all(s >= 2 for s in fake_time.sleeps)


@pytest.mark.parametrize("status", [400, 404, 409])
def test_client_errors_are_not_retried(make_client, fake_api, status):
    fake_api.handler = lambda seen: (status, {"errors": ["nope"]})
    client = make_client()
    with pytest.raises(APIError) as info:
        client.edit_tags("u1", {"plan": "pro"})
    assert info.value.status == status and info.value.errors == ["nope"]
    assert len(fake_api.seen) == 1


def test_no_answer_becomes_transport_error_without_the_key(fake_time):
    client = OneSignal(
        APP_ID, API_KEY, base_url="http://127.0.0.1:9", sleep=fake_time.sleep, clock=fake_time.clock
    )
    with pytest.raises(TransportError) as info:
        client.view_user("u1")
    assert "127.0.0.1:9" in str(info.value) and "ONESIGNAL_API_BASE" in str(info.value)
    assert API_KEY not in str(info.value)
    assert len(fake_time.sleeps) == client.retry.max_attempts - 1
    client.close()


def test_bulk_failure_is_yielded_not_raised(make_client, fake_api):
    fake_api.handler = lambda seen: (
        (404, {"errors": ["No players found"]}) if "u3" in seen.path else (200, {"success": True})
    )
    client = make_client("legacy")
    results = {
        r.external_id: r
        for r in client.edit_tags_bulk([TagEdit(f"u{i}", {"a": 1}) for i in range(6)])
    }
    assert len(results) == 6
    assert results["u3"].ok is False and results["u3"].error.status == 404
    assert all(results[f"u{i}"].ok for i in (0, 1, 2, 4, 5))


def test_key_never_shows_in_repr_logs_or_errors(make_client, fake_api, caplog):
    caplog.set_level(logging.DEBUG, logger="onesig_nb")
    fake_api.handler = lambda seen: AUTH_401
    client = make_client()
    assert API_KEY not in repr(client) and API_KEY not in repr(client._headers)
    with pytest.raises(AuthError) as info:
        client.create_notification(_req())
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value.body)
    assert caplog.records  # DEBUG logging did happen
    assert API_KEY not in caplog.text


def test_send_push_splits_at_the_limit_and_derives_batch_keys(make_client, fake_api):
    fake_api.handler = lambda seen: (200, {"id": seen.body["external_id"], "recipients": 1})
    client = make_client("legacy")
    ids = [f"u{i}" for i in range(4_500)] + ["u1", "u2"]  # duplicates are sent once
    key = str(uuid.uuid4())
    result = client.send_push(ids, PAYLOAD, idempotency_key=key)
    sizes = sorted(len(s.body["include_external_user_ids"]) for s in fake_api.seen)
    assert sizes == [500, 2_000, 2_000]
    sent = [i for s in fake_api.seen for i in s.body["include_external_user_ids"]]
    assert sorted(sent) == sorted(set(ids))
    batches = [r.request.external_ids for r in result.responses]
    assert [list(b) for b in batches] == [
        sorted(set(ids))[i : i + 2_000] for i in (0, 2_000, 4_000)
    ]
    expected = [batch_key(key, b, PAYLOAD) for b in batches]
    assert result.notification_ids == expected and len(set(expected)) == 3
    assert result.ok and result.recipients == 3


def test_current_push_of_45k_ids_is_three_requests(make_client, fake_api):
    client = make_client()
    client.send_push([str(i) for i in range(45_000)], PAYLOAD)
    sizes = sorted(len(s.body["include_aliases"]["external_id"]) for s in fake_api.seen)
    assert sizes == [5_000, 20_000, 20_000]


def test_push_result_reports_invalid_unsent_and_failed_ids(make_client, fake_api):
    def handler(seen):
        ids = seen.body["include_external_user_ids"]
        if "a0" in ids:
            return (200, {"id": "n1", "errors": {"invalid_external_user_ids": ["a1"]}})
        if "b0" in ids:
            return (
                200,
                {"id": "", "recipients": 0, "errors": ["All included players are not subscribed"]},
            )
        return (400, {"errors": ["bad"]})

    fake_api.handler = handler
    client = make_client("legacy")
    ids = [f"a{i}" for i in range(2_000)] + [f"b{i}" for i in range(2_000)] + ["c0"]
    result = client.send_push(ids, PAYLOAD)
    assert result.notification_ids == ["n1"]
    assert set(result.invalid_external_ids) == {"a1"} | {f"b{i}" for i in range(2_000)}
    assert result.failed_external_ids == ["c0"]
    assert not result.ok and "bad" in result.errors[0]
    frame = result.to_frame().set_index("external_id")["status"]
    assert frame["a0"] == "sent" and frame["a1"] == "invalid"
    assert frame["b5"] == "not_sent" and frame["c0"] == "failed"


def test_send_push_validates_input(make_client):
    client = make_client()
    with pytest.raises(ValidationError):
        client.send_push("u1", PAYLOAD)
    with pytest.raises(ValidationError):
        client.send_push(["u1", ""], PAYLOAD)
    with pytest.raises(ValidationError):
        client.send_push(["u1"], {"contents": {"en": "x"}, "app_id": "other"})
    assert client.send_push([], PAYLOAD).responses == ()


def test_platforms_become_flags(make_client, fake_api):
    client = make_client()
    client.send_push(["u1"], PAYLOAD, platforms=["android"])
    body = fake_api.seen[0].body
    assert body["isAndroid"] is True and body["isIos"] is False and body["isAnyWeb"] is False


def test_tag_values_are_stringified_and_blank_deletes(make_client, fake_api):
    fake_api.handler = lambda seen: (202, {"properties": {}})
    client = make_client()
    result = client.edit_tags("u 1", {"ltv": 42.0, "vip": True, "city": None, "plan": "", "n": 3})
    assert result.ok and result.status == 202
    seen = fake_api.seen[0]
    assert seen.method == "PATCH" and seen.path == f"/apps/{APP_ID}/users/by/external_id/u%201"
    assert seen.body == {
        "properties": {"tags": {"ltv": "42", "vip": "true", "city": "", "plan": "", "n": "3"}}
    }
    with pytest.raises(ValidationError):
        client.edit_tags("u1", {"list": [1, 2]})
    with pytest.raises(ValidationError):
        client.edit_tags("u1", {})


def test_more_than_100_tags_go_out_as_several_requests_one_result(make_client, fake_api, fake_time):
    fake_api.handler = lambda seen: (200, {"success": True})
    client = make_client("legacy", rate_limits=None)
    tags = {f"t{i}": str(i) for i in range(250)}
    results = client.edit_tags_bulk([TagEdit("u1", tags), TagEdit("u2", {"a": "b"})])
    assert len(results) == 2 and all(r.ok for r in results)
    sizes = sorted(len(s.body["tags"]) for s in fake_api.seen if s.path.endswith("/u1"))
    assert sizes == [50, 100, 100]
    assert sum(fake_time.sleeps) >= 2.0  # 1 request/s per user (fake clock)


def test_legacy_success_false_is_a_failure(make_client, fake_api):
    fake_api.handler = lambda seen: (
        200,
        {"success": False, "errors": ["Please limit your tag updates"]},
    )
    client = make_client("legacy")
    with pytest.raises(APIError, match="limit your tag updates"):
        client.edit_tags("u1", {"a": "b"})


def test_engine_runs_off_the_callers_thread_and_bounds_concurrency(make_client, fake_api):
    async def slow(seen):
        import asyncio

        await asyncio.sleep(0.02)
        return (202, {})

    fake_api.handler = slow
    client = make_client(max_workers=5)
    caller = threading.get_ident()
    consumed_in = set()
    for _ in client.iter_tag_edits(TagEdit(f"u{i}", {"a": "1"}) for i in range(60)):
        consumed_in.add(threading.get_ident())
    assert consumed_in == {caller}
    assert fake_api.max_active <= 5 and fake_api.max_active >= 3
    assert client.engine._thread.ident != caller


def test_slow_start_sends_one_request_before_fanning_out(make_client, fake_api):
    order = []

    async def handler(seen):
        import asyncio

        order.append(("start", fake_api.active))
        await asyncio.sleep(0.01)
        return (202, {})

    fake_api.handler = handler
    client = make_client(max_workers=8)
    list(client.iter_tag_edits(TagEdit(f"u{i}", {"a": "1"}) for i in range(20)))
    assert order[0] == ("start", 1)
    assert fake_api.max_active > 1


def test_stopping_early_cancels_the_rest(make_client, fake_api):
    fake_api.handler = lambda seen: (202, {})
    client = make_client(max_workers=4)
    for _ in client.iter_tag_edits(TagEdit(f"u{i}", {"a": "1"}) for i in range(10_000)):
        break
    assert len(fake_api.seen) < 100


def test_view_and_cancel(make_client, fake_api):
    def handler(seen):
        if seen.method == "DELETE":
            return (200, {"success": True})
        if "/users/" in seen.path:
            return (
                200,
                {"properties": {"tags": {"plan": "pro"}}, "identity": {"external_id": "u1"}},
            )
        return (200, {"id": "n1", "successful": 3, "failed": 1, "remaining": 0, "completed_at": 5})

    fake_api.handler = handler
    client = make_client("legacy")
    stats = client.view_notification("n1")
    assert stats.successful == 3 and stats.failed == 1 and stats.complete
    assert fake_api.seen[-1].path == f"/api/v1/notifications/n1?app_id={APP_ID}"
    assert client.view_user("u1")["properties"]["tags"] == {"plan": "pro"}
    assert fake_api.seen[-1].headers["Authorization"] == f"Key {API_KEY}"  # User Model route
    assert client.cancel_notification("n1") is True
    assert fake_api.seen[-1].method == "DELETE"


def test_max_ids_per_request_and_context_manager(fake_api):
    with OneSignal(APP_ID, API_KEY, api="legacy", base_url=fake_api.url) as legacy:
        assert legacy.max_ids_per_request == 2_000
    with OneSignal(APP_ID, API_KEY, base_url=fake_api.url) as current:
        assert current.max_ids_per_request == 20_000
    assert OneSignal(APP_ID, API_KEY).base_url == "https://api.onesignal.com"
    assert OneSignal(APP_ID, API_KEY, api="legacy").base_url == "https://onesignal.com"
