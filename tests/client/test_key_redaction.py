"""The API key never leaks: not in errors, in answers that echo it, or in the client's state."""

from __future__ import annotations

import pytest
import requests

from onesig_nb.errors import APIError, ConfigError, TransportError
from onesig_nb.onesignal import NotificationRequest, OneSignal, TagEdit
from onesig_nb.onesignal.retry import transport_error

from .client_fakes import API_KEY, APP_ID

PAYLOAD = {"contents": {"en": "Hi"}}


def test_api_key_with_a_trailing_newline_works_on_both_paths(fake_api):
    client = OneSignal(f" {APP_ID}\n", API_KEY + "\n", base_url=fake_api.url, rate_limits=False)
    req = NotificationRequest(payload=PAYLOAD, external_ids=("a",), idempotency_key="k1", ref=0)
    with client:
        assert client.create_notification(req).id == "n-1"
        assert [r.id for r in client.iter_notifications([req])] == ["n-1"]
    assert client.app_id == APP_ID
    assert {s.headers["Authorization"] for s in fake_api.seen} == {f"Key {API_KEY}"}


@pytest.mark.parametrize(
    "app_id, key, says",
    [
        (APP_ID, "os_v2_app_ABC\nDEF0123456789", "ONESIGNAL_REST_API_KEY"),
        (APP_ID, "os_v2_app_ABC DEF0123456789", "a space"),
        (APP_ID, "os_v2_app_ABC\x00DEF0123456789", "ONESIGNAL_REST_API_KEY"),
        (APP_ID, "os_v2_app_ABC\u2019DEF0123456789", "non-ASCII"),
        (APP_ID, " \n ", "No OneSignal API key"),
        ("6f0c6b2e 4c4f", API_KEY, "ONESIGNAL_APP_ID"),
        ("../other-app", API_KEY, "ONESIGNAL_APP_ID"),
        ("  ", API_KEY, "No OneSignal app id"),
    ],
)
def test_malformed_key_or_app_id_is_a_config_error_that_hides_the_key(app_id, key, says):
    with pytest.raises(ConfigError) as info:
        OneSignal(app_id, key)
    text = str(info.value)
    assert says in text and "DEF0123456789" not in text


class _EchoingSession(requests.Session):
    """A session whose transport refuses the header, quoting it (what requests does)."""

    def request(self, method, url, headers=None, **kwargs):
        raise requests.exceptions.InvalidHeader(
            f"Invalid return character in header value: {headers['Authorization']!r}"
        )


def test_a_library_error_quoting_the_key_is_redacted_and_not_blamed_on_the_network():
    client = OneSignal(APP_ID, API_KEY, base_url="http://127.0.0.1:9", session=_EchoingSession())
    with pytest.raises(TransportError) as info:
        client.view_notification("n-1")
    text = str(info.value)
    assert API_KEY not in text and "…" in text
    assert "Check the network" not in text and "ONESIGNAL_REST_API_KEY" in text
    assert API_KEY not in str(
        transport_error("GET", "/x", "u", 1, ValueError(API_KEY), secrets=(API_KEY,))
    )


def test_an_api_answer_that_echoes_the_key_is_redacted_on_both_paths(make_client, fake_api):
    fake_api.handler = lambda seen: (
        400,
        {"errors": [f"bad header {seen.headers['Authorization']}"]},
    )
    client = make_client()
    with pytest.raises(APIError) as info:
        client.edit_tags("u1", {"plan": "pro"})
    [bulk] = client.edit_tags_bulk([TagEdit("u1", {"plan": "pro"})])
    for exc in (info.value, bulk.error):
        assert API_KEY not in str(exc) and API_KEY not in repr(exc.errors + [exc.body])


def test_client_and_engine_state_never_show_the_key(make_client):
    client = make_client()
    engine = client.engine
    assert API_KEY not in repr(vars(client))
    assert API_KEY not in repr(vars(engine))
    # still known to the client for redaction (e.g. of texts the campaign journals)
    assert client.redact(f"said {API_KEY}") == f"said …{API_KEY[-4:]}"
