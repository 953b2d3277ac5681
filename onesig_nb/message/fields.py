"""Argument checks for :class:`onesig_nb.message.model.Message`: each returns the cleaned value.

Every failure is a :class:`~onesig_nb.errors.ValidationError` whose text says what is wrong and
how to fix it. Limits (data size, button count) come from :mod:`onesig_nb.onesignal.limits`.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from onesig_nb.errors import ValidationError
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.payload import check_buttons as check_buttons_spec
from onesig_nb.onesignal.payload import https_problem

#: A OneSignal language key: an ISO 639-1 code, optionally with a script or region ("zh-Hans").
LANG_RE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2,4})?$")
#: A template id as OneSignal shows it in the dashboard URL: a UUID (8-4-4-4-12 hex digits).
TEMPLATE_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _fail(msg: str) -> ValidationError:
    return ValidationError(msg)


def lang_map(name: str, value: Any, *, required: bool) -> dict[str, str] | None:
    """Text or ``{language: text}`` as a ``{language: text}`` dict (None when absent)."""
    if value is None:
        if required:
            raise _fail(
                f"{name} is required: pass text, e.g. Message('Hi there') or {{'en': ...}}."
            )
        return None
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, Mapping):
        raise _fail(
            f"{name} must be text or a {{language: text}} dict, not {type(value).__name__}; "
            f"for example {name}={{'en': 'Hello', 'es': 'Hola'}}."
        )
    out: dict[str, str] = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not LANG_RE.match(lang):
            raise _fail(
                f"{name} has language key {lang!r}; OneSignal uses ISO 639-1 codes such as "
                "'en', 'es', 'de', 'zh-Hans'. Rename the key."
            )
        if not isinstance(text, str):
            raise _fail(
                f"{name}[{lang!r}] is a {type(text).__name__}, not text. Convert it with str(...) "
                "or put a Liquid variable in the text, e.g. 'You have {{ points }} points'."
            )
        out[lang] = text
    if required and not out.get("en", "").strip():
        raise _fail(
            f"{name} needs English text: OneSignal rejects pushes without it ('Message "
            "Notifications must have English language content'). Add an 'en' entry."
        )
    return out or None


def json_bytes(name: str, value: Any) -> int:
    """How many bytes ``value`` takes as compact JSON, the way OneSignal measures its limits."""
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"{name} must be JSON-serializable (strings, numbers, lists, dicts): {exc}."
        ) from None


def check_data(name: str, value: Any) -> dict | None:
    """A ``data`` or ``custom_data`` dict within OneSignal's size limit."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail(f"{name} must be a dict of key/value pairs, not {type(value).__name__}.")
    value = dict(value)
    size = json_bytes(name, value)
    if size > limits.MAX_DATA_BYTES:
        raise _fail(
            f"{name} is {size:,} bytes as JSON; OneSignal allows {limits.MAX_DATA_BYTES:,} bytes "
            "on a push. Send an id and look the rest up in the app."
        )
    return value


def check_str(name: str, value: Any) -> str | None:
    """A URL field as text (an empty string counts as absent)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(f"{name} must be text (a URL), not {type(value).__name__}.")
    return value or None


def check_buttons(value: Any) -> list[dict] | None:
    """Up to :data:`~onesig_nb.onesignal.limits.MAX_BUTTONS` ``{id, text, icon?}`` buttons."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _fail("buttons must be a list of {'id': ..., 'text': ...} dicts.")
    buttons = [dict(b) if isinstance(b, Mapping) else b for b in value]
    if len(buttons) > limits.MAX_BUTTONS:
        raise _fail(
            f"{len(buttons)} buttons given; OneSignal allows at most {limits.MAX_BUTTONS}. "
            "Remove some."
        )
    for i, b in enumerate(buttons):
        if not isinstance(b, dict):
            raise _fail(f"buttons[{i}] must be a dict like {{'id': 'buy', 'text': 'Buy now'}}.")
        for key in ("id", "text"):
            if not isinstance(b.get(key), str) or not b[key].strip():
                raise _fail(
                    f"buttons[{i}] needs a non-empty text {key!r}, e.g. {{'id': 'buy', 'text': 'Buy'}}."
                )
        extra = set(b) - {"id", "text", "icon"}
        if extra:
            raise _fail(f"buttons[{i}] has unknown keys {sorted(extra)}; allowed: id, text, icon.")
    return buttons or None


def _parse_instant(value: str) -> _dt.datetime | None:
    text = value.strip()
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        from dateutil import parser as _parser

        return _parser.parse(text)
    except (ValueError, OverflowError, TypeError):
        return None


