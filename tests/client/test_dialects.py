"""Wire formats: bodies, paths, auth schemes and every response / error shape in the reference."""

from __future__ import annotations

import pytest

from onesig_nb.errors import APIError, AuthError, RateLimited, ValidationError
from onesig_nb.onesignal.dialects import (
    CURRENT,
    LEGACY,
    decode_body,
    error_for,
    flatten_errors,
    platform_flags,
)
from onesig_nb.onesignal.models import NotificationRequest

APP = "app-1"


def _req(ids=("a", "b"), platforms=None, payload=None):
    return NotificationRequest(
        payload=payload or {"contents": {"en": "Hi"}},
        external_ids=tuple(ids),
        idempotency_key="k-1",
        platforms=platforms,
    )


def test_legacy_body_targets_external_user_ids_with_external_id_as_idempotency_key():
    body = LEGACY.notification_body(APP, _req())
    assert body == {
        "app_id": APP,
        "contents": {"en": "Hi"},
        "include_external_user_ids": ["a", "b"],
        "channel_for_external_user_ids": "push",
        "external_id": "k-1",
    }
    assert LEGACY.notifications_path() == "/api/v1/notifications"
    assert LEGACY.auth_header("s3cret") == "Basic s3cret"


def test_current_body_targets_aliases_with_idempotency_key():
    body = CURRENT.notification_body(APP, _req())
    assert body["include_aliases"] == {"external_id": ["a", "b"]}
    assert body["target_channel"] == "push"
    assert body["idempotency_key"] == "k-1"
    assert "include_external_user_ids" not in body and "external_id" not in body
    assert CURRENT.notifications_path() == "/notifications"
    assert CURRENT.auth_header("s3cret") == "Key s3cret"


def test_tag_edit_paths_and_bodies_differ_per_generation():
    assert LEGACY.tag_method == "PUT"
    assert LEGACY.tags_path(APP, "u/1") == "/api/v1/apps/app-1/users/u%2F1"
    assert LEGACY.tags_body({"plan": "pro"}) == {"tags": {"plan": "pro"}}
    assert CURRENT.tag_method == "PATCH"
    assert CURRENT.tags_path(APP, "u 1") == "/apps/app-1/users/by/external_id/u%201"
    assert CURRENT.tags_body({"plan": ""}) == {"properties": {"tags": {"plan": ""}}}


def test_platform_restriction_maps_to_flags():
    flags = platform_flags(("ios", "web"))
    assert flags["isIos"] is True and flags["isAnyWeb"] is True
    assert flags["isAndroid"] is False and flags["isHuawei"] is False
    assert "isChromeWeb" not in flags  # web chosen: its sub-flags are left alone
    assert platform_flags(("android",))["isChromeWeb"] is False
    assert platform_flags(None) == {}
    with pytest.raises(ValidationError, match="Unknown platform"):
        platform_flags(("blackberry",))
    assert CURRENT.notification_body(APP, _req(platforms=("ios",)))["isIos"] is True


def test_payload_with_targeting_is_refused():
    with pytest.raises(ValidationError, match="include_aliases"):
        CURRENT.notification_body(
            APP, _req(payload={"contents": {"en": "x"}, "include_aliases": {}})
        )


def test_too_many_ids_for_one_request_is_refused():
    with pytest.raises(ValidationError, match="2,000"):
        LEGACY.notification_body(APP, _req(ids=[str(i) for i in range(2_001)]))
    CURRENT.notification_body(APP, _req(ids=[str(i) for i in range(2_001)]))  # fine up to 20,000


@pytest.mark.parametrize(
    "body, expect_id, invalid, errors",
    [
        # sent, no errors
        ({"id": "n1", "recipients": 2, "external_id": None}, "n1", (), ()),
        # HTTP 200 "Message Not Sent" (legacy and newer form without recipients)
        (
            {"id": "", "recipients": 0, "errors": ["All included players are not subscribed"]},
            "",
            (),
            ("All included players are not subscribed",),
        ),
        ({"id": "", "errors": ["All included players are not subscribed"]}, "", (), None),
        # partial success, legacy object of invalid ids
        ({"id": "n2", "errors": {"invalid_external_user_ids": ["x", "y"]}}, "n2", ("x", "y"), None),
        # partial success, current invalid_aliases (an id repeats once per subscription)
        (
            {
                "id": "n3",
                "external_id": None,
                "errors": {"invalid_aliases": {"external_id": ["x", "x"]}},
            },
            "n3",
            ("x",),
            None,
        ),
        # invalid player ids are not external ids
        ({"id": "", "recipients": 0, "errors": {"invalid_player_ids": ["p1"]}}, "", (), None),
        # buggy SDK-era shapes
        ({"id": "", "errors": {}}, "", (), ()),
        ({"id": "n4", "errors": [{}]}, "n4", (), ()),
        # warnings object counts too
        ({"id": "n5", "warnings": {"invalid_external_user_ids": ["w"]}}, "n5", ("w",), ()),
    ],
)
def test_notification_response_parses_every_errors_shape(body, expect_id, invalid, errors):
    resp = CURRENT.notification_response(_req(), 200, body, {})
    assert resp.id == expect_id
    assert resp.invalid_external_ids == invalid
    assert resp.error is None
    if errors is not None:
        assert resp.errors == errors
    assert resp.sent is bool(expect_id)


