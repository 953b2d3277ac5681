"""Fuzzing the client's response parsing: whatever the server answers, only typed errors.

Two levels: the dialect parsers on arbitrary JSON-like bodies, and the public single-call
methods over a ``requests`` session whose adapter answers with arbitrary statuses and bytes.
"""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onesig_nb.errors import OneSigNbError
from onesig_nb.onesignal import OneSignal, RetryPolicy
from onesig_nb.onesignal.dialects import (
    decode_body,
    dialect_for,
    error_for,
    flatten_errors,
    invalid_ids,
)
from onesig_nb.onesignal.models import NotificationRequest, NotificationResponse, NotificationStats
from tests import strategies

APP_ID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
KEY = "os_v2_app_fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"

json_values = strategies.json_values(int_bits=63, text_size=20, key_size=12, items=4, leaves=12)
#: keys the parsers look at, so fuzzed bodies hit them often
KNOWN = [
    "id",
    "errors",
    "warnings",
    "recipients",
    "invalid_external_user_ids",
    "invalid_aliases",
    "external_id",
    "success",
    "successful",
    "failed",
    "errored",
    "converted",
    "remaining",
    "completed_at",
    "canceled",
    "platform_delivery_stats",
    "properties",
    "tags",
    "identity",
    "title",
    "code",
]
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(KNOWN), json_values, max_size=6),
    st.dictionaries(
        st.sampled_from(["errors", "warnings"]),
        st.dictionaries(st.sampled_from(KNOWN), json_values, max_size=3),
        max_size=2,
    ),
)
statuses = st.sampled_from([200, 201, 202, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503])
REQ = NotificationRequest(
    payload={"contents": {"en": "hi"}}, external_ids=("a", "b"), idempotency_key="k", ref=0
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(body=bodies)
def test_error_shapes_flatten_to_strings(body):
    flat = flatten_errors(body)
    assert isinstance(flat, list) and all(isinstance(s, str) for s in flat)
    ids = invalid_ids(body)
    assert isinstance(ids, list) and all(isinstance(s, str) for s in ids)


def _typed_or(parse, is_good):
    """Run one parser: it returns a value that ``is_good`` or raises a typed error, nothing else."""
    try:
        value = parse()
    except OneSigNbError as exc:
        assert isinstance(str(exc), str)
        return
    assert is_good(value), value


apis = st.sampled_from(["legacy", "current"])


@FUZZ
@given(api=apis, status=statuses, body=bodies)
def test_notification_response_parser_accepts_any_body(api, status, body):
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    parse = dialect_for(api).notification_response
    _typed_or(
        lambda: parse(REQ, status, body, headers),
        lambda r: isinstance(r, NotificationResponse) and isinstance(r.id, str),
    )


@FUZZ
@given(api=apis, status=statuses, body=bodies)
def test_tag_edit_parser_accepts_any_body(api, status, body):
    parse = dialect_for(api).tag_edit_ok
    _typed_or(lambda: parse(status, body), lambda ok: isinstance(ok, bool))


@FUZZ
@given(api=apis, body=bodies)
def test_stats_parser_accepts_any_body(api, body):
    parse = dialect_for(api).stats
    _typed_or(lambda: parse(body), lambda stats: isinstance(stats, NotificationStats))


@FUZZ
@given(status=statuses, body=bodies)
def test_error_classifier_always_returns_a_typed_error(status, body):
    err = error_for(status, body, method="POST", path="/notifications", retry_after=1.0)
    assert isinstance(err, OneSigNbError) and isinstance(str(err), str)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200), st.none()))
def test_decode_body_never_raises(raw):
    decode_body(raw)


class _Adapter(requests.adapters.BaseAdapter):
    """Answers every request with one fuzzed status, headers and body."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]):
        super().__init__()
        self.answer = (status, body, headers)

    def send(self, request, **kwargs):
        status, body, headers = self.answer
        resp = requests.Response()
        resp.status_code = status
        resp._content = body
        resp.headers.update(headers)
        resp.url = request.url
        resp.request = request
        return resp

    def close(self):
        pass


raw_bodies = st.one_of(
    bodies.map(lambda b: __import__("orjson").dumps(b)),
    st.binary(max_size=120),
    st.just(b""),
    st.just(b"<html>502 Bad Gateway</html>"),
)
header_sets = st.dictionaries(
    st.sampled_from(["Retry-After", "Idempotent-Replayed", "Content-Type"]),
    st.one_of(st.text(max_size=10), st.sampled_from(["1", "0.5", "-3", "1e9", "true"])),
    max_size=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    api=st.sampled_from(["legacy", "current"]),
    status=statuses,
    body=raw_bodies,
    headers=header_sets,
    call=st.sampled_from(["create", "edit", "view_notification", "view_user", "cancel"]),
)
def test_single_calls_raise_only_typed_errors(api, status, body, headers, call):
    session = requests.Session()
    adapter = _Adapter(status, body, {k: v.replace("\n", " ") for k, v in headers.items()})
    session.mount("http://", adapter)
    client = OneSignal(
        APP_ID,
        KEY,
        base_url="http://127.0.0.1:9",
        api=api,
        session=session,
        retry=RetryPolicy(max_attempts=2, base=0.0, cap=0.0, max_retry_after=2.0),
        sleep=lambda s: None,
        rate_limits=False,
    )
    try:
        if call == "create":
            client.create_notification(REQ)
        elif call == "edit":
            client.edit_tags("user-1", {"plan": "pro", "gone": ""})
        elif call == "view_notification":
            client.view_notification("n-1")
        elif call == "view_user":
            client.view_user("user-1")
        else:
            client.cancel_notification("n-1")
    except OneSigNbError as exc:
        assert KEY not in str(exc)
    finally:
        client.close()


def test_fuzz_adapter_reaches_the_client():
    """Guard: the adapter above really answers the client's calls (else the fuzz is moot)."""
    session = requests.Session()
    session.mount("http://", _Adapter(401, b'{"errors":["Invalid key"]}', {}))
    client = OneSignal(APP_ID, KEY, base_url="http://127.0.0.1:9", session=session)
    from onesig_nb.errors import AuthError

    with pytest.raises(AuthError):
        client.view_user("user-1")
    client.close()
