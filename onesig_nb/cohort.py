"""Cohort: the people a campaign targets (external ids + traits), and how they were loaded.

    cohort = load_cohort("workspace/segment-logs", audience="cart_abandoners")
    cohort.df            # external_id + traits, one row per person
    cohort.external_ids  # list[str], unique, stable order
    cohort.report        # what was read, dropped and why

Sources (detected from the argument, or ``kind=``): a folder or glob of Segment archives
(S3 ``.gz`` NDJSON, ``.jsonl``, ``/v1/batch`` bodies), an Engage CSV download, a DuckDB
warehouse file or any SQLAlchemy URL (``schema=`` for an Engage schema), a Parquet file or a
pandas DataFrame. Membership follows Segment's rule: the latest audience value wins
(see :mod:`onesig_nb.segment.membership`).
"""

from __future__ import annotations

import hashlib
import html
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import pandas as pd

from onesig_nb._html import card
from onesig_nb._words import agree, count
from onesig_nb.errors import ValidationError
from onesig_nb.segment.report import LoadReport, count_label, id_phrase
from onesig_nb.segment.sources import list_source_audiences, load_source
from onesig_nb.segment.tags import external_id_strings

__all__ = ["Cohort", "LoadReport", "list_audiences", "load_cohort"]

log = logging.getLogger("onesig_nb.cohort")

#: Rows shown in the notebook repr.
SAMPLE_ROWS = 5
#: Most frequent values shown per text trait in the notebook repr.
TOP_VALUES = 3


def _column_digest(col: pd.Series) -> bytes:
    """Stable bytes for one column's values (independent of process and hash seed)."""
    if col.dtype.kind in "biuf":
        return pd.util.hash_pandas_object(col, index=False).values.tobytes()
    values = [None if (v is None or (isinstance(v, float) and v != v)) else v for v in col]
    try:
        return orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return orjson.dumps([None if v is None else str(v) for v in values])


