"""Engage "Download CSV" audience snapshots, formatted and unformatted (segment-data.md 2.7).

- Unformatted: ``key``, ``external_ids`` (JSON: id type -> list of values) and optionally
  ``traits`` (JSON object).
- Formatted: ``key``, one column per id type with repeats indexed (``email``, ``email_1``, ...),
  then one column per trait.

Every row is a member (a snapshot of the last compute). A person with several values for the
chosen id type (e.g. several anonymous ids) becomes one row per value, as each can be a
OneSignal external id; ``auto`` uses the user id when the row has one, else the anonymous ids.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import orjson
import pandas as pd

from onesig_nb.errors import SourceError
from onesig_nb.segment.report import LoadReport, Skipped

__all__ = ["csv_audience_name", "read_engage_csv"]

#: External id types Engage can export as columns (besides custom ones).
ENGAGE_ID_TYPES = (
    "user_id",
    "anonymous_id",
    "email",
    "phone",
    "ios.id",
    "android.id",
    "ga_client_id",
)
_INDEXED = re.compile(r"^(?P<base>.+)_(?P<n>\d+)$")
_SUFFIX = re.compile(r"[-_](formatted|unformatted|single)$", re.IGNORECASE)
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def csv_audience_name(path: Path) -> str:
    """``cart_abandoners-formatted.csv`` -> ``cart_abandoners``."""
    return _SUFFIX.sub("", path.stem)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise SourceError(f"No such CSV file: {path}.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(
            f"{path} is not a readable CSV ({str(exc).splitlines()[0]}). "
            "Download the audience again from Engage (Audiences > Download CSV)."
        ) from None


def _json_cell(text: str) -> object:
    if not text:
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return orjson.loads(text.translate(_SMART_QUOTES))  # Segment's samples use smart quotes


def _values(v: object) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, list):
        return [str(x) for x in v if x not in (None, "")]
    return [str(v)]


def _pick(ids: dict[str, list[str]], id_type: str) -> list[str]:
    if id_type == "auto":
        return ids.get("user_id") or ids.get("anonymous_id") or []
    return ids.get(id_type) or []


def _numeric(col: pd.Series) -> pd.Series:
    filled = col[col != ""]
    if filled.empty:
        return col.replace("", None)
    converted = pd.to_numeric(filled, errors="coerce")
    if converted.isna().any():
        return col.replace("", None)
    return pd.to_numeric(col.replace("", None))


def read_engage_csv(
    path: Path, *, id_type: str, traits: Sequence[str] | None, report: LoadReport
) -> pd.DataFrame:
    """``external_id`` + traits for every member in one Engage CSV."""
    raw = _read(path)
    report.add("files_read", 1)
    report.add("rows_read", len(raw))
    columns = list(raw.columns)
    people: list[tuple[list[str], dict]] = []
    if "external_ids" in columns:
        for number, (ids_text, traits_text) in enumerate(
            zip(raw["external_ids"], raw.get("traits", [""] * len(raw)), strict=True), start=2
        ):
            try:
                ids_doc, trait_doc = _json_cell(ids_text), _json_cell(traits_text)
            except orjson.JSONDecodeError as exc:
                report.add("malformed_lines", 1)
                report.skip(Skipped("malformed_line", str(path), number, f"bad JSON cell: {exc}"))
                continue
            if not isinstance(ids_doc, dict) or not isinstance(trait_doc, dict):
                report.add("malformed_lines", 1)
                report.skip(Skipped("malformed_line", str(path), number, "JSON cell not an object"))
                continue
            ids = {k: _values(v) for k, v in ids_doc.items()}
            email = ids.get("email", [])
            row_traits = {"email": email[0]} if email else {}
            row_traits.update(trait_doc)
            people.append((_pick(ids, id_type), row_traits))
        trait_frame = pd.DataFrame([t for _, t in people])
    else:
        groups: dict[str, list[str]] = {}
        for col in columns:
            m = _INDEXED.match(col)
            base = m["base"] if m and m["base"] in columns else col
            groups.setdefault(base, []).append(col)
        if not ({"user_id", "anonymous_id"} & set(groups)):
            raise SourceError(
                f"{path} has no id column (expected user_id or anonymous_id, or an "
                f"external_ids JSON column); its columns are {', '.join(columns[:12])}. "
                "Include External IDs when you download the CSV from Engage."
            )
        id_lists = {
            base: raw[cols].apply(lambda r: [v for v in r if v], axis=1)
            if base in ("user_id", "anonymous_id")
            else None
            for base, cols in groups.items()
        }
        for i in range(len(raw)):
            ids = {b: v.iat[i] for b, v in id_lists.items() if v is not None}
            people.append((_pick(ids, id_type), {}))
        trait_cols = [b for b in groups if b not in ("key", "user_id", "anonymous_id")]
        trait_cols = [b for b in trait_cols if b == "email" or b not in ENGAGE_ID_TYPES]
        trait_frame = raw[trait_cols].apply(_numeric).reset_index(drop=True)
    chosen = [ids for ids, _ in people]
    report.add("rows_without_id", sum(1 for ids in chosen if not ids))
    report.add("multiple_ids", sum(1 for ids in chosen if len(ids) > 1))
    frame = trait_frame.copy()
    frame.insert(0, "external_id", chosen)
    frame = frame.explode("external_id", ignore_index=True)
    frame = frame[frame["external_id"].notna()]
    if traits is not None:
        keep = [t for t in dict.fromkeys(traits) if t in frame.columns]
        frame = frame[["external_id", *keep]]
    return frame.astype({"external_id": str})
