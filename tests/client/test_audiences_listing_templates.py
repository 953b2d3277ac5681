"""Issue 13, client side: response shapes the specs document, segments and tag filters, listing,
cancel and templates, each against the scripted fake API on 127.0.0.1 (both generations)."""

from __future__ import annotations

import uuid

import pytest

from onesig_nb.errors import APIError, NotCancellable, ValidationError
from onesig_nb.onesignal import (
    OR,
    NotificationRequest,
    limits,
    tag_filter,
)
from onesig_nb.onesignal.dialects import CURRENT, LEGACY, invalid_ids
from onesig_nb.onesignal.push import audience_key

from .client_fakes import API_KEY, APP_ID

PAYLOAD = {"contents": {"en": "Hi"}}
NID = "b98881cc-1e94-4366-bbd9-db8f3429292b"


def _req(ids=("a", "b", "c")):
    return NotificationRequest(payload=PAYLOAD, external_ids=tuple(ids), idempotency_key="k")


# ---- item 13: warnings.invalid_external_user_ids may be a string (v11.6 create-message) ------


@pytest.mark.parametrize(
    "warning, expected",
    [
        ("b", ["b"]),
        ("b,c", ["b", "c"]),
        ("b, c", ["b", "c"]),
        ('["c", "b"]', ["c", "b"]),
        ("b,stranger", ["b"]),  # only ids the request targeted are marked
    ],
)
def test_a_string_of_invalid_external_user_ids_is_read(warning, expected):
    body = {"id": NID, "warnings": {"invalid_external_user_ids": warning}}
    resp = CURRENT.notification_response(_req(), 200, body, {})
    assert list(resp.invalid_external_ids) == expected
    assert resp.sent  # listed = "some device not subscribed", the push was still created


def test_an_id_holding_a_comma_is_found_whole():
    resp = LEGACY.notification_response(
        _req(("a,b", "c")), 200, {"id": NID, "warnings": {"invalid_external_user_ids": "a,b"}}, {}
    )
    assert resp.invalid_external_ids == ("a,b",)


def test_the_list_forms_still_work_and_repeats_count_once():
    errors = {"invalid_aliases": {"external_id": ["a", "a", "b"]}}
    assert invalid_ids(errors) == ["a", "b"]
    assert invalid_ids({"invalid_external_user_ids": ["c"]}) == ["c"]
    assert invalid_ids({"invalid_external_user_ids": "x,y"}) == ["x", "y"]  # no request known


# ---- item 13: platform_delivery_stats per platform, web browsers apart (v1.2.2) ------------


def test_platform_delivery_stats_keep_each_browser_and_every_counter():
    stats = CURRENT.stats(
        {
            "id": NID,
            "received": 4,
            "send_after": 1_700_000_000,
            "queued_at": 1_699_999_000,
            "throttle_rate_per_minute": None,
            "platform_delivery_stats": {
                "ios": {"successful": 3, "failed": 1, "errored": 0, "converted": 1, "received": 2},
                "chrome_web_push": {"successful": 5, "failed": 0, "received": None},
                "firefox_web_push": {"successful": 2, "converted": 1, "frequency_capped": 1},
                "broken": "nope",
            },
        }
    )
    assert stats.received == 4 and stats.send_after == 1_700_000_000
    assert stats.queued_at == 1_699_999_000 and stats.throttle_rate_per_minute is None
    assert set(stats.platform_delivery_stats) == {"ios", "chrome_web_push", "firefox_web_push"}
    assert stats.platform_delivery_stats["chrome_web_push"] == {"successful": 5, "failed": 0}
    ios = stats.platforms["ios"]
    assert (ios.successful, ios.failed, ios.converted, ios.received) == (3, 1, 1, 2)
    totals = stats.platform_totals()
    assert set(totals) == {"ios", "web"}
    web = totals["web"]
    assert (web.successful, web.failed, web.converted, web.received) == (7, 0, 1, None)
    assert web.extra == {"frequency_capped": 1}
    assert web.as_dict() == {"successful": 7, "failed": 0, "converted": 1, "frequency_capped": 1}


