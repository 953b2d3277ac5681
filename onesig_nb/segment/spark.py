"""Cohorts from archives beyond one machine: the same membership rule run as Spark SQL.

``load_cohort(path_or_spark_df, audience=..., engine=spark_session)`` reads Segment messages
with Spark (a path of ``.gz``/``.jsonl`` NDJSON read with an explicit schema, or a DataFrame
of messages already read, e.g. ``spark.read.json(...)``), shapes them into the audience-event
relation of :mod:`onesig_nb.segment.membership`, and runs that module's SQL translated to Spark
SQL by :mod:`onesig_nb.segment.dialects`, so the rule is the one DuckDB and the warehouses run.
Only the report's counts, the members and their latest traits reach the driver.

Values follow DuckDB's reading (segment-data.md section 2.5): ``true``/``false`` as JSON
booleans or strings; anything else is "unknown". Trait values come back as text from Spark's
JSON functions and are typed per column here (all integers -> int, all numbers -> float, all
true/false -> bool, else text); a text trait whose every value looks like a number (a zip code
written as a string) therefore comes back as a number, unlike the DuckDB reader.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd

from onesig_nb.errors import SourceError
from onesig_nb.segment.dialects import to_dialect
from onesig_nb.segment.membership import (
    AUDIENCE_CLASSES_SQL,
    members_sql,
    person_exprs,
    summary_sql,
)
from onesig_nb.segment.report import LoadReport

__all__ = ["MESSAGE_SCHEMA", "is_spark_frame", "is_spark_session", "load_spark", "spark_summary"]

#: The columns read from each message (the same ones the DuckDB reader reads).
MESSAGE_SCHEMA = (
    "type STRING, messageId STRING, userId STRING, anonymousId STRING, `timestamp` STRING, "
    "receivedAt STRING, traits STRING, properties STRING, "
    "context STRUCT<personas: STRUCT<computation_class: STRING, computation_key: STRING>>, "
    "_corrupt_record STRING"
)
#: Files Spark reads under a folder (Hadoop glob syntax).
PATH_GLOB = "*.{gz,jsonl,ndjson}"
_INT = re.compile(r"^-?\d+$")


def is_spark_session(obj: Any) -> bool:
    return type(obj).__name__ == "SparkSession" and hasattr(obj, "sql")


def is_spark_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyspark.") and hasattr(obj, "sparkSession")


def _as_json(df: Any, name: str) -> str:
    """SQL giving column ``name`` of ``df`` as JSON text (structs and maps are serialised)."""
    if name not in df.columns:
        return "CAST(NULL AS STRING)"
    kind = df.schema[name].dataType.typeName()
    return f"to_json(`{name}`)" if kind in ("struct", "map", "array") else f"`{name}`"


def _personas(df: Any) -> tuple[str, str]:
    try:
        df.select("context.personas.computation_class", "context.personas.computation_key")
    except Exception:  # noqa: BLE001 - no such nested field in this frame's schema
        return "CAST(NULL AS STRING)", "CAST(NULL AS STRING)"
    return "context.personas.computation_class", "context.personas.computation_key"


class SparkArchive:
    """Segment messages in Spark, normalised into a persisted view of the relevant rows."""

    def __init__(self, source: Any, spark: Any):
        self.spark = spark
        self.tag = uuid.uuid4().hex[:12]
        if is_spark_frame(source):
            df = source
        elif isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
            df = (
                spark.read.schema(MESSAGE_SCHEMA)
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", "_corrupt_record")
                .option("recursiveFileLookup", "true")
                .option("pathGlobFilter", PATH_GLOB)
                .json(str(source))
            )
        else:
            raise SourceError(
                f"With engine=<SparkSession>, pass a path or a Spark DataFrame of Segment "
                f"messages, not a {type(source).__name__}."
            )
        self._normalise(df)

    def view(self, name: str) -> str:
        return f"onesig_{name}_{self.tag}"

    def _normalise(self, df: Any) -> None:
        df.createOrReplaceTempView(self.view("src"))
        cls, key = _personas(df)
        traits, props = _as_json(df, "traits"), _as_json(df, "properties")
        corrupt = "_corrupt_record" if "_corrupt_record" in df.columns else "CAST(NULL AS STRING)"
        col = {c: f"`{c}`" if c in df.columns else "CAST(NULL AS STRING)"
               for c in ("type", "messageId", "userId", "anonymousId", "timestamp", "receivedAt")}  # fmt: skip
        relevant = f"({col['type']} = 'identify' OR {cls} IN ({AUDIENCE_CLASSES_SQL}))"
        value = (
            f"get_json_object(CASE {col['type']} WHEN 'identify' THEN {traits} "
            f"WHEN 'track' THEN {props} END, concat('$[''', {key}, ''']'))"
        )
        counts = self.spark.sql(
            f"SELECT count({col['type']}) AS messages, "
            f"count(CASE WHEN {col['type']} IS NULL THEN 1 END) AS malformed, "
            f"count({corrupt}) AS corrupt FROM {self.view('src')}"
        ).collect()[0]
        self.messages, self.malformed = int(counts["messages"]), int(counts["malformed"])
        ts = f"try_cast({col['timestamp']} AS TIMESTAMP)"
        received = f"try_cast({col['receivedAt']} AS TIMESTAMP)"
        rows = self.spark.sql(
            f"""SELECT {col["type"]} AS type, {col["messageId"]} AS message_id,
                   {col["userId"]} AS user_id, {col["anonymousId"]} AS anonymous_id,
                   COALESCE({ts}, {received}) AS ts, {received} AS received_at,
                   {cls} AS cclass, {key} AS ckey,
                   CASE WHEN {cls} IN ({AUDIENCE_CLASSES_SQL}) THEN
                       CASE {value} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
                       ELSE '?' END END AS val,
                   CASE WHEN {col["type"]} = 'identify' THEN {traits} END AS traits
            FROM {self.view("src")} WHERE {relevant}"""
        )
        from pyspark import StorageLevel

        self.rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
        self.rows.createOrReplaceTempView(self.view("raw"))
        self.spark.sql(
            f"""SELECT message_id, user_id, anonymous_id, ts, received_at,
                   ckey AS computation_key,
                   CASE val WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END AS value
            FROM {self.view("raw")}
            WHERE cclass IN ({AUDIENCE_CLASSES_SQL}) AND ckey IS NOT NULL AND ckey <> ''"""
        ).createOrReplaceTempView(self.view("events"))

    def keys(self) -> list[str]:
        rows = self.spark.sql(
            f"SELECT DISTINCT computation_key FROM {self.view('events')} ORDER BY 1"
        ).collect()
        return [r[0] for r in rows]

    def run(self, portable_sql: str, params: dict[str, Any]) -> pd.DataFrame:
        """Run portable SQL (translated to Spark SQL) and collect the (small) result."""
        return _collect(self.spark.sql(to_dialect(portable_sql, "spark", params)))

    def close(self) -> None:
        for name in ("src", "raw", "events", "members"):
            self.spark.catalog.dropTempView(self.view(name))
        self.rows.unpersist()

    def traits_long(self, members_view: str, id_type: str) -> pd.DataFrame:
        """(person, key, value text) of each member's latest non-null value of each trait."""
        person, _ = person_exprs(id_type)
        return _collect(
            self.spark.sql(
                f"""WITH idf AS (
                SELECT {person} AS person, ts, received_at, message_id, traits
                FROM {self.view("raw")}
                WHERE type = 'identify' AND traits IS NOT NULL
                  AND {person} IN (SELECT external_id FROM {members_view})
            ),
            kv AS (
                SELECT person, ts, received_at, message_id, e.key AS key, e.value AS value
                FROM idf LATERAL VIEW explode(from_json(traits, 'map<string,string>')) e
                    AS key, value
                WHERE e.value IS NOT NULL
            )
            SELECT person, key, max_by(value, struct(ts, received_at, message_id)) AS value
            FROM kv GROUP BY person, key"""
            )
        )


