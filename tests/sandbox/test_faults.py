"""Fault injection, latency emulation and opt-in rate limits."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from .conftest import run_async


def _edit(api, ext="ana", value="x", timeout=5.0):
    sb = api.sb
    return api.current(
        "PATCH",
        f"/apps/{sb.app_id}/users/by/external_id/{ext}",
        {"properties": {"tags": {"probe": value}}},
        timeout=timeout,
    )


@pytest.mark.parametrize(("kind", "status"), [("429", 429), ("503", 503)])
def test_status_faults_answer_without_applying(fresh_api, kind, status):
    sb = fresh_api.sb
    sb.set_faults(rate=1.0, kinds=[kind], seed=4)
    r = _edit(fresh_api)
    assert r.status_code == status and r.json()["errors"]
    if kind == "429":
        assert r.headers["retry-after"] == "1"
    sb.clear_faults()
    assert "probe" not in sb.user_tags("ana")
    log = sb.requests()
    assert log.fault[0] == kind and not log.applied[0]


def test_reset_faults_drop_the_connection_and_log_whether_applied(fresh_api):
    sb = fresh_api.sb
    sb.set_faults(rate=1.0, kinds=["reset"], seed=11)
    outcomes = []
    for i in range(12):
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
            _edit(fresh_api, value=str(i))
        sb.clear_faults()
        outcomes.append(sb.user_tags("ana").get("probe") == str(i))
        sb.set_faults(rate=1.0, kinds=["reset"], seed=11 + i + 1)
    sb.clear_faults()
    log = sb.requests()
    assert list(log.fault) == ["reset"] * 12
    assert list(log.applied.astype(bool)) == outcomes
    assert 0 < sum(outcomes) < 12  # both branches of the ambiguity happen


def test_stall_outlives_the_client_timeout(fresh_api):
    sb = fresh_api.sb
    sb.set_faults(rate=1.0, kinds=["stall"], seed=2, stall_seconds=1.0)
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _edit(fresh_api, timeout=0.3)
    assert time.monotonic() - t0 < 1.0
    sb.clear_faults()
    assert sb.requests().fault.tolist() == ["stall"]


def test_fault_sequence_is_reproducible_from_the_seed(fresh_api):
    sb = fresh_api.sb

    def run():
        sb.set_faults(rate=0.5, kinds=["429", "503"], seed=7)
        codes = [_edit(fresh_api).status_code for _ in range(20)]
        sb.clear_faults()
        return codes

    first, second = run(), run()
    assert first == second
    assert {429, 503, 202} <= set(first) | {202} and first.count(202) not in (0, 20)


def test_latency_delays_responses_without_serialising_them(fresh_api):
    sb = fresh_api.sb
    sb.set_latency(300)

    async def many():
        async with httpx.AsyncClient(base_url=sb.url, timeout=10) as client:
            headers = {"Authorization": f"Key {sb.api_key}"}
            path = f"/apps/{sb.app_id}/users/by/external_id/ana"
            return await asyncio.gather(*(client.get(path, headers=headers) for _ in range(10)))

    t0 = time.monotonic()
    answers = run_async(many())
    took = time.monotonic() - t0
    sb.set_latency(0)
    assert all(r.status_code == 200 for r in answers)
    assert 0.3 <= took < 1.5  # ten 300 ms requests overlap instead of taking 3 s


def test_rate_limits_answer_429_with_retry_after(fresh_api):
    sb = fresh_api.sb
    assert sb.set_rate_limits(create=3)["create"] == 3
    answers = [fresh_api.push(["ana"]) for _ in range(5)]  # a burst well inside 1/3 s
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert answers[3].json() == {"errors": ["API rate limit exceeded"]}
    assert int(answers[3].headers["retry-after"]) >= 1
    first, second = _edit(fresh_api, "bo"), _edit(fresh_api, "bo")  # 1 edit/s per user
    assert (first.status_code, second.status_code) == (202, 429)
    assert second.json()["errors"][0]["code"] == "Rate Limit Exceeded"
    assert _edit(fresh_api, "cy").status_code == 202  # another user has its own budget
    sb.set_rate_limits(False)
    assert all(_edit(fresh_api, "bo", str(i)).status_code == 202 for i in range(3))


def test_rate_limiter_refills_at_the_configured_rate():
    from onesig_nb.sandbox.faults import RateLimiter

    now = [100.0]
    limiter = RateLimiter({"create": 2}, clock=lambda: now[0])
    assert [limiter.check("create") for _ in range(3)] == [None, None, 1]
    now[0] += 0.5  # one token back
    assert limiter.check("create") is None and limiter.check("create") == 1
    assert limiter.check("view") is None  # groups without a budget pass
