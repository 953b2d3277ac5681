"""Audience membership as portable SQL: latest value wins (segment-data.md section 2.5).

The queries run on any relation of *audience events* with the columns

    message_id, user_id, anonymous_id, ts, received_at, computation_key, value (BOOLEAN or NULL)

where ``value`` is already NULL for messages whose value is not a boolean or "true"/"false".
They use only window functions, CASE and plain aggregates, so the same text runs in DuckDB
(archives, DuckDB warehouse files) and on a warehouse through SQLAlchemy (PostgreSQL is tested).
Bind parameters are written ``:name``; :class:`DuckDBRunner` rewrites them for DuckDB.

The rule, step by step:

1. duplicate ``message_id``\\ s are dropped (the first received copy is kept);
2. the person is ``user_id`` / ``anonymous_id`` / ``user_id`` else ``anonymous_id`` (``auto``);
3. with ``as_of``, only messages with ``ts <= as_of`` count;
4. per (audience, person) the last value by ``ts``, then ``received_at``, then ``message_id``
   (a deterministic tie-break) wins; members are the people whose last value is true.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = [
    "AUDIENCE_CLASSES_SQL",
    "ID_TYPES",
    "DuckDBRunner",
    "latest_ctes",
    "members_sql",
    "person_exprs",
    "quote_ident",
    "quote_literal",
    "summary_sql",
    "value_case",
]

ID_TYPES = ("user_id", "anonymous_id", "auto")
#: ``context.personas.computation_class`` values that carry audience membership (Segment's own
#: resolver accepts both; segment-data.md section 2.5), and the same as an SQL ``IN (...)`` list.
AUDIENCE_CLASSES = ("audience", "journey_step")
AUDIENCE_CLASSES_SQL = ", ".join(f"'{c}'" for c in AUDIENCE_CLASSES)


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (any character allowed, quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a single-quoted SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class DuckDBRunner:
    """Runs portable SQL on a DuckDB connection (``:name`` becomes ``$name``)."""

    def __init__(self, con: Any):
        self.con = con

    def _prepare(self, sql: str, params: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        used = set(_PARAM.findall(sql))
        return _PARAM.sub(r"$\1", sql), {k: v for k, v in (params or {}).items() if k in used}

    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        text, args = self._prepare(sql, params)
        return self.con.execute(text, args).df() if args else self.con.sql(text).df()

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        text, args = self._prepare(sql, params)
        self.con.execute(text, args) if args else self.con.execute(text)


def person_exprs(id_type: str) -> tuple[str, str]:
    """SQL for (the person key, the *other* id used to count people without the chosen id)."""
    if id_type == "user_id":
        return "user_id", "anonymous_id"
    if id_type == "anonymous_id":
        return "anonymous_id", "user_id"
    if id_type == "auto":
        return "COALESCE(user_id, anonymous_id)", "CAST(NULL AS VARCHAR)"
    raise ValueError(f"id_type must be one of {ID_TYPES}, not {id_type!r}")


_LATEST_ORDER = "ts DESC NULLS LAST, received_at DESC NULLS LAST, message_id DESC NULLS LAST"


def latest_ctes(events_sql: str, *, id_type: str, as_of: bool, one_audience: bool) -> str:
    """The ``WITH`` clause shared by every membership query (ends without a trailing comma).

    Defines ``numbered`` (every event, with its copy number), ``keyed`` (deduplicated, with
    person and other id), ``usable`` (has a person and a value, within as_of) and ``latest``
    (one row per audience and person: the winning value).
    """
    person, other = person_exprs(id_type)
    where = "WHERE computation_key = :audience" if one_audience else ""
    in_time = "AND ts <= CAST(:as_of AS TIMESTAMP WITH TIME ZONE)" if as_of else ""
    return f"""
