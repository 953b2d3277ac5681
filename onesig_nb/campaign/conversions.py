"""Segment ``track`` events of one name, read from any cohort source, for measuring conversions.

The cohort readers (:mod:`onesig_nb.segment`) keep only audience messages and identifies; an
experiment needs the other half of Segment's data, what people did: ``track`` calls such as
``Order Completed``. This module reads them where they live, with the same tools:

- an archive (folder, glob or file of S3 ``.gz`` NDJSON, ``.jsonl``, ``/v1/batch`` bodies): one
  DuckDB scan of only the columns needed (the files found as
  :func:`~onesig_nb.segment.archive.collect_archive_files` finds them);
- a warehouse (DuckDB file or SQLAlchemy URL such as PostgreSQL): SQL over Segment's ``tracks``
  table (``event_text`` is the event's name, warehouse schema docs, section 4.2 of
  ``shared/reference/segment-data.md``), so only that event's rows in the time range leave it;
- a DataFrame with ``event``, ``timestamp`` and ``user_id`` (or ``external_id``) columns.

A message's time is its ``timestamp`` (Segment's skew-corrected event time), else its
``receivedAt``. Redelivered copies (same ``messageId``) count once. An event name the source does
not hold at all is refused with the names it does hold (and a did-you-mean).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from onesig_nb.errors import SourceError, ValidationError
from onesig_nb.segment.archive import collect_archive_files, open_duckdb
from onesig_nb.segment.membership import DuckDBRunner, person_exprs, quote_ident, quote_literal
from onesig_nb.segment.sources import detect_kind
from onesig_nb.segment.warehouse import SQLAlchemyRunner, safe_url

__all__ = ["EVENT_COLUMNS", "read_track_events"]

#: The frame :func:`read_track_events` returns: who, when (UTC), and the message id.
EVENT_COLUMNS = ["external_id", "ts", "message_id"]
#: How similar a mistyped event name must be to a present one to be suggested (difflib ratio).
SUGGEST_CUTOFF = 0.6
#: Event names listed in the error for an unknown one.
LISTED_NAMES = 12

_NDJSON_COLUMNS = (
    "{'type': 'VARCHAR', 'event': 'VARCHAR', 'messageId': 'VARCHAR', 'userId': 'VARCHAR', "
    "'anonymousId': 'VARCHAR', 'timestamp': 'VARCHAR', 'receivedAt': 'VARCHAR'}"
)


def _is_batch_body(path: Path) -> bool:
    """Whether a ``.json`` file is a ``/v1/batch`` body (else it is read as NDJSON)."""
    if path.suffix.lower() != ".json":
        return False
    with open(path, "rb") as fh:
        first = fh.read(65_536).lstrip().split(b"\n", 1)[0]
    try:
        doc = orjson.loads(first)
    except orjson.JSONDecodeError:
        return True  # a pretty-printed document: NDJSON lines are one object each
    return isinstance(doc, dict) and "batch" in doc


def _archive_tracks_sql(files: list[Path]) -> str:
    """One SELECT of every track message in ``files`` as (event, message_id, user_id,
    anonymous_id, ts)."""

    def names(paths: list[Path]) -> str:
        return "[" + ", ".join(quote_literal(str(p)) for p in paths) + "]"

    batch = [p for p in files if _is_batch_body(p)]
    ndjson = [p for p in files if p not in batch]
    parts = []
    if ndjson:
        parts.append(
            "SELECT event, messageId AS message_id, userId AS user_id, "
            "anonymousId AS anonymous_id, COALESCE(try_cast(timestamp AS TIMESTAMPTZ), "
            "try_cast(receivedAt AS TIMESTAMPTZ)) AS ts "
            f"FROM read_json({names(ndjson)}, format='newline_delimited', "
            f"columns={_NDJSON_COLUMNS}, ignore_errors=true) WHERE type = 'track'"
        )
    if batch:
        inner = (
            f"SELECT unnest(batch) AS m FROM read_json({names(batch)}, format='auto', "
            "columns={'batch': 'JSON[]'}, ignore_errors=true)"
        )
        parts.append(
            "SELECT m->>'event' AS event, m->>'messageId' AS message_id, "
            "m->>'userId' AS user_id, m->>'anonymousId' AS anonymous_id, "
            "COALESCE(try_cast(m->>'timestamp' AS TIMESTAMPTZ), "
            "try_cast(m->>'receivedAt' AS TIMESTAMPTZ)) AS ts "
            f"FROM ({inner}) WHERE m->>'type' = 'track'"
        )
    return " UNION ALL ".join(parts)


class _DuckDB(DuckDBRunner):
    """A DuckDB runner whose errors say which source could not be read."""

    def __init__(self, con: Any, label: str):
        super().__init__(con)
        self.label = label

    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        import duckdb

        try:
            return super().frame(sql, params)
        except duckdb.Error as exc:
            raise SourceError(f"Could not read track events from {self.label}: {exc}") from None

    def close(self) -> None:
        self.con.close()


def _warehouse_table(runner: Any, schema: str | None, label: str) -> str:
    """The quoted ``tracks`` table of the warehouse (in ``schema`` when given)."""
    found = runner.frame(
        "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'tracks'"
    )["table_schema"].astype(str)
    schemas = sorted(s for s in set(found) if schema is None or s == schema)
    if not schemas:
        where = f"schema {schema!r}" if schema else "any schema"
        raise SourceError(
            f"No Segment 'tracks' table in {where} of {label}: results need the track events "
            "of your Segment source (not only the Engage schema). Pass schema='...' naming the "
            "source's schema."
        )
    if len(schemas) > 1:
        raise SourceError(
            f"Segment 'tracks' tables in several schemas of {label}: {', '.join(schemas)}. "
            "Pass schema=... to choose the source whose events count."
        )
    return f"{quote_ident(schemas[0])}.{quote_ident('tracks')}"


def _open(source: Any, *, kind: str | None, schema: str | None) -> tuple[Any, str, str]:
    """(runner, SQL of every track message as (event, message_id, user_id, anonymous_id,
    ts), label) for an archive or warehouse source."""
    kind = detect_kind(source, kind)
    text = str(source)
    if kind == "archive":
        files = collect_archive_files(source)
        runner = _DuckDB(open_duckdb(), text)
        try:  # one scan of the files; the queries below read the table
            runner.execute(f"CREATE TEMP TABLE tracks AS {_archive_tracks_sql(files)}")
        except Exception as exc:
            runner.close()
            raise SourceError(f"Could not read track events from {text}: {exc}") from None
        return runner, "SELECT * FROM tracks", text
    if kind != "warehouse":
        raise ValidationError(
            f"Track events cannot be read from a {kind} source ({text}): it holds no events. "
            "Pass the Segment archive folder, the warehouse (DuckDB file or SQL URL), or a "
            "DataFrame of events with event, timestamp and user_id columns."
        )
    if "://" in text:
        runner: Any = SQLAlchemyRunner(text)
        label = safe_url(text)
    else:
        import duckdb

        if not Path(text).is_file():
            raise SourceError(f"No DuckDB warehouse file at {text}. Check the path.")
        try:
            runner = _DuckDB(open_duckdb(text, read_only=True), text)
        except duckdb.Error as exc:
            raise SourceError(f"{text} is not a readable DuckDB database: {exc}") from None
        label = text
    try:
        table = _warehouse_table(runner, schema, label)
    except BaseException:
        runner.close()
        raise
    sql = (
        "SELECT CAST(event_text AS VARCHAR) AS event, CAST(id AS VARCHAR) AS message_id, "
        "CAST(user_id AS VARCHAR) AS user_id, CAST(anonymous_id AS VARCHAR) AS anonymous_id, "
        f"COALESCE({quote_ident('timestamp')}, received_at) AS ts FROM {table}"
    )
    return runner, sql, label


def _unknown_event(event: str, names: list[str], label: str) -> ValidationError:
    names = sorted(n for n in names if n)
    close = difflib.get_close_matches(event, names, n=1, cutoff=SUGGEST_CUTOFF)
    folded = {n.lower(): n for n in names}
    guess = folded.get(event.lower()) or (close[0] if close else None)
    hint = f"Did you mean {guess!r}? Event names are case-sensitive. " if guess else ""
    shown = ", ".join(repr(n) for n in names[:LISTED_NAMES]) or "none"
    more = f" (and {len(names) - LISTED_NAMES} more)" if len(names) > LISTED_NAMES else ""
    return ValidationError(
        f"No track event {event!r} in {label}. {hint}Track events present: {shown}{more}. "
        "Pass one of these as event=..."
    )


def _from_frame(frame: pd.DataFrame, event: str, id_type: str) -> pd.DataFrame:
    missing = [c for c in ("event", "timestamp") if c not in frame.columns]
    person = "external_id" if "external_id" in frame.columns else id_type
    if id_type == "auto" and person == "auto":
        person = "user_id"
    if missing or person not in frame.columns:
        need = ", ".join(missing + ([] if person in frame.columns else [person]))
        raise ValidationError(
            f"An events frame needs event, timestamp and {person} columns; missing: {need}."
        )
    names = frame["event"].dropna().astype(str).unique().tolist()
    if event not in names:
        raise _unknown_event(event, names, "the events frame")
    rows = frame[frame["event"] == event]
    ids = rows[person]
    if id_type == "auto" and person == "user_id" and "anonymous_id" in rows.columns:
        ids = ids.fillna(rows["anonymous_id"])
    out = pd.DataFrame(
        {
            "external_id": ids.astype("string"),
            "ts": pd.to_datetime(rows["timestamp"], utc=True, errors="coerce"),
            "message_id": rows["message_id"].astype("string")
            if "message_id" in rows.columns
            else pd.Series(range(len(rows)), index=rows.index).astype("string"),
        }
    )
    return out


def read_track_events(
    source: Any,
    event: str,
    *,
    since: pd.Timestamp,
    until: pd.Timestamp,
    id_type: str = "user_id",
    kind: str | None = None,
    schema: str | None = None,
) -> pd.DataFrame:
    """Every ``event`` track message with ``since <= time <= until``, once per message id:
    :data:`EVENT_COLUMNS` (``ts`` an aware UTC timestamp), people without the id left out.

    :param id_type: the id that is the person's external id (a cohort's ``id_type``)
    :raises ValidationError: ``event`` is not in the source (the message lists what is)
    """
    if not isinstance(event, str) or not event.strip():
        raise ValidationError(
            "event must be the name of a Segment track event, e.g. 'Order Completed'."
        )
    if isinstance(source, pd.DataFrame):
        out = _from_frame(source, event, id_type)
    else:
        runner, tracks, label = _open(source, kind=kind, schema=schema)
        person, _ = person_exprs(id_type)
        try:
            found = runner.frame(
                f"SELECT COUNT(*) AS n FROM ({tracks}) AS t WHERE event = :event",
                {"event": event},
            )
            if int(found["n"].iloc[0]) == 0:
                names = runner.frame(f"SELECT DISTINCT event FROM ({tracks}) AS t")["event"]
                raise _unknown_event(event, names.dropna().astype(str).tolist(), label)
            out = runner.frame(
                f"SELECT {person} AS external_id, ts, message_id FROM ({tracks}) AS t "
                "WHERE event = :event "
                "AND ts >= CAST(:since AS TIMESTAMP WITH TIME ZONE) "
                "AND ts <= CAST(:until AS TIMESTAMP WITH TIME ZONE)",
                {"event": event, "since": since.isoformat(), "until": until.isoformat()},
            )
        finally:
            runner.close()
        out["ts"] = pd.to_datetime(out["ts"], utc=True)
    out = out[out["external_id"].notna() & out["ts"].notna()]
    out = out[(out["ts"] >= since) & (out["ts"] <= until)]
    dup = out["message_id"].notna() & out.duplicated("message_id")
    out = out[~dup].sort_values(["ts", "external_id"], kind="stable")
    out["external_id"] = out["external_id"].astype(str)
    return out[EVENT_COLUMNS].reset_index(drop=True)
