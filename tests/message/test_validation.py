"""Construction-time validation: every bad input is a ValidationError that says how to fix it."""

from __future__ import annotations

import datetime as dt

import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.message import Message
from onesig_nb.onesignal import limits


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"contents": {"es": "Hola"}}, "needs English text"),
        ({"contents": {"en": "   "}}, "needs English text"),
        ({"contents": 42}, "must be text or a {language: text} dict"),
        ({"contents": {"en": 42}}, r"contents\['en'\] is a int, not text"),
        ({"contents": {"en": None}}, "is a NoneType, not text"),
        ({"contents": {"english": "Hi"}}, "ISO 639-1"),
        ({"contents": "Hi", "headings": {"en": ["x"]}}, r"headings\['en'\] is a list"),
        (
            {"contents": "Hi", "buttons": [{"id": str(i), "text": "b"} for i in range(4)]},
            "at most 3",
        ),
        ({"contents": "Hi", "buttons": [{"id": "a"}]}, "needs a non-empty text 'text'"),
        ({"contents": "Hi", "buttons": [{"id": "a", "text": "A", "url": "x"}]}, "unknown keys"),
        ({"contents": "Hi", "buttons": "buy"}, "must be a list"),
        ({"contents": "Hi", "data": {"blob": "x" * 2_100}}, "2,048 bytes"),
        ({"contents": "Hi", "data": ["x"]}, "must be a dict"),
        ({"contents": "Hi", "data": {"x": object()}}, "JSON-serializable"),
        ({"contents": "Hi", "custom_data": {"blob": "é" * 1_100}}, "2,048 bytes"),
        ({"contents": "Hi", "ttl": -1}, "out of range"),
        ({"contents": "Hi", "ttl": limits.MAX_TTL_SECONDS + 1}, "2,419,200"),
        ({"contents": "Hi", "ttl": "3600"}, "whole number"),
        ({"contents": "Hi", "ttl": True}, "whole number"),
        ({"contents": "Hi", "priority": 7}, "10 \\(high\\) or 5"),
        ({"contents": "Hi", "name": "n" * 129}, "allows 128"),
        ({"contents": "Hi", "name": 5}, "name must be text"),
        ({"contents": "Hi", "delayed_option": "later"}, "'timezone'"),
        ({"contents": "Hi", "delivery_time_of_day": "9:00AM"}, "delayed_option='timezone'"),
        (
            {"contents": "Hi", "delayed_option": "timezone", "delivery_time_of_day": "25:00"},
            "not a time of day",
        ),
        ({"contents": "Hi", "send_after": "next tuesday-ish soon"}, "not a date and time"),
        ({"contents": "Hi", "send_after": dt.datetime(2030, 1, 1)}, "no time zone"),
        ({"contents": "Hi", "url": 5}, "url must be text"),
        ({"contents": "Hi", "ios_attachments": {"a": 1}}, "ios_attachments must be"),
    ],
)
def test_invalid_input_raises_validation_error_with_the_fix(kwargs, expected):
    contents = kwargs.pop("contents")
    with pytest.raises(ValidationError, match=expected):
        Message(contents, **kwargs)


@pytest.mark.parametrize(
    "send_after",
    [
        "2025-09-24 14:00:00 GMT-0700",
        "2025-09-24T14:00:00Z",
        "Thu, 24 Sep 2025 14:00:00 +0000",
        dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC),
    ],
)
def test_send_after_accepts_documented_formats(send_after):
    assert Message("Hi", send_after=send_after).send_after


@pytest.mark.parametrize("tod", ["9:00AM", "21:45", "9:45:30", "11:30 pm"])
def test_delivery_time_of_day_accepts_documented_formats(tod):
    msg = Message("Hi", delayed_option="timezone", delivery_time_of_day=tod)
    assert msg.to_payload()["delivery_time_of_day"] == tod


def test_limits_at_the_edge_are_accepted():
    msg = Message(
        "Hi",
        buttons=[{"id": str(i), "text": "b"} for i in range(limits.MAX_BUTTONS)],
        ttl=limits.MAX_TTL_SECONDS,
        name="n" * limits.MAX_NAME_CHARS,
        priority=5,
        data={"k": "x" * (limits.MAX_DATA_BYTES - 10)},
    )
    assert len(msg.buttons) == 3 and msg.ttl == limits.MAX_TTL_SECONDS


def test_plain_string_means_english():
    assert Message("Hi").contents == {"en": "Hi"}
    assert Message("Hi", headings="Title").headings == {"en": "Title"}


def test_validation_error_is_a_value_error():
    with pytest.raises(ValueError):
        Message({"de": "Hallo"})
