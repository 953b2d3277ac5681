"""Where the sandbox used to differ from OneSignal (issue 13, items 2-4 and 8-14), each pinned
to the source that says what OneSignal does. Sources are the sandbox's limits table
(``onesig_nb/sandbox/limits.py``) and, through it, the specs in ``reference/specs``.
"""

from __future__ import annotations

import uuid

import pytest

import onesig_nb as osn
from onesig_nb.sandbox import limits

from .conftest import Api


@pytest.fixture
def one(fresh_sandbox):
    """A fresh sandbox with its raw HTTP helper."""
    api = Api(fresh_sandbox)
    yield api
    api.http.close()


def _patch(api, ext_path: str, tags: dict):
    return api.current(
        "PATCH",
        f"/apps/{api.sb.app_id}/users/by/external_id/{ext_path}",
        {"properties": {"tags": tags}},
    )


# -- item 8: external ids in URL paths are decoded once -----------------------------------------


def test_an_encoded_slash_stays_inside_the_external_id(one):
    """docs: edit-tags-with-external-user-id: percent-encode the id, "/" as %2F."""
    one.sb.add_users([{"external_id": "a/b", "platform": "ios"}])
    assert _patch(one, "a%2Fb", {"plan": "pro"}).status_code == 202
    r = one.legacy("PUT", f"/apps/{one.sb.app_id}/users/a%2Fb", {"tags": {"vip": "1"}})
    assert r.status_code == 200
    assert one.sb.user_tags("a/b") == {"plan": "pro", "vip": "1"}


def test_a_percent_sign_in_an_id_is_not_decoded_twice(one):
    """An id containing "%41" is sent as "%2541"; decoding twice would write to "xAy"."""
    one.sb.add_users([{"external_id": "x%41y", "platform": "ios"}])
    one.sb.add_users([{"external_id": "xAy", "platform": "ios"}])
    assert _patch(one, "x%2541y", {"who": "percent"}).status_code == 202
    assert one.sb.user_tags("x%41y") == {"who": "percent"}
    assert one.sb.user_tags("xAy") == {}
    viewed = one.current("GET", f"/apps/{one.sb.app_id}/users/by/external_id/x%2541y")
    assert viewed.json()["identity"]["external_id"] == "x%41y"


# -- item 14: seeded tag values are stored as OneSignal stores JSON values -------------------


def test_seeded_booleans_and_integral_floats_become_onesignal_strings(one):
    """docs: add-user-data-tags ("42", "true"/"false"); limits table ``seeded_tag_values``."""
    pd = pytest.importorskip("pandas")
    one.sb.add_users(
        [{"external_id": "t", "platform": "ios",
          "tags": {"vip": True, "off": False, "ltv": 42.0, "score": 3.5, "n": 7, "gone": None}}]
    )  # fmt: skip
    assert one.sb.user_tags("t") == {
        "vip": "true", "off": "false", "ltv": "42", "score": "3.5", "n": "7"
    }  # fmt: skip
    frame = pd.DataFrame({"external_id": ["p"], "platform": ["ios"]})
    frame["tags"] = [{"orders": pd.Series([3.0]).iloc[0], "flag": pd.Series([True]).iloc[0]}]
    one.sb.add_users(frame)
    assert one.sb.user_tags("p") == {"orders": "3", "flag": "true"}


# -- item 4: cancel works only while something is left to send --------------------------------


@pytest.mark.parametrize("dialect", ["current", "legacy"])
def test_cancel_of_a_delivered_notification_is_400_with_an_errors_array(one, dialect):
    """v11.6 cancel-message: 400 "Usually due to the message already being sent"."""
    one.sb.add_users([{"external_id": "ana", "platform": "ios"}])
    nid = one.push(["ana"], api=dialect).json()["id"]
    call = one.current if dialect == "current" else one.legacy
    r = call("DELETE", f"/notifications/{nid}", params={"app_id": one.sb.app_id})
    assert r.status_code == 400
    assert isinstance(r.json()["errors"], list) and "already sent" in r.json()["errors"][0]
    later = one.push(["ana"], api=dialect, send_after="2999-01-01T00:00:00Z").json()["id"]
    r = call("DELETE", f"/notifications/{later}", params={"app_id": one.sb.app_id})
    assert (r.status_code, r.json()) == (200, {"success": True})
    again = call("DELETE", f"/notifications/{later}", params={"app_id": one.sb.app_id})
    assert again.status_code == 200  # re-cancel: the limits table's chosen reading


