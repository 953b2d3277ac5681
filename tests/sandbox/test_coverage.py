"""What marketers use daily, served as OneSignal documents it: targeting by ``filters`` and
segments, templates, list notifications, badge and collapse fields (issue 13, "Coverage").
Sources: v11.6 create-message (``filters``, ``included_segments``/``excluded_segments``,
``ios_badgeType``), view-messages, create/view/update/delete/view-templates; v1.2.2
``Filter``, ``collapse_id``.
"""

from __future__ import annotations

import time

import pytest

from onesig_nb.sandbox import limits

PEOPLE = [
    {"external_id": "gold", "platform": "ios", "tags": {"tier": "gold", "ltv": "250"}},
    {"external_id": "silver", "platform": "android", "tags": {"tier": "silver", "ltv": "90"}},
    {"external_id": "plain", "platform": "web", "language": "fr", "tags": {"ltv": "abc"}},
    {"external_id": "off", "platform": "ios", "subscribed": False, "tags": {"tier": "gold"}},
]


@pytest.fixture
def fresh_users():
    return PEOPLE


@pytest.fixture
def api(fresh_api):
    """What this module's tests call ``api``: a sandbox of the test's own holding PEOPLE."""
    return fresh_api


def _post(api, **fields):
    """POST /notifications (current API) of a body with the sandbox's app_id and ``fields``."""
    return api.current("POST", "/notifications", {"app_id": api.sb.app_id, **fields})


def _send(api, **fields):
    return _post(api, **{"contents": {"en": "Hi"}, **fields})


def _reached(api, r) -> set[str]:
    assert r.status_code == 200, r.text
    nid = r.json()["id"]
    return set(api.sb.deliveries(nid).external_id) if nid else set()


@pytest.mark.parametrize(
    ("filters", "who"),
    [
        ([{"field": "tag", "key": "tier", "relation": "=", "value": "gold"}], {"gold"}),
        ([{"field": "tag", "key": "ltv", "relation": ">", "value": "100"}], {"gold"}),
        ([{"field": "tag", "key": "ltv", "relation": "<", "value": "100"}], {"silver"}),
        ([{"field": "tag", "key": "tier", "relation": "not_exists"}], {"plain"}),
        ([{"field": "tag", "key": "tier", "relation": "!=", "value": "gold"}], {"silver"}),
        (
            [{"field": "tag", "key": "tier", "relation": "=", "value": "gold"}, {"operator": "OR"},
             {"field": "language", "relation": "=", "value": "fr"}],
            {"gold", "plain"},
        ),
        (
            [{"field": "tag", "key": "tier", "relation": "exists"},
             {"field": "tag", "key": "ltv", "relation": "<", "value": "100"}],
            {"silver"},
        ),
    ],
)  # fmt: skip
def test_filters_select_subscribed_people_by_tag_and_language(api, filters, who):
    """v11.6 filters: implicit AND, OR splits groups; v1.2.2 Filter.relation."""
    r = _send(api, filters=filters)
    assert _reached(api, r) == who
    assert "errors" not in r.json()  # filter audiences list no invalid ids


def test_filter_time_elapsed_reads_a_unix_time_tag(api):
    api.sb.add_users(
        [
            {
                "external_id": "cart",
                "platform": "ios",
                "tags": {"cart_at": str(int(time.time()) - 7200)},
            }
        ]
    )
    old = [{"field": "tag", "key": "cart_at", "relation": "time_elapsed_gt", "value": "3600"}]
    assert _reached(api, _send(api, filters=old)) == {"cart"}
    fresh = [{"field": "tag", "key": "cart_at", "relation": "time_elapsed_lt", "value": "3600"}]
    assert _send(api, filters=fresh).json()["id"] == ""


@pytest.mark.parametrize(
    ("filters", "words"),
    [
        ([{"field": "tag", "key": "a", "relation": "=", "value": "1"}] * (limits.MAX_FILTERS + 1),
         "at most 200"),
        ([{"field": "tag", "key": "a", "relation": "in_array", "value": "1"}], "relation"),
        ([{"field": "tag", "relation": "=", "value": "1"}], "key"),
        ([{"field": "tag", "key": "a", "relation": "="}], "value"),
        ([{"field": "last_session", "relation": ">", "value": "1"}], "'tag' and 'language'"),
        ([{"field": "tag", "key": "a", "relation": "exists"}, {"operator": "OR"}], "end with"),
    ],
)  # fmt: skip
def test_bad_filters_are_400(api, filters, words):
    r = _send(api, filters=filters)
    assert r.status_code == 400 and words in r.json()["errors"][0], r.text


