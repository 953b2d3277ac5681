"""The client against the real local sandbox, both API generations.

Every check reads the sandbox's own records (deliveries, stored tags, request log), never the
client's report about itself.
"""

from __future__ import annotations

import uuid

import pytest

import onesig_nb as osn
from onesig_nb.errors import AuthError
from onesig_nb.onesignal import NotificationRequest, OneSignal, RetryPolicy, TagEdit

USERS = 3_000
PLATFORMS = ("ios", "android", "web")
PAYLOAD = {"contents": {"en": "Hi {{ plan | default: 'friend' }}"}, "headings": {"en": "Hello"}}


def _roster(n=USERS):
    # every 7th user is unsubscribed; one subscription each, so "delivered once" = one row
    return [
        {
            "external_id": f"u{i:05d}",
            "platform": PLATFORMS[i % 3],
            "subscribed": i % 7 != 0,
            "tags": {"plan": "free"},
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def sb():
    with osn.Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def seeded(sb):
    sb.reset()
    sb.add_users(_roster())
    return sb


def _client(sb, api, **options):
    options.setdefault("rate_limits", False)
    return OneSignal(sb.app_id, sb.api_key, base_url=sb.url, api=api, **options)


def _reachable():
    return {r["external_id"] for r in _roster() if r["subscribed"]}


def _posts(sb):
    log = sb.requests()
    return log[(log["method"] == "POST") & log["path"].str.endswith("/notifications")]


@pytest.mark.parametrize("api, per_request", [("legacy", 2_000), ("current", 20_000)])
def test_large_push_is_split_and_every_reachable_user_gets_it_once(seeded, api, per_request):
    unknown = [f"nobody-{i}" for i in range(per_request * 2 - USERS + 10)]
    ids = [r["external_id"] for r in _roster()] + unknown  # just over two full requests
    with _client(seeded, api) as client:
        result = client.send_push(ids, PAYLOAD, idempotency_key=str(uuid.uuid4()))
    assert len(_posts(seeded)) == 3
    assert result.ok and len(result.responses) == 3
    deliveries = seeded.deliveries()
    assert not deliveries.duplicated(["external_id"]).any()
    assert set(deliveries["external_id"]) == _reachable()
    unsubscribed = {r["external_id"] for r in _roster() if not r["subscribed"]}
    assert set(result.invalid_external_ids) >= unsubscribed
    assert not set(result.invalid_external_ids) & _reachable()
    assert set(deliveries["contents"]) == {"Hi free"}


@pytest.mark.parametrize("api", ["legacy", "current"])
def test_resending_a_push_with_the_same_key_delivers_nothing_new(seeded, api):
    key = str(uuid.uuid4())
    ids = sorted(_reachable())[:2_500]
    with _client(seeded, api) as client:
        first = client.send_push(ids, PAYLOAD, idempotency_key=key)
        again = client.send_push(ids, PAYLOAD, idempotency_key=key)
    assert again.notification_ids == first.notification_ids
    assert all(r.replayed for r in again.responses)
    assert len(seeded.deliveries()) == len(ids)


@pytest.mark.parametrize("api", ["legacy", "current"])
def test_nobody_reachable_comes_back_in_the_result_not_as_an_exception(seeded, api):
    off = [r["external_id"] for r in _roster() if not r["subscribed"]][:5]
    with _client(seeded, api) as client:
        result = client.send_push(off, PAYLOAD)
    assert result.ok and result.notification_ids == []
    assert set(result.invalid_external_ids) == set(off)
    assert "All included players are not subscribed" in result.responses[0].errors
    assert len(seeded.deliveries()) == 0


@pytest.mark.parametrize("api", ["legacy", "current"])
def test_tag_edits_land(seeded, api):
    edits = [TagEdit(f"u{i:05d}", {"plan": "pro", "score": i, "gone": ""}) for i in range(300)]
    with _client(seeded, api) as client:
        results = client.edit_tags_bulk(edits)
        one = client.edit_tags("u02999", {"plan": "business"})
        user = client.view_user("u00001")
        missing = client.edit_tags_bulk([TagEdit("nobody", {"a": "b"})])
    assert len(results) == 300 and all(r.ok for r in results)
    assert one.ok
    assert user["properties"]["tags"]["plan"] == "pro"
    assert missing[0].ok is False and missing[0].error.status == 404
    assert seeded.user_tags("u00042") == {"plan": "pro", "score": "42"}
    assert seeded.user_tags("u02999")["plan"] == "business"


@pytest.mark.parametrize("api", ["legacy", "current"])
def test_a_wrong_key_costs_one_request_against_the_sandbox(seeded, api):
    before = seeded.request_count()
    client = OneSignal(seeded.app_id, "wrong-key-0000000000", base_url=seeded.url, api=api)
    with client, pytest.raises(AuthError):
        list(client.iter_tag_edits(TagEdit(f"u{i:05d}", {"a": "1"}) for i in range(200)))
    assert seeded.request_count() - before == 1


@pytest.mark.parametrize("api", ["legacy", "current"])
def test_faults_everywhere_still_end_exactly_once(seeded, api):
    seeded.set_faults(rate=0.2, kinds=("429", "503", "reset", "stall"), seed=11, stall_seconds=1.0)
    retry = RetryPolicy(max_attempts=12, base=0.05, cap=0.5)
    ids = [r["external_id"] for r in _roster()]
    targets = {
        f"u{i:05d}": {"plan": "pro" if i % 2 else "business", "n": str(i)} for i in range(1_000)
    }
    try:
        with _client(seeded, api, timeout=0.4, retry=retry) as client:
            # one big push (split per the dialect) and 30 small ones, concurrently keyed
            big = client.send_push(ids, PAYLOAD, idempotency_key=str(uuid.uuid4()))
            small = [
                NotificationRequest(
                    payload=PAYLOAD,
                    external_ids=tuple(ids[i * 100 : (i + 1) * 100]),
                    idempotency_key=str(uuid.uuid4()),
                    ref=i,
                )
                for i in range(30)
            ]
            responses = list(client.iter_notifications(small))
            edits = client.edit_tags_bulk(TagEdit(k, v) for k, v in targets.items())
    finally:
        seeded.clear_faults()
    log = seeded.requests()
    assert log["fault"].notna().sum() > 50  # the faults really happened
    assert big.ok and all(r.error is None for r in responses) and all(e.ok for e in edits)
    deliveries = seeded.deliveries()
    # every reachable user: once from the big push, once from the small push covering them
    per_user = deliveries.groupby("external_id").size()
    assert set(per_user.index) == _reachable()
    assert (per_user == 2).all()
    assert deliveries.groupby("notification_id").size().sum() == 2 * len(_reachable())
    users = seeded.users().set_index("external_id")
    for ext, tags in targets.items():
        assert {k: users.at[ext, "tags"].get(k) for k in tags} == tags


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_filters_list_cancel_and_templates_against_the_sandbox(sb, api):
    from onesig_nb.errors import NotCancellable
    from onesig_nb.onesignal import tag_filter

    sb.reset()
    sb.add_users(
        [
            {"external_id": f"t{i}", "platform": "ios", "subscribed": True,
             "tags": {"plan": "pro" if i % 2 else "free"}}
            for i in range(6)
        ]
    )  # fmt: skip
    client = _client(sb, api)
    try:
        sent = client.send_to_segments(PAYLOAD, filters=[tag_filter("plan", "=", "pro")])
        (nid,) = sent.notification_ids
        reached = set(sb.deliveries(nid)["external_id"])
        assert reached == {"t1", "t3", "t5"}  # the sandbox's own record, not our report
        page = client.list_notifications(limit=5)
        assert nid in [n.id for n in page]
        with pytest.raises(NotCancellable, match="already delivered"):
            client.cancel_notification(nid)
        made = client.create_template("Shipped", "Order {{ message.custom_data.order }}")
        assert client.view_template(made.id).name == "Shipped"
        assert made.id in [t.id for t in client.list_templates()]
    finally:
        client.close()
