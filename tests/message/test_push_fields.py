"""The push fields people set daily, checked as the v11.6 create-message schema documents them."""

from __future__ import annotations

import pandas as pd
import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.message import Message
from onesig_nb.onesignal import limits

CHANNEL = "e4d3c2b1-a09f-4f1e-8d7c-6b5a4f3e2d1c"

EVERYDAY = {
    "web_buttons": [
        {
            "id": "read",
            "text": "Read",
            "url": "https://shop.example/new",
            "icon": "https://i.io/a.png",
        }
    ],
    "app_url": "myapp://cart",
    "web_url": "https://shop.example/cart",
    "large_icon": "https://img.example/face.png",
    "android_channel_id": CHANNEL,
    "collapse_id": "cart-reminder",
    "thread_id": "cart",
    "android_group": "cart",
    "ios_badgeType": "Increase",
    "ios_badgeCount": 1,
    "ios_sound": "ping.wav",
    "throttle_rate_per_minute": 600,
    "ttl": 3_600,
    "priority": 10,
}


def test_everyday_fields_go_into_the_payload_and_round_trip():
    msg = Message("Hi", **EVERYDAY)
    payload = msg.to_payload()
    for key, value in EVERYDAY.items():
        assert payload[key] == value, key
    again = Message.from_dict(msg.to_dict())
    assert again == msg and again.fingerprint == msg.fingerprint


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"web_buttons": [{"id": "a", "text": "A"}]}, "non-empty text 'url'"),
        ({"web_buttons": [{"id": "a", "text": "A", "url": "https://x.io", "x": 1}]}, "unknown"),
        (
            {"web_buttons": [{"id": str(i), "text": "A", "url": "https://x.io"} for i in range(3)]},
            "at most 2",
        ),
        ({"web_buttons": [{"id": "a", "text": "A", "url": "http://x.io"}]}, "https"),
        ({"web_buttons": {"id": "a"}}, "must be a list"),
        ({"web_url": "http://shop.example"}, "not an https"),
        ({"web_url": "myapp://x"}, "app_url"),
        ({"ios_badgeType": "Set"}, "'SetTo'"),
        ({"ios_badgeCount": 2}, "needs|without ios_badgeType"),
        ({"ios_badgeType": "SetTo"}, "needs ios_badgeCount"),
        ({"ios_badgeType": "SetTo", "ios_badgeCount": -1}, "0 or more"),
        ({"ios_badgeType": "Increase", "ios_badgeCount": 1.5}, "whole number"),
        ({"android_channel_id": "promo"}, "not a channel id"),
        ({"collapse_id": "c" * (limits.MAX_COLLAPSE_ID_CHARS + 1)}, "allows 64"),
        ({"thread_id": 5}, "thread_id must be text"),
        ({"throttle_rate_per_minute": -5}, "whole number of pushes"),
        ({"throttle_rate_per_minute": "10"}, "whole number of pushes"),
        (
            {"throttle_rate_per_minute": 10, "delayed_option": "last-active"},
            "does not work with delayed_option",
        ),
        ({"subtitle": "Sale"}, r"add subtitle text for \['es'\]"),
        ({"subtitle": {"en": "S", "es": "S", "de": "S"}}, r"remove \['de'\]"),
        ({"priority": 1}, "10 \\(high\\) or 5"),
    ],
)
def test_bad_push_fields_raise_with_the_fix(kwargs, expected):
    with pytest.raises(ValidationError, match=expected):
        Message({"en": "Hi", "es": "Hola"}, **kwargs)


def test_documented_edges_are_accepted():
    msg = Message(
        {"en": "Hi", "es": "Hola"},
        subtitle={"en": "Sale", "es": "Oferta"},
        collapse_id="c" * limits.MAX_COLLAPSE_ID_CHARS,
        ios_badgeType="Increase",
        ios_badgeCount=-2,  # v1.2.2: a negative count decreases the badge
        throttle_rate_per_minute=0,
        delayed_option="last-active",  # throttle 0 is allowed with a delay (v11.6)
        web_url="https://shop.example/{{ plan }}",  # Liquid: checked per person by lint
        priority=5,
    )
    assert msg.ios_badgeCount == -2 and msg.subtitle == {"en": "Sale", "es": "Oferta"}
    assert Message("Hi", ios_badgeType="None").ios_badgeType == "None"


def test_rendered_payloads_keep_the_fields_and_render_urls_per_person():
    cohort = pd.DataFrame({"external_id": ["a", "b"], "plan": ["pro", "free"]})
    msg = Message(
        "Hi",
        web_url="https://shop.example/{{ plan }}",
        large_icon="https://img.example/{{ plan }}.png",
        web_buttons=[{"id": "r", "text": "Read", "url": "https://x.io"}],
        ios_badgeType="SetTo",
        ios_badgeCount=3,
    )
    batches = {ids[0]: payload for payload, ids in msg.client_batches(cohort)}
    assert batches["a"]["web_url"] == "https://shop.example/pro"
    assert batches["b"]["large_icon"] == "https://img.example/free.png"
    for payload in batches.values():
        assert payload["web_buttons"] == msg.web_buttons and payload["ios_badgeCount"] == 3
    one = msg.render_user(cohort.iloc[[0]])
    assert one["web_url"] == "https://shop.example/pro" and one["large_icon"].endswith("pro.png")


def test_resource_names_and_app_schemes_are_not_url_problems():
    msg = Message("Hi", large_icon="ic_face", app_url="myapp://cart", big_picture="hero")
    assert [f for f in msg.lint() if f.code == "url"] == []
    bad = [f for f in Message("Hi", large_icon="https://").lint() if f.code == "url"]
    assert bad and bad[0].field == "large_icon" and bad[0].severity == "error"
