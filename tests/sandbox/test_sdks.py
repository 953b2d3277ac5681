"""OneSignal's own SDKs work against the sandbox unchanged and parse every response."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

onesignal = pytest.importorskip("onesignal")
onesignal_sdk = pytest.importorskip("onesignal_sdk")

from onesignal.api import default_api  # noqa: E402
from onesignal.model.notification import Notification  # noqa: E402
from onesignal.model.properties_object import PropertiesObject  # noqa: E402
from onesignal.model.update_user_request import UpdateUserRequest  # noqa: E402
from onesignal_sdk.client import Client  # noqa: E402
from onesignal_sdk.error import OneSignalHTTPError  # noqa: E402


@pytest.fixture
def official(seeded):
    cfg = onesignal.Configuration(rest_api_key=seeded.api_key, host=seeded.url)
    with onesignal.ApiClient(cfg) as client:
        yield default_api.DefaultApi(client)


def push_to(seeded, external_ids: list[str], **fields) -> Notification:
    """The official SDK's Notification of a push to ``external_ids`` in the seeded app."""
    return Notification(
        app_id=seeded.app_id,
        include_aliases={"external_id": external_ids},
        target_channel="push",
        **fields,
    )


def test_official_sdk_creates_with_include_aliases_and_views_it(official, seeded):
    sent = official.create_notification(
        push_to(
            seeded,
            ["ana", "off", "nobody"],
            contents={"en": "Hi {{ first_name }}"},
            idempotency_key=str(uuid.uuid4()),
        )
    )
    assert sent.id and sent.errors == {"invalid_aliases": {"external_id": ["off"]}}
    stats = official.get_notification(seeded.app_id, sent.id)
    assert stats.successful == 1 and stats.failed == 1 and stats.remaining == 0
    assert list(seeded.deliveries(sent.id).contents) == ["Hi Ana"]
    with pytest.raises(onesignal.ApiException) as delivered:  # already sent: 400 (v11.6)
        official.cancel_notification(seeded.app_id, sent.id)
    assert delivered.value.status == 400


def test_official_sdk_schedules_views_and_cancels(official, seeded):
    sent = official.create_notification(
        push_to(
            seeded,
            ["ana"],
            contents={"en": "Later"},
            send_after=datetime(2999, 1, 1, 9, tzinfo=UTC),
        )
    )
    stats = official.get_notification(seeded.app_id, sent.id)
    assert stats.remaining == 1 and stats.successful == 0
    assert (
        stats.send_after == int(datetime(2999, 1, 1, 9, tzinfo=UTC).timestamp())
        and stats.get("completed_at") is None
    )
    assert official.cancel_notification(seeded.app_id, sent.id).success is True


def test_official_sdk_parses_the_nobody_reachable_answer(official, seeded):
    sent = official.create_notification(push_to(seeded, ["off"], contents={"en": "x"}))
    assert sent.id == "" and sent.errors == ["All included players are not subscribed"]


def test_official_sdk_updates_tags_and_views_the_user(official, seeded):
    official.update_user(
        seeded.app_id,
        "external_id",
        "cy",
        UpdateUserRequest(properties=PropertiesObject(tags={"plan": "pro"})),
    )
    user = official.get_user(seeded.app_id, "external_id", "cy")
    assert user.properties.tags["plan"] == "pro"
    assert user.identity["external_id"] == "cy"
    assert user.subscriptions[0].type == "ChromePush"


def test_official_sdk_retry_helper_sees_replays(official, seeded):
    if not hasattr(official, "create_notification_with_retry"):
        pytest.skip("onesignal-python-api < 5.7 has no create_notification_with_retry")
    key = str(uuid.uuid4())
    note = push_to(seeded, ["ana"], contents={"en": "x"}, idempotency_key=key)
    first = official.create_notification_with_retry(note)
    again = official.create_notification_with_retry(note)
    assert (first.was_replayed, again.was_replayed) == (False, True)
    assert first.response.id == again.response.id


def test_official_sdk_gets_api_exceptions_for_errors(seeded):
    cfg = onesignal.Configuration(rest_api_key="wrong", host=seeded.url)
    with onesignal.ApiClient(cfg) as client:
        api = default_api.DefaultApi(client)
        with pytest.raises(onesignal.ApiException) as err:
            api.get_user(seeded.app_id, "external_id", "ana")
    assert err.value.status == 403


def test_community_sdk_sends_edits_tags_and_views(seeded):
    client = Client(seeded.app_id, seeded.api_key, options={"API_ROOT": seeded.url + "/api/v1"})
    sent = client.send_notification(
        {"contents": {"en": "Hallo {{ first_name }}"}, "include_external_user_ids": ["bo", "off"]}
    )
    assert sent.status_code == 200 and sent.body["recipients"] == 1
    assert sent.body["errors"] == {"invalid_external_user_ids": ["off"]}
    edited = client.edit_tags("bo", {"tags": {"vip": "yes"}})
    assert edited.body == {"success": True}
    assert seeded.user_tags("bo")["vip"] == "yes"
    viewed = client.view_notification(sent.body["id"])
    assert viewed.body["successful"] == 1
    later = client.send_notification(
        {"contents": {"en": "x"}, "include_external_user_ids": ["bo"], "send_after": "2999-01-01"}
    )
    assert client.cancel_notification(later.body["id"]).body == {"success": True}
    with pytest.raises(OneSignalHTTPError) as sent_already:
        client.cancel_notification(sent.body["id"])
    assert sent_already.value.status_code == 400


def test_community_sdk_errors_carry_the_first_error_text(seeded):
    client = Client(seeded.app_id, "wrong-key", options={"API_ROOT": seeded.url + "/api/v1"})
    with pytest.raises(OneSignalHTTPError) as err:
        client.send_notification({"contents": {"en": "x"}, "include_external_user_ids": ["bo"]})
    assert err.value.status_code == 400
    assert err.value.message.startswith("Please include a case-sensitive header")
    good = Client(seeded.app_id, seeded.api_key, options={"API_ROOT": seeded.url + "/api/v1"})
    with pytest.raises(OneSignalHTTPError) as err:
        good.edit_tags("ghost", {"tags": {"a": "1"}})
    assert err.value.status_code == 404


def test_official_sdk_lists_notifications_and_manages_templates(official, seeded):
    """The template endpoints and view-messages the official SDK 5.x calls (issue 13)."""
    from onesignal.model.create_template_request import CreateTemplateRequest
    from onesignal.model.update_template_request import UpdateTemplateRequest

    made = official.create_template(
        CreateTemplateRequest(app_id=seeded.app_id, name="sdk", contents={"en": "Hey"})
    )
    assert made.id and made.channel == "push"
    viewed = official.view_template(made.id, seeded.app_id)
    assert viewed.name == "sdk" and viewed.content["contents"] == {"en": "Hey"}
    renamed = official.update_template(
        made.id, seeded.app_id, UpdateTemplateRequest(name="sdk-2", contents={"en": "Yo"})
    )
    assert renamed.name == "sdk-2"
    listed = official.view_templates(seeded.app_id, limit=10)
    assert made.id in [t.id for t in listed.templates]
    sent = official.create_notification(push_to(seeded, ["ana"], template_id=made.id))
    assert list(seeded.deliveries(sent.id).contents) == ["Yo"]
    page = official.get_notifications(seeded.app_id, limit=5)
    assert page.notifications[0].id == sent.id and page.total_count >= 1
    assert official.delete_template(made.id, seeded.app_id).success is True
