"""client.check(), is_sandbox, and error texts that put our advice first."""

from __future__ import annotations

import pytest

import onesig_nb as osn
from onesig_nb.errors import APIError, AuthError
from onesig_nb.onesignal import OneSignal, RetryPolicy
from onesig_nb.onesignal.dialects import error_for

from .client_fakes import APP_ID

WRONG_APP = "00000000-0000-4000-8000-000000000000"
CONTENT_TYPE_HINT = "app_id not found. You may be missing a Content-Type: application/json header."
ACCESS_DENIED = "Access denied.  Please include an 'Authorization: ...' header with a valid API key"


def test_app_not_found_names_the_setting_and_drops_onesignals_content_type_hint():
    err = error_for(
        400, {"errors": [CONTENT_TYPE_HINT]}, method="POST", path="/notifications", app_id=WRONG_APP
    )
    text = str(err)
    assert type(err) is APIError and err.status == 400
    assert text.startswith(f"OneSignal does not know app id '{WRONG_APP}'")
    assert "ONESIGNAL_APP_ID" in text and "Settings > Keys & IDs" in text
    assert "Retrying will not help" in text
    assert "Content-Type" not in text
    assert text.rstrip(".").endswith("OneSignal said: app_id not found")
    assert err.errors == [CONTENT_TYPE_HINT]  # the server's own words stay available


def test_app_not_found_takes_the_app_id_from_the_path_when_not_given():
    body = {"errors": [{"code": "app-not-found", "title": "App not found"}]}
    path = f"/apps/{WRONG_APP}/users/by/external_id/u1"
    err = error_for(404, body, method="PATCH", path=path)
    assert str(err).startswith(f"OneSignal does not know app id '{WRONG_APP}'")
    assert "Nothing by that id" not in str(err)


def test_auth_error_puts_our_advice_first_and_the_server_text_after_onesignal_said():
    err = error_for(403, {"errors": [ACCESS_DENIED]}, method="GET", path="/notifications/x")
    text = str(err)
    assert isinstance(err, AuthError)
    assert text.index("ONESIGNAL_REST_API_KEY") < text.index("OneSignal said:")
    assert text.endswith(f"OneSignal said: {ACCESS_DENIED}")


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_a_send_with_a_wrong_app_id_reports_the_app_id_not_a_header(sandbox, api):
    with OneSignal(WRONG_APP, sandbox.api_key, base_url=sandbox.url, api=api) as client:
        result = client.send_push(["u_000001"], {"contents": {"en": "Hi"}})
    err = result.responses[0].error
    assert isinstance(err, APIError) and err.status == 400
    assert f"does not know app id '{WRONG_APP}'" in str(err)
    assert "Content-Type" not in str(err) and "ONESIGNAL_APP_ID" in str(err)


def test_tag_edits_with_a_wrong_app_id_say_so_too(sandbox):
    with OneSignal(WRONG_APP, sandbox.api_key, base_url=sandbox.url) as client:
        with pytest.raises(APIError, match="does not know app id"):
            client.edit_tags("u_000001", {"plan": "pro"})
        (res,) = client.edit_tags_bulk([("u_000001", {"plan": "pro"})])
    assert not res.ok and "does not know app id" in str(res.error)


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_check_proves_the_credentials_with_one_request_and_sends_nothing(sandbox, api, capsys):
    before_requests = sandbox.request_count()
    before_notifications = len(sandbox.notifications())
    with OneSignal(sandbox.app_id, sandbox.api_key, base_url=sandbox.url, api=api) as client:
        info = client.check()
    assert info == {
        "ok": True,
        "app_id": sandbox.app_id,
        "api": api,
        "base_url": sandbox.url,
        "sandbox": True,
        "key": "…" + sandbox.api_key[-4:],
    }
    assert sandbox.request_count() == before_requests + 1
    assert len(sandbox.notifications()) == before_notifications
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_check_with_a_wrong_key_raises_auth_error_after_one_request(sandbox, api):
    before = sandbox.request_count()
    with OneSignal(sandbox.app_id, "wrong-key-1234", base_url=sandbox.url, api=api) as client:
        with pytest.raises(AuthError) as info:
            client.check()
    text = str(info.value)
    assert text.startswith("OneSignal refused the credentials")
    assert text.index("ONESIGNAL_REST_API_KEY") < text.index("OneSignal said:")
    assert "wrong-key-1234" not in text
    assert sandbox.request_count() == before + 1


def test_check_with_a_wrong_app_id_raises_auth_error_naming_the_app_id(sandbox):
    with OneSignal(WRONG_APP, sandbox.api_key, base_url=sandbox.url) as client:
        with pytest.raises(AuthError) as info:
            client.check()
    text = str(info.value)
    assert text.startswith(f"OneSignal does not know app id '{WRONG_APP}'")
    assert "ONESIGNAL_APP_ID" in text and "OneSignal said:" in text


def test_check_accepts_a_notification_not_found_400(make_client, fake_api):
    fake_api.handler = lambda seen: (400, {"errors": ["Couldn't find notification with id"]})
    info = make_client().check()
    assert info["ok"] is True and info["app_id"] == APP_ID
    (seen,) = fake_api.seen
    assert seen.method == "GET" and f"app_id={APP_ID}" in seen.path


def test_check_calls_another_400_a_credentials_problem(make_client, fake_api):
    fake_api.handler = lambda seen: (400, {"errors": ["Something about the app"]})
    with pytest.raises(AuthError, match="OneSignal said: Something about the app"):
        make_client().check()


def test_check_does_not_blame_the_credentials_for_a_server_error(make_client, fake_api):
    fake_api.handler = lambda seen: (503, {"errors": ["Service temporarily unavailable"]})
    client = make_client(retry=RetryPolicy(max_attempts=2, base=0.01, cap=0.01))
    with pytest.raises(APIError) as info:
        client.check()
    assert not isinstance(info.value, AuthError) and info.value.status == 503


def test_is_sandbox_is_false_for_the_real_host_and_true_for_a_sandbox(sandbox):
    real = OneSignal(APP_ID, "os_v2_app_not_a_real_key_123456")
    assert real.is_sandbox is False
    real.close()
    with OneSignal(sandbox.app_id, sandbox.api_key, base_url=sandbox.url) as local:
        assert local.is_sandbox is True


def test_connect_gives_a_context_manager_that_closes_the_client(monkeypatch, sandbox):
    monkeypatch.setenv("ONESIGNAL_APP_ID", sandbox.app_id)
    monkeypatch.setenv("ONESIGNAL_REST_API_KEY", sandbox.api_key)
    monkeypatch.setenv("ONESIGNAL_API_BASE", sandbox.url)
    with osn.connect() as client:
        assert client.check()["sandbox"] is True
        # write back the value it has, so the shared sample sandbox is left as it was
        plan = sandbox.user_tags("u_000001").get("plan", "")
        client.edit_tags_bulk([("u_000001", {"plan": plan})])
        thread = client.engine._thread
        assert thread.is_alive()
    assert not thread.is_alive() and client._engine is None
    assert sandbox.running  # the environment's sandbox is not the client's to stop
