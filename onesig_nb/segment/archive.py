"""Segment archives (S3 ``.gz`` NDJSON, ``.jsonl``, captured ``/v1/batch`` bodies) read by DuckDB.

One scan reads every file with an explicit schema of only the needed columns (``traits`` and
``properties`` typed JSON) into a temporary table ``raw``: Engage audience messages keep their
ids, times and value; identifies keep their traits; every other message keeps only a marker so
the report can count it. Lines DuckDB cannot read come back as all-NULL rows; only the files
that have some are re-read in Python to find the line numbers. A file DuckDB cannot decompress
is skipped and reported (or, if no file can be blamed, a :class:`SourceError` is raised).

A message without a readable ``timestamp`` is ordered (and compared with ``as_of``) by its
``receivedAt``, Segment's own fallback clock, rather than sorting before every dated message.
"""

from __future__ import annotations

import glob as globlib
import gzip
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from onesig_nb.errors import SourceError
from onesig_nb.segment.membership import AUDIENCE_CLASSES_SQL, DuckDBRunner, quote_literal
from onesig_nb.segment.report import LoadReport, Skipped

__all__ = ["ARCHIVE_SUFFIXES", "ArchiveSet", "collect_archive_files", "is_glob", "open_duckdb"]

log = logging.getLogger("onesig_nb.segment")

ARCHIVE_SUFFIXES = (".gz", ".jsonl", ".ndjson", ".json")
DUCKDB_THREADS = 2
#: Bytes read to tell a batch body from NDJSON.
SNIFF_BYTES = 65_536
#: Files read one by one to find the culprit after DuckDB failed on the whole set.
MAX_RETRIES = 20

# Column schema for NDJSON messages: only what membership and traits need.
_NDJSON_COLUMNS = (
    "{'type': 'VARCHAR', 'messageId': 'VARCHAR', 'userId': 'VARCHAR', "
    "'anonymousId': 'VARCHAR', 'timestamp': 'VARCHAR', 'receivedAt': 'VARCHAR', "
    "'traits': 'JSON', 'properties': 'JSON', "
    "'context': 'STRUCT(personas STRUCT(computation_class VARCHAR, computation_key VARCHAR))'}"
)


