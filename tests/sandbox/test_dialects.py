"""Both API families end to end: targeting, platform filters, validation, auth, stats."""

from __future__ import annotations

import pytest

from onesig_nb.sandbox import limits
from onesig_nb.sandbox.responses import ACCESS_DENIED, LEGACY_AUTH_ERROR, USER_AUTH_MISSING

NO_SUBS = ["All included players are not subscribed"]
KEY = "5f0c1b2e-8a3d-4c4e-9b1a-2d3e4f5a6b7c"


def test_current_push_reports_unsubscribed_ids_and_ignores_unknown(api):
    r = api.push(["ana", "off", "nobody"])
    body = r.json()
    assert r.status_code == 200 and body["id"]
    assert body["errors"] == {"invalid_aliases": {"external_id": ["off"]}}
    assert set(api.sb.deliveries(body["id"]).external_id) == {"ana"}


def test_legacy_push_reports_invalid_external_user_ids_and_recipients(api):
    body = api.push(["bo", "off", "nobody"], api="legacy").json()
    assert body["recipients"] == 1
    assert body["errors"] == {"invalid_external_user_ids": ["off"]}


@pytest.mark.parametrize("dialect", ["current", "legacy"])
def test_nobody_reachable_answers_200_with_empty_id(api, dialect):
    before = len(api.sb.notifications())
    r = api.push(["off", "nobody"], api=dialect)
    assert r.status_code == 200
    assert r.json()["id"] == "" and r.json()["errors"] == NO_SUBS
    assert len(api.sb.notifications()) == before


def test_every_subscription_of_a_user_gets_a_delivery(api):
    nid = api.push(["multi"]).json()["id"]
    assert sorted(api.sb.deliveries(nid).platform) == ["ios", "web"]


@pytest.mark.parametrize(
    ("flags", "platforms"),
    [
        ({"isIos": True}, ["ios", "ios"]),
        ({"isAnyWeb": True}, ["web", "web"]),
        ({"isIos": False}, ["android", "web", "web"]),
        ({"isAndroid": True, "isIos": True}, ["android", "ios", "ios"]),
    ],
)
def test_platform_flags_filter_subscriptions(api, flags, platforms):
    # ana: ios, bo: android, cy: web, multi: ios + web
    nid = api.push(["ana", "bo", "cy", "multi"], api="legacy", **flags).json()["id"]
    assert sorted(api.sb.deliveries(nid).platform) == platforms


def test_email_channel_reaches_no_push_subscription(api):
    r = api.push(["ana"], target_channel="email")
    assert r.json() == {"id": "", "errors": NO_SUBS}
    r = api.push(["ana"], api="legacy", channel_for_external_user_ids="sms")
    assert r.json()["id"] == ""


def test_liquid_renders_per_recipient_in_their_language(api):
    nid = api.push(
        ["ana", "bo", "cy"],
        headings={"en": "For {{ city | default: 'you' }}"},
        contents={"en": "Hi {{ first_name | default: 'there' }}", "de": "Hallo {{ first_name }}"},
        url="https://x.test/{{ user.tags.first_name }}",
    ).json()["id"]
    d = api.sb.deliveries(nid).set_index("external_id")
    assert d.loc["ana", "contents"] == "Hi Ana" and d.loc["ana", "heading"] == "For Lisbon"
    assert d.loc["bo", "contents"] == "Hallo Bo"
    assert d.loc["cy", "contents"] == "Hi there" and d.loc["cy", "url"] == "https://x.test/"


def test_view_notification_stats_match_delivery_rows(api):
    nid = api.push(["ana", "bo", "off", "multi"]).json()["id"]
    stats = api.current("GET", f"/notifications/{nid}", params={"app_id": api.sb.app_id}).json()
    rows = api.sb.deliveries(nid)
    assert stats["successful"] == (rows.status == "sent").sum() == 4
    assert stats["failed"] == 1 and stats["errored"] == 0 and stats["remaining"] == 0
    assert stats["converted"] == rows.converted.sum()
    legacy = api.legacy("GET", f"/notifications/{nid}", params={"app_id": api.sb.app_id}).json()
    assert legacy["successful"] == 4