class Cohort:
    """External ids plus traits, one row per person, with the report of how they were loaded."""

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        audience: str | None = None,
        report: LoadReport | None = None,
        id_type: str = "user_id",
    ):
        if "external_id" not in df.columns:
            raise ValidationError(
                "A cohort frame needs an 'external_id' column. Rename the id column, or use "
                "onesig_nb.load_cohort(df) to pick user_id / anonymous_id."
            )
        cols = ["external_id"] + [c for c in df.columns if c != "external_id"]
        frame = df[cols].copy()
        frame["external_id"] = external_id_strings(frame["external_id"])
        if frame["external_id"].isna().any():
            raise ValidationError(
                f"{int(frame['external_id'].isna().sum())} rows have no external id. Drop them "
                "first, or load the frame with onesig_nb.load_cohort(df), which counts and skips them."
            )
        self.df: pd.DataFrame = frame.reset_index(drop=True)
        self.audience = audience
        self.id_type = id_type
        self.report = report if report is not None else LoadReport(kind="frame", audience=audience)
        self._fingerprint: str | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, audience: str | None = None) -> Cohort:
        """A cohort from a frame with ``external_id`` (or ``user_id``/``anonymous_id``) + traits."""
        return load_cohort(df, audience=audience, id_type="auto", kind="frame")

    def subset(self, ids: Iterable[str]) -> Cohort:
        """The members whose external id is in ``ids`` (cohort order kept)."""
        wanted = {str(i) for i in ids}
        df = self.df[self.df["external_id"].isin(wanted)]
        report = LoadReport(
            source=self.report.source, kind=self.report.kind, audience=self.audience,
            id_type=self.id_type, as_of=self.report.as_of,
            counts={"members": len(df)},
            notes=[f"subset of {len(self):,} members ({len(wanted):,} ids asked)"],
        )  # fmt: skip
        return Cohort(df, audience=self.audience, report=report, id_type=self.id_type)

    # ------------------------------------------------------------------ accessors
    @property
    def external_ids(self) -> list[str]:
        return self.df["external_id"].tolist()

    @property
    def traits(self) -> list[str]:
        return [c for c in self.df.columns if c != "external_id"]

    @property
    def fingerprint(self) -> str:
        """sha256 over ids, trait names and trait values: changes when any of them changes."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for name in self.df.columns:
                h.update(orjson.dumps(str(name)))
                h.update(_column_digest(self.df[name]))
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def __len__(self) -> int:
        return len(self.df)

    def __iter__(self):
        return iter(self.external_ids)

    def __contains__(self, external_id: object) -> bool:
        return str(external_id) in set(self.df["external_id"])

    def __repr__(self) -> str:
        return (
            f"<Cohort audience={self.audience!r} size={len(self):,} id_type={self.id_type} "
            f"traits={self.traits} fingerprint={self.fingerprint[:12]}>"
        )

    # ------------------------------------------------------------------ notebook display
    def trait_summary(self) -> pd.DataFrame:
        """Per trait: filled share, distinct values, and range or most frequent values."""
        rows = []
        n = max(len(self.df), 1)
        for name in self.traits:
            col = self.df[name]
            filled = int(col.notna().sum())
            row: dict[str, Any] = {"trait": name, "filled": f"{filled / n:.0%}"}
            try:
                row["distinct"] = int(col.nunique(dropna=True))
            except TypeError:
                row["distinct"] = None
            if col.dtype.kind in "iuf" and filled:
                row["values"] = f"{col.min():g} .. {col.max():g} (median {col.median():g})"
            else:
                try:
                    top = col.dropna().astype(str).value_counts().head(TOP_VALUES)
                    row["values"] = ", ".join(f"{k} ({v})" for k, v in top.items())
                except TypeError:
                    row["values"] = ""
            rows.append(row)
        return pd.DataFrame(rows, columns=["trait", "filled", "distinct", "values"])

    def _repr_html_(self) -> str:
        esc = html.escape
        traits = count(len(self.traits), "trait")
        head = (
            f"<b>Cohort</b> <code>{esc(str(self.audience))}</code>: "
            f"<b>{len(self):,}</b> {agree(len(self), 'person', 'people')} &middot; "
            f"{esc(id_phrase(self.id_type, self.report.kind))} &middot; {traits}"
        )
        # The fingerprint is for code (journals, change checks), so only a hover shows it.
        title = f"fingerprint {self.fingerprint[:12]} (cohort.fingerprint)"
        sample = self.df.head(SAMPLE_ROWS).to_html(index=False, max_cols=12, na_rep="")
        parts = [f"<div title='{title}'>{head}</div>", sample]
        if self.traits:
            summary = self.trait_summary().to_html(index=False)
            parts.append(f"<details><summary>trait summary</summary>{summary}</details>")
        parts.append(
            f"<details><summary>load report</summary>{self.report._repr_html_()}</details>"
        )
        return card("", "".join(parts), css_class="onesig-cohort")


def load_cohort(
    source: Any,
    *,
    audience: str | None = None,
    id_type: str = "user_id",
    traits: Sequence[str] | None = None,
    as_of: Any = None,
    kind: str | None = None,
    schema: str | None = None,
    cache: Any = True,
    engine: Any = None,
) -> Cohort:
    """Load the members of one audience (with their latest traits) from ``source``.

    ``id_type``: ``"user_id"`` (what Segment's OneSignal destination uses as external id),
    ``"anonymous_id"`` or ``"auto"`` (user id, else anonymous id). ``traits``: the trait
    names to keep (default: all identify traits except audience flags). ``as_of``: membership
    at a past instant (archives and warehouses; traits stay the latest). ``kind`` overrides
    source detection; ``schema`` picks the warehouse schema (e.g. an ``engage_...`` one).
    ``cache`` (archives): each parsed file is kept as Parquet so the next load parses only new
    or changed files (``True``: ``$ONESIG_NB_CACHE_DIR`` or ``~/.cache/onesig_nb``; a folder
    path: there; ``False``: no cache). ``cohort.report`` says what came from the cache.
    Archives in S3 load in place: ``s3://bucket/segment-logs/<source-id>/``, with credentials
    from the standard AWS chain and ``AWS_ENDPOINT_URL`` for S3-compatible stores.
    ``engine``: a pyspark ``SparkSession`` runs the same rule as Spark SQL on a path or a Spark
    DataFrame of Segment messages (for archives beyond one machine); only members and their
    traits are collected.
    Raises :class:`~onesig_nb.errors.SourceError` (or its subclass ``AudienceNotFound``).
    """
    started = time.perf_counter()
    loaded = load_source(
        source, audience=audience, id_type=id_type, traits=traits, as_of=as_of, kind=kind,
        schema=schema, cache=cache, engine=engine,
    )  # fmt: skip
    frame, report = loaded.frame, loaded.report
    if not loaded.sorted:
        frame = frame.reset_index(drop=True)
    before = len(frame)
    frame = frame.drop_duplicates("external_id", keep="first")
    if before != len(frame):
        report.add("duplicate_ids", before - len(frame))
    if loaded.sorted:
        frame = frame.sort_values("external_id", kind="stable")
    report.counts["members"] = len(frame)
    report.elapsed_s = round(time.perf_counter() - started, 3)
    log.info(
        "loaded cohort %r: %d members from %s %s in %.2f s",
        loaded.audience, len(frame), report.kind, report.source, report.elapsed_s,
    )  # fmt: skip
    return Cohort(frame, audience=loaded.audience, report=report, id_type=id_type)


#: list_audiences columns that are already plain words.
_PLAIN_COLUMNS = ("audience", "members", "file")


def list_audiences(
    source: Any,
    *,
    id_type: str = "user_id",
    as_of: Any = None,
    kind: str | None = None,
    schema: str | None = None,
    raw_columns: bool = False,
    cache: Any = True,
    engine: Any = None,
) -> pd.DataFrame:
    """The audiences present in ``source``, one row each: ``audience``, ``members``, counts.

    The count columns are labelled in plain words for ``id_type`` (as in the load report),
    e.g. "left the audience (latest event = false)". ``raw_columns=True`` keeps the
    machine-readable names instead (``latest_false``, ``no_id_people``, ... : the keys of
    ``cohort.report.to_dict()["counts"]``), which is what code should index.
    ``cache`` and ``engine``: as for :func:`load_cohort`.
    """
    table = list_source_audiences(
        source, id_type=id_type, as_of=as_of, kind=kind, schema=schema, cache=cache,
        engine=engine,
    )  # fmt: skip
    if raw_columns:
        return table
    hidden = ["after_as_of"] if as_of is None else []  # always 0 without as_of
    if id_type == "auto":  # no other id to fall back on: always 0
        hidden += ["no_id_people", "no_id_members"]
    table = table.drop(columns=[c for c in hidden if c in table.columns])
    return table.rename(
        columns={c: count_label(c, id_type) for c in table.columns if c not in _PLAIN_COLUMNS}
    )