def open_duckdb(database: str = ":memory:", *, read_only: bool = False) -> Any:
    """A DuckDB connection set up the way every reader here expects (2 threads, UTC)."""
    import duckdb

    con = duckdb.connect(database, read_only=read_only)
    con.execute(f"SET threads = {DUCKDB_THREADS}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    return con


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join(quote_literal(s) for s in items) + "]"


def is_glob(text: str) -> bool:
    """Whether a source path is a glob pattern (``*``, ``?`` or ``[``), as :mod:`glob` reads it."""
    return any(ch in text for ch in "*?[")


def collect_archive_files(source: str | Path) -> list[Path]:
    """Files of an archive source: a folder (searched recursively), a glob or one file."""
    text = str(source)
    if is_glob(text):
        found = [Path(p) for p in globlib.glob(text, recursive=True)]
    else:
        path = Path(text)
        if not path.exists():
            raise SourceError(f"No such file or folder: {text} (working directory {Path.cwd()}).")
        if path.is_file():
            return [path]  # one file named explicitly: read it whatever its suffix
        found = [p for p in path.rglob("*") if p.is_file()]
    files = sorted(
        p for p in found if p.suffix.lower() in ARCHIVE_SUFFIXES and p.name != "manifest.json"
    )
    if not files:
        raise SourceError(
            f"No Segment archive files in {text}: expected .gz NDJSON (the S3 layout "
            "segment-logs/<source>/<day>/*.gz), .jsonl/.ndjson, or /v1/batch .json bodies."
        )
    return files


def _sniff(path: Path) -> str:
    """'ndjson', 'batch' or 'bad-gzip:<reason>' for one file."""
    if path.suffix.lower() == ".gz":
        with open(path, "rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                return "bad-gzip:not a gzip file"
        return "ndjson"
    if path.suffix.lower() != ".json":
        return "ndjson"
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    first = head.lstrip().split(b"\n", 1)[0]
    try:
        doc = orjson.loads(first)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and "batch" not in doc:
        return "ndjson"
    if doc is None:  # a pretty-printed document: small by nature, parse it whole
        try:
            doc = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            return "ndjson"  # let the line reader count its lines as malformed
    if isinstance(doc, dict) and isinstance(doc.get("batch"), list):
        return "batch"
    return "ndjson"


def _gzip_ok(path: Path) -> str | None:
    """None when the gzip file decompresses to its end, else the reason."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return f"corrupt gzip: {exc}"
    return None


def _message_columns(get: dict[str, str], personas: tuple[str, str]) -> str:
    """SELECT list turning a message (accessors in ``get``) into a ``raw`` row."""
    cls, key = personas
    path = key  # a path without "$" is one literal key in DuckDB (dots and quotes included)
    val_json = (
        f"CASE {get['type']} WHEN 'identify' THEN json_extract({get['traits']}, {path}) "
        f"WHEN 'track' THEN json_extract({get['properties']}, {path}) END"
    )
    relevant = f"({get['type']} = 'identify' OR {cls} IN ({AUDIENCE_CLASSES_SQL}))"
    keep = f"CASE WHEN {relevant} THEN"
    return f"""
        CASE WHEN {get["type"]} IS NULL THEN filename END AS filename,
        CASE WHEN {relevant} THEN {get["type"]} WHEN {get["type"]} IS NULL THEN NULL ELSE '' END
            AS type,
        {keep} {get["messageId"]} END AS message_id,
        {keep} {get["userId"]} END AS user_id,
        {keep} {get["anonymousId"]} END AS anonymous_id,
        {keep} COALESCE(try_cast({get["timestamp"]} AS TIMESTAMPTZ),
                        try_cast({get["receivedAt"]} AS TIMESTAMPTZ)) END AS ts,
        {keep} try_cast({get["receivedAt"]} AS TIMESTAMPTZ) END AS received_at,
        {keep} {cls} END AS cclass,
        {keep} {key} END AS ckey,
        CASE WHEN {cls} IN ({AUDIENCE_CLASSES_SQL}) THEN (
            CASE CAST({val_json} AS VARCHAR)
                WHEN 'true' THEN 'true' WHEN '"true"' THEN 'true'
                WHEN 'false' THEN 'false' WHEN '"false"' THEN 'false' ELSE '?' END
        ) END AS val,
        CASE WHEN {get["type"]} = 'identify' THEN {get["traits"]} END AS traits"""


_NDJSON_GET = {
    k: k for k in ("type", "messageId", "userId", "anonymousId", "timestamp", "receivedAt")
} | {"traits": "traits", "properties": "properties"}
_NDJSON_PERSONAS = ("context.personas.computation_class", "context.personas.computation_key")
_BATCH_GET = {
    k: f"(m->>'{k}')"
    for k in ("type", "messageId", "userId", "anonymousId", "timestamp", "receivedAt")
} | {"traits": "(m->'traits')", "properties": "(m->'properties')"}
_BATCH_PERSONAS = (
    "(m->'context'->'personas'->>'computation_class')",
    "(m->'context'->'personas'->>'computation_key')",
)


@dataclass
class ArchiveSet:
    """A set of archive files loaded into a DuckDB connection as the tables ``raw`` and the
    view ``audience_events`` (the relation :mod:`onesig_nb.segment.membership` expects)."""

    files: list[Path]
    con: Any = None

    @classmethod
    def load(cls, source: str | Path, report: LoadReport) -> ArchiveSet:
        files = collect_archive_files(source)
        self = cls(files=files, con=open_duckdb())
        self._load(report)
        return self

    @property
    def runner(self) -> DuckDBRunner:
        return DuckDBRunner(self.con)

    def _load(self, report: LoadReport) -> None:
        ndjson: list[Path] = []
        batch: list[Path] = []
        for path in self.files:
            kind = _sniff(path)
            if kind.startswith("bad-gzip:"):
                self._skip_file(report, path, kind.split(":", 1)[1])
            elif kind == "batch":
                batch.append(path)
            else:
                ndjson.append(path)
        self.con.execute(
            "CREATE TEMP TABLE raw (filename VARCHAR, type VARCHAR, message_id VARCHAR, "
            "user_id VARCHAR, anonymous_id VARCHAR, ts TIMESTAMPTZ, received_at TIMESTAMPTZ, "
            "cclass VARCHAR, ckey VARCHAR, val VARCHAR, traits JSON)"
        )
        ndjson = self._insert_with_retries(ndjson, self._ndjson_sql, report)
        batch = self._insert_with_retries(batch, self._batch_sql, report)
        self._batch_files = {str(p) for p in batch}
        report.add("files_read", len(ndjson) + len(batch))
        if not ndjson and not batch:
            raise SourceError(
                "None of the archive files could be read: "
                + "; ".join(f"{f}: {r}" for f, r in report.skipped_files[:5])
            )
        self.con.execute(
            f"""CREATE TEMP VIEW audience_events AS
            SELECT message_id, user_id, anonymous_id, ts, received_at,
                   ckey AS computation_key,
                   CASE val WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END AS value
            FROM raw WHERE cclass IN ({AUDIENCE_CLASSES_SQL}) AND ckey IS NOT NULL AND ckey <> ''"""
        )
        counts = self.con.execute(
            "SELECT count(*) FILTER (WHERE type IS NOT NULL), count(*) FILTER (WHERE type IS NULL)"
            " FROM raw"
        ).fetchall()[0]
        report.add("messages_read", counts[0])
        report.add("malformed_lines", counts[1])
        if counts[1]:
            self._locate_malformed(report)

    def _ndjson_sql(self, files: list[Path]) -> str:
        scan = (
            f"read_json({_sql_list([str(f) for f in files])}, format='newline_delimited', "
            f"columns={_NDJSON_COLUMNS}, ignore_errors=true, filename=true)"
        )
        return f"SELECT {_message_columns(_NDJSON_GET, _NDJSON_PERSONAS)} FROM {scan}"

    def _batch_sql(self, files: list[Path]) -> str:
        scan = (
            f"read_json({_sql_list([str(f) for f in files])}, format='auto', "
            "columns={'batch': 'JSON[]'}, filename=true)"
        )
        inner = f"SELECT unnest(batch) AS m, filename FROM {scan}"
        return f"SELECT {_message_columns(_BATCH_GET, _BATCH_PERSONAS)} FROM ({inner})"

    def _insert_with_retries(self, files: list[Path], make_sql, report: LoadReport) -> list[Path]:
        """Insert ``files``; when DuckDB fails on one, skip it (reported) and try the rest."""
        import duckdb

        files = list(files)
        for _ in range(MAX_RETRIES):
            if not files:
                return files
            try:
                self.con.execute(f"INSERT INTO raw {make_sql(files)}")
                return files
            except duckdb.Error as exc:
                culprits = self._blame(files, str(exc))
                if not culprits:
                    raise SourceError(
                        f"DuckDB could not read the archive files ({exc}). Check that every "
                        "file is gzipped NDJSON or a /v1/batch JSON body."
                    ) from None
                for path, reason in culprits:
                    self._skip_file(report, path, reason)
                    files.remove(path)
        raise SourceError("Too many unreadable archive files; see the load report.")

    @staticmethod
    def _blame(files: list[Path], message: str) -> list[tuple[Path, str]]:
        named = [p for p in files if str(p) in message]
        if named:
            return [(named[0], message.split("\n", 1)[0])]
        blamed = []
        for path in files:
            if path.suffix.lower() == ".gz":
                reason = _gzip_ok(path)
                if reason:
                    blamed.append((path, reason))
            elif path.suffix.lower() == ".json":
                try:
                    orjson.loads(path.read_bytes())
                except orjson.JSONDecodeError as exc:
                    blamed.append((path, f"not valid JSON: {exc}"))
        return blamed

    @staticmethod
    def _skip_file(report: LoadReport, path: Path, reason: str) -> None:
        log.warning("skipping %s: %s", path, reason)
        report.add("skipped_files", 1)
        report.skip(Skipped("file", str(path), None, reason))

    def _locate_malformed(self, report: LoadReport) -> None:
        """Find file and line of every line DuckDB could not read (only in files that have some)."""
        per_file = self.con.sql(
            "SELECT filename, count(*) FROM raw WHERE type IS NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
        for filename, expected in per_file:
            if filename in self._batch_files:
                for _ in range(min(expected, 100)):
                    report.skip(
                        Skipped("malformed_line", filename, None, "batch item without a type")
                    )
                continue
            found = list(_malformed_lines(Path(filename)))
            for line, reason in found:
                report.skip(Skipped("malformed_line", filename, line, reason))
            if len(found) != expected:
                report.notes.append(
                    f"{filename}: {expected} unreadable lines, {len(found)} located by line number"
                )


def _malformed_lines(path: Path):
    """Yield (line number, reason) for lines that are not a JSON object with a ``type``."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, f"not JSON: {str(exc)[:80]}"
                continue
            if not isinstance(doc, dict):
                yield number, "not a JSON object"
            elif doc.get("type") is None:
                yield number, "message without a type"
