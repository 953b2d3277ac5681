"""Suppression: the people who never get a push, whatever the campaign.

A suppression is given as external ids (a list, a set), a cohort or a DataFrame with
``external_id``, a CSV file (its ``external_id`` column, else its first column), or a rule over
the cohort's traits:

    "marketing_opt_out == true"
    "country == 'DE' and plan != 'pro'"
    "age < 18 or marketing_opt_out == true"

A rule compares a trait with a value (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) and joins
comparisons with ``and`` / ``or`` (``and`` first). Values are ``true``/``false``, numbers, or
text (quoted, or a bare word). Booleans and numbers compare whatever form the trait holds them
in (``True``, ``"true"``, ``1`` for true; ``42`` and ``"42"``). A person without the trait is
never ``==`` anything, so ``!=`` suppresses them: the safer reading (no push when unsure). A rule
naming a trait the cohort lacks is refused rather than suppressing nobody.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onesig_nb.errors import ValidationError

__all__ = ["Suppression", "parse_rule"]

_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<word>[^\s=!<>'\"]+))"
)
_OPS = ("==", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class Comparison:
    trait: str
    op: str
    value: Any  # bool, float or str

    def __str__(self) -> str:
        shown = (
            str(self.value).lower()
            if isinstance(self.value, bool)
            else f"{self.value:g}"
            if isinstance(self.value, float)
            else repr(self.value)
        )
        return f"{self.trait} {self.op} {shown}"


def _literal(token: str, quoted: bool) -> Any:
    if quoted:
        return token[1:-1]
    low = token.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        number = float(token)
    except ValueError:
        return token
    return number if math.isfinite(number) else token


def parse_rule(text: str) -> list[list[Comparison]]:
    """A rule as OR-ed groups of AND-ed comparisons; a :class:`ValidationError` says what is
    wrong and shows the form that works."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _bad_rule(text, f"cannot read it from {text[pos:].strip()!r}")
        kind = m.lastgroup or "word"
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    groups: list[list[Comparison]] = [[]]
    i = 0
    while i < len(tokens):
        if len(tokens) - i < 3:
            raise _bad_rule(text, "each part needs a trait, a comparison and a value")
        (k1, trait), (k2, op), (k3, value) = tokens[i : i + 3]
        if k1 != "word" or k2 != "op" or k3 == "op":
            raise _bad_rule(text, f"expected 'trait == value', found {trait} {op} {value}")
        groups[-1].append(Comparison(trait, op, _literal(value, k3 == "str")))
        i += 3
        if i == len(tokens):
            break
        joiner = tokens[i][1].lower()
        if tokens[i][0] != "word" or joiner not in ("and", "or"):
            raise _bad_rule(text, f"join comparisons with 'and' or 'or', not {tokens[i][1]!r}")
        if joiner == "or":
            groups.append([])
        i += 1
        if i == len(tokens):
            raise _bad_rule(text, f"it ends with {joiner!r}")
    return groups


def _bad_rule(text: str, why: str) -> ValidationError:
    return ValidationError(
        f"The suppression rule {text!r} cannot be read: {why}. Write comparisons such as "
        '"marketing_opt_out == true" or "country == \'DE\' and age < 18" (operators == != < '
        "<= > >=, joined with and / or)."
    )


def _matches(series: Any, c: Comparison) -> Any:
    """A boolean Series: which rows of ``series`` (one trait) meet comparison ``c``."""
    import pandas as pd

    present = series.notna()
    if isinstance(c.value, bool):
        words = series.astype("string").str.strip().str.lower()
        truth = words.isin(["true", "1", "1.0", "yes"])
        falsity = words.isin(["false", "0", "0.0", "no"])
        equal = (truth if c.value else falsity) & present
        if c.op == "==":
            return equal.fillna(False).astype(bool)
        if c.op == "!=":
            return (~equal.fillna(False)).astype(bool)
        raise ValidationError(f"Compare '{c.trait}' with true/false using == or !=, not {c.op}.")
    if isinstance(c.value, float):
        numbers = pd.to_numeric(series, errors="coerce")
        result = {
            "==": numbers == c.value, "!=": ~(numbers == c.value), "<": numbers < c.value,
            "<=": numbers <= c.value, ">": numbers > c.value, ">=": numbers >= c.value,
        }[c.op]  # fmt: skip
        return result.fillna(c.op == "!=").astype(bool)
    text = series.astype("string")
    equal = (text == c.value).fillna(False).astype(bool) & present
    if c.op == "==":
        return equal
    if c.op == "!=":
        return ~equal
    raise ValidationError(
        f"'{c.trait} {c.op} {c.value!r}' compares text by order; use == or != for text, or a "
        "number."
    )


