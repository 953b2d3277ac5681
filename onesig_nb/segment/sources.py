"""Which reader a cohort source needs, and running it: one entry point per public verb.

Kinds: ``archive`` (folder/glob/file of Segment NDJSON or /v1/batch bodies, or an ``s3://``
prefix holding them), ``engage_csv``,
``warehouse`` (DuckDB file or SQLAlchemy URL), ``parquet`` and ``frame`` (a DataFrame).
"""

from __future__ import annotations

import difflib
import glob as globlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from onesig_nb._times import utc_instant
from onesig_nb.errors import AudienceNotFound, SourceError, ValidationError
from onesig_nb.segment.archive import ARCHIVE_SUFFIXES, is_glob
from onesig_nb.segment.archive_set import ArchiveSet
from onesig_nb.segment.engage_csv import csv_audience_name, read_engage_csv
from onesig_nb.segment.frames import read_frame, read_parquet
from onesig_nb.segment.membership import ID_TYPES, members_sql, summary_sql
from onesig_nb.segment.report import LoadReport
from onesig_nb.segment.s3 import S3Location, is_s3_url
from onesig_nb.segment.spark import is_spark_frame, is_spark_session, load_spark, spark_summary
from onesig_nb.segment.traits import json_traits_frame
from onesig_nb.segment.warehouse import Warehouse, safe_url

__all__ = [
    "KINDS",
    "Loaded",
    "detect_kind",
    "list_source_audiences",
    "load_source",
    "suggest_audience",
]

KINDS = ("archive", "engage_csv", "warehouse", "parquet", "frame")
#: The report kind of a load computed by Spark (``engine=<SparkSession>``).
SPARK_KIND = "spark"
_DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_REPORT_COUNTS = (
    "audience_messages", "duplicates_dropped", "unknown_values", "after_as_of", "no_id_messages",
    "no_id_people", "no_id_members", "latest_false",
)  # fmt: skip


@dataclass
class Loaded:
    """What a reader hands to :class:`~onesig_nb.cohort.Cohort`."""

    frame: pd.DataFrame
    report: LoadReport
    audience: str | None
    sorted: bool = True


