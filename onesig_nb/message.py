"""A push message: Liquid templates, validation, per-user rendering and lint (pure, no UI).

    msg = Message({"en": "Hi {{ first_name | default: 'there' }}", "es": "Hola {{ first_name }}"},
                  headings="Your cart misses you", url="https://shop.example/cart")
    msg.render(cohort)        # one row per person, in their language, exactly as OneSignal renders
    msg.lint(cohort)          # findings: missing tags, truncation, bad URLs, Liquid errors ...
    msg.personalization(cohort), msg.client_batches(cohort), msg.to_payload()

Rendering goes through :mod:`onesig_nb._liquid` (the sandbox renders through it too) with traits
turned into tags by :func:`onesig_nb.tags.tags_from_traits`'s rules. Each template is rendered once
per distinct tuple of the tag values it reads, so 100,000 users whose first names and cities
repeat cost a few hundred renders, not 100,000.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _liquid
from .errors import ValidationError
from .onesignal import limits
from .tags import tag_value

__all__ = ["DEVICE_LIMITS", "Finding", "Message", "Personalization"]

log = logging.getLogger("onesig_nb.message")

#: The trait that picks a person's language; unknown or missing languages fall back to English.
LANGUAGE_TRAIT = "language"

_LANG_FIELDS = ("headings", "subtitle", "contents")
_URL_FIELDS = ("url", "chrome_web_image", "big_picture")
_FIELDS = (
    "contents",
    "headings",
    "subtitle",
    "url",
    "chrome_web_image",
    "big_picture",
    "ios_attachments",
    "data",
    "buttons",
    "send_after",
    "delayed_option",
    "delivery_time_of_day",
    "ttl",
    "priority",
    "name",
    "custom_data",
)
_OUTPUT = {"headings": "heading", "subtitle": "subtitle", "contents": "contents"}
_LANG_RE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2,4})?$")
_TIME_OF_DAY_RE = re.compile(
    r"^(1[0-2]|0?[1-9]):[0-5]\d(:[0-5]\d)?\s?(AM|PM)$|^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", re.I
)
_LIQUID_RE = re.compile(r"\{\{|\{%")
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

#: How many characters each device shows before it truncates (collapsed view). None of the three
#: vendors publishes exact figures (they depend on screen width, font and language), so these are
#: approximations from published guidance:
#: - iOS body: Braze "Push message and image formats" (braze.com/docs/user_guide/message_building_
#:   by_channel/push/best_practices/message_format): lock screen ~160 characters text-only, ~130
#:   with an image. iOS title: approximation, ~40 characters, from Alibaba Cloud mPaaS "Message
#:   content restrictions" (APNs title 40 characters, then an ellipsis).
#: - Android: same Braze page, lock screen ~49 characters (collapsed body, one line); notification
#:   drawer (expanded) ~597. Title ~40 is an approximation (vendor push title limits of 40 for
#:   Huawei/vivo in the same Alibaba Cloud page).
#: - Chrome on desktop (Windows/macOS): approximation, title ~60 / body ~120, from Braze's web
#:   push table on the same page; macOS banners show less.
DEVICE_LIMITS: dict[str, dict[str, int]] = {
    "ios": {"title": 40, "body": 160, "body_with_image": 130},
    "android": {"title": 40, "body": 49, "body_expanded": 597},
    "chrome": {"title": 60, "body": 120},
}

#: APNs rejects payloads over 4,096 bytes (Apple, "Sending notification requests to APNs");
#: FCM's limit is also 4 KB (Braze table above). Text + data must fit with room for OneSignal's
#: own keys, so we warn above this many bytes of rendered text and data.
PAYLOAD_WARN_BYTES = 3_500


@dataclass(frozen=True)
class Finding:
    """One problem (or note) about a message, for a whole cohort or one person."""

    severity: str  # "error" | "warning" | "info"
    code: str
    message: str
    field: str | None = None
    count: int = 0
    examples: tuple = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "count": self.count,
            "examples": list(self.examples),
        }

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.severity.upper()} {self.code}{where}: {self.message}"


@dataclass(frozen=True)
class Personalization:
    """How a message would be personalized: not at all, by OneSignal (server) or by us (client)."""

    mode: str  # "none" | "server" | "client"
    distinct_texts: int | None
    reason: str
    variables: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------------------------
# validation helpers


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


# --------------------------------------------------------------------------------------------
# template analysis


@dataclass(frozen=True)
class _Slot:
    field: str  # payload field, e.g. "contents" or "ios_attachments.id1"
    lang: str | None
    source: str


@dataclass(frozen=True)
class _Analysis:
    tags: frozenset[str]  # tag names read
    all_tags: bool  # reads user.tags as a whole (loops, dynamic keys)
    error: str | None  # parse error or unknown filter, with line and column
    bare: frozenset[str]  # bare root names (for the reserved-name check)
    error_code: str = "liquid-syntax"


@lru_cache(maxsize=4096)
def _analyse(source: str) -> _Analysis:
    if not _LIQUID_RE.search(source):
        return _Analysis(frozenset(), False, None, frozenset())
    try:
        tpl = _liquid.environment().from_string(source)
    except Exception as exc:  # noqa: BLE001 - any Liquid error is a finding, never a crash
        return _Analysis(frozenset(), False, _error_text(exc, source), frozenset())
    known = _liquid.environment().filters
    unknown = [f for f in tpl.filter_names() if f not in known]
    error = None
    if unknown:
        hit = re.search(rf"\|\s*{re.escape(unknown[0])}\b", source)
        line, col = _line_col(source, hit.start() if hit else 0)
        error = (
            f"unknown filter {unknown[0]!r} (line {line}, column {col}); known filters include "
            "default, upcase, downcase, capitalize, date, truncate, replace"
        )
    tags: set[str] = set()
    bare: set[str] = set()
    all_tags = False
    for seg in tpl.global_variable_segments():
        root = seg[0] if seg else None
        if not isinstance(root, str):
            continue
        if root == "user":
            if len(seg) >= 3 and seg[1] == "tags" and isinstance(seg[2], str):
                tags.add(seg[2])
            elif len(seg) < 2 or seg[1] == "tags":
                all_tags = True
        elif root != "message":
            tags.add(root)
            bare.add(root)
    code = "liquid-unknown-filter" if error else "liquid-syntax"
    return _Analysis(frozenset(tags), all_tags, error, frozenset(bare), code)


def _line_col(source: str, index: int) -> tuple[int, int]:
    before = source[: max(0, min(index, len(source)))]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _error_text(exc: Exception, source: str | None = None) -> str:
    try:
        ctx = exc.context() if hasattr(exc, "context") else None
    except ValueError:
        ctx = None
    msg = getattr(exc, "message", None) or str(exc)
    if ctx:
        return f"{msg} (line {ctx[0]}, column {ctx[1] + 1})"
    if source is not None:  # the error is at the end of the text (e.g. an unclosed tag)
        line, col = _line_col(source, len(source))
        return f"{msg} (at the end of the text: line {line}, column {col})"
    return str(msg)


# --------------------------------------------------------------------------------------------
# cohorts and tag columns


def _frame(cohort_or_df: Any) -> pd.DataFrame:
    df = getattr(cohort_or_df, "df", cohort_or_df)
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(
            f"Expected a Cohort or a DataFrame, got {type(cohort_or_df).__name__}. "
            "Use onesig_nb.load_cohort(...) or pass a DataFrame with an 'external_id' column."
        )
    if "external_id" not in df.columns:
        raise ValidationError(
            "The DataFrame has no 'external_id' column. Rename your id column to external_id, "
            "or load it with onesig_nb.load_cohort(df)."
        )
    return df


def _safe_tag(v: Any) -> str | None:
    try:
        return tag_value(v)
    except ValidationError:
        return None  # lists/dicts/inf can never be tags (tags_from_traits skips them too)


def _tag_array(series: pd.Series) -> np.ndarray:
    """The tag value (str or None) of every cell, converting each distinct value once."""
    if series.dtype != object:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        conv = np.array([_safe_tag(u) for u in uniques] + [None], dtype=object)
        return conv[codes]
    out = np.empty(len(series), dtype=object)
    memo: dict[Any, str | None] = {}
    for i, v in enumerate(series.tolist()):
        try:
            key = (type(v), v)
            hit = memo.get(key, memo)
        except TypeError:  # unhashable (list, dict)
            out[i] = _safe_tag(v)
            continue
        if hit is memo:
            hit = memo[key] = _safe_tag(v)
        out[i] = hit
    return out


class _Tags:
    """Lazily computed tag columns of a frame, named as OneSignal would hold them."""

    def __init__(self, df: pd.DataFrame, tag_map: Mapping[str, str] | None):
        self.df = df
        self.n = len(df)
        self.sources: dict[str, list[str]] = {}
        for col in df.columns:
            if col == "external_id":
                continue
            name = str((tag_map or {}).get(col, col))
            self.sources.setdefault(name, []).append(col)
        self._cache: dict[str, np.ndarray] = {}

    @property
    def names(self) -> list[str]:
        return list(self.sources)

    def column(self, name: str) -> np.ndarray:
        arr = self._cache.get(name)
        if arr is None:
            cols = self.sources.get(name)
            if not cols:
                arr = np.full(self.n, None, dtype=object)
            else:
                arr = _tag_array(self.df[cols[0]])
                for col in cols[1:]:  # later traits win where they hold a value
                    other = _tag_array(self.df[col])
                    arr = np.where(pd.isna(other), arr, other)
            self._cache[name] = arr
        return arr


class _Rendered:
    """Result of rendering every slot for every row (collect mode keeps failures)."""

    def __init__(self, ids: np.ndarray, langs: np.ndarray):
        self.ids = ids
        self.langs = langs
        self.raw_langs = langs
        self.columns: dict[str, np.ndarray] = {}
        self.failures: list[tuple[_Slot, str, list[str]]] = []


# --------------------------------------------------------------------------------------------
# the message


class Message:
    """A push notification whose texts may be Liquid templates, validated at construction.

    :param contents: the body; text (English) or ``{language: text}`` with an ``"en"`` entry.
    :param headings: the title, same shapes; ``subtitle`` is shown on iOS only.
    :param url: launch URL; ``chrome_web_image``, ``big_picture``, ``ios_attachments``: images.
    :param data: extra data for the app (≤ 2,048 bytes; OneSignal does not render Liquid in it).
    :param buttons: up to 3 ``{"id", "text", "icon"?}`` action buttons.
    :param custom_data: values templates read as ``message.custom_data.<key>`` (≤ 2,048 bytes).

    Other keywords are OneSignal's own fields (``send_after``, ``delayed_option``, ``ttl`` ...).

    >>> Message("Hi {{ first_name | default: 'there' }}").variables
    {'first_name'}
    """

    def __init__(
        self,
        contents: str | Mapping[str, str],
        *,
        headings: str | Mapping[str, str] | None = None,
        subtitle: str | Mapping[str, str] | None = None,
        url: str | None = None,
        chrome_web_image: str | None = None,
        big_picture: str | None = None,
        ios_attachments: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        buttons: Iterable[Mapping[str, str]] | None = None,
        send_after: str | _dt.datetime | None = None,
        delayed_option: str | None = None,
        delivery_time_of_day: str | None = None,
        ttl: int | None = None,
        priority: int | None = None,
        name: str | None = None,
        custom_data: Mapping[str, Any] | None = None,
    ):
        self.contents = _lang_map("contents", contents, required=True)
        self.headings = _lang_map("headings", headings, required=False)
        self.subtitle = _lang_map("subtitle", subtitle, required=False)
        self.url = _check_str("url", url)
        self.chrome_web_image = _check_str("chrome_web_image", chrome_web_image)
        self.big_picture = _check_str("big_picture", big_picture)
        if ios_attachments is not None:
            if not isinstance(ios_attachments, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in ios_attachments.items()
            ):
                raise _fail(
                    "ios_attachments must be a {id: url} dict of text, e.g. {'hero': 'https://...'}."
                )
            ios_attachments = dict(ios_attachments) or None
        self.ios_attachments = ios_attachments
        self.data = _check_data("data", data)
        self.custom_data = _check_data("custom_data", custom_data)
        self.buttons = _check_buttons(buttons)
        self.send_after = _check_send_after(send_after)
        if delayed_option is not None and delayed_option not in ("timezone", "last-active"):
            raise _fail(
                f"delayed_option {delayed_option!r} is not allowed; use 'timezone' (deliver at "
                "delivery_time_of_day in each user's zone) or 'last-active'."
            )
        self.delayed_option = delayed_option
        if delivery_time_of_day is not None:
            if not isinstance(delivery_time_of_day, str) or not _TIME_OF_DAY_RE.match(
                delivery_time_of_day.strip()
            ):
                raise _fail(
                    f"delivery_time_of_day {delivery_time_of_day!r} is not a time of day; use "
                    "e.g. '9:00AM', '21:45' or '9:45:30'."
                )
            if delayed_option != "timezone":
                raise _fail(
                    "delivery_time_of_day only works with delayed_option='timezone'; add it."
                )
        self.delivery_time_of_day = delivery_time_of_day
        if ttl is not None:
            if isinstance(ttl, bool) or not isinstance(ttl, (int, np.integer)):
                raise _fail(f"ttl must be a whole number of seconds, not {ttl!r}.")
            if not 0 <= int(ttl) <= limits.MAX_TTL_SECONDS:
                raise _fail(
                    f"ttl {ttl} is out of range; OneSignal accepts 0 to "
                    f"{limits.MAX_TTL_SECONDS:,} seconds (28 days). Default is "
                    f"{limits.DEFAULT_TTL_SECONDS:,} (3 days)."
                )
            ttl = int(ttl)
        self.ttl = ttl
        if priority is not None and (isinstance(priority, bool) or priority not in (5, 10)):
            raise _fail(f"priority {priority!r} is not allowed; use 10 (high) or 5 (normal).")
        self.priority = int(priority) if priority is not None else None
        if name is not None:
            if not isinstance(name, str):
                raise _fail(f"name must be text, not {type(name).__name__}.")
            if len(name) > limits.MAX_NAME_CHARS:
                raise _fail(
                    f"name is {len(name)} characters; OneSignal allows {limits.MAX_NAME_CHARS}. "
                    "Shorten it."
                )
        self.name = name

    # ---- serialization -------------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        """The OneSignal request fields that are set, templates left as Liquid (no targeting)."""
        out: dict[str, Any] = {}
        for key in _FIELDS:
            value = getattr(self, key)
            if value is not None:
                out[key] = json.loads(json.dumps(value))  # deep copy, plain JSON types
        return out

    def to_dict(self) -> dict[str, Any]:
        """The constructor's keywords that are set (round-trips through :meth:`from_dict`)."""
        return self.to_payload()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Message:
        """Build a Message from a dict of constructor keywords (OneSignal field names)."""
        if not isinstance(d, Mapping):
            raise ValidationError(f"A message must be a mapping of fields, not {type(d).__name__}.")
        unknown = sorted(set(d) - set(_FIELDS))
        if unknown:
            raise ValidationError(
                f"Unknown message field(s) {unknown}. Allowed: {', '.join(_FIELDS)}."
            )
        if "contents" not in d:
            raise ValidationError("The message has no 'contents'; add contents: {en: '...'}.")
        kwargs = {k: v for k, v in d.items() if k != "contents"}
        return cls(d["contents"], **kwargs)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Message:
        """Read a message from a YAML file (the fields at top level, or under ``message:``)."""
        import yaml

        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValidationError(
                f"No message file at {path}; create it or fix the path."
            ) from None
        except yaml.YAMLError as exc:
            raise ValidationError(f"{path} is not valid YAML: {exc}") from None
        if isinstance(doc, Mapping) and set(doc) == {"message"}:
            doc = doc["message"]
        return cls.from_dict(doc)

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical payload: equal messages, equal fingerprints."""
        canon = json.dumps(self.to_payload(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and self.to_payload() == other.to_payload()

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return f"Message(contents={self.contents!r}, headings={self.headings!r})"

    # ---- templates -----------------------------------------------------------------------

    @property
    def languages(self) -> list[str]:
        return list(self.contents)

    def _slots(self) -> list[_Slot]:
        slots = []
        for fld in _LANG_FIELDS:
            for lang, src in (getattr(self, fld) or {}).items():
                if src or lang == "en":  # an empty translation falls back to English, as OneSignal
                    slots.append(_Slot(fld, lang, src))
        for fld in _URL_FIELDS:
            if getattr(self, fld):
                slots.append(_Slot(fld, None, getattr(self, fld)))
        for key, src in (self.ios_attachments or {}).items():
            slots.append(_Slot(f"ios_attachments.{key}", None, src))
        return slots

    @property
    def variables(self) -> set[str]:
        """The tag names the templates read (bare names and ``user.tags.x``)."""
        out: set[str] = set()
        for slot in self._slots():
            out |= _analyse(slot.source).tags
        return out

    def _reads_all_tags(self) -> bool:
        return any(_analyse(s.source).all_tags for s in self._slots())

    def _pick_languages(self, tags: _Tags) -> tuple[np.ndarray, np.ndarray]:
        """(the person's language code, the contents language they get).

        Like OneSignal (and the sandbox), each text field is picked separately: the person's
        exact language code if the field has non-empty text for it, else English.
        """
        if LANGUAGE_TRAIT not in tags.df.columns:
            en = np.full(tags.n, "en", dtype=object)
            return en, en
        raw = _tag_array(tags.df[LANGUAGE_TRAIT])
        raw[pd.isna(raw)] = "en"
        avail = [k for k, v in self.contents.items() if v]
        chosen = np.where(np.isin(raw, avail), raw, "en").astype(object)
        return raw, chosen

    def _render_slot(
        self, slot: _Slot, tags: _Tags, rows: np.ndarray, on_error: str, res
    ) -> np.ndarray:
        """Render one template for the given rows, once per distinct tuple of its tag values."""
        an = _analyse(slot.source)
        names = sorted(tags.names) if an.all_tags else sorted(an.tags)
        cols = [tags.column(n)[rows] for n in names]
        custom = self.custom_data
        out = np.empty(len(rows), dtype=object)
        memo: dict[tuple, Any] = {}
        failed: dict[str, list[int]] = {}
        keys = zip(*cols, strict=True) if cols else ((),) * len(rows)
        for i, key in enumerate(keys):
            text = memo.get(key, memo)
            if text is memo:
                user_tags = {n: v for n, v in zip(names, key, strict=True) if v is not None}
                try:
                    text = _liquid.render_text(slot.source, user_tags, custom)
                except Exception as exc:  # noqa: BLE001 - reported as a finding or ValidationError
                    text = _Failure(_error_text(exc))
                memo[key] = text
            if isinstance(text, _Failure):
                failed.setdefault(text.reason, []).append(i)
                text = ""
            out[i] = text
        if failed:
            for reason, idx in failed.items():
                ids = [str(x) for x in res.ids[rows[idx]]]
                if on_error == "raise":
                    where = f"{slot.field}" + (f" ({slot.lang})" if slot.lang else "")
                    raise ValidationError(
                        f"{where} could not be rendered for {len(ids)} user(s) (e.g. {ids[0]}): "
                        f"{reason}. Fix the template; msg.lint(cohort) lists every problem."
                    )
                res.failures.append((slot, reason, ids))
        return out

    def _render_all(self, cohort_or_df: Any, *, tag_map=None, on_error: str = "raise") -> _Rendered:
        df = _frame(cohort_or_df)
        tags = _Tags(df, tag_map)
        ids = df["external_id"].astype(str).to_numpy(dtype=object)
        raw_langs, langs = self._pick_languages(tags)
        res = _Rendered(ids, langs)
        res.raw_langs = raw_langs
        n = len(df)
        for slot in self._slots():
            an = _analyse(slot.source)
            if an.error is not None:
                if on_error == "raise":
                    raise ValidationError(
                        f"{slot.field}{f' ({slot.lang})' if slot.lang else ''} is not valid Liquid: "
                        f"{an.error}. Fix the template (msg.lint() shows where)."
                    )
                res.failures.append((slot, an.error, [str(x) for x in ids]))
                continue
            col = _OUTPUT.get(slot.field, slot.field)
            if col not in res.columns:
                res.columns[col] = np.full(n, None, dtype=object)
            if slot.lang is None:
                rows = np.arange(n)
            else:
                # the person's language; headings/subtitle without it fall back to English
                present = [lg for lg, v in getattr(self, slot.field).items() if v]
                if slot.lang == "en":
                    others = [lg for lg in present if lg != "en"]
                    rows = np.flatnonzero(~np.isin(raw_langs, others)) if others else np.arange(n)
                else:
                    rows = np.flatnonzero(raw_langs == slot.lang)
            if len(rows):
                res.columns[col][rows] = self._render_slot(slot, tags, rows, on_error, res)
        return res

    # ---- public rendering ------------------------------------------------------------------

    def render(
        self, cohort_or_df: Any, *, tag_map: Mapping[str, str] | None = None
    ) -> pd.DataFrame:
        """Render the message for every person, in their language, as OneSignal would.

        Returns a DataFrame with columns external_id, language, heading, subtitle, contents, url.
        Raises :class:`ValidationError` when a template cannot be rendered.
        """
        res = self._render_all(cohort_or_df, tag_map=tag_map)
        n = len(res.ids)
        none = np.full(n, None, dtype=object)
        return pd.DataFrame(
            {
                "external_id": res.ids,
                "language": res.langs,
                "heading": res.columns.get("heading", none),
                "subtitle": res.columns.get("subtitle", none),
                "contents": res.columns.get("contents", none),
                "url": res.columns.get("url", none),
            }
        )

    def render_user(self, person: Any, *, tag_map: Mapping[str, str] | None = None) -> dict:
        """Everything one person would see (first row of ``person``); never raises on bad Liquid.

        Returns heading, subtitle, contents, url, chrome_web_image, big_picture, ios_image,
        language and ``errors`` (texts of templates that failed; failed fields render as "").
        """
        df = _frame(person).iloc[:1]
        res = self._render_all(df, tag_map=tag_map, on_error="collect")
        first = {k: (v[0] if len(v) else None) for k, v in res.columns.items()}
        images = [v for k, v in first.items() if k.startswith("ios_attachments.") and v]
        return {
            "external_id": str(res.ids[0]) if len(res.ids) else None,
            "language": str(res.langs[0]) if len(res.langs) else "en",
            "heading": first.get("heading"),
            "subtitle": first.get("subtitle"),
            "contents": first.get("contents"),
            "url": first.get("url"),
            "chrome_web_image": first.get("chrome_web_image"),
            "big_picture": first.get("big_picture"),
            "ios_image": images[0] if images else None,
            "errors": [f"{_where(slot)}: {reason}" for slot, reason, _ in res.failures],
        }

    def client_batches(
        self, cohort: Any, *, tag_map: Mapping[str, str] | None = None
    ) -> list[tuple[dict, list[str]]]:
        """Fully rendered payloads (no Liquid left) and the external ids that get each one.

        People who would read exactly the same notification share one payload. The rendered text
        is sent under ``en`` (OneSignal requires it) and under the person's language, so the
        device shows what the preview showed whatever its own language setting.
        """
        res = self._render_all(cohort, tag_map=tag_map)
        base = self.to_payload()
        for key in (
            "contents",
            "headings",
            "subtitle",
            "url",
            "chrome_web_image",
            "big_picture",
            "ios_attachments",
        ):
            base.pop(key, None)
        cols = sorted(res.columns)
        groups: dict[tuple, list[str]] = {}
        translated = {lg for f in _LANG_FIELDS for lg, v in (getattr(self, f) or {}).items() if v}
        arrays = [res.columns[c] for c in cols]
        for i, ext_id in enumerate(res.ids.tolist()):
            lang = res.raw_langs[i]
            key = (lang if lang in translated else "en", *(a[i] for a in arrays))
            groups.setdefault(key, []).append(ext_id)
        out = []
        for key, ids in groups.items():
            lang, values = key[0], dict(zip(cols, key[1:], strict=True))
            payload = dict(base)
            for col, fld in (
                ("contents", "contents"),
                ("heading", "headings"),
                ("subtitle", "subtitle"),
            ):
                text = values.get(col)
                if text is not None:
                    extra = lang != "en" and isinstance(lang, str) and _LANG_RE.match(lang)
                    payload[fld] = {"en": text, lang: text} if extra else {"en": text}
            for fld in _URL_FIELDS:
                if values.get(fld):
                    payload[fld] = values[fld]
            att = {
                c.split(".", 1)[1]: v
                for c, v in values.items()
                if c.startswith("ios_attachments.") and v
            }
            if att:
                payload["ios_attachments"] = att
            out.append((payload, ids))
        return out

    def personalization(
        self,
        cohort: Any = None,
        *,
        tag_map: Mapping[str, str] | None = None,
        synced_tags: Iterable[str] | None = None,
    ) -> Personalization:
        """Say whether OneSignal can fill the templates (server) or we must pre-render (client).

        ``synced_tags``: tag names known to be stored in OneSignal (e.g. after a TagSync). When
        omitted, server mode is assumed possible and the reason says what it depends on.
        """
        variables = tuple(sorted(self.variables))
        distinct = len(self.client_batches(cohort, tag_map=tag_map)) if cohort is not None else None
        if not variables and not self._reads_all_tags():
            return Personalization(
                "none",
                distinct if distinct is not None else len(self.contents),
                "No template reads a tag: everyone gets the same text in their language.",
                variables,
            )
        shown = ", ".join(variables) or "all tags"
        if synced_tags is not None:
            missing = sorted(set(variables) - set(synced_tags))
            if missing or self._reads_all_tags():
                return Personalization(
                    "client",
                    distinct,
                    f"Tags {', '.join(missing) or '(all)'} are not stored in OneSignal, so the "
                    f"texts are rendered here and grouped: {distinct if distinct is not None else 'N'} "
                    "distinct notification(s). Sync those tags (TagSync) to send one templated "
                    "notification instead.",
                    variables,
                )
        return Personalization(
            "server",
            distinct,
            f"One templated notification; OneSignal fills {shown} from the tags it stores for each "
            "user. This needs those tags in OneSignal (sync them with TagSync first); otherwise "
            f"use client mode, which would send {distinct if distinct is not None else 'one notification per distinct text'}"
            f"{' distinct text(s)' if distinct is not None else ''}.",
            variables,
        )

    # ---- lint --------------------------------------------------------------------------------

    def lint(
        self, cohort: Any = None, *, tag_map: Mapping[str, str] | None = None
    ) -> list[Finding]:
        """Check the message (and, given a cohort, every person's rendering); never raises.

        Returns findings sorted by severity: errors first, then warnings, then notes.
        """
        findings = _lint(self, cohort, tag_map)
        return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.code, f.field or ""))


class _Failure:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


# --------------------------------------------------------------------------------------------
# lint


def _where(slot: _Slot) -> str:
    return slot.field + (f" ({slot.lang})" if slot.lang else "")


def _url_problem(value: str) -> tuple[str, str] | None:
    """(severity, text) for a URL that OneSignal or the device would refuse, else None."""
    from urllib.parse import urlsplit

    if any(c.isspace() for c in value.strip()) or value != value.strip():
        return "error", "contains spaces; URL-encode them (%20) or use url_encode"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "error", "is not a valid URL"
    if parts.scheme in ("http", "https") and not parts.netloc:
        return "error", "has no host"
    if parts.scheme == "http":
        return "warning", "uses http://; browsers and iOS block insecure content, use https://"
    if parts.scheme == "https":
        return None
    if not parts.scheme:
        return "error", "is not an absolute URL (start it with https://)"
    return "info", f"uses the {parts.scheme}: scheme (a deep link); check the app handles it"


def _guarded(source: str, var: str) -> bool:
    name = rf"(?:user\.tags\.)?{re.escape(var)}\b"
    return bool(
        re.search(rf"{name}\s*\|\s*default\b", source)
        or re.search(rf"\{{%-?\s*(?:if|unless|elsif|case)\b[^%]*{name}", source)
    )


def _applies(msg: Message, slot: _Slot, lang: str) -> bool:
    """Whether a person reading ``lang`` sees this slot (English covers missing translations)."""
    if slot.lang is None or slot.lang == lang:
        return True
    present = [lg for lg, v in (getattr(msg, slot.field) or {}).items() if v]
    return slot.lang == "en" and lang not in present


def _static_findings(msg: Message) -> list[Finding]:
    out: list[Finding] = []
    reserved = limits.RESERVED_TAG_KEYS - {"user", "message"}
    for slot in msg._slots():
        an = _analyse(slot.source)
        if an.error is not None:
            out.append(Finding("error", an.error_code, f"{_where(slot)}: {an.error}.", slot.field))
        for name in sorted(an.bare & reserved):
            out.append(
                Finding(
                    "warning",
                    "reserved-tag",
                    f"{_where(slot)} reads {{{{ {name} }}}}, but OneSignal reserves '{name}' for "
                    "its own data, so no tag of that name is used. Rename the tag (tag_map=).",
                    slot.field,
                )
            )
        if slot.lang is None and not _LIQUID_RE.search(slot.source):
            problem = _url_problem(slot.source)
            if problem and not (slot.field == "big_picture" and "/" not in slot.source):
                out.append(
                    Finding(
                        problem[0], "url", f"{slot.field} {slot.source!r} {problem[1]}.", slot.field
                    )
                )
    for i, b in enumerate(msg.buttons or []):
        if b.get("icon") and "://" in b["icon"] and (p := _url_problem(b["icon"])):
            out.append(Finding(p[0], "url", f"buttons[{i}].icon {p[1]}.", "buttons"))
    for fld in ("data",):
        blob = json.dumps(getattr(msg, fld) or {}, ensure_ascii=False)
        if _LIQUID_RE.search(blob):
            out.append(
                Finding(
                    "warning",
                    "liquid-in-data",
                    "data contains Liquid ({{ ... }} or {% ... %}); OneSignal sends data as is and "
                    "does not render it. Put personal values in the texts, or render them into data "
                    "yourself.",
                    fld,
                )
            )
    if msg.headings and "en" not in msg.headings:
        out.append(
            Finding(
                "warning",
                "heading-no-en",
                "headings has no 'en' entry; English readers get the app name as title.",
                "headings",
            )
        )
    return out


def _lint(msg: Message, cohort: Any, tag_map: Mapping[str, str] | None) -> list[Finding]:
    out = _static_findings(msg)
    if cohort is None:
        for slot in msg._slots():  # texts without variables can be measured without a cohort
            if slot.field in ("headings", "contents") and not _LIQUID_RE.search(slot.source):
                out += _length_findings(
                    slot.field,
                    np.array([slot.source], dtype=object),
                    None,
                    bool(msg.big_picture or msg.ios_attachments),
                )
        return out
    try:
        df = _frame(cohort)
    except ValidationError as exc:
        return [*out, Finding("error", "cohort", str(exc))]
    tags = _Tags(df, tag_map)
    res = msg._render_all(df, tag_map=tag_map, on_error="collect")
    n = len(res.ids)
    if n == 0:
        return [*out, Finding("info", "empty-cohort", "The cohort has no users; nothing to check.")]
    static_errors = {f.field for f in out if f.code.startswith("liquid")}
    for slot, reason, ids in res.failures:
        if slot.field in static_errors and len(ids) == n:
            continue  # already reported as a syntax / unknown-filter finding
        out.append(
            Finding(
                "error",
                "render-failed",
                f"{_where(slot)} fails to render for {len(ids):,} of {n:,} users: {reason}.",
                slot.field,
                len(ids),
                tuple(ids[:5]),
            )
        )
    # variables that some users lack, and what they will see instead
    sources = {s.field: [] for s in msg._slots()}
    for s in msg._slots():
        sources[s.field].append(s)
    for var in sorted(msg.variables):
        using = [s for s in msg._slots() if var in _analyse(s.source).tags]
        if not using:
            continue
        present = set(res.raw_langs.tolist())
        reads = [lg for lg in present if any(_applies(msg, s, lg) for s in using)]
        missing = np.flatnonzero(pd.isna(tags.column(var)) & np.isin(res.raw_langs, reads))
        if not len(missing):
            continue
        guarded = all(_guarded(s.source, var) for s in using)
        slot = next((s for s in using if s.field == "contents"), using[0])
        shown = res.columns.get(_OUTPUT.get(slot.field, slot.field))
        example = shown[missing[0]] if shown is not None else None
        who = (
            "no user in this cohort has"
            if bool(pd.isna(tags.column(var)).all())
            else f"{len(missing):,} of {n:,} users have no"
        )
        tail = (f"; they will see {example!r}" if example is not None else "") + (
            " (the template gives them a fallback)."
            if guarded
            else ". Add a fallback, e.g. "
            f"{{{{ {var} | default: 'there' }}}}, or leave them out of the cohort."
        )
        out.append(
            Finding(
                "info" if guarded else "warning",
                "missing-variable",
                f"{who} tag '{var}'{tail}",
                slot.field,
                len(missing),
                tuple(str(x) for x in res.ids[missing[:5]]),
            )
        )
        if var in limits.RESERVED_TAG_KEYS:
            pass  # reported statically
    for name in sorted(set(tags.names) & limits.RESERVED_TAG_KEYS):
        out.append(
            Finding(
                "warning",
                "reserved-tag",
                f"Trait '{name}' would become tag '{name}', which OneSignal reserves; map it to "
                f"another name with tag_map={{'{name}': '{name}_tag'}}.",
                None,
            )
        )
    # empty renders
    contents = res.columns.get("contents")
    if contents is not None:
        empty = np.flatnonzero([not (t or "").strip() for t in contents])
        if len(empty):
            out.append(
                Finding(
                    "error",
                    "empty-render",
                    f"The text renders empty for {len(empty):,} of {n:,} users; OneSignal would "
                    "send them a blank notification or reject it. Add a default.",
                    "contents",
                    len(empty),
                    tuple(str(x) for x in res.ids[empty[:5]]),
                )
            )
    heading = res.columns.get("heading")
    if heading is not None and msg.headings:
        empty = np.flatnonzero([t is not None and not t.strip() for t in heading])
        if len(empty):
            out.append(
                Finding(
                    "warning",
                    "empty-render",
                    f"The title renders empty for {len(empty):,} of {n:,} users; they see the "
                    "app name instead.",
                    "headings",
                    len(empty),
                    tuple(str(x) for x in res.ids[empty[:5]]),
                )
            )
    # truncation and size
    with_image = bool(msg.big_picture or msg.ios_attachments)
    if heading is not None:
        out += _length_findings("headings", heading, res.ids, with_image)
    if contents is not None:
        out += _length_findings("contents", contents, res.ids, with_image)
        extra = _json_bytes("data", msg.data or {}) if msg.data else 0
        sizes = np.array(
            [
                len((c or "").encode()) + len((h or "").encode()) + extra
                for c, h in zip(
                    contents, heading if heading is not None else [None] * n, strict=True
                )
            ]
        )
        big = np.flatnonzero(sizes > PAYLOAD_WARN_BYTES)
        if len(big):
            out.append(
                Finding(
                    "error",
                    "payload-too-large",
                    f"{len(big):,} users' notification is over {PAYLOAD_WARN_BYTES:,} bytes of "
                    f"text and data (largest {int(sizes.max()):,}); APNs and FCM reject pushes "
                    "over 4 KB. Shorten the text.",
                    "contents",
                    len(big),
                    tuple(str(x) for x in res.ids[big[:5]]),
                )
            )
    # rendered URLs and images (templated ones; static ones were checked above)
    for slot in msg._slots():
        if slot.lang is not None or not _LIQUID_RE.search(slot.source):
            continue
        col = res.columns.get(slot.field)
        if col is None:
            continue
        bad: dict[tuple[str, str], list[int]] = {}
        for i, v in enumerate(col):
            p = _url_problem(v) if v else ("error", "renders empty")
            if p:
                bad.setdefault(p, []).append(i)
        for (sev, text), idx in bad.items():
            out.append(
                Finding(
                    sev,
                    "url",
                    f"{slot.field} {text} for {len(idx):,} of {n:,} users (e.g. {col[idx[0]]!r}).",
                    slot.field,
                    len(idx),
                    tuple(str(x) for x in res.ids[idx[:5]]),
                )
            )
    # people whose language has no translation
    if LANGUAGE_TRAIT in df.columns and len(msg.contents) >= 1:
        wanted = res.raw_langs
        fell = np.flatnonzero(wanted != res.langs)
        if len(fell):
            langs = sorted({str(wanted[i]) for i in fell})
            out.append(
                Finding(
                    "info",
                    "language-fallback",
                    f"{len(fell):,} users speak {', '.join(langs[:6])}, which the message has no "
                    "text for; they get English.",
                    "contents",
                    len(fell),
                    tuple(str(x) for x in res.ids[fell[:5]]),
                )
            )
    return out


def _length_findings(
    fld: str, texts: np.ndarray, ids: np.ndarray | None, with_image: bool
) -> list[Finding]:
    lens = np.array([len(t) if t else 0 for t in texts])
    if not len(lens):
        return []
    out = []
    part = "title" if fld == "headings" else "body"
    checks = [
        ("ios", "iOS lock screen"),
        ("android", "Android (collapsed)"),
        ("chrome", "Chrome on desktop"),
    ]
    for device, label in checks:
        lim = DEVICE_LIMITS[device][part]
        if device == "ios" and part == "body" and with_image:
            lim = DEVICE_LIMITS["ios"]["body_with_image"]
        over = np.flatnonzero(lens > lim)
        if not len(over):
            continue
        sev = "info" if device == "android" and part == "body" else "warning"
        if (
            device == "android"
            and part == "body"
            and (lens > DEVICE_LIMITS["android"]["body_expanded"]).any()
        ):
            sev = "warning"
        who = (
            f"{len(over):,} of {len(lens):,} users'" if ids is not None and len(lens) > 1 else "The"
        )
        out.append(
            Finding(
                sev,
                f"truncated-{device}",
                f"{who} {part} is longer than the ~{lim} characters {label} shows "
                f"(longest {int(lens.max())}); the rest is cut off with '…'.",
                fld,
                len(over),
                tuple(str(x) for x in ids[over[:5]]) if ids is not None else (),
            )
        )
    return out
