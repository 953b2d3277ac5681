"""Property: malformed or random requests get a 4xx JSON answer; the server and store survive."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import onesig_nb as osn
from tests.strategies import json_values

json_value = json_values(int_bits=70, text_size=30, key_size=10, items=5, leaves=20)
FIELDS = [
    "app_id", "contents", "headings", "subtitle", "url", "include_aliases", "target_channel",
    "include_external_user_ids", "channel_for_external_user_ids", "included_segments", "buttons",
    "web_buttons", "ttl", "data", "custom_data", "name", "isIos", "isAnyWeb", "idempotency_key",
    "external_id", "template_id", "content_available", "tags", "properties", "identity",
    "subscriptions",
]  # fmt: skip
PATHS = [
    "/notifications", "/api/v1/notifications", "/notifications/{nid}", "/api/v1/notifications/{nid}",
    "/apps/{app}/users/by/external_id/{user}", "/apps/{app}/users/by/{seg}/{user}",
    "/api/v1/apps/{app}/users/{user}", "/apps/{app}/users", "/{seg}", "/api/v1/{seg}/{seg}",
    "/_sandbox/users", "/_sandbox/{seg}",
]  # fmt: skip


@pytest.fixture(scope="module")
def target():
    with osn.Sandbox() as sb:
        sb.add_users(
            [
                {"external_id": "ana", "platform": "ios", "tags": {"first_name": "Ana"}},
                {"external_id": "off", "platform": "web", "subscribed": False},
            ]
        )
        with httpx.Client(base_url=sb.url, timeout=10) as client:
            yield sb, client


def _valid_push(sb) -> dict:
    return {"app_id": sb.app_id, "contents": {"en": "Hi {{ first_name }}"},
            "include_aliases": {"external_id": ["ana", "off"]}, "target_channel": "push"}  # fmt: skip


@st.composite
def requests_(draw, sb):
    method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]))
    seg = draw(
        st.text(
            st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"),
            min_size=1,
            max_size=12,
        )
    )
    path = draw(st.sampled_from(PATHS)).format(
        nid=draw(st.sampled_from(["x", seg])),
        app=draw(st.sampled_from([sb.app_id, seg])),
        user=draw(st.sampled_from(["ana", "off", seg])),
        seg=seg,
    )
    kind = draw(st.sampled_from(["bytes", "json", "mutated", "none"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=200))
    elif kind == "json":
        body = httpx.Request("POST", "/", json=draw(json_value)).content
    elif kind == "mutated":
        doc = _valid_push(sb)
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
            doc[field] = draw(json_value)
        body = httpx.Request("POST", "/", json=doc).content
    else:
        body = b""
    scheme = draw(st.sampled_from(["Key", "Basic", "Bearer", "key", ""]))
    key = draw(st.sampled_from([sb.api_key, "", "nope"]))
    return method, path, body, f"{scheme} {key}".strip()


def test_random_requests_get_4xx_json_and_never_break_the_server(target):
    sb, client = target

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(req=requests_(sb))
    def probe(req):
        method, path, body, auth = req
        headers = {"Authorization": auth} if auth else {}
        r = client.request(method, path, content=body, headers=headers)
        assert r.status_code < 500, (method, path, body[:200], r.text[:300])
        if method != "HEAD":
            data = r.json()
            if r.status_code >= 400:
                assert isinstance(data, dict) and data.get("errors"), r.text[:300]
                assert "could not process" not in r.text, (method, path, body[:300], r.text)

    probe()
    assert sb.user_tags("ana").get("first_name") == "Ana" or all(
        isinstance(v, str) for v in sb.user_tags("ana").values()
    )
    users = sb.users()
    assert {"ana", "off"} <= set(users.external_id)
    assert all(isinstance(v, str) for tags in users.tags for v in tags.values())
    r = client.post(
        "/notifications", json=_valid_push(sb), headers={"Authorization": f"Key {sb.api_key}"}
    )
    assert r.status_code == 200 and r.json()["id"]
    log = sb.requests()
    assert log.status.dropna().lt(500).all()