def test_conversions_are_a_deterministic_seeded_fraction(fresh_api):
    sb = fresh_api.sb
    sb.add_users([{"external_id": f"u{i}", "platform": "ios"} for i in range(400)])
    nid = fresh_api.push([f"u{i}" for i in range(400)]).json()["id"]
    converted = int(sb.deliveries(nid).converted.sum())
    assert 15 <= converted <= 70  # ~10 % of 400
    again = fresh_api.current("GET", f"/notifications/{nid}", params={"app_id": sb.app_id})
    assert again.json()["converted"] == converted


def test_cancel_stops_a_scheduled_notification_and_marks_it_canceled(api):
    nid = api.push(["ana"], send_after="2999-01-01T00:00:00Z").json()["id"]
    r = api.current("DELETE", f"/notifications/{nid}", params={"app_id": api.sb.app_id})
    assert r.json() == {"success": True}
    view = api.current("GET", f"/notifications/{nid}", params={"app_id": api.sb.app_id})
    assert view.json()["canceled"] is True and view.json()["remaining"] == 0
    assert api.sb.deliveries(nid).empty
    missing = api.legacy("DELETE", "/notifications/nope", params={"app_id": api.sb.app_id})
    assert missing.status_code == 404


def test_create_user_over_http_then_push_reaches_it(api):
    sb = api.sb
    body = {
        "identity": {"external_id": "newbie"},
        "properties": {"tags": {"first_name": "Nia"}},
        "subscriptions": [{"type": "AndroidPush", "token": "tok", "enabled": True}],
    }
    r = api.current("POST", f"/apps/{sb.app_id}/users", body)
    assert r.status_code == 200 and r.json()["identity"]["external_id"] == "newbie"
    again = api.current("POST", f"/apps/{sb.app_id}/users", {"identity": {"external_id": "newbie"}})
    assert again.status_code == 202
    nid = api.push(["newbie"], contents={"en": "Yo {{ first_name }}"}).json()["id"]
    assert list(sb.deliveries(nid).contents) == ["Yo Nia"]


def test_view_user_returns_tags_identity_and_subscriptions(api):
    r = api.current("GET", f"/apps/{api.sb.app_id}/users/by/external_id/multi")
    body = r.json()
    assert body["identity"]["external_id"] == "multi"
    assert body["properties"]["tags"] == {"first_name": "Mo"}
    assert sorted(s["type"] for s in body["subscriptions"]) == ["ChromePush", "iOSPush"]
    assert api.current("GET", f"/apps/{api.sb.app_id}/users/by/external_id/zzz").status_code == 404


def test_empty_tag_value_deletes_and_unknown_user_is_404(api):
    sb = api.sb
    api.legacy("PUT", f"/apps/{sb.app_id}/users/cy", {"tags": {"a": "1", "b": "2"}})
    api.current(
        "PATCH", f"/apps/{sb.app_id}/users/by/external_id/cy", {"properties": {"tags": {"a": ""}}}
    )
    assert sb.user_tags("cy") == {"b": "2"}
    r = api.legacy("PUT", f"/apps/{sb.app_id}/users/ghost", {"tags": {"a": "1"}})
    assert r.status_code == 404 and r.json()["success"] is False