WITH ev AS (
    SELECT * FROM ({events_sql}) AS src {where}
),
numbered AS (
    SELECT ev.*, ROW_NUMBER() OVER (
        PARTITION BY message_id
        ORDER BY received_at ASC NULLS LAST, ts ASC NULLS LAST
    ) AS copy_no
    FROM ev
),
keyed AS (
    SELECT computation_key, {person} AS person, {other} AS other_id,
           value, ts, received_at, message_id
    FROM numbered
    WHERE copy_no = 1 OR message_id IS NULL
),
usable AS (
    SELECT * FROM keyed
    WHERE value IS NOT NULL AND person IS NOT NULL {in_time}
),
ranked AS (
    SELECT computation_key, person, value,
           ROW_NUMBER() OVER (
               PARTITION BY computation_key, person ORDER BY {_LATEST_ORDER}
           ) AS rn
    FROM usable
),
latest AS (
    SELECT computation_key, person, value FROM ranked WHERE rn = 1
)"""


def members_sql(events_sql: str, *, id_type: str, as_of: bool) -> str:
    """One audience's members (``:audience``), one row per person, as ``external_id``."""
    ctes = latest_ctes(events_sql, id_type=id_type, as_of=as_of, one_audience=True)
    return f"{ctes}\nSELECT person AS external_id FROM latest WHERE value ORDER BY person"


def summary_sql(events_sql: str, *, id_type: str, as_of: bool, one_audience: bool) -> str:
    """Per audience key: members and every count the load report shows."""
    ctes = latest_ctes(events_sql, id_type=id_type, as_of=as_of, one_audience=one_audience)
    in_time = "AND ts <= CAST(:as_of AS TIMESTAMP WITH TIME ZONE)" if as_of else ""
    after = (
        "SUM(CASE WHEN value IS NOT NULL AND ts > CAST(:as_of AS TIMESTAMP WITH TIME ZONE) "
        "THEN 1 ELSE 0 END)"
        if as_of
        else "0"
    )
    return f"""{ctes},
orphan_ranked AS (
    SELECT computation_key, other_id, value,
           ROW_NUMBER() OVER (
               PARTITION BY computation_key, other_id ORDER BY {_LATEST_ORDER}
           ) AS rn
    FROM keyed
    WHERE person IS NULL AND other_id IS NOT NULL AND value IS NOT NULL {in_time}
),
msg_stats AS (
    SELECT computation_key,
           COUNT(*) AS audience_messages,
           SUM(CASE WHEN copy_no > 1 AND message_id IS NOT NULL THEN 1 ELSE 0 END)
               AS duplicates_dropped
    FROM numbered GROUP BY computation_key
),
kept_stats AS (
    SELECT computation_key,
           SUM(CASE WHEN value IS NULL THEN 1 ELSE 0 END) AS unknown_values,
           SUM(CASE WHEN value IS NOT NULL AND person IS NULL THEN 1 ELSE 0 END)
               AS no_id_messages,
           {after} AS after_as_of
    FROM keyed GROUP BY computation_key
),
orphan_stats AS (
    SELECT computation_key,
           COUNT(*) AS no_id_people,
           SUM(CASE WHEN value THEN 1 ELSE 0 END) AS no_id_members
    FROM orphan_ranked WHERE rn = 1 GROUP BY computation_key
),
member_stats AS (
    SELECT computation_key,
           SUM(CASE WHEN value THEN 1 ELSE 0 END) AS members,
           SUM(CASE WHEN value THEN 0 ELSE 1 END) AS latest_false
    FROM latest GROUP BY computation_key
)
SELECT m.computation_key AS audience,
       CAST(COALESCE(s.members, 0) AS BIGINT) AS members,
       CAST(COALESCE(s.latest_false, 0) AS BIGINT) AS latest_false,
       CAST(m.audience_messages AS BIGINT) AS audience_messages,
       CAST(m.duplicates_dropped AS BIGINT) AS duplicates_dropped,
       CAST(COALESCE(k.unknown_values, 0) AS BIGINT) AS unknown_values,
       CAST(COALESCE(k.after_as_of, 0) AS BIGINT) AS after_as_of,
       CAST(COALESCE(k.no_id_messages, 0) AS BIGINT) AS no_id_messages,
       CAST(COALESCE(o.no_id_people, 0) AS BIGINT) AS no_id_people,
       CAST(COALESCE(o.no_id_members, 0) AS BIGINT) AS no_id_members
FROM msg_stats m
LEFT JOIN kept_stats k ON k.computation_key = m.computation_key
LEFT JOIN orphan_stats o ON o.computation_key = m.computation_key
LEFT JOIN member_stats s ON s.computation_key = m.computation_key
ORDER BY m.computation_key"""


def value_case(expr: str) -> str:
    """Portable CASE turning a VARCHAR rendering of a value into TRUE / FALSE / NULL."""
    return f"CASE WHEN {expr} = 'true' THEN TRUE WHEN {expr} = 'false' THEN FALSE END"