class Suppression:
    """Who never gets a push (see the module's docstring for the forms it takes)."""

    def __init__(self, source: Any):
        self.source = source
        self.rule: list[list[Comparison]] | None = None
        self.ids: frozenset[str] | None = None
        self.label = ""
        if isinstance(source, str) and any(op in source for op in _OPS):
            self.rule = parse_rule(source)
            self.label = " or ".join(" and ".join(map(str, g)) for g in self.rule)
        elif isinstance(source, (str, os.PathLike)):
            path = Path(source)
            self.ids = frozenset(_csv_ids(path))
            self.label = f"the {len(self.ids):,} people listed in {path.name}"
        elif hasattr(source, "external_ids"):
            self.ids = frozenset(str(i) for i in source.external_ids)
            self.label = f"a suppression cohort of {len(self.ids):,} people"
        elif hasattr(source, "columns") and "external_id" in getattr(source, "columns", ()):
            self.ids = frozenset(str(i) for i in source["external_id"].dropna())
            self.label = f"a suppression list of {len(self.ids):,} people"
        elif isinstance(source, Iterable) and not isinstance(source, (bytes, dict)):
            ids = list(source)
            if not all(isinstance(i, (str, int)) for i in ids):
                raise ValidationError(
                    "suppress= takes external ids (strings), a cohort, a CSV path or a trait "
                    'rule such as "marketing_opt_out == true".'
                )
            self.ids = frozenset(str(i) for i in ids)
            self.label = f"a suppression list of {len(self.ids):,} people"
        else:
            raise ValidationError(
                f"suppress= takes external ids, a cohort, a CSV path or a trait rule such as "
                f'"marketing_opt_out == true", not {type(source).__name__}.'
            )

    def fingerprint(self) -> str:
        """A digest of who is suppressed: the sorted ids, or the rule as read."""
        import hashlib

        text = "\n".join(sorted(self.ids)) if self.ids is not None else f"rule:{self.label}"
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> str:
        """The suppression in a few words (the plan, the journal and each reason show it)."""
        return self.label if self.ids is not None else f"people with {self.label}"

    def __repr__(self) -> str:
        return f"Suppression({self.describe()!r})"

    def suppressed(self, frame: Any) -> list[str]:
        """The external ids of ``frame`` (a cohort's DataFrame: external_id + traits) that are
        suppressed, in frame order."""
        ids = frame["external_id"].astype(str)
        if self.ids is not None:
            return ids[ids.isin(self.ids)].tolist()
        assert self.rule is not None
        wanted = {c.trait for group in self.rule for c in group}
        missing = sorted(wanted - set(frame.columns))
        if missing:
            traits = [c for c in frame.columns if c != "external_id"]
            raise ValidationError(
                f"The suppression rule {self.label!r} reads trait(s) {missing} the cohort does "
                f"not have (it has {traits}). Nothing was sent. Load the cohort with those "
                "traits, or fix the rule's trait names."
            )
        import pandas as pd

        hit = pd.Series(False, index=frame.index)
        for group in self.rule:
            part = pd.Series(True, index=frame.index)
            for c in group:
                part &= _matches(frame[c.trait], c)
            hit |= part
        return ids[hit].tolist()


def _csv_ids(path: Path) -> list[str]:
    import pandas as pd

    if not path.is_file():
        raise ValidationError(
            f"suppress={str(path)!r}: no such file. Give a CSV of external ids, a list of "
            'ids, a cohort, or a trait rule such as "marketing_opt_out == true" (a rule needs '
            "a comparison such as ==)."
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return []
    if frame.empty and not len(frame.columns):
        return []
    column = "external_id" if "external_id" in frame.columns else frame.columns[0]
    values = [v.strip() for v in frame[column].tolist() if v and v.strip()]
    if column != "external_id" and column.strip():
        values.insert(0, column.strip())  # a headerless file: the first line is an id too
    return values