def test_send_after_that_is_not_unix_time_is_not_invented():
    assert CURRENT.stats({"id": "n", "send_after": "2030-01-01 09:00"}).send_after is None


# ---- item 13: recipients is absent on the current API ----------------------------------------


def test_recipients_is_none_on_the_current_api_and_counted_on_legacy(make_client, fake_api):
    fake_api.handler = lambda seen: (200, {"id": NID, "external_id": None})
    result = make_client().send_push(["a", "b"], PAYLOAD)
    assert result.recipients is None and result.targeted == 2
    fake_api.handler = lambda seen: (200, {"id": NID, "recipients": 2})
    assert make_client("legacy").send_push(["a", "b"], PAYLOAD).recipients == 2
    fake_api.handler = lambda seen: (
        200,
        {"id": "", "errors": ["All included players are not subscribed"]},
    )
    assert make_client().send_push(["a"], PAYLOAD).recipients == 0  # nothing created: none


# ---- list notifications (GET /notifications?app_id&limit&offset) -----------------------------

PAGE = {
    "total_count": 3,
    "offset": 2,
    "limit": 2,
    "notifications": [
        {"id": "n3", "successful": 5, "remaining": 0, "completed_at": 9, "name": "Sale"},
        {"id": "n2", "successful": 0, "remaining": 7, "send_after": 1_900_000_000},
        "junk",
    ],
}


@pytest.mark.parametrize("api, prefix", [("current", ""), ("legacy", "/api/v1")])
def test_list_notifications_pages_through_the_view_group(make_client, fake_api, api, prefix):
    fake_api.handler = lambda seen: (200, PAGE)
    client = make_client(api, rate_limits={"view": 1})
    groups = []
    reserve = client.limiter.reserve
    client.limiter.reserve = lambda group, user=None: groups.append(group) or reserve(group, user)
    page = client.list_notifications(limit=2, offset=2, kind="api")
    assert fake_api.seen[-1].method == "GET"
    assert fake_api.seen[-1].path == (
        f"{prefix}/notifications?app_id={APP_ID}&limit=2&offset=2&kind=1"
    )
    assert groups == ["view"]
    assert page.total_count == 3 and (page.offset, page.limit) == (2, 2)
    assert [n.id for n in page] == ["n3", "n2"] and page.notifications[
        1
    ].send_after == 1_900_000_000
    assert page.notifications[0].complete and not page.notifications[1].complete
    frame = page.to_frame()
    assert list(frame["id"]) == ["n3", "n2"] and frame.loc[0, "name"] == "Sale"


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"limit": 0}, "from 1 to 50"),
        ({"limit": 51}, "from 1 to 50"),
        ({"offset": -1}, "at least 0"),
        ({"kind": "email"}, "'dashboard', 'api'"),
        ({"kind": 2}, "'dashboard', 'api'"),
    ],
)
def test_list_notifications_refuses_what_the_api_would_not_take(
    make_client, fake_api, kwargs, text
):
    with pytest.raises(ValidationError, match=text):
        make_client().list_notifications(**kwargs)
    assert fake_api.seen == []


def test_default_page_is_the_documented_maximum(make_client, fake_api):
    fake_api.handler = lambda seen: (200, {"notifications": []})
    page = make_client().list_notifications()
    assert f"limit={limits.MAX_NOTIFICATIONS_PER_PAGE}&offset=0" in fake_api.seen[0].path
    assert len(page) == 0 and "kind=" not in fake_api.seen[0].path


# ---- cancel ---------------------------------------------------------------------------------