# -- item 11: idempotency keys are UUIDs, replayed for 30 days -----------------------------------


@pytest.mark.parametrize(
    ("dialect", "field"), [("current", "idempotency_key"), ("legacy", "external_id")]
)
@pytest.mark.parametrize("key", ["k-1", "not a uuid", "{1b4e28ba-2fa1-11d2-883f-0016d3cca427}"])
def test_a_key_that_is_not_a_uuid_is_refused(one, dialect, field, key):
    """v11.6 idempotency_key: "Any RFC 9562 UUID supported"; v1.2.2 external_id: a UUID."""
    one.sb.add_users([{"external_id": "ana", "platform": "ios"}])
    r = one.push(["ana"], api=dialect, **{field: key})
    assert r.status_code == 400 and "UUID" in r.json()["errors"][0]
    assert one.sb.notifications().empty


def test_a_reused_key_replays_the_first_answer_even_for_another_payload(one):
    """Undocumented case, safer reading (limits table ``idempotency``): never send twice."""
    one.sb.add_users([{"external_id": "ana", "platform": "ios"}])
    key = str(uuid.uuid4())
    first = one.push(["ana"], idempotency_key=key, contents={"en": "First"})
    other = one.push(["ana"], idempotency_key=key, contents={"en": "Other"})
    assert other.json() == first.json() and other.headers["idempotent-replayed"] == "true"
    assert list(one.sb.deliveries().contents) == ["First"]


def test_a_key_is_forgotten_after_30_days_of_sandbox_time(one):
    """v11.6 idempotency_key: "Valid for 30 days"."""
    one.sb.add_users([{"external_id": "ana", "platform": "ios"}])
    key = str(uuid.uuid4())
    first = one.push(["ana"], idempotency_key=key).json()["id"]
    one.sb.advance(days=29)
    assert one.push(["ana"], idempotency_key=key).json()["id"] == first
    one.sb.advance(days=1, minutes=1)
    later = one.push(["ana"], idempotency_key=key)
    assert later.json()["id"] not in ("", first) and "idempotent-replayed" not in later.headers
    assert len(one.sb.notifications()) == 2


# -- item 13: view calls have their own rate-limit group; per-platform stats ------------------


def test_view_calls_have_their_own_rate_limit_group():
    """docs: rate-limits: view message 1/s per app ("10 requests/sec look-back")."""
    with osn.Sandbox(rate_limits={"view": 1}) as sb:
        sb.add_users([{"external_id": "ana", "platform": "ios"}])
        api = Api(sb)
        nid = api.push(["ana"]).json()["id"]
        views = [
            api.current("GET", f"/notifications/{nid}", params={"app_id": sb.app_id}).status_code
            for _ in range(limits.VIEW_BURST + 2)
        ]
        assert views[: limits.VIEW_BURST] == [200] * limits.VIEW_BURST and views[-1] == 429
        assert api.push(["ana"]).status_code == 200  # create has a bucket of its own
        api.http.close()


def test_platform_delivery_stats_count_each_platform_separately(one):
    """v1.2.2 PlatformDeliveryData: per platform successful/failed/errored/converted/received;
    web browsers are separate keys (a ChromePush subscription counts as chrome_web_push)."""
    one.sb.add_users(
        [
            {"external_id": "m", "platform": "ios"},
            {"external_id": "m", "platform": "web", "subscribed": False},
            {"external_id": "n", "platform": "android"},
        ]
    )
    nid = one.push(["m", "n"]).json()["id"]
    stats = one.current("GET", f"/notifications/{nid}", params={"app_id": one.sb.app_id}).json()
    per = stats["platform_delivery_stats"]
    assert set(per) == {"ios", "android", "chrome_web_push"}
    keys = {"successful", "failed", "errored", "converted", "received"}
    assert all(set(v) == keys for v in per.values())
    assert per["chrome_web_push"]["failed"] == 1 and per["ios"]["successful"] == 1
    assert stats["failed"] == 1 and stats["successful"] == 2


# -- item 3: invalid_aliases lists an id once per unsubscribed subscription ------------------


