"""Push keys follow the batch content: a reused key never hides other people or a new payload."""

from __future__ import annotations

PAYLOAD = {"contents": {"en": "Hi"}}


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
