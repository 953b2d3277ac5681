"""Idempotency keys: a replay answers the first result and never creates a second notification."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from .conftest import run_async


@pytest.mark.parametrize(
    ("dialect", "field"), [("current", "idempotency_key"), ("legacy", "external_id")]
)
def test_same_key_twice_creates_one_notification_and_marks_the_replay(api, dialect, field):
    key = str(uuid.uuid4())
    first = api.push(["ana"], api=dialect, **{field: key})
    second = api.push(["ana"], api=dialect, **{field: key})
    assert first.json() == second.json() and first.json()["external_id"] == key
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    notes = api.sb.notifications()
    assert (notes.idempotency_key == key).sum() == 1
    assert len(api.sb.deliveries(first.json()["id"])) == 1


def test_nothing_reachable_answer_is_replayed_too(api):
    key = str(uuid.uuid4())
    api.push(["off"], idempotency_key=key)
    api.sb.add_users([{"external_id": "late", "platform": "ios"}])
    again = api.push(["off", "late"], idempotency_key=key)
    assert again.json()["id"] == "" and again.headers["idempotent-replayed"] == "true"


def test_fifty_concurrent_identical_requests_create_one_notification(fresh_api):
    sb = fresh_api.sb
    key = str(uuid.uuid4())
    body = {
        "app_id": sb.app_id,
        "contents": {"en": "Hi {{ first_name }}"},
        "include_aliases": {"external_id": ["ana", "bo"]},
        "target_channel": "push",
        "idempotency_key": key,
    }

    async def fire():
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=sb.url, limits=limits, timeout=20) as client:
            headers = {"Authorization": f"Key {sb.api_key}"}
            return await asyncio.gather(
                *(client.post("/notifications", json=body, headers=headers) for _ in range(50))
            )

    answers = run_async(fire())
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 49
    assert len(sb.notifications()) == 1
    assert len(sb.deliveries()) == 2
    assert sb.request_count() == 50