def test_invalid_aliases_lists_each_dead_subscription_even_for_a_reached_person(one):
    """v11.6 create-message 200 example: ``user_id_1`` appears twice (two unsubscribed
    subscriptions); a listed person may still have been reached on a live device."""
    one.sb.add_users(
        [
            {"external_id": "both", "platform": "ios"},
            {"external_id": "both", "platform": "web", "subscribed": False},
            {"external_id": "dead2", "platform": "ios", "subscribed": False},
            {"external_id": "dead2", "platform": "android", "subscribed": False},
            {"external_id": "live", "platform": "ios"},
        ]
    )
    body = one.push(["both", "dead2", "live"]).json()
    assert sorted(body["errors"]["invalid_aliases"]["external_id"]) == ["both", "dead2", "dead2"]
    assert set(one.sb.deliveries(body["id"]).external_id) == {"both", "live"}
    legacy = one.push(["both"], api="legacy").json()
    assert legacy["errors"] == {"invalid_external_user_ids": ["both"]} and legacy["recipients"] == 1


# -- item 10: the subscription's language picks the text ----------------------------------------


def test_the_push_language_is_the_subscriptions_not_a_language_tag(one):
    """docs: multi-language-messaging: the device language picks the ``contents`` key."""
    one.sb.add_users(
        [
            {"external_id": "de", "platform": "ios", "language": "de"},
            {"external_id": "tagged", "platform": "ios"},
            {"external_id": "es", "platform": "ios", "language": "es"},
        ]
    )
    assert _patch(one, "tagged", {"language": "de"}).status_code == 202  # a tag, not a device
    contents = {"en": "Hi", "de": "Hallo", "es": "Hola {{ subscription.language }}"}
    nid = one.push(["de", "tagged", "es"], contents=contents).json()["id"]
    got = one.sb.deliveries(nid).set_index("external_id").contents.to_dict()
    assert got == {"de": "Hallo", "tagged": "Hi", "es": "Hola es"}
    view = one.current("GET", f"/apps/{one.sb.app_id}/users/by/external_id/de").json()
    assert view["properties"]["language"] == "de"


def test_a_seeded_language_tag_still_gives_the_device_language(one):
    """Seeding convenience kept for the sample roster (which stores the language as a tag)."""
    one.sb.add_users([{"external_id": "bo", "platform": "ios", "tags": {"language": "de"}}])
    nid = one.push(["bo"], contents={"en": "Hi", "de": "Hallo"}).json()["id"]
    assert list(one.sb.deliveries(nid).contents) == ["Hallo"]


# -- item 12: validation the spec documents ---------------------------------------------------

INVALID_FIELDS = [
    ("web button without url", {"web_buttons": [{"id": "a", "text": "Go"}]}, "web_buttons"),
    ("extra button key", {"buttons": [{"id": "a", "text": "Go", "color": "red"}]}, "color"),
    ("priority 7", {"priority": 7}, "priority"),
    ("subtitle languages", {"subtitle": {"en": "s", "de": "u"}}, "same languages"),
    ("subtitle missing en", {"contents": {"en": "a", "de": "b"}, "subtitle": {"en": "s"}},
     "same languages"),
    ("http url", {"url": "http://shop.example/x"}, "https"),
    ("http web_url", {"web_url": "http://shop.example/x"}, "https"),
    ("delayed throttled", {"delayed_option": "last-active", "throttle_rate_per_minute": 10},
     "throttl"),
    ("timezone without time", {"delayed_option": "timezone"}, "delivery_time_of_day"),
    ("bad time of day", {"delayed_option": "timezone", "delivery_time_of_day": "25:00"},
     "delivery_time_of_day"),
    ("bad send_after", {"send_after": "next tuesday-ish"}, "send_after"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "fields", "words"), INVALID_FIELDS, ids=[c[0] for c in INVALID_FIELDS]
)
def test_documented_field_rules_are_enforced(api, case, fields, words):
    """v11.6 create-message schema: web_buttons require url; buttons allow no other keys;
    priority is 5 or 10; subtitle has the languages of contents; url/web_url are https;
    delayed_option is not compatible with throttling."""
    r = api.push(["ana"], **fields)
    assert r.status_code == 400 and words in r.json()["errors"][0], r.text


def test_valid_buttons_priority_subtitle_and_app_scheme_url_pass(api):
    r = api.push(
        ["ana"],
        buttons=[{"id": "a", "text": "A", "icon": "ic"}],
        web_buttons=[{"id": "w", "text": "W", "url": "https://x.test"}],
        priority=5,
        subtitle={"en": "Sub"},
        url="https://x.test/{{ first_name }}",
        app_url="myapp://cart",
    )
    assert r.status_code == 200 and r.json()["id"], r.text