def test_invalid_player_ids_show_up_as_error_text():
    resp = LEGACY.notification_response(
        _req(), 200, {"id": "", "errors": {"invalid_player_ids": ["p1"]}}, {}
    )
    assert resp.errors == ("invalid_player_ids: p1",)


def test_replayed_header_is_reported():
    resp = CURRENT.notification_response(_req(), 200, {"id": "n"}, {"Idempotent-Replayed": "true"})
    assert resp.replayed is True


@pytest.mark.parametrize("raw", [b"<html>bad gateway</html>", b"", b"[1, 2]"])
def test_non_object_2xx_body_is_a_failed_response_not_a_crash(raw):
    resp = CURRENT.notification_response(_req(), 200, decode_body(raw), {})
    assert resp.id == ""
    assert isinstance(resp.error, APIError)
    assert "idempotency key" in str(resp.error)


def test_flatten_errors_handles_every_shape():
    assert flatten_errors(None) == []
    assert flatten_errors("boom") == ["boom"]
    assert flatten_errors(["a", "b"]) == ["a", "b"]
    assert flatten_errors([{"code": "auth-1", "title": "Needs auth"}]) == ["Needs auth (auth-1)"]
    assert flatten_errors([{"code": "x"}]) == ["x"]
    assert flatten_errors([{}]) == []
    assert flatten_errors([{"meta": 1}]) == ['{"meta":1}']
    assert flatten_errors({"invalid_aliases": {"external_id": list("abcdefg")}}) == [
        "invalid_aliases.external_id: a, b, c, d, e and 2 more"
    ]


LEGACY_AUTH = (
    "Please include a case-sensitive header of Authorization: Basic <YOUR-REST-API-KEY-HERE> or "
    'Bearer token="<YOUR-REST-API-KEY-HERE>" with a valid REST API key.'
)


@pytest.mark.parametrize(
    "status, body, kind",
    [
        (400, {"errors": [LEGACY_AUTH], "reference": ["https://x"]}, AuthError),
        (401, {"errors": [{"code": "auth-1", "title": "requires 'Authorization'"}]}, AuthError),
        (
            403,
            {"errors": ["Access denied.  Please include an 'Authorization: ...' header"]},
            AuthError,
        ),
        (403, {"errors": ["This API is not available for applications on your plan."]}, AuthError),
        (429, {"errors": ["API rate limit exceeded"]}, RateLimited),
        (400, {"errors": ["Message Notifications must have English language content"]}, APIError),
        (400, {"errors": [{"code": "x", "title": "bad tags"}]}, APIError),
        (404, {"errors": ["No players found for given external_user_id"]}, APIError),
        (409, {"errors": [{"code": "Subscription Limit Exceeded"}]}, APIError),
        (503, "Service temporarily unavailable", APIError),
        (500, None, APIError),
    ],
)
def test_error_statuses_map_to_typed_errors(status, body, kind):
    err = error_for(status, body, method="POST", path="/notifications", retry_after=3)
    assert type(err) is kind
    assert err.status == status
    assert str(status) in str(err)
    if kind is AuthError:
        assert "ONESIGNAL_REST_API_KEY" in str(err) and "ONESIGNAL_APP_ID" in str(err)
        assert "legacy" in str(err)
    if kind is RateLimited:
        assert err.retry_after == 3
    if body:
        assert err.errors  # flattened API text is kept
        assert all(isinstance(e, str) for e in err.errors)


def test_api_error_message_quotes_the_api_text():
    err = error_for(400, {"errors": ["ttl too large"]}, method="POST", path="/notifications")
    assert "ttl too large" in str(err)
    assert err.errors == ["ttl too large"]
    assert err.body == {"errors": ["ttl too large"]}


@pytest.mark.parametrize(
    "body",
    [
        None,
        "text",
        {"platform_delivery_stats": 1.0},
        {"platform_delivery_stats": [[]]},
        {"successful": "3", "remaining": True, "completed_at": 1e400},
    ],
)
def test_odd_view_bodies_never_raise(body):
    stats = CURRENT.stats(body)
    assert stats.platform_delivery_stats == {} and stats.successful == 0
    assert stats.remaining is None and stats.completed_at is None


def test_view_stats_are_read():
    stats = LEGACY.stats(
        {
            "id": "n",
            "successful": 5,
            "failed": 1,
            "remaining": 0,
            "platform_delivery_stats": {"ios": {"successful": 5}},
        }
    )
    assert (stats.id, stats.successful, stats.failed, stats.remaining) == ("n", 5, 1, 0)
    assert stats.platform_delivery_stats == {"ios": {"successful": 5}}


def test_the_plan_tag_cap_is_explained_with_the_fix():
    """OneSignal caps tags per user by plan, even for updates and deletes (behaviour sources)."""
    err = error_for(
        400,
        {"errors": ["App is limited to a maximum of 10 tags on a given player"]},
        method="PATCH",
        path="/apps/a/users/by/external_id/u1",
    )
    assert err.status == 400
    assert "caps tags at 10 per user" in str(err) and "TagSync(tags=[...])" in str(err)