def _collect(df: Any) -> pd.DataFrame:
    """A small Spark result as pandas (plain collect: no Arrow or pandas-version coupling)."""
    return pd.DataFrame([tuple(r) for r in df.collect()], columns=df.columns)


def _typed(values: pd.Series) -> pd.Series:
    present = values.dropna().astype(str)
    if present.empty:
        return values
    if present.isin(["true", "false"]).all():
        return values.map({"true": True, "false": False, None: None})
    if present.str.match(_INT).all():
        out = pd.to_numeric(values)
        return out.astype("Int64").astype(object).where(values.notna(), None)
    try:
        return pd.to_numeric(values).astype(float)
    except (ValueError, TypeError):
        # text: the dtype pandas itself infers (pandas 3: "str" with NaN gaps, as DuckDB gives)
        return pd.Series(values.tolist(), index=values.index)


def _fill_report(report: LoadReport, archive: SparkArchive, summary: pd.DataFrame) -> None:
    report.add("messages_read", archive.messages)
    report.add("malformed_lines", archive.malformed)
    row = summary.iloc[0] if len(summary) else None
    for name in ("audience_messages", "duplicates_dropped", "unknown_values", "after_as_of",
                 "no_id_messages", "no_id_people", "no_id_members", "latest_false"):  # fmt: skip
        report.add(name, int(row[name]) if row is not None else 0)


def load_spark(
    source: Any,
    *,
    spark: Any,
    audience: str | None,
    id_type: str,
    traits: Sequence[str] | None,
    as_of: str | None,
    report: LoadReport,
    choose,
) -> tuple[pd.DataFrame, str]:
    """Members of one audience and their traits, computed by Spark; ``choose`` picks the key."""
    archive = SparkArchive(source, spark)
    try:
        keys = archive.keys()
        audience = choose(audience, keys)
        params = {"audience": audience, "as_of": as_of}
        has_as_of = as_of is not None
        events = f"SELECT * FROM {archive.view('events')}"
        summary = archive.run(
            summary_sql(events, id_type=id_type, as_of=has_as_of, one_audience=True), params
        )
        _fill_report(report, archive, summary)
        members = spark.sql(
            to_dialect(members_sql(events, id_type=id_type, as_of=has_as_of), "spark", params)
        )
        members.createOrReplaceTempView(archive.view("members"))
        ids = _collect(members)["external_id"].astype(str)
        long = archive.traits_long(archive.view("members"), id_type)
    finally:
        archive.close()
    wide = long.pivot(index="person", columns="key", values="value") if len(long) else None
    if traits is None:
        names = sorted(k for k in (wide.columns if wide is not None else []) if k not in keys)
    else:
        names = list(dict.fromkeys(traits))
    frame = pd.DataFrame({"external_id": sorted(ids)})
    for name in names:
        values = frame["external_id"].map(wide[name]) if wide is not None and name in wide else None
        column = pd.Series(values, index=frame.index, dtype=object)
        frame[name] = _typed(column.where(column.notna(), None))
    return frame, audience


def spark_summary(source: Any, *, spark: Any, id_type: str, as_of: str | None) -> pd.DataFrame:
    """One row per audience (as :func:`onesig_nb.list_audiences`), computed by Spark."""
    archive = SparkArchive(source, spark)
    try:
        events = f"SELECT * FROM {archive.view('events')}"
        sql = summary_sql(events, id_type=id_type, as_of=as_of is not None, one_audience=False)
        return archive.run(sql, {"as_of": as_of})
    finally:
        archive.close()