def test_cancelling_a_delivered_notification_is_a_typed_error(make_client, fake_api):
    said = "Reason for the message not being canceled. Usually due to the message already sent."
    fake_api.handler = lambda seen: (400, {"errors": [said]})
    with pytest.raises(NotCancellable, match="already delivered") as err:
        make_client().cancel_notification(NID)
    assert isinstance(err.value, APIError) and err.value.status == 400
    assert err.value.notification_id == NID and said in str(err.value)
    assert len(fake_api.seen) == 1 and fake_api.seen[0].method == "DELETE"


def test_cancel_of_an_unknown_id_is_not_called_delivered(make_client, fake_api):
    fake_api.handler = lambda seen: (404, {"errors": ["Notification not found"]})
    with pytest.raises(APIError) as err:
        make_client("legacy").cancel_notification(NID)
    assert not isinstance(err.value, NotCancellable) and err.value.status == 404
    assert fake_api.seen[0].path == f"/api/v1/notifications/{NID}?app_id={APP_ID}"


@pytest.mark.parametrize("bad", ["", "  ", None])
def test_a_blank_notification_id_never_reaches_the_list_route(make_client, fake_api, bad):
    client = make_client()
    for call in (client.cancel_notification, client.view_notification):
        with pytest.raises(ValidationError, match="not an id"):
            call(bad)
    assert fake_api.seen == []


# ---- segments and filters ---------------------------------------------------------------------


def test_send_to_segments_on_both_generations(make_client, fake_api):
    fake_api.handler = lambda seen: (200, {"id": NID})
    key = str(uuid.uuid4())
    current = make_client().send_to_segments(
        PAYLOAD,
        included_segments=["Active Users"],
        excluded_segments="Churned",
        idempotency_key=key,
        platforms=["ios"],
    )
    body = fake_api.seen[-1].body
    assert body["included_segments"] == ["Active Users"]
    assert body["excluded_segments"] == ["Churned"]
    assert body["target_channel"] == "push" and body["isIos"] is True
    assert "include_aliases" not in body and "filters" not in body
    want = audience_key(
        key, PAYLOAD, included_segments=("Active Users",), excluded_segments=("Churned",),
        platforms=("ios",),
    )  # fmt: skip
    assert body["idempotency_key"] == want != key
    assert current.notification_ids == [NID] and current.targeted == 0

    make_client("legacy").send_to_segments(PAYLOAD, filters=[tag_filter("vip", "=", 1)])
    body = fake_api.seen[-1].body
    assert fake_api.seen[-1].path == "/api/v1/notifications"
    assert body["filters"] == [{"field": "tag", "key": "vip", "relation": "=", "value": "1"}]
    assert "external_id" in body and "channel_for_external_user_ids" not in body
    assert "included_segments" not in body and "include_external_user_ids" not in body


def test_the_audience_is_part_of_the_key(make_client, fake_api):
    key = str(uuid.uuid4())
    a = audience_key(key, PAYLOAD, included_segments=["A"])
    assert a == audience_key(key, PAYLOAD, included_segments=["A"])
    assert a != audience_key(key, PAYLOAD, included_segments=["B"])
    assert a != audience_key(key, {"contents": {"en": "Other"}}, included_segments=["A"])


FILTERS_OK = [
    tag_filter("plan", "=", "pro"),
    OR,
    tag_filter("ltv", ">", 500),
    tag_filter("cart", "exists"),
    tag_filter("seen_at", "time_elapsed_gt", 86_400),
]


def test_documented_filters_are_sent_as_given(make_client, fake_api):
    make_client().send_to_segments(PAYLOAD, filters=FILTERS_OK)
    assert fake_api.seen[0].body["filters"] == [
        {"field": "tag", "key": "plan", "relation": "=", "value": "pro"},
        {"operator": "OR"},
        {"field": "tag", "key": "ltv", "relation": ">", "value": "500"},
        {"field": "tag", "key": "cart", "relation": "exists"},
        {"field": "tag", "key": "seen_at", "relation": "time_elapsed_gt", "value": "86400"},
    ]