# -- item 2: tags per user are capped by plan --------------------------------------------------


def test_a_new_tag_over_the_cap_is_refused_with_onesignals_text():
    """Blog 'sustainably growing the OneSignal community': calls "which would result in more
    than 10 data tags" fail; text from OneSignal-iOS-SDK issue 1306."""
    with osn.Sandbox(max_tags=3) as sb:
        api = Api(sb)
        sb.add_users([{"external_id": "u", "platform": "ios", "tags": {"a": "1", "b": "2"}}])
        assert _patch(api, "u", {"c": "3"}).status_code == 202
        over = _patch(api, "u", {"d": "4"})
        assert over.status_code == 400
        assert (
            over.json()["errors"][0]["title"]
            == "App is limited to a maximum of 3 tags on a given player"
        )
        legacy = api.legacy("PUT", f"/apps/{sb.app_id}/users/u", {"tags": {"d": "4"}})
        assert legacy.status_code == 400 and "maximum of 3 tags" in legacy.json()["errors"][0]
        assert _patch(api, "u", {"a": "changed", "d": "4", "b": ""}).status_code == 202
        assert sb.user_tags("u") == {"a": "changed", "c": "3", "d": "4"}
        with pytest.raises(osn.OneSigNbError, match="max_tags"):
            sb.add_users([{"external_id": "v", "platform": "ios",
                           "tags": {k: "1" for k in "wxyz"}}])  # fmt: skip
        api.http.close()


def test_updates_and_deletes_that_leave_a_user_over_the_cap_are_refused(tmp_path):
    """OneSignal-iOS-SDK issue 1306: over the cap, even deleting tags errored."""
    db = tmp_path / "cap.sqlite"
    with osn.Sandbox(db=db, max_tags=None) as sb:
        sb.add_users([{"external_id": "u", "platform": "ios", "tags": {k: "1" for k in "abcde"}}])
    with osn.Sandbox(db=db, max_tags=3) as sb:
        api = Api(sb)
        assert _patch(api, "u", {"a": "2"}).status_code == 400  # update, still 5
        assert _patch(api, "u", {"a": ""}).status_code == 400  # delete to 4, still over
        assert _patch(api, "u", {"a": "", "b": ""}).status_code == 202  # down to 3
        assert sorted(sb.user_tags("u")) == ["c", "d", "e"]
        api.http.close()


def test_the_default_cap_is_the_documented_number():
    assert limits.DEFAULT_MAX_TAGS_PER_USER == 20
    with osn.Sandbox() as sb:
        assert sb.info()["max_tags"] == 20


# -- item 9: Liquid errors, the chosen reading -----------------------------------------------


def test_the_liquid_reading_is_written_in_the_table_with_its_source(api):
    """Undocumented: the sandbox refuses (400) a template that cannot parse or names an unknown
    filter, and says why in its limits table; missing values still render empty."""
    entry = limits.BEHAVIOURS["liquid_syntax_error_or_unknown_filter"]
    assert "400" in entry["sandbox"] and "undocumented" in entry["source"]
    r = api.push(["cy"], contents={"en": "Hi {{ nickname }}!"})
    assert r.status_code == 200
    assert list(api.sb.deliveries(r.json()["id"]).contents) == ["Hi !"]
    assert api.push(["ana"], contents={"en": "{{ x | shout }}"}).status_code == 400


# -- item 1: custom_data reaches Liquid only with a template -----------------------------------


def test_custom_data_renders_only_with_a_template_id(one):
    """v11.6 create-message custom_data: "Use with template_id"; docs:
    personalization-api-custom-data. Without a template the value renders empty."""
    sb = one.sb
    sb.add_users([{"external_id": "ana", "platform": "ios"}])
    text = {"en": "Code: {{ message.custom_data.code }}"}
    bare = one.push(["ana"], contents=text, custom_data={"code": "X1"}).json()["id"]
    tid = one.current(
        "POST", "/templates", {"app_id": sb.app_id, "name": "t", "contents": {"en": "unused"}}
    ).json()["id"]
    with_tpl = one.push(["ana"], contents=text, custom_data={"code": "X1"}, template_id=tid)
    assert list(sb.deliveries(bare).contents) == ["Code: "]
    assert list(sb.deliveries(with_tpl.json()["id"]).contents) == ["Code: X1"]
