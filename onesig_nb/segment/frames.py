"""A pandas DataFrame or a Parquet file of ids and traits as a cohort source.

The id column is ``external_id`` (or ``user_id`` / ``anonymous_id`` per ``id_type``); every
other column is a trait. If the frame has a column named like the audience holding booleans
(or "true"/"false"), only rows where it is true are members and the column is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from onesig_nb.errors import SourceError
from onesig_nb.segment.report import LoadReport
from onesig_nb.segment.tags import external_id_strings

__all__ = ["read_frame", "read_parquet"]


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file, turning reader errors into :class:`SourceError`."""
    if not path.is_file():
        raise SourceError(f"No such Parquet file: {path}.")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds; all mean "unreadable"
        raise SourceError(f"{path} is not a readable Parquet file: {exc}") from None


def _id_column(frame: pd.DataFrame, id_type: str) -> pd.Series:
    cols = frame.columns
    if id_type == "user_id":
        order = ("external_id", "user_id")
    elif id_type == "anonymous_id":
        order = ("anonymous_id", "external_id")
    else:
        order = ("external_id",)
    for name in order:
        if name in cols:
            return frame[name]
    if id_type == "auto" and ("user_id" in cols or "anonymous_id" in cols):
        uid = frame["user_id"] if "user_id" in cols else pd.Series(None, index=frame.index)
        anon = (
            frame["anonymous_id"] if "anonymous_id" in cols else pd.Series(None, index=frame.index)
        )
        return uid.where(uid.notna() & (uid.astype(str) != ""), anon)
    raise SourceError(
        f"The frame has no id column for id_type={id_type!r}: expected one of "
        f"{', '.join(order)}; its columns are {', '.join(map(str, cols[:12]))}. "
        "Rename the id column to external_id."
    )


def _is_true(value: object) -> bool:
    if isinstance(value, (bool, np.bool_)):  # np.bool_ rides in object columns with gaps
        return bool(value)
    return isinstance(value, str) and value.lower() == "true"


def _truthy(col: pd.Series) -> pd.Series:
    if col.dtype == bool:
        return col
    return col.map(_is_true).astype(bool)


def read_frame(
    frame: pd.DataFrame,
    *,
    audience: str | None,
    id_type: str,
    traits: Sequence[str] | None,
    report: LoadReport,
) -> pd.DataFrame:
    """``external_id`` + traits from a frame of ids and traits."""
    if not isinstance(frame, pd.DataFrame):
        raise SourceError(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    report.add("rows_read", len(frame))
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if audience is not None and audience in frame.columns:
        member = _truthy(frame[audience])
        report.add("not_members", int((~member).sum()))
        frame = frame[member].drop(columns=[audience])
    ids = _id_column(frame, id_type)
    # every id column is an identifier, never a trait (and "external_id" is rebuilt below)
    used = {"external_id", "user_id", "anonymous_id"} & set(frame.columns)
    rest = [c for c in frame.columns if c not in used]
    if traits is not None:
        rest = [t for t in dict.fromkeys(traits) if t in frame.columns and t not in used]
    out = frame[rest].copy()
    out.insert(0, "external_id", external_id_strings(ids).values)
    missing = out["external_id"].isna() | (out["external_id"].astype(str).str.strip() == "")
    report.add("rows_without_id", int(missing.sum()))
    out = out[~missing]
    return out.reset_index(drop=True)
