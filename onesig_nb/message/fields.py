"""Argument checks for :class:`onesig_nb.message.model.Message`: each returns the cleaned value or raises.

Every failure is a :class:`~onesig_nb.errors.ValidationError` whose text says what is wrong and
how to fix it. Also the wording helpers that messages and lint share: counts with the right
plural, language names for ISO 639-1 codes, and Liquid parser errors in plain words. Limits (data size, button count) come from :mod:`onesig_nb.onesignal.limits`.
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


def _check_ios_attachments(value: Any) -> dict[str, str] | None:
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


def _check_delivery(delayed_option: Any, delivery_time_of_day: Any) -> None:
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


def _check_ttl(ttl: Any) -> int | None:
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


def _check_priority(priority: Any) -> int | None:
    if priority is not None and (isinstance(priority, bool) or priority not in (5, 10)):
        raise _fail(f"priority {priority!r} is not allowed; use 10 (high) or 5 (normal).")
    return int(priority) if priority is not None else None


def _check_name(name: Any) -> str | None:
    if name is not None:
        if not isinstance(name, str):
            raise _fail(f"name must be text, not {type(name).__name__}.")
        if len(name) > limits.MAX_NAME_CHARS:
            raise _fail(
                f"name is {len(name)} characters; OneSignal allows {limits.MAX_NAME_CHARS}. "
                "Shorten it."
            )
    return name


# --------------------------------------------------------------------------------------------
# wording: counts, language names and Liquid parser errors in plain words

#: English names of common ISO 639-1 codes (OneSignal's language keys), for sentences people read.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ms": "Malay",
    "nb": "Norwegian",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sr": "Serbian",
    "sv": "Swedish",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
    "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)",
}


def language_name(code: Any) -> str:
    """'German' for 'de' (also 'de-AT'); the code itself when the table does not know it."""
    code = str(code)
    return LANGUAGE_NAMES.get(code) or LANGUAGE_NAMES.get(code.split("-")[0].lower()) or code


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 user', '2 users', '1,000 people' (with ``many``)."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


_BLOCK_TAGS = ("if", "unless", "for", "case", "capture", "comment", "tablerow")
_TAG_RE = re.compile(r"\{%-?\s*(\w+)")
_COMMON_TAGS = "if, elsif, else, unless, case, when, for, assign, capture"


def _line_col(source: str, index: int) -> tuple[int, int]:
    before = source[: max(0, min(index, len(source)))]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _unclosed(source: str, name: str) -> int | None:
    """Index of the ``{% name %}`` block that has no ``{% endname %}``, if one can be found."""
    stack: list[int] = []
    for m in _TAG_RE.finditer(source):
        if m.group(1) == name:
            stack.append(m.start())
        elif m.group(1) == "end" + name and stack:
            stack.pop()
    return stack[0] if stack else None


def liquid_error_words(message: str, source: str | None, index: int | None) -> str:
    """A Liquid parser error as a plain sentence that keeps its line and column.

    ``index`` is where the parser stopped in ``source`` (None: at the end of the text).
    """
    src = source or ""
    at_end = index is None or index < 0
    pos = len(src) if at_end else index
    line, col = _line_col(src, pos)
    where = f"line {line}, column {col}"
    if message.startswith("expected '}}', found end of file"):
        return f"A `{{{{` at {where} is never closed with `}}}}`."
    if message.startswith("missing tag name or closing delimiter"):
        return f"A `{{%` at {where} is never closed with `%}}`."
    m = re.match(r"expected tag end(\w+)", message) or re.match(
        r"(\w+) tag was never closed", message
    )
    if m and m.group(1) in _BLOCK_TAGS:
        name = m.group(1)
        opened = _unclosed(src, name) if src else None
        if opened is not None:
            o_line, o_col = _line_col(src, opened)
            return (
                f"The `{{% {name} %}}` at line {o_line}, column {o_col} is never closed: add "
                f"`{{% end{name} %}}` where its part ends."
            )
        return f"A `{{% {name} %}}` is never closed: add `{{% end{name} %}}` (before {where})."
    m = re.match(r"unexpected tag '(\w+)'", message)
    if m:
        name = m.group(1)
        if not at_end and src:  # point at the tag's `{%`, not at its name
            start = src.rfind("{%", 0, pos + 1)
            line, col = _line_col(src, start if start >= 0 else pos)
            where = f"line {line}, column {col}"
        if name.startswith("end") and name[3:] in _BLOCK_TAGS:
            return (
                f"`{{% {name} %}}` at {where} has no `{{% {name[3:]} %}}` before it; remove it "
                "or add the opening tag."
            )
        import difflib

        from onesig_nb.message.liquid import environment

        known = [t for t in environment().tags if t.isalpha()]
        known += ["end" + t for t in _BLOCK_TAGS] + ["else", "elsif", "when"]
        if name in known:
            return (
                f"`{{% {name} %}}` at {where} is outside the block it belongs to (if, unless, "
                "case or for); move it inside, or remove it."
            )
        close = difflib.get_close_matches(name, known, n=1)
        hint = (
            f" Did you mean `{{% {close[0]} %}}`?"
            if close
            else f" Common tags: {_COMMON_TAGS} (each block ends with end<tag>)."
        )
        return f"`{{% {name} %}}` at {where} is not a Liquid tag.{hint}"
    return f"Liquid cannot read the template at {where}: {message}."
