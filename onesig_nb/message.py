"""A push message: Liquid templates, validation, per-user rendering and lint (pure, no UI).

    msg = Message({"en": "Hi {{ first_name | default: 'there' }}", "es": "Hola {{ first_name }}"},
                  headings="Your cart misses you", url="https://shop.example/cart")
    msg.render(cohort)        # one row per person, in their language, exactly as OneSignal renders
    msg.lint(cohort)          # findings: missing tags, truncation, bad URLs, Liquid errors ...
    msg.personalization(cohort), msg.client_batches(cohort), msg.to_payload()

Argument checks live in :mod:`onesig_nb._message_checks` and the lint rules in
:mod:`onesig_nb.lint`; :meth:`Message.lint` calls into the latter.

Rendering goes through :mod:`onesig_nb._liquid` (the sandbox renders through it too) with traits
turned into tags by :func:`onesig_nb.tags.tags_from_traits`'s rules. Each template is rendered once
per distinct tuple of the tag values it reads, so 100,000 users whose first names and cities
repeat cost a few hundred renders, not 100,000.
"""

from __future__ import annotations

import datetime as _dt
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
from ._message_checks import (
    _LANG_RE,
    _check_buttons,
    _check_data,
    _check_send_after,
    _check_str,
    _fail,
    _lang_map,
    _line_col,
    language_name,
    liquid_error_words,
    plural,
)
from .errors import ValidationError
from .onesignal import limits
from .tags import tag_value

__all__ = ["DEVICE_LIMITS", "Finding", "Findings", "Message", "Personalization"]

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
_TIME_OF_DAY_RE = re.compile(
    r"^(1[0-2]|0?[1-9]):[0-5]\d(:[0-5]\d)?\s?(AM|PM)$|^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", re.I
)
_LIQUID_RE = re.compile(r"\{\{|\{%")

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
        return f"{self.severity}: {self.message}"


_SEVERITY_COLORS = {"error": "#b00020", "warning": "#b26a00", "info": "#1a73e8"}


