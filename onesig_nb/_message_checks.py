"""Argument checks for :class:`onesig_nb.message.Message`: each returns the cleaned value or raises.

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

from .errors import ValidationError
from .onesignal import limits

_LANG_RE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2,4})?$")


def _fail(msg: str) -> ValidationError:
    return ValidationError(msg)


def _lang_map(name: str, value: Any, *, required: bool) -> dict[str, str] | None:
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
        if not isinstance(lang, str) or not _LANG_RE.match(lang):
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


def _json_bytes(name: str, value: Any) -> int:
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"{name} must be JSON-serializable (strings, numbers, lists, dicts): {exc}."
        ) from None


def _check_data(name: str, value: Any) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail(f"{name} must be a dict of key/value pairs, not {type(value).__name__}.")
    value = dict(value)
    size = _json_bytes(name, value)
    if size > limits.MAX_DATA_BYTES:
        raise _fail(
            f"{name} is {size:,} bytes as JSON; OneSignal allows {limits.MAX_DATA_BYTES:,} bytes "
            "on a push. Send an id and look the rest up in the app."
        )
    return value


def _check_str(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(f"{name} must be text (a URL), not {type(value).__name__}.")
    return value or None


def _check_buttons(value: Any) -> list[dict] | None:
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


def _check_send_after(value: Any) -> str | None:
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