def check_send_after(value: Any) -> str | None:
    """A send time OneSignal can read (an aware datetime becomes ISO 8601 text)."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise _fail(
                "send_after has no time zone, so the send time would be ambiguous. Pass an aware "
                "datetime, e.g. datetime(2025, 1, 1, 9, tzinfo=timezone.utc)."
            )
        return value.isoformat()
    if isinstance(value, str) and _parse_instant(value) is not None:
        return value
    raise _fail(
        f"send_after {value!r} is not a date and time OneSignal can read; use ISO 8601 with a "
        "zone, e.g. '2025-09-24T14:00:00-07:00' or '2025-09-24 14:00:00 GMT-0700'."
    )


def check_ios_attachments(value: Any) -> dict[str, str] | None:
    """An ``{id: url}`` dict of iOS attachments."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _fail(
            "ios_attachments must be a {id: url} dict of text, e.g. {'hero': 'https://...'}."
        )
    return dict(value) or None


_TIME_OF_DAY_RE = re.compile(
    r"^(1[0-2]|0?[1-9]):[0-5]\d(:[0-5]\d)?\s?(AM|PM)$|^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", re.I
)


def check_delivery(delayed_option: Any, delivery_time_of_day: Any) -> None:
    """Raise unless delayed_option and delivery_time_of_day are allowed, alone and together."""
    if delayed_option is not None and delayed_option not in ("timezone", "last-active"):
        raise _fail(
            f"delayed_option {delayed_option!r} is not allowed; use 'timezone' (deliver at "
            "delivery_time_of_day in each user's zone) or 'last-active'."
        )
    if delivery_time_of_day is not None:
        if not isinstance(delivery_time_of_day, str) or not _TIME_OF_DAY_RE.match(
            delivery_time_of_day.strip()
        ):
            raise _fail(
                f"delivery_time_of_day {delivery_time_of_day!r} is not a time of day; use "
                "e.g. '9:00AM', '21:45' or '9:45:30'."
            )
        if delayed_option != "timezone":
            raise _fail("delivery_time_of_day only works with delayed_option='timezone'; add it.")


def check_ttl(ttl: Any) -> int | None:
    """A time to live in whole seconds within OneSignal's range."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, np.integer)):
        raise _fail(f"ttl must be a whole number of seconds, not {ttl!r}.")
    if not 0 <= int(ttl) <= limits.MAX_TTL_SECONDS:
        raise _fail(
            f"ttl {ttl} is out of range; OneSignal accepts 0 to "
            f"{limits.MAX_TTL_SECONDS:,} seconds (28 days). Default is "
            f"{limits.DEFAULT_TTL_SECONDS:,} (3 days)."
        )
    return int(ttl)


def check_priority(priority: Any) -> int | None:
    """10 (high) or 5 (normal)."""
    if priority is not None and (isinstance(priority, bool) or priority not in limits.PRIORITIES):
        raise _fail(f"priority {priority!r} is not allowed; use 10 (high) or 5 (normal).")
    return int(priority) if priority is not None else None


def check_name(name: Any) -> str | None:
    """The message's internal name, within OneSignal's length limit."""
    if name is not None:
        if not isinstance(name, str):
            raise _fail(f"name must be text, not {type(name).__name__}.")
        if len(name) > limits.MAX_NAME_CHARS:
            raise _fail(
                f"name is {len(name)} characters; OneSignal allows {limits.MAX_NAME_CHARS}. "
                "Shorten it."
            )
    return name


def check_template(template_id: Any, custom_data: dict | None) -> str | None:
    """A dashboard template id (a UUID), required whenever ``custom_data`` is given.

    OneSignal fills ``{{ message.custom_data.<key> }}`` only for a message sent with a
    ``template_id``: the create-notification schema (OpenAPI v11.6, ``custom_data``) says "Use
    with `template_id`", and the personalization docs (personalization-api-custom-data) pair the
    two; without a template those variables render as empty text. See
    ``onesignal-behaviour-sources.md`` ("custom_data in Liquid").
    """
    if template_id is not None:
        if not isinstance(template_id, str) or not TEMPLATE_ID_RE.match(template_id.strip()):
            raise _fail(
                f"template_id {template_id!r} is not a template id; copy the UUID from the "
                "template's page in the OneSignal dashboard, e.g. "
                "'e4d3c2b1-a09f-4f1e-8d7c-6b5a4f3e2d1c'."
            )
        template_id = template_id.strip()
    if custom_data is not None and template_id is None:
        raise _fail(
            "custom_data needs a template_id: OneSignal fills {{ message.custom_data.<key> }} "
            "only in messages sent with a dashboard template, so without one those values "
            "render blank. Pass template_id='<the template's UUID>', or put the values in "
            "the texts (or in tags) instead."
        )
    return template_id


#: An Android notification channel id as OneSignal shows it (v11.6 ``android_channel_id``:
#: "The UUID of the Android notification channel category created within your OneSignal app").
CHANNEL_ID_RE = TEMPLATE_ID_RE


def check_text(name: str, value: Any, *, max_chars: int | None = None) -> str | None:
    """A plain text field (an empty string counts as absent), within ``max_chars``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(f"{name} must be text, not {type(value).__name__}.")
    if max_chars is not None and len(value) > max_chars:
        raise _fail(f"{name} is {len(value)} characters; OneSignal allows {max_chars}. Shorten it.")
    return value or None


