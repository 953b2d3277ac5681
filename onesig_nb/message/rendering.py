"""How a :class:`~onesig_nb.message.model.Message` renders: template analysis, tag columns, rendering.

Each template (a :class:`Slot`: one field in one language) is parsed once (:func:`analyse`,
memoized) to learn the tags it reads. A cohort's traits become tag columns (:class:`TagColumns`,
named and converted as :func:`onesig_nb.segment.tags.tags_from_traits` would store them), and
:func:`render_all` renders each template once per distinct tuple of the tag values it reads, so
100,000 users whose first names and cities repeat cost a few hundred renders, not 100,000.
Rendering goes through :mod:`onesig_nb.message.liquid`, as the sandbox does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from onesig_nb._words import count, language_name
from onesig_nb.errors import ValidationError
from onesig_nb.message import liquid
from onesig_nb.message.liquid import line_col, liquid_error_words
from onesig_nb.segment.tags import tag_value

if TYPE_CHECKING:
    from onesig_nb.message.model import Message

#: The trait that picks a person's language; unknown or missing languages fall back to English.
LANGUAGE_TRAIT = "language"

#: The text fields, one template per language.
LANG_FIELDS = ("headings", "subtitle", "contents")
#: The URL and image fields, one template each: OneSignal renders Liquid in the launch URLs and
#: image URLs (reference onesignal-api.md §7; docs: using-liquid-syntax).
URL_FIELDS = ("url", "web_url", "app_url", "chrome_web_image", "big_picture", "large_icon")
#: The column a text field renders into (``render()`` says "heading" for ``headings``).
OUTPUT_COLUMNS = {"headings": "heading", "subtitle": "subtitle", "contents": "contents"}
#: Whether a text holds Liquid at all (texts without it need no parsing and no rendering).
LIQUID_RE = re.compile(r"\{\{|\{%")

# --------------------------------------------------------------------------------------------
# template analysis


@dataclass(frozen=True)
class Slot:
    """One template of a message: a field in one language (``lang`` None for URLs, images)."""

    field: str  # payload field, e.g. "contents" or "ios_attachments.id1"
    lang: str | None
    source: str

    @property
    def where(self) -> str:
        """How findings name it: "contents (es)", "url"."""
        return self.field + (f" ({self.lang})" if self.lang else "")


@dataclass(frozen=True)
class Analysis:
    """What one template reads, and its parse error if any."""

    tags: frozenset[str]  # tag names read
    all_tags: bool  # reads user.tags as a whole (loops, dynamic keys)
    error: str | None  # parse error or unknown filter, with line and column
    bare: frozenset[str]  # bare root names (for the reserved-name check)
    error_code: str = "liquid-syntax"
    reads_custom_data: bool = False  # reads message.custom_data (filled only with a template_id)


@lru_cache(maxsize=4096)
def analyse(source: str) -> Analysis:
    """Parse ``source`` once (memoized): the tags it reads, or why it cannot be parsed."""
    if not LIQUID_RE.search(source):
        return Analysis(frozenset(), False, None, frozenset())
    try:
        tpl = liquid.environment().from_string(source)
    except Exception as exc:  # noqa: BLE001 - any Liquid error is a finding, never a crash
        return Analysis(frozenset(), False, _error_text(exc, source), frozenset())
    known = liquid.environment().filters
    unknown = [f for f in tpl.filter_names() if f not in known]
    error = None
    if unknown:
        hit = re.search(rf"\|\s*{re.escape(unknown[0])}\b", source)
        line, col = line_col(source, hit.start() if hit else 0)
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
    custom = False
    for seg in tpl.global_variable_segments():
        root = seg[0] if seg else None
        if not isinstance(root, str):
            continue
        if root == "user":
            if len(seg) >= 3 and seg[1] == "tags" and isinstance(seg[2], str):
                tags.add(seg[2])
            elif len(seg) < 2 or seg[1] == "tags":
                all_tags = True
        elif root == "message":
            custom = custom or (len(seg) >= 2 and seg[1] == "custom_data")
        else:
            tags.add(root)
            bare.add(root)
    code = "liquid-unknown-filter" if error else "liquid-syntax"
    return Analysis(frozenset(tags), all_tags, error, frozenset(bare), code, custom)


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


def cohort_frame(cohort_or_df: Any) -> pd.DataFrame:
    """The DataFrame of a Cohort (or a DataFrame), checked to have an ``external_id`` column."""
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
    if isinstance(series.dtype, pd.StringDtype):  # text already: only "" and NA mean no tag
        out = series.to_numpy(dtype=object, na_value=None)
        out[np.equal(out, "")] = None
        return out
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


class TagColumns:
    """Lazily computed tag columns of a frame, named as OneSignal would hold them.

    ``sources`` maps each tag name to the trait columns it comes from (after ``tag_map``).
    """

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


class Rendered:
    """Result of rendering every slot for every row (collect mode keeps failures).

    ``columns`` maps an output column to one text per row; ``langs`` is the language each
    person gets, ``raw_langs`` the one they read; ``failures`` holds (slot, reason, ids).
    """

    def __init__(self, ids: np.ndarray, langs: np.ndarray):
        self.ids = ids
        self.langs = langs
        self.raw_langs = langs
        self.columns: dict[str, np.ndarray] = {}
        self.failures: list[tuple[Slot, str, list[str]]] = []


class _Failure:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


# --------------------------------------------------------------------------------------------
# rendering a message


def slots(msg: Message) -> list[Slot]:
    """Every template of ``msg``: texts per language (empty translations skipped), URLs, images."""
    out = []
    for fld in LANG_FIELDS:
        for lang, src in (getattr(msg, fld) or {}).items():
            if src or lang == "en":  # an empty translation falls back to English, as OneSignal
                out.append(Slot(fld, lang, src))
    for fld in URL_FIELDS:
        if getattr(msg, fld):
            out.append(Slot(fld, None, getattr(msg, fld)))
    for key, src in (msg.ios_attachments or {}).items():
        out.append(Slot(f"ios_attachments.{key}", None, src))
    return out


def variables(msg: Message) -> set[str]:
    """The tag names the templates read (bare names and ``user.tags.x``)."""
    out: set[str] = set()
    for slot in slots(msg):
        out |= analyse(slot.source).tags
    return out


def reads_all_tags(msg: Message) -> bool:
    """Whether a template reads ``user.tags`` as a whole (loops, dynamic keys)."""
    return any(analyse(s.source).all_tags for s in slots(msg))


def pick_languages(msg: Message, tags: TagColumns) -> tuple[np.ndarray, np.ndarray]:
    """(the person's language code, the contents language they get).

    Like OneSignal (and the sandbox), each text field is picked separately: the person's
    exact language code if the field has non-empty text for it, else English.
    """
    if LANGUAGE_TRAIT not in tags.df.columns:
        en = np.full(tags.n, "en", dtype=object)
        return en, en
    raw = _tag_array(tags.df[LANGUAGE_TRAIT])
    raw[pd.isna(raw)] = "en"
    avail = [k for k, v in msg.contents.items() if v]
    chosen = np.where(np.isin(raw, avail), raw, "en").astype(object)
    return raw, chosen


#: One output of the templates the vectorised path renders: ``{{ name }}`` or
#: ``{{ name | default: 'text' }}`` (a bare tag name, any spacing, no whitespace control, a
#: quoted default without backslashes or braces).
_SIMPLE_OUTPUT = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:\|\s*default\s*:\s*(?:'([^'\\{}]*)'|\"([^\"\\{}]*)\")\s*)?\}\}"
)

#: Names the Liquid context binds to something else than a tag (see liquid.render_context).
_CONTEXT_NAMES = frozenset({"user", "message", "true", "false", "nil", "null", "empty", "blank"})


@lru_cache(maxsize=1024)
def simple_parts(source: str) -> tuple[tuple[str, str | None], ...] | None:
    """The template as literal texts and simple outputs, or None when it needs Liquid.

    Each part is ``("lit", text)`` or ``("var", name, default)`` (``default`` None for a bare
    ``{{ name }}``). Any other markup (tags, filters, whitespace control, dotted names) returns None, and Liquid renders
    the template; the two paths give identical text (a property test compares them).
    """
    parts: list[tuple[str, str | None]] = []
    pos = 0
    for m in _SIMPLE_OUTPUT.finditer(source):
        literal = source[pos : m.start()]
        if "{{" in literal or "{%" in literal or literal.endswith("{"):
            return None  # Liquid would read the markup from an earlier brace
        name = m.group(1)
        if name in _CONTEXT_NAMES:
            return None
        default = m.group(2) if m.group(2) is not None else m.group(3)
        parts.append(("lit", literal))
        parts.append(("var", name, default))  # type: ignore[arg-type]
        pos = m.end()
    tail = source[pos:]
    if "{{" in tail or "{%" in tail:
        return None
    parts.append(("lit", tail))
    return tuple(parts)  # type: ignore[return-value]


def _newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` as ``\\n``: Liquid's output stream turns each piece it writes
    into universal newlines."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def render_simple(parts: tuple, tags: TagColumns, rows: np.ndarray) -> np.ndarray:
    """Render a template of :func:`simple_parts` for ``rows`` column by column (no Liquid):
    an absent tag is empty text, and ``default`` replaces an absent or empty one, as Liquid
    does."""
    pieces: list[Any] = []
    for part in parts:
        if part[0] == "lit":
            if part[1]:
                pieces.append(itertools.repeat(_newlines(part[1])))
            continue
        _, name, default = part
        values = tags.column(name)[rows].copy()
        missing = np.equal(values, None)
        if default is not None:
            missing |= np.equal(values, "")
        values[missing] = default if default is not None else ""
        listed = values.tolist()
        pieces.append([_newlines(v) if "\r" in v else v for v in listed])
    if not any(isinstance(p, list) for p in pieces):  # text only: the same for everyone
        text = "".join(_newlines(part[1]) for part in parts if part[0] == "lit")
        return np.full(len(rows), text, dtype=object)
    return np.fromiter(map("".join, zip(*pieces, strict=False)), dtype=object, count=len(rows))


def render_slot(
    msg: Message, slot: Slot, tags: TagColumns, rows: np.ndarray, on_error: str, res
) -> np.ndarray:
    """Render one template for the given rows: column by column when it is only text and
    simple variables (:func:`simple_parts`), else once per distinct tuple of its tag values."""
    parts = simple_parts(slot.source) if "{" in slot.source else None
    if parts is not None:
        return render_simple(parts, tags, rows)
    an = analyse(slot.source)
    names = sorted(tags.names) if an.all_tags else sorted(an.tags)
    cols = [tags.column(n)[rows] for n in names]
    custom = msg.custom_data
    out = np.empty(len(rows), dtype=object)
    memo: dict[tuple, Any] = {}
    failed: dict[str, list[int]] = {}
    keys = zip(*cols, strict=True) if cols else ((),) * len(rows)
    for i, key in enumerate(keys):
        text = memo.get(key, memo)
        if text is memo:
            user_tags = {n: v for n, v in zip(names, key, strict=True) if v is not None}
            try:
                text = liquid.render_text(slot.source, user_tags, custom)
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
                raise ValidationError(
                    f"{slot.where} could not be rendered for {count(len(ids), 'user')} (e.g. "
                    f"{ids[0]}): {reason} Fix the template; msg.lint(cohort) lists every "
                    "problem."
                )
            res.failures.append((slot, reason, ids))
    return out


def render_all(
    msg: Message, cohort_or_df: Any, *, tag_map=None, on_error: str = "raise"
) -> Rendered:
    """Render every template of ``msg`` for every row; ``on_error="collect"`` keeps failures."""
    df = cohort_frame(cohort_or_df)
    tags = TagColumns(df, tag_map)
    ids = df["external_id"].astype(str).to_numpy(dtype=object)
    raw_langs, langs = pick_languages(msg, tags)
    res = Rendered(ids, langs)
    res.raw_langs = raw_langs
    n = len(df)
    for slot in slots(msg):
        an = analyse(slot.source)
        if an.error is not None:
            if on_error == "raise":
                raise ValidationError(
                    f"{slot.where} is not valid Liquid: "
                    f"{an.error} Fix the template (msg.lint() shows where)."
                )
            res.failures.append((slot, an.error, [str(x) for x in ids]))
            continue
        col = OUTPUT_COLUMNS.get(slot.field, slot.field)
        if col not in res.columns:
            res.columns[col] = np.full(n, None, dtype=object)
        if slot.lang is None:
            rows = np.arange(n)
        else:
            # the person's language; headings/subtitle without it fall back to English
            present = [lg for lg, v in getattr(msg, slot.field).items() if v]
            if slot.lang == "en":
                others = [lg for lg in present if lg != "en"]
                rows = np.flatnonzero(~np.isin(raw_langs, others)) if others else np.arange(n)
            else:
                rows = np.flatnonzero(raw_langs == slot.lang)
        if len(rows):
            res.columns[col][rows] = render_slot(msg, slot, tags, rows, on_error, res)
    return res
