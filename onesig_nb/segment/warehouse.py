"""Segment warehouse tables (Engage schemas) read through SQL where the data lives.

A DuckDB file is opened read-only with DuckDB itself; any other SQLAlchemy URL goes through
SQLAlchemy (PostgreSQL is tested; Snowflake, BigQuery, Redshift and Databricks get the same SQL
translated by sqlglot, see :mod:`onesig_nb.segment.dialects`). Tables used: ``identifies`` (one column per audience key,
``context_personas_*`` columns), ``audience_entered`` / ``audience_exited`` (``audience_key`` +
one column per key). Membership and traits are computed by one portable query each (see
:mod:`onesig_nb.segment.membership`), so only members and their traits leave the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from onesig_nb.errors import SourceError
from onesig_nb.segment.archive import open_duckdb
from onesig_nb.segment.dialects import TRANSLATED_DIALECTS, to_dialect
from onesig_nb.segment.membership import (
    AUDIENCE_CLASSES_SQL,
    DuckDBRunner,
    latest_ctes,
    person_exprs,
    quote_ident,
    quote_literal,
    summary_sql,
    value_case,
)
from onesig_nb.segment.profiles_sync import PROFILE_TABLES, ProfilesSync

__all__ = ["SQLAlchemyRunner", "Warehouse", "safe_url"]

EVENT_TABLES = ("identifies", "audience_entered", "audience_exited")
#: Warehouse columns that are never traits (Segment's common columns, warehouse.md section 4.2).
COMMON_COLUMNS = {
    "id", "anonymous_id", "user_id", "received_at", "sent_at", "timestamp", "original_timestamp",
    "uuid", "uuid_ts", "loaded_at", "event", "event_text", "audience_key", "trait_key",
}  # fmt: skip


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any unparsable URL is shown as a placeholder
        return "<unparsable URL>"


class SQLAlchemyRunner:
    """Runs portable SQL through a SQLAlchemy engine (PostgreSQL sessions are set to UTC)."""

    def __init__(self, url: str):
        try:
            from sqlalchemy import create_engine, event
            from sqlalchemy.exc import ArgumentError, NoSuchModuleError
        except ImportError as exc:  # pragma: no cover - sqlalchemy is a dependency
            raise SourceError("SQLAlchemy is needed for SQL URLs: pip install sqlalchemy") from exc
        self.url = url
        try:
            self.engine = create_engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            raise SourceError(
                f"Cannot use the SQL URL {safe_url(url)}: {exc}. Use a SQLAlchemy URL such as "
                "postgresql+psycopg://user:password@host:5432/db, or a DuckDB file path."
            ) from None
        if self.engine.dialect.name == "postgresql":

            @event.listens_for(self.engine, "connect")
            def _utc(dbapi_con, _record):  # pragma: no cover - exercised with a real server
                cur = dbapi_con.cursor()
                cur.execute("SET TIME ZONE 'UTC'")
                cur.close()

    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        name = self.engine.dialect.name
        if name in TRANSLATED_DIALECTS:  # quoting, types and parameters differ there
            sql, params = to_dialect(sql, name, params), {}
        try:
            with self.engine.connect() as con:
                return pd.read_sql(text(sql), con, params=params or {})
        except (DBAPIError, SQLAlchemyError) as exc:
            detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
            raise SourceError(
                f"The warehouse at {safe_url(self.url)} could not run the cohort query: {detail}. "
                "Check the URL, that the server is reachable and that the Segment tables exist."
            ) from None

    def close(self) -> None:
        self.engine.dispose()


class _CheckedDuckDB(DuckDBRunner):
    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        import duckdb

        try:
            return super().frame(sql, params)
        except duckdb.Error as exc:
            raise SourceError(
                f"The DuckDB warehouse could not run the cohort query: {exc}"
            ) from None

    def close(self) -> None:
        self.con.close()


@dataclass
class Warehouse:
    """The Engage tables of one schema, and the SQL that turns them into audience events."""

    runner: Any
    schema: str
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> type
    keys: list[str] = field(default_factory=list)
    #: Set when the schema holds Segment Profiles Sync tables instead of Engage event tables.
    profiles: ProfilesSync | None = None

    @classmethod
    def open(cls, source: str | Path, *, schema: str | None = None) -> Warehouse:
        text = str(source)
        if "://" in text:
            runner: Any = SQLAlchemyRunner(text)
        else:
            path = Path(text)
            if not path.is_file():
                raise SourceError(f"No DuckDB warehouse file at {text}. Check the path.")
            import duckdb

            try:
                runner = _CheckedDuckDB(open_duckdb(str(path), read_only=True))
            except duckdb.Error as exc:
                raise SourceError(f"{text} is not a readable DuckDB database: {exc}") from None
        self = cls(runner=runner, schema="")
        self._discover(schema)
        return self

    def close(self) -> None:
        self.runner.close()

    def _discover(self, schema: str | None) -> None:
        names = ", ".join(quote_literal(t) for t in (*EVENT_TABLES, "users", *PROFILE_TABLES))
        cols = self.runner.frame(
            "SELECT table_schema, table_name, column_name, data_type "
            f"FROM information_schema.columns WHERE table_name IN ({names}) "
            "ORDER BY table_schema, table_name, ordinal_position"
        )
        if schema is not None:
            cols = cols[cols["table_schema"] == schema]
        schemas = sorted(set(cols.loc[cols["table_name"].isin(EVENT_TABLES), "table_schema"]))
        if not schemas:
            profile_schemas = sorted(
                name
                for name, group in cols.groupby("table_schema")
                if set(PROFILE_TABLES) <= set(group["table_name"])
            )
            if len(profile_schemas) == 1:
                self._discover_profiles(cols, profile_schemas[0])
                return
            where = f"schema {schema!r}" if schema else "any schema"
            raise SourceError(
                f"No Segment tables (identifies, audience_entered, audience_exited, or Profiles "
                f"Sync profile_traits and external_id_mapping) in {where} of this warehouse. "
                "Pass schema='engage_...' for an Engage schema or the Profiles Sync schema."
                + (
                    f" Profiles Sync tables are in: {', '.join(profile_schemas)}."
                    if profile_schemas
                    else ""
                )  # fmt: skip
            )
        if len(schemas) > 1:
            raise SourceError(
                f"Segment tables found in several schemas: {', '.join(schemas)}. "
                "Pass schema=... to choose one."
            )
        self.schema = schemas[0]
        mine = cols[cols["table_schema"] == self.schema]
        for table, group in mine.groupby("table_name"):
            self.columns[str(table)] = dict(
                zip(group["column_name"], group["data_type"], strict=True)
            )
        self.keys = self._audience_keys()

    def _discover_profiles(self, cols: pd.DataFrame, schema: str) -> None:
        self.schema = schema
        mine = cols[(cols["table_schema"] == schema) & (cols["table_name"] == "profile_traits")]
        columns = dict(zip(mine["column_name"], mine["data_type"], strict=True))
        self.profiles = ProfilesSync(table=self.table, columns=columns)
        self.keys = self.profiles.discover_keys(self.runner.frame)

    @property
    def kind(self) -> str:
        """``"profiles_sync"`` or ``"engage"``: which Segment tables this schema holds."""
        return "profiles_sync" if self.profiles is not None else "engage"

    def summary_query(self, keys: Sequence[str], *, id_type: str, as_of: bool, one: bool) -> str:
        """The per-audience counts for ``keys`` (``one``: bound to ``:audience``)."""
        if self.profiles is not None:
            return self.profiles.summary_sql(keys, id_type=id_type)
        return summary_sql(self.events_sql(keys), id_type=id_type, as_of=as_of, one_audience=one)

    def table(self, name: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    def _audience_keys(self) -> list[str]:
        parts = []
        ident = self.columns.get("identifies", {})
        if {"context_personas_computation_key", "context_personas_computation_class"} <= set(ident):
            parts.append(
                "SELECT DISTINCT context_personas_computation_key AS k FROM "
                f"{self.table('identifies')} "
                f"WHERE context_personas_computation_class IN ({AUDIENCE_CLASSES_SQL})"
            )
        for t in ("audience_entered", "audience_exited"):
            if "audience_key" in self.columns.get(t, {}):
                parts.append(f"SELECT DISTINCT audience_key AS k FROM {self.table(t)}")
        if not parts:
            return []
        found = self.runner.frame(" UNION ".join(parts))["k"].dropna().astype(str)
        return sorted(k for k in set(found) if k)

    def events_sql(self, keys: Sequence[str]) -> str:
        """A UNION ALL of every audience message for ``keys`` in the portable event shape."""
        parts = []
        for table in EVENT_TABLES:
            cols = self.columns.get(table, {})
            if not cols:
                continue
            has_class = "context_personas_computation_class" in cols
            key_col = (
                "audience_key" if table != "identifies" else "context_personas_computation_key"
            )
            if key_col not in cols:
                key_col = "context_personas_computation_key"
            for key in keys:
                if key not in cols:
                    continue
                if key_col in cols:
                    where = f"{quote_ident(key_col)} = {quote_literal(key)}"
                else:  # plain identifies carrying the key as a column
                    where = f"{quote_ident(key)} IS NOT NULL"
                if has_class:
                    where += f" AND context_personas_computation_class IN ({AUDIENCE_CLASSES_SQL})"
                value = value_case(f"CAST({quote_ident(key)} AS VARCHAR)")
                parts.append(
                    f"SELECT CAST(id AS VARCHAR) AS message_id, CAST(user_id AS VARCHAR) AS user_id, "
                    f"CAST(anonymous_id AS VARCHAR) AS anonymous_id, "
                    f"{quote_ident('timestamp')} AS ts, "
                    f"received_at, CAST({quote_literal(key)} AS VARCHAR) AS computation_key, "
                    f"{value} AS value FROM {self.table(table)} WHERE {where}"
                )
        if not parts:
            raise SourceError(
                f"The warehouse schema {self.schema!r} has no column for audience(s) "
                f"{', '.join(keys)}."
            )
        return "\nUNION ALL\n".join(parts)

    def trait_columns(self, traits: Sequence[str] | None) -> list[str]:
        if self.profiles is not None:
            return self.profiles.trait_columns(traits)
        ident = self.columns.get("identifies", {})
        if traits is not None:
            return [t for t in dict.fromkeys(traits) if t in ident]
        return [
            c
            for c in ident
            if c not in COMMON_COLUMNS and not c.startswith("context_") and c not in self.keys
        ]

    def cohort_sql(self, key: str, *, id_type: str, as_of: bool, traits: list[str]) -> str:
        """Members of ``key`` (bound as ``:audience``) with their latest non-null traits."""
        if self.profiles is not None:
            return self.profiles.cohort_sql(key, id_type=id_type, traits=traits)
        ctes = latest_ctes(self.events_sql([key]), id_type=id_type, as_of=as_of, one_audience=True)
        person, _ = person_exprs(id_type)
        order = "ts DESC NULLS LAST, received_at DESC NULLS LAST, id DESC NULLS LAST"
        picks = ",\n".join(
            f"FIRST_VALUE({quote_ident(c)}) OVER (PARTITION BY person ORDER BY "
            f"CASE WHEN {quote_ident(c)} IS NULL THEN 1 ELSE 0 END, {order}) AS {quote_ident(c)}"
            for c in traits
        )
        sel = "".join(f", tv.{quote_ident(c)}" for c in traits)
        if not traits:
            return f"""{ctes}
SELECT person AS external_id FROM latest WHERE value ORDER BY person"""
        return f"""{ctes},
members AS (SELECT person AS external_id FROM latest WHERE value),
idf AS (
    SELECT {person} AS person, {quote_ident("timestamp")} AS ts, received_at,
           CAST(id AS VARCHAR) AS id,
           {", ".join(quote_ident(c) for c in traits)}
    FROM {self.table("identifies")}
    WHERE {person} IN (SELECT external_id FROM members)
),
picked AS (
    SELECT person, {picks},
           ROW_NUMBER() OVER (PARTITION BY person ORDER BY {order}) AS rn
    FROM idf
),
tv AS (SELECT * FROM picked WHERE rn = 1)
SELECT m.external_id{sel}
FROM members m LEFT JOIN tv ON tv.person = m.external_id
ORDER BY m.external_id"""