def check_web_url(value: Any) -> str | None:
    """``web_url``: an https URL (v11.6 ``web_url``: "Accepts URLs with protocol https://").

    A URL holding Liquid is checked per person by lint, after rendering."""
    value = check_str("web_url", value)
    if value is not None:
        problem = https_problem("web_url", value)
        if problem:
            raise _fail(problem)
    return value


def check_web_buttons(value: Any) -> list[dict] | None:
    """Up to 2 Chrome buttons ``{id, text, url, icon?}`` (v11.6 ``web_buttons``: ``url``
    required, no other keys; v1.2.2 adds ``icon``), each ``url`` https."""
    if value is None:
        return None
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        value = list(value)
    return check_buttons_spec("web_buttons", value) or None


def check_channel_id(value: Any) -> str | None:
    """``android_channel_id``: the UUID of a channel category made in the OneSignal dashboard."""
    value = check_text("android_channel_id", value)
    if value is not None and not CHANNEL_ID_RE.match(value.strip()):
        raise _fail(
            f"android_channel_id {value!r} is not a channel id; copy the UUID from OneSignal "
            "(Settings > Push > Android Notification Categories). A channel your app created "
            "itself goes in existing_android_channel_id, which Message does not set."
        )
    return value.strip() if value else None


def check_badge(badge_type: Any, badge_count: Any) -> tuple[str | None, int | None]:
    """``ios_badgeType`` (None/SetTo/Increase, v11.6 enum) with ``ios_badgeCount`` (int32).

    The count is used only with SetTo or Increase ("Use with ios_badgeType"), so a count alone
    or a SetTo/Increase without one would do nothing, and is refused; SetTo takes 0 or more,
    Increase may be negative to decrease (v1.2.2 ``ios_badgeCount``)."""
    if badge_type is not None and badge_type not in limits.IOS_BADGE_TYPES:
        raise _fail(
            f"ios_badgeType {badge_type!r} is not allowed; use 'SetTo' (set the badge to "
            "ios_badgeCount), 'Increase' (add ios_badgeCount) or 'None'."
        )
    if badge_count is not None and (
        isinstance(badge_count, bool)
        or not isinstance(badge_count, (int, np.integer))
        or not -(2**31) <= int(badge_count) < 2**31
    ):
        raise _fail(f"ios_badgeCount must be a whole number, not {badge_count!r}.")
    counts = badge_type in ("SetTo", "Increase")
    if badge_count is not None and not counts:
        raise _fail(
            "ios_badgeCount does nothing without ios_badgeType='SetTo' or 'Increase'; add one."
        )
    if counts and badge_count is None:
        raise _fail(f"ios_badgeType={badge_type!r} needs ios_badgeCount (a whole number).")
    if badge_type == "SetTo" and int(badge_count) < 0:
        raise _fail("ios_badgeType='SetTo' needs ios_badgeCount of 0 or more.")
    return badge_type, (int(badge_count) if badge_count is not None else None)


def check_throttle(value: Any, delayed_option: Any) -> int | None:
    """``throttle_rate_per_minute``: a whole number of pushes per minute, 0 = no throttling
    (v11.6); it does not work with ``delayed_option`` unless 0 (v11.6 ``delayed_option``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
        raise _fail(
            f"throttle_rate_per_minute must be a whole number of pushes per minute (0 = no "
            f"throttling), not {value!r}."
        )
    if int(value) and delayed_option is not None:
        raise _fail(
            "throttle_rate_per_minute does not work with delayed_option (OneSignal); set it "
            "to 0 or drop the delay."
        )
    return int(value)


def check_subtitle_languages(
    subtitle: dict[str, str] | None, contents: dict[str, str]
) -> dict[str, str] | None:
    """``subtitle`` with exactly the languages of ``contents`` (v11.6 ``subtitle``: "must
    include the same languages as contents")."""
    if subtitle is not None and set(subtitle) != set(contents):
        missing = sorted(set(contents) - set(subtitle))
        extra = sorted(set(subtitle) - set(contents))
        parts = []
        if missing:
            parts.append(f"add subtitle text for {missing}")
        if extra:
            parts.append(f"remove {extra} from subtitle or add them to contents")
        raise _fail(
            "subtitle must have the same languages as contents (OneSignal refuses it "
            f"otherwise): {'; '.join(parts)}."
        )
    return subtitle