def _push_body(sb, **over):
    body = {
        "app_id": sb.app_id,
        "contents": {"en": "Hi"},
        "include_aliases": {"external_id": ["ana"]},
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


BAD_PUSHES = [
    ("missing app_id", {"app_id": None}, "app_id"),
    ("wrong app_id", {"app_id": "00000000-0000-0000-0000-000000000000"}, "app_id not found"),
    ("missing contents", {"contents": None}, "contents"),
    ("no english", {"contents": {"es": "Hola"}}, "English language content"),
    (
        "too many aliases",
        {"include_aliases": {"external_id": ["x"] * (limits.CURRENT_MAX_ALIASES + 1)}},
        "20,000",
    ),
    ("four buttons", {"buttons": [{"id": str(i), "text": "b"} for i in range(4)]}, "at most 3"),
    ("ttl too long", {"ttl": limits.MAX_TTL_SECONDS + 1}, "ttl"),
    ("ttl negative", {"ttl": -1}, "ttl"),
    ("data too big", {"data": {"k": "x" * limits.MAX_DATA_BYTES}}, "2,048 bytes"),
    ("no targets", {"include_aliases": None}, "You must include which players"),
    ("bad liquid", {"contents": {"en": "Hi {{ first_name "}}, "Liquid"),
    ("ids not a list", {"include_aliases": {"external_id": "ana"}}, "array of strings"),
]


@pytest.mark.parametrize(("case", "over", "text"), BAD_PUSHES, ids=[c[0] for c in BAD_PUSHES])
def test_invalid_push_is_400_with_errors_array(api, case, over, text):
    r = api.current("POST", "/notifications", _push_body(api.sb, **over))
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert isinstance(errors, list) and text in errors[0]


def test_legacy_over_limit_external_ids_is_400(api):
    ids = [f"x{i}" for i in range(limits.LEGACY_MAX_EXTERNAL_IDS + 1)]
    r = api.push(ids, api="legacy")
    assert r.status_code == 400 and "2,000" in r.json()["errors"][0]


@pytest.mark.parametrize(
    ("tags", "text"),
    [
        ({f"t{i}": "v" for i in range(101)}, "100 per request"),
        ({"n": 5}, "must be a string"),
        ({"n": None}, "must be a string"),
        ({"n": ["a"]}, "must be a string"),
    ],
)
def test_bad_tags_are_400_in_both_dialects(api, tags, text):
    sb = api.sb
    legacy = api.legacy("PUT", f"/apps/{sb.app_id}/users/ana", {"tags": tags})
    assert legacy.status_code == 400 and text in legacy.json()["errors"][0]
    current = api.current(
        "PATCH", f"/apps/{sb.app_id}/users/by/external_id/ana", {"properties": {"tags": tags}}
    )
    assert current.status_code == 400 and text in current.json()["errors"][0]["title"]
    assert "n" not in sb.user_tags("ana")


def test_auth_errors_use_the_verbatim_bodies(api):
    sb = api.sb
    r = api.legacy("POST", "/notifications", {}, auth=f"Key {sb.api_key}")
    assert (r.status_code, r.json()) == (400, LEGACY_AUTH_ERROR)
    r = api.legacy("PUT", f"/apps/{sb.app_id}/users/ana", {"tags": {}}, auth="Basic wrong")
    assert (r.status_code, r.json()) == (400, LEGACY_AUTH_ERROR)
    r = api.current("POST", "/notifications", {}, auth=f"Basic {sb.api_key}")
    assert (r.status_code, r.json()) == (403, ACCESS_DENIED)
    r = api.current("PATCH", f"/apps/{sb.app_id}/users/by/external_id/ana", {}, auth="")
    assert (r.status_code, r.json()) == (401, USER_AUTH_MISSING)
    r = api.current("GET", f"/apps/{sb.app_id}/users/by/external_id/ana", auth="Key nope")
    assert r.status_code == 403


def test_malformed_json_unknown_routes_and_huge_bodies_are_4xx_json(api):
    sb = api.sb
    r = api.http.post(
        "/notifications", content=b"{nope", headers={"Authorization": f"Key {sb.api_key}"}
    )
    assert r.status_code == 400 and r.json()["errors"]
    r = api.current("GET", "/no/such/route")
    assert r.status_code == 404 and r.json()["errors"]
    r = api.current("PUT", "/notifications")
    assert r.status_code == 405
    huge = b"[" + b"1," * 3_000_000 + b"1]"
    r = api.http.post(
        "/notifications", content=huge, headers={"Authorization": f"Key {sb.api_key}"}
    )
    assert r.status_code == 413 and r.json()["errors"]


def test_request_log_records_every_api_request_but_no_admin_calls(fresh_api):
    sb = fresh_api.sb
    assert sb.request_count() == 0
    fresh_api.push(["ana"], idempotency_key=KEY)
    fresh_api.current("GET", "/nowhere")
    sb.deliveries(), sb.users(), sb.notifications()
    log = sb.requests()
    assert list(log.path) == ["/notifications", "/nowhere"]
    assert list(log.status) == [200, 404]
    assert log.idempotency_key[0] == KEY and log.api[0] == "current"
