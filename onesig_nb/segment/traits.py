"""Latest non-null identify traits per person, from JSON ``traits`` columns in DuckDB.

Works on the ``raw`` table built by :mod:`onesig_nb.segment.archive`: for every trait key,
the value of the person's latest identify (by timestamp, then receivedAt) where that key is
present and not null. Types follow the JSON values: integers stay integers, numbers become
floats, booleans stay booleans, everything else is text (objects and arrays as JSON text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from onesig_nb.segment.membership import person_exprs, quote_ident

__all__ = ["json_traits_frame"]

_INT_TYPES = {"BIGINT", "UBIGINT"}
_NUMBER_TYPES = _INT_TYPES | {"DOUBLE"}


def _path(key: str) -> str:
    escaped = key.replace("\\", "\\\\").replace('"', '\\"').replace("'", "''")
    return f"'$.\"{escaped}\"'"


def _cast(value: str, types: set[str]) -> str:
    """SQL typing one extracted JSON ``value`` with a column type chosen from its JSON types."""
    if types <= _INT_TYPES:
        return f"TRY_CAST({value} AS BIGINT)"
    if types <= _NUMBER_TYPES:
        return f"TRY_CAST({value} AS DOUBLE)"
    if types == {"BOOLEAN"}:
        return f"TRY_CAST({value} AS BOOLEAN)"
    if types & {"OBJECT", "ARRAY"}:
        return f"CAST({value} AS VARCHAR)"
    return f"({value} ->> '$')"


def json_traits_frame(
    con: Any,
    *,
    members_table: str,
    id_type: str,
    traits: Sequence[str] | None,
    exclude: set[str],
) -> pd.DataFrame:
    """``external_id`` + one column per trait, one row per member (members without traits too).

    ``members_table`` has a column ``external_id``; ``traits=None`` means every trait key seen
    on the members' identifies except those in ``exclude`` (the audience keys).
    """
    person, _ = person_exprs(id_type)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE member_identifies AS
        SELECT {person} AS person, traits,
               ROW_NUMBER() OVER (
                   PARTITION BY {person}
                   ORDER BY ts ASC NULLS FIRST, received_at ASC NULLS FIRST,
                            message_id ASC NULLS FIRST
               ) AS ord
        FROM raw
        WHERE type = 'identify' AND traits IS NOT NULL
          AND {person} IN (SELECT external_id FROM {members_table})"""
    )
    seen = dict(
        con.sql(
            """SELECT j.key, list(DISTINCT j.type)
            FROM member_identifies, json_each(member_identifies.traits) AS j
            WHERE j.type <> 'NULL' GROUP BY 1"""
        ).fetchall()
    )
    if traits is None:
        keys = sorted(k for k in seen if k not in exclude)
    else:
        keys = list(dict.fromkeys(traits))
    columns = []
    for i, key in enumerate(keys, start=1):
        value = f"v[{i}]"  # the key's JSON value, extracted with all others in one parse
        expr = _cast(value, set(seen.get(key) or ["VARCHAR"]))
        present = f"{value} IS NOT NULL AND CAST({value} AS VARCHAR) <> 'null'"
        columns.append(f"arg_max({expr}, ord) FILTER (WHERE {present}) AS {quote_ident(key)}")
    select = (",\n".join([""] + columns)) if columns else ""
    paths = "[" + ", ".join(_path(k) for k in keys) + "]" if keys else "['$.x']"
    sql = f"""
    WITH agg AS (
        SELECT person{select}
        FROM (SELECT person, ord, json_extract(traits, {paths}) AS v FROM member_identifies)
        GROUP BY person
    )
    SELECT m.external_id{"".join(f", agg.{quote_ident(k)}" for k in keys)}
    FROM {members_table} AS m LEFT JOIN agg ON agg.person = m.external_id
    ORDER BY m.external_id"""
    frame = con.sql(sql).df()
    con.execute("DROP TABLE IF EXISTS member_identifies")
    return frame