def test_exactly_the_documented_maximum_of_filter_entries_is_accepted(make_client, fake_api):
    most = [tag_filter(f"t{i}", "exists") for i in range(limits.MAX_FILTERS)]
    make_client().send_to_segments(PAYLOAD, filters=most)
    assert len(fake_api.seen[0].body["filters"]) == limits.MAX_FILTERS == 200
    with pytest.raises(ValidationError, match="at most 200"):
        make_client().send_to_segments(PAYLOAD, filters=[*most, OR, tag_filter("x", "exists")])


@pytest.mark.parametrize(
    "filters, text",
    [
        ([{"field": "tag", "key": "plan", "relation": "~", "value": "x"}], "relation '~'"),
        ([{"field": "tag", "key": "plan", "relation": "in_array", "value": "x"}], "relation"),
        ([{"field": "tag", "relation": "=", "value": "x"}], "needs the tag's name"),
        ([{"field": "tag", "key": "plan", "relation": "="}], "needs a 'value'"),
        ([{"field": "tag", "key": "plan", "relation": "exists", "value": "1"}], "takes no value"),
        ([{"field": "tag", "key": "ltv", "relation": ">", "value": "lots"}], "compares numbers"),
        ([{"field": "tag", "key": "p", "relation": "=", "value": True}], "not text or a number"),
        ([{"field": "tag", "key": "p", "relation": "=", "value": "x", "op": 1}], "unknown key"),
        ([{"field": "country", "relation": "=", "value": "DE"}], "field 'country'"),
        ([tag_filter("a", "exists"), OR], "end with an operator"),
        ([OR, tag_filter("a", "exists")], "between two filters"),
        ([tag_filter("a", "exists"), OR, OR, tag_filter("b", "exists")], "between two filters"),
        ([tag_filter("a", "exists"), {"operator": "XOR"}, tag_filter("b", "exists")], "exactly"),
        ([], "empty"),
        ({"field": "tag"}, "must be a list"),
        (["plan=pro"], "is a str"),
    ],
)
def test_bad_filters_are_refused_before_sending(make_client, fake_api, filters, text):
    with pytest.raises(ValidationError, match=text):
        make_client().send_to_segments(PAYLOAD, filters=filters)
    assert fake_api.seen == []


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({}, "Say whom to reach"),
        ({"excluded_segments": ["Churned"]}, "only narrows included_segments"),
        (
            {"included_segments": ["A"], "filters": [tag_filter("a", "exists")]},
            "cannot be combined",
        ),
        ({"included_segments": [""]}, "segment names"),
    ],
)
def test_one_targeting_method_per_message(make_client, fake_api, kwargs, text):
    with pytest.raises(ValidationError, match=text):
        make_client().send_to_segments(PAYLOAD, **kwargs)
    assert fake_api.seen == []


def test_ids_and_an_audience_in_one_request_are_refused():
    req = NotificationRequest(
        payload=PAYLOAD, external_ids=("a",), idempotency_key="k", included_segments=("A",)
    )
    for dialect in (CURRENT, LEGACY):
        with pytest.raises(ValidationError, match="not both"):
            dialect.notification_body(APP_ID, req)


# ---- the wire check of documented push rules (v11.6 create-message) --------------------------


@pytest.mark.parametrize(
    "payload, text",
    [
        ({"url": "http://shop.example"}, "not an https"),
        ({"url": "myapp://cart"}, "app_url"),
        ({"web_url": "http://shop.example"}, "not an https"),
        ({"web_buttons": [{"id": "a", "text": "A"}]}, "non-empty text 'url'"),
        ({"buttons": [{"id": "a", "text": "A", "url": "https://x.io"}]}, "web_buttons="),
        ({"priority": 7}, "10 \\(high\\) or 5"),
        ({"subtitle": {"en": "s"}, "contents": {"en": "Hi", "es": "Hola"}}, "same languages"),
        ({"ios_badgeType": "Set"}, "ios_badgeType"),
        ({"delayed_option": "last-active", "throttle_rate_per_minute": 10}, "throttle"),
    ],
)
def test_payloads_breaking_documented_rules_never_leave(make_client, fake_api, payload, text):
    with pytest.raises(ValidationError, match=text):
        make_client().send_push(["a"], {"contents": {"en": "Hi"}, **payload})
    assert fake_api.seen == []


