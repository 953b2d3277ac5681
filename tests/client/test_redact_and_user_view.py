"""What the client hides (its key, through ``client.redact``) and where it reads users from."""

from __future__ import annotations

import pytest
import requests
from requests.adapters import BaseAdapter

from onesig_nb.errors import AuthError
from onesig_nb.onesignal import OneSignal

from .client_fakes import API_KEY, APP_ID

USER = {"properties": {"tags": {"plan": "pro"}}, "identity": {"external_id": "u1"}}


class _Recorder(BaseAdapter):
    """A requests transport that answers every request itself and remembers what was asked."""

    def __init__(self, status: int = 200, body: bytes = b"{}"):
        super().__init__()
        self.status, self.body = status, body
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.seen.append(request)
        resp = requests.Response()
        resp.status_code, resp._content, resp.url = self.status, self.body, request.url
        resp.headers["Content-Type"] = "application/json"
        return resp

    def close(self):
        pass


def _client(adapter: _Recorder, **options) -> OneSignal:
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return OneSignal(APP_ID, API_KEY, session=session, rate_limits=False, **options)


def test_redact_masks_the_key_wherever_it_appears_and_leaves_the_rest():
    with OneSignal(APP_ID, f" {API_KEY}\n") as client:
        text = f"proxy said: Authorization: Key {API_KEY} (and again {API_KEY})"
        redacted = client.redact(text)
    assert API_KEY not in redacted
    assert redacted == "proxy said: Authorization: Key …cdef (and again …cdef)"
    assert client.redact("nothing secret here") == "nothing secret here"


def test_a_legacy_client_on_the_real_host_reads_users_from_the_user_model_host():
    import orjson

    adapter = _Recorder(body=orjson.dumps(USER))
    with _client(adapter, api="legacy") as client:
        assert client.view_user("a/b")["properties"]["tags"] == {"plan": "pro"}
    [seen] = adapter.seen
    # not https://onesignal.com/apps/..., which is no API route (issue 13, item 5)
    assert seen.url == f"https://api.onesignal.com/apps/{APP_ID}/users/by/external_id/a%2Fb"
    assert seen.headers["Authorization"] == f"Key {API_KEY}"


@pytest.mark.parametrize(
    "api, base_url",
    [("current", None), ("current", "http://127.0.0.1:9"), ("legacy", "http://127.0.0.1:9")],
)
def test_other_clients_read_users_from_their_own_base_url(api, base_url):
    adapter = _Recorder(body=b'{"identity": {"external_id": "u1"}}')
    with _client(adapter, api=api, base_url=base_url) as client:
        client.view_user("u1")
        expected = f"{client.base_url}/apps/{APP_ID}/users/by/external_id/u1"
    assert [r.url for r in adapter.seen] == [expected]


def test_an_auth_failure_on_the_user_model_host_names_the_key_not_the_key_itself():
    adapter = _Recorder(status=401, body=b'{"errors": [{"code": "auth-1", "title": "No"}]}')
    with _client(adapter, api="legacy") as client, pytest.raises(AuthError) as info:
        client.view_user("u1")
    assert "ONESIGNAL_REST_API_KEY" in str(info.value) and API_KEY not in str(info.value)


def test_key_hint_shows_only_the_last_four_characters():
    with OneSignal(APP_ID, API_KEY) as client:
        assert client.key_hint == "…cdef" and client.key_hint in repr(client)
        assert API_KEY not in repr(client)