class Findings(list):
    """The list :meth:`Message.lint` returns: still a plain list, but readable when shown.

    ``print(findings)`` gives one ``severity: message`` line per finding; in a notebook it is an
    HTML list; :meth:`to_frame` gives a DataFrame.
    """

    def __str__(self) -> str:
        if not self:
            return "No problems found."
        return "\n".join(str(f) for f in self)

    def __repr__(self) -> str:
        return str(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: severity, code, message, field, count, examples."""
        cols = ["severity", "code", "message", "field", "count", "examples"]
        return pd.DataFrame([f.to_dict() for f in self], columns=cols)

    def to_html(self, title: str | None = None, *, counts: bool = True) -> str:
        """An escaped HTML list (codes shown small); ``counts`` adds "(N users)" where the
        sentence does not already say how many."""
        import html

        head = (
            f"<div style='font-weight:600;margin:6px 0 2px'>{html.escape(title)}</div>"
            if title
            else ""
        )
        if not self:
            return head + (
                "<div class='osn-findings osn-ok' style='color:#188038'>No problems found.</div>"
            )
        items = []
        for f in self:
            color = _SEVERITY_COLORS.get(f.severity, "#333")
            count = ""
            if counts and f.count and f"{f.count:,}" not in f.message:
                count = f" <span style='color:#666'>({plural(f.count, 'user')})</span>"
            items.append(
                f"<li class='osn-finding' data-severity='{f.severity}' "
                f"data-code='{html.escape(f.code)}' title='{html.escape(f.code)}'>"
                f"<b style='color:{color}'>{f.severity}</b> "
                f"<span dir='auto'>{html.escape(f.message)}</span>{count} "
                f"<code style='color:#888;font-size:11px'>{html.escape(f.code)}</code></li>"
            )
        return (
            head
            + "<ul class='osn-findings' style='margin:0;padding-left:18px'>"
            + "".join(items)
            + "</ul>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


@dataclass(frozen=True)
class Personalization:
    """How a message would be personalized: not at all, by OneSignal (server) or by us (client)."""

    mode: str  # "none" | "server" | "client"
    distinct_texts: int | None
    reason: str
    variables: tuple[str, ...] = field(default=())


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
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        error = (
            f"`| {unknown[0]}` at line {line}, column {col} is not a Liquid filter."
            + (f" Did you mean `| {close[0]}`?" if close else "")
            + " Known filters include default, upcase, downcase, capitalize, date, truncate, "
            "replace."
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


def _error_text(exc: Exception, source: str | None = None) -> str:
    """A Liquid error as one plain sentence with its line and column (ends with punctuation)."""
    try:
        ctx = exc.context() if hasattr(exc, "context") else None
    except ValueError:
        ctx = None
    msg = str(getattr(exc, "message", None) or exc).rstrip(".")
    if source is not None:  # parse errors: plain words, pointing at the tag to fix
        index = getattr(getattr(exc, "token", None), "start_index", None)
        if ctx is None:
            index = None  # the parser ran off the end of the text (e.g. an unclosed tag)
        return liquid_error_words(msg, source, index)
    if ctx:
        return f"{msg} (line {ctx[0]}, column {ctx[1] + 1})."
    return msg + "."


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


def _trait(row: Mapping[str, Any], name: str) -> str | None:
    v = row.get(name)
    try:
        if v is None or pd.isna(v):
            return None
    except (TypeError, ValueError):  # lists and dicts are not names
        return None
    text = str(v).strip()
    return text or None


def describe_person(row: Mapping[str, Any]) -> dict[str, str | None]:
    """Who one cohort row is, for people to read: id, short and full name, language, city.

    Uses the traits ``first_name``/``last_name`` (or ``name``), ``language`` and ``city`` when
    present; ``short`` falls back to the external id, so a sentence can always name the person.
    """
    first, last, name = (_trait(row, k) for k in ("first_name", "last_name", "name"))
    full = " ".join(x for x in (first, last) if x) or name
    ext = _trait(row, "external_id") or "this person"
    lang = _trait(row, LANGUAGE_TRAIT)
    if lang and language_name(lang) != lang:
        lang = f"{language_name(lang)} ({lang})"
    return {
        "external_id": ext,
        "short": first or (name.split()[0] if name else None) or ext,
        "full": full,
        "language": lang,
        "city": _trait(row, "city"),
    }


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
                        f"{where} could not be rendered for {plural(len(ids), 'user')} (e.g. "
                        f"{ids[0]}): {reason} Fix the template; msg.lint(cohort) lists every "
                        "problem."
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
                        f"{an.error} Fix the template (msg.lint() shows where)."
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
                    "texts are rendered here and grouped: "
                    + (
                        plural(distinct, "distinct notification")
                        if distinct is not None
                        else "one notification per distinct text"
                    )
                    + ". Sync those tags (TagSync) to send one templated notification instead.",
                    variables,
                )
        return Personalization(
            "server",
            distinct,
            f"One templated notification; OneSignal fills {shown} from the tags it stores for each "
            "user. This needs those tags in OneSignal (sync them with TagSync first); otherwise "
            "use client mode, which would send "
            + (
                plural(distinct, "distinct text")
                if distinct is not None
                else "one notification per distinct text"
            )
            + ".",
            variables,
        )

    # ---- lint --------------------------------------------------------------------------------

    def lint(self, cohort: Any = None, *, tag_map: Mapping[str, str] | None = None) -> Findings:
        """Check the message (and, given a cohort, every person's rendering); never raises.

        Returns findings sorted by severity: errors first, then warnings, then notes, as a
        :class:`Findings` list (``print()`` it, show it in a notebook, or ``.to_frame()``).
        """
        from .lint import lint_message  # lint imports this module; import it late

        return lint_message(self, cohort, tag_map=tag_map)


class _Failure:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def _where(slot: _Slot) -> str:
    return slot.field + (f" ({slot.lang})" if slot.lang else "")