def _sniff_file(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head[8:12] == b"DUCK":
        return "warehouse"
    if head[:4] == b"PAR1":
        return "parquet"
    return None


def detect_kind(source: Any, kind: str | None = None) -> str:
    """The reader kind for ``source`` (``kind`` overrides detection)."""
    if kind is not None:
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
        return kind
    if isinstance(source, pd.DataFrame):
        return "frame"
    if not isinstance(source, (str, Path)):
        raise SourceError(
            f"Cannot load a cohort from a {type(source).__name__}. Pass a folder or glob of "
            "Segment archives, an Engage CSV, a DuckDB file, a SQLAlchemy URL, a Parquet file "
            "or a pandas DataFrame."
        )
    text = str(source)
    if is_s3_url(text):
        return "archive"
    if "://" in text:
        return "warehouse"
    if is_glob(text):
        matches = [Path(p) for p in globlib.glob(text, recursive=True) if Path(p).is_file()]
        if not matches:
            raise SourceError(f"No files match {text}.")
        if all(p.suffix.lower() == ".csv" for p in matches):
            return "engage_csv"
        return "archive"
    path = Path(text)
    if not path.exists():
        raise SourceError(f"No such file or folder: {text} (working directory {Path.cwd()}).")
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        if any(p.suffix.lower() in ARCHIVE_SUFFIXES and p.name != "manifest.json" for p in files):
            return "archive"
        if any(p.suffix.lower() == ".csv" for p in files):
            return "engage_csv"
        raise SourceError(
            f"The folder {text} holds no cohort files (Segment .gz/.jsonl/.json archives or "
            "Engage .csv downloads)."
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "engage_csv"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _DUCKDB_SUFFIXES:
        return "warehouse"
    if suffix in ARCHIVE_SUFFIXES:
        return "archive"
    sniffed = _sniff_file(path)
    if sniffed:
        return sniffed
    raise SourceError(f"Cannot tell what kind of source {text} is; pass kind=one of {KINDS}.")


def _as_of_text(as_of: Any) -> str | None:
    return None if as_of is None else utc_instant(as_of, name="as_of").isoformat()


#: How similar a wrong audience name must be to an existing one to be suggested (difflib ratio).
SUGGEST_CUTOFF = 0.6


def suggest_audience(name: Any, keys: Sequence[str]) -> str | None:
    """The existing audience ``name`` probably meant, or None.

    Same letters in another case (or with ``-``/spaces for ``_``) first, else the closest
    spelling by :func:`difflib.get_close_matches`.
    """
    text = str(name).strip()
    by_lower: dict[str, str] = {}
    for key in sorted(keys):
        by_lower.setdefault(key.lower(), key)
    folded = text.lower().replace("-", "_").replace(" ", "_")
    if folded in by_lower:
        return by_lower[folded]
    close = difflib.get_close_matches(folded, list(by_lower), n=1, cutoff=SUGGEST_CUTOFF)
    return by_lower[close[0]] if close else None


def _choose(audience: str | None, keys: Sequence[str]) -> str:
    if audience is None:
        if len(keys) == 1:
            return keys[0]
        if not keys:
            raise SourceError("This source holds no Engage audience messages.")
        raise SourceError(
            f"This source holds {len(keys)} audiences ({', '.join(keys)}); "
            "pass audience=... to choose one."
        )
    if audience not in keys:
        raise AudienceNotFound(audience, sorted(keys), suggestion=suggest_audience(audience, keys))
    return audience


def _spark_engine(source: Any, engine: Any) -> Any:
    """The SparkSession to run on (``engine``, or a Spark DataFrame's own), else None."""
    if engine is None:
        return source.sparkSession if is_spark_frame(source) else None
    if not is_spark_session(engine):
        raise ValidationError(
            f"engine must be a pyspark SparkSession, not {type(engine).__name__}. Create one with "
            "SparkSession.builder.getOrCreate(), or leave engine out to use DuckDB."
        )
    return engine


def _fill(report: LoadReport, row: pd.Series | None) -> None:
    for name in _REPORT_COUNTS:
        report.add(name, int(row[name]) if row is not None else 0)


def _check_id_type(id_type: str) -> None:
    if id_type not in ID_TYPES:
        raise ValidationError(f"id_type must be one of {', '.join(ID_TYPES)}, not {id_type!r}.")


def _load_archive(source, *, audience, id_type, traits, as_of, cache, report) -> Loaded:
    arch = ArchiveSet.load(source, report, cache=cache)
    try:
        runner = arch.runner
        keys = [
            r[0]
            for r in arch.con.sql(
                "SELECT DISTINCT computation_key FROM audience_events ORDER BY 1"
            ).fetchall()
        ]
        audience = _choose(audience, keys)
        params = {"audience": audience, "as_of": as_of}
        events = "SELECT * FROM audience_events"
        summary = runner.frame(
            summary_sql(events, id_type=id_type, as_of=as_of is not None, one_audience=True),
            params,
        )
        _fill(report, summary.iloc[0] if len(summary) else None)
        runner.execute(
            "CREATE TEMP TABLE members AS "
            + members_sql(events, id_type=id_type, as_of=as_of is not None),
            params,
        )
        frame = json_traits_frame(
            arch.con, members_table="members", id_type=id_type, traits=traits, exclude=set(keys)
        )
    finally:
        arch.close()
    return Loaded(frame, report, audience)


def _load_warehouse(source, *, audience, id_type, traits, as_of, schema, report) -> Loaded:
    wh = Warehouse.open(source, schema=schema)
    try:
        audience = _choose(audience, wh.keys)
        has_as_of = as_of is not None and wh.profiles is None
        params = {"audience": audience, "as_of": as_of if has_as_of else None}
        summary = wh.runner.frame(
            wh.summary_query([audience], id_type=id_type, as_of=has_as_of, one=True), params
        )
        _fill(report, summary.iloc[0] if len(summary) else None)
        columns = wh.trait_columns(traits)
        frame = wh.runner.frame(
            wh.cohort_sql(audience, id_type=id_type, as_of=has_as_of, traits=columns), params
        )
        if wh.profiles is not None:
            # a profile holds one current value per audience: these are profiles, not events
            report.counts["profiles_with_value"] = report.counts.pop("audience_messages", 0)
            report.notes.append(f"Segment Profiles Sync tables in schema {wh.schema!r}")
            if as_of is not None:
                report.notes.append("as_of is ignored: Profiles Sync tables are a snapshot")
        else:
            report.notes.append(f"warehouse schema {wh.schema!r}")
    finally:
        wh.close()
    return Loaded(frame, report, audience)


def _csv_files(source: Any) -> dict[str, Path]:
    """Audience name -> CSV file (a formatted download is preferred when both exist)."""
    text = str(source)
    if is_glob(text):
        paths = sorted(Path(p) for p in globlib.glob(text, recursive=True))
    elif Path(text).is_dir():
        paths = sorted(Path(text).rglob("*.csv"))
    else:
        paths = [Path(text)]
    files: dict[str, Path] = {}
    for path in sorted(paths, key=lambda p: ("unformatted" in p.stem.lower(), str(p))):
        files.setdefault(csv_audience_name(path), path)
    if not files:
        raise SourceError(f"No Engage CSV files in {text}.")
    return files


def _load_csv(source, *, audience, id_type, traits, report) -> Loaded:
    files = _csv_files(source)
    if len(files) == 1 and (audience is None or not Path(str(source)).is_dir()):
        name, path = next(iter(files.items()))
        audience = audience or name
    else:
        audience = _choose(audience, sorted(files))
        path = files[audience]
    frame = read_engage_csv(path, id_type=id_type, traits=traits, report=report)
    return Loaded(frame, report, audience)


def load_source(
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
) -> Loaded:
    """Read ``source`` into members + traits and a filled-in :class:`LoadReport`.

    ``cache`` (archives only): True, False or a folder, see :mod:`onesig_nb.segment.cache`.
    ``engine``: a SparkSession runs the rule in Spark (see :mod:`onesig_nb.segment.spark`).
    """
    _check_id_type(id_type)
    spark = _spark_engine(source, engine)
    if spark is not None:
        if isinstance(traits, str):
            traits = [traits]
        as_of_text = _as_of_text(as_of)
        label = "<Spark DataFrame>" if is_spark_frame(source) else str(source)
        report = LoadReport(source=label, kind=SPARK_KIND, id_type=id_type, as_of=as_of_text)
        frame, chosen = load_spark(
            source, spark=spark, audience=audience, id_type=id_type, traits=traits,
            as_of=as_of_text, report=report, choose=_choose,
        )  # fmt: skip
        report.audience = chosen
        return Loaded(frame, report, chosen)
    if is_s3_url(source):
        S3Location.parse(source)  # refuses credentials in the URL before it is shown anywhere
    if isinstance(traits, str):
        traits = [traits]
    as_of_text = _as_of_text(as_of)
    kind = detect_kind(source, kind)
    label = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    if kind == "warehouse" and "://" in label:
        label = safe_url(label)
    report = LoadReport(source=label, kind=kind, id_type=id_type, as_of=as_of_text)
    if kind == "archive":
        loaded = _load_archive(
            source, audience=audience, id_type=id_type, traits=traits, as_of=as_of_text,
            cache=cache, report=report,
        )  # fmt: skip
    elif kind == "warehouse":
        loaded = _load_warehouse(
            source, audience=audience, id_type=id_type, traits=traits, as_of=as_of_text,
            schema=schema, report=report,
        )  # fmt: skip
    else:
        if as_of_text is not None:
            report.notes.append(f"as_of is ignored for a {kind} source (it is a snapshot)")
        if kind == "engage_csv":
            loaded = _load_csv(
                source, audience=audience, id_type=id_type, traits=traits, report=report
            )
        else:
            frame = source if kind == "frame" else read_parquet(Path(str(source)))
            out = read_frame(
                frame, audience=audience, id_type=id_type, traits=traits, report=report
            )
            loaded = Loaded(out, report, audience, sorted=False)
    report.audience = loaded.audience
    return loaded


def list_source_audiences(
    source: Any,
    *,
    id_type: str = "user_id",
    as_of: Any = None,
    kind: str | None = None,
    schema: str | None = None,
    cache: Any = True,
    engine: Any = None,
) -> pd.DataFrame:
    """One row per audience in ``source``: members and the counts behind them."""
    _check_id_type(id_type)
    spark = _spark_engine(source, engine)
    if spark is not None:
        return spark_summary(source, spark=spark, id_type=id_type, as_of=_as_of_text(as_of))
    if is_s3_url(source):
        S3Location.parse(source)
    as_of_text = _as_of_text(as_of)
    kind = detect_kind(source, kind)
    has_as_of = as_of_text is not None
    params = {"as_of": as_of_text}
    if kind == "archive":
        arch = ArchiveSet.load(source, LoadReport(), cache=cache)
        try:
            sql = summary_sql(
                "SELECT * FROM audience_events",
                id_type=id_type,
                as_of=has_as_of,
                one_audience=False,
            )
            return arch.runner.frame(sql, params)
        finally:
            arch.close()
    if kind == "warehouse":
        wh = Warehouse.open(source, schema=schema)
        try:
            if not wh.keys:
                return pd.DataFrame(columns=["audience", "members"])
            as_of_here = has_as_of and wh.profiles is None
            sql = wh.summary_query(wh.keys, id_type=id_type, as_of=as_of_here, one=False)
            return wh.runner.frame(sql, params if as_of_here else {})
        finally:
            wh.close()
    if kind == "engage_csv":
        rows = []
        for name, path in _csv_files(source).items():
            frame = read_engage_csv(path, id_type=id_type, traits=[], report=LoadReport())
            rows.append(
                {"audience": name, "members": frame["external_id"].nunique(), "file": str(path)}
            )
        return pd.DataFrame(rows)
    loaded = load_source(source, id_type=id_type, kind=kind)
    return pd.DataFrame(
        [{"audience": loaded.audience, "members": loaded.frame["external_id"].nunique()}]
    )