def test_segments_reach_everyone_subscribed_and_targeting_methods_do_not_mix(api):
    assert _reached(api, _send(api, included_segments=["Subscribed Users"])) == {
        "gold", "silver", "plain"
    }  # fmt: skip
    none = _send(api, included_segments=["All"], excluded_segments=["Active Users"])
    assert none.json()["id"] == ""
    mixed = _send(api, included_segments=["All"], include_aliases={"external_id": ["gold"]})
    assert mixed.status_code == 400 and "one targeting method" in mixed.json()["errors"][0]
    alone = _send(api, include_aliases={"external_id": ["gold"]}, excluded_segments=["All"])
    assert alone.status_code == 400


def test_list_notifications_pages_newest_first_up_to_50(api):
    """v11.6 view-messages: newest first by queued_at; limit at most 50."""
    ids = [_send(api, include_aliases={"external_id": ["gold"]}).json()["id"] for _ in range(3)]
    page = api.current("GET", "/notifications", params={"app_id": api.sb.app_id, "limit": 2})
    body = page.json()
    assert page.status_code == 200 and body["total_count"] == 3 and body["limit"] == 2
    assert [n["id"] for n in body["notifications"]] == ids[::-1][:2]
    rest = api.legacy("GET", "/notifications", params={"app_id": api.sb.app_id, "offset": 2})
    assert [n["id"] for n in rest.json()["notifications"]] == ids[:1]
    too_many = api.current("GET", "/notifications", params={"app_id": api.sb.app_id, "limit": 51})
    assert too_many.status_code == 400
    assert too_many.json()["errors"] == ["Invalid limit, must be within 1 to 50"]


def test_templates_crud_and_a_push_from_a_template(api):
    """v11.6 create/view/update/delete/view-templates; a push with template_id takes the
    template's content, its own fields win, and custom_data fills the template's Liquid."""
    sb = api.sb
    made = api.current(
        "POST",
        "/templates",
        {"app_id": sb.app_id, "name": "welcome",
         "contents": {"en": "Hi {{ first_name | default: 'you' }}, {{ message.custom_data.code }}"},
         "headings": {"en": "Welcome"}},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    tid = made.json()["id"]
    assert (
        made.json()["channel"] == "push" and made.json()["content"]["headings"]["en"] == "Welcome"
    )
    q = {"app_id": sb.app_id}
    assert api.current("GET", f"/templates/{tid}", params=q).json()["name"] == "welcome"
    upd = api.current("PATCH", f"/templates/{tid}", {"name": "welcome-2"}, params=q)
    assert upd.json()["name"] == "welcome-2" and upd.json()["content"]["headings"]
    listed = api.current("GET", "/templates", params=q).json()
    assert listed["total_count"] == 1 and listed["templates"][0]["id"] == tid
    gold = {"external_id": ["gold"]}
    sent = _post(api, template_id=tid, custom_data={"code": "X1"}, include_aliases=gold)
    row = sb.deliveries(sent.json()["id"]).iloc[0]
    assert (row.heading, row.contents) == ("Welcome", "Hi you, X1")
    own = _post(api, template_id=tid, headings={"en": "Mine"}, include_aliases=gold)
    assert sb.deliveries(own.json()["id"]).iloc[0].heading == "Mine"
    missing = _send(api, template_id="00000000-0000-4000-8000-000000000000",
                    include_aliases={"external_id": ["gold"]})  # fmt: skip
    assert missing.status_code == 400 and "template_id" in missing.json()["errors"][0]
    assert api.current("DELETE", f"/templates/{tid}", params=q).json() == {"success": True}
    assert api.current("GET", f"/templates/{tid}", params=q).status_code == 404
    bad = api.current("POST", "/templates", {"app_id": sb.app_id, "contents": {"en": "x"}})
    assert bad.status_code == 400 and "name" in bad.json()["errors"][0]


@pytest.mark.parametrize(
    ("fields", "words"),
    [({"ios_badgeType": "Add"}, "ios_badgeType"), ({"ios_badgeCount": "1"}, "ios_badgeCount"),
     ({"collapse_id": "c" * 65}, "collapse_id")],
)  # fmt: skip
def test_badge_and_collapse_fields_follow_the_specs(api, fields, words):
    r = _send(api, include_aliases={"external_id": ["gold"]}, **fields)
    assert r.status_code == 400 and words in r.json()["errors"][0]
    ok = _send(
        api,
        include_aliases={"external_id": ["gold"]},
        ios_badgeType="Increase",
        ios_badgeCount=1,
        collapse_id="c" * 64,
        thread_id="t",
        android_channel_id="00000000-0000-4000-8000-000000000000",
        big_picture="https://x.test/a.png",
        ttl=60,
    )
    assert ok.status_code == 200 and ok.json()["id"]