def test_templated_and_app_urls_pass_the_wire_check(make_client, fake_api):
    payload = {**PAYLOAD, "url": "{{ link }}", "app_url": "myapp://cart", "priority": 5}
    make_client().send_push(["a"], payload)
    assert fake_api.seen[0].body["app_url"] == "myapp://cart"


def test_throttle_is_a_string_on_legacy_and_a_number_on_current(make_client, fake_api):
    payload = {**PAYLOAD, "throttle_rate_per_minute": 600}
    make_client("legacy").send_push(["a"], payload)
    make_client().send_push(["a"], payload)
    assert [s.body["throttle_rate_per_minute"] for s in fake_api.seen] == ["600", 600]


# ---- templates (v11.6 /templates) ------------------------------------------------------------

TEMPLATE = {
    "id": "9e778dd4-6453-40d7-888d-9d9f327b9b66",
    "name": "Order shipped",
    "created_at": "2021-07-23T18:02:23.956Z",
    "updated_at": "2021-07-23T18:02:23.956Z",
    "content": {"contents": {"en": "Your order {{ message.custom_data.order }} shipped"}},
}


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_template_calls_use_the_current_routes_with_key_auth(make_client, fake_api, api):
    def handler(seen):
        if seen.path.startswith("/templates?"):
            return (200, {"limit": 10, "offset": 0, "total_count": 1, "templates": [TEMPLATE]})
        return (200, TEMPLATE)

    fake_api.handler = handler
    client = make_client(api)
    page = client.list_templates(limit=10)
    assert fake_api.seen[-1].path == f"/templates?app_id={APP_ID}&limit=10&offset=0&channel=push"
    assert page.total_count == 1 and page.templates[0].name == "Order shipped"
    got = client.view_template(TEMPLATE["id"])
    assert fake_api.seen[-1].path == f"/templates/{TEMPLATE['id']}?app_id={APP_ID}"
    assert got.content["contents"]["en"].startswith("Your order")
    made = client.create_template("Order shipped", "Your order {{ message.custom_data.order }}")
    seen = fake_api.seen[-1]
    assert (seen.method, seen.path) == ("POST", "/templates")
    assert seen.body == {
        "app_id": APP_ID,
        "name": "Order shipped",
        "contents": {"en": "Your order {{ message.custom_data.order }}"},
    }
    assert made.id == TEMPLATE["id"]
    client.update_template(TEMPLATE["id"], "Shipped", {"en": "Shipped!", "de": "Versandt!"})
    seen = fake_api.seen[-1]
    assert (seen.method, seen.body["name"]) == ("PATCH", "Shipped")
    assert all(s.headers["Authorization"] == f"Key {API_KEY}" for s in fake_api.seen)


def test_creating_a_template_is_never_repeated_on_a_timeout_like_failure(make_client, fake_api):
    fake_api.handler = lambda seen: (503, {"errors": ["Service temporarily unavailable"]})
    with pytest.raises(APIError):
        make_client().create_template("T", "Hi")
    assert len(fake_api.seen) == 1  # a POST without a key: a retry could create two


@pytest.mark.parametrize(
    "args, text",
    [
        (("", "Hi"), "needs a name"),
        (("n" * 129, "Hi"), "allows 128"),
        (("T", {"de": "Hallo"}), "English"),
        (("T", 5), "English"),
    ],
)
def test_bad_templates_are_refused_before_sending(make_client, fake_api, args, text):
    with pytest.raises(ValidationError, match=text):
        make_client().create_template(*args)
    assert fake_api.seen == []
