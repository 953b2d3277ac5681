"""Segment archives (S3 ``.gz`` NDJSON, ``.jsonl``, captured ``/v1/batch`` bodies) parsed by DuckDB.

One scan reads a set of files with an explicit schema of only the needed columns (``traits``
and ``properties`` typed JSON) into a temporary table: Engage audience messages keep their ids,
times and value; identifies keep their traits; every other message keeps only a marker so it
can be counted. With a persistent archive cache (:mod:`onesig_nb.segment.cache`) the kept rows
are then written from that table as one Parquet folder per file, so a later load reads them
back instead of parsing again; :mod:`onesig_nb.segment.archive_set` queries both.

Lines DuckDB cannot read come back as all-NULL rows; only the files that have some are re-read
in Python to find the line numbers. A file DuckDB cannot decompress is skipped and reported (or,
if no file can be blamed, a :class:`SourceError` is raised).

A message without a readable ``timestamp`` is ordered (and compared with ``as_of``) by its
``receivedAt``, Segment's own fallback clock, rather than sorting before every dated message.
"""

from __future__ import annotations

import glob as globlib
import gzip
import hashlib
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from onesig_nb.errors import SourceError
from onesig_nb.segment.cache import CacheEntry
from onesig_nb.segment.listing import ARCHIVE_SUFFIXES, ArchiveFile, is_archive_name
from onesig_nb.segment.membership import AUDIENCE_CLASSES_SQL, quote_literal

__all__ = [
    "ARCHIVE_SUFFIXES",
    "PARSED_TABLE",
    "ROW_COLUMNS",
    "ROW_TYPES",
    "Parsed",
    "Parser",
    "collect_archive_files",
    "is_glob",
    "open_duckdb",
    "parser_digest",
]

log = logging.getLogger("onesig_nb.segment")

DUCKDB_THREADS = 2
#: Bytes read to tell a batch body from NDJSON.
SNIFF_BYTES = 65_536
#: Files read one by one to find the culprit after DuckDB failed on the whole set.
MAX_RETRIES = 20
#: Rows written to the cache's Parquet per COPY: DuckDB's default Parquet row group size
#: (``ROW_GROUP_SIZE`` 122,880), so memory stays bounded by one row group's worth per write.
COPY_BATCH_ROWS = 122_880

# Column schema for NDJSON messages: only what membership and traits need.
_NDJSON_COLUMNS = (
    "{'type': 'VARCHAR', 'messageId': 'VARCHAR', 'userId': 'VARCHAR', "
    "'anonymousId': 'VARCHAR', 'timestamp': 'VARCHAR', 'receivedAt': 'VARCHAR', "
    "'traits': 'JSON', 'properties': 'JSON', "
    "'context': 'STRUCT(personas STRUCT(computation_class VARCHAR, computation_key VARCHAR))'}"
)


#: The columns of a parsed message row, in order (what the cache's Parquet folders hold).
ROW_COLUMNS = (
    "type", "message_id", "user_id", "anonymous_id", "ts", "received_at", "cclass", "ckey", "val",
    "traits",
)  # fmt: skip
#: Their DuckDB types, in the same order.
ROW_TYPES = (
    "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMPTZ", "TIMESTAMPTZ", "VARCHAR", "VARCHAR",
    "VARCHAR", "JSON",
)  # fmt: skip
#: Names the layout of the rows below; part of :func:`parser_digest`.
ROWS_LAYOUT = "rows-v2:" + ",".join(ROW_COLUMNS)
#: The temporary table a parse fills: ``fid`` (the file's index in the parse) + ROW_COLUMNS.
#: A message that is neither an identify nor an audience message keeps only ``type = ''`` (it
#: is counted, nothing more); an unreadable line has ``type`` NULL.
PARSED_TABLE = "parsed"
#: The temporary table mapping each parsed file's path (as DuckDB reports it) to its ``fid``.
_FILES_TABLE = "parsed_files"


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
    files = sorted(p for p in found if is_archive_name(str(p)))
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


def parser_digest() -> str:
    """A digest of everything that decides what a parsed file's rows hold (the cache key's
    ``parser`` part: changing the parsing code invalidates cached files)."""
    text = "\0".join(
        (
            ROWS_LAYOUT,
            _NDJSON_COLUMNS,
            _message_columns(_NDJSON_GET, _NDJSON_PERSONAS),
            _message_columns(_BATCH_GET, _BATCH_PERSONAS),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fid_runs(stats: dict[int, tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Consecutive file indexes grouped into runs of about :data:`COPY_BATCH_ROWS` kept rows."""
    runs: list[tuple[int, int]] = []
    start, rows = None, 0
    for fid in sorted(f for f, (_, _, kept) in stats.items() if kept):
        if start is None:
            start, rows = fid, 0
        rows += stats[fid][2]
        if rows >= COPY_BATCH_ROWS:
            runs.append((start, fid))
            start = None
    if start is not None:
        runs.append((start, max(stats)))
    return runs


def _with_fid(select: str) -> str:
    """``select`` (which has a ``filename`` column) as parsed rows: each file's ``fid`` first.

    A hash join on the few file names costs far less than keeping a path on every row."""
    return (
        f"SELECT f.fid, {', '.join('s.' + c for c in ROW_COLUMNS)} "
        f"FROM ({select}) AS s JOIN {_FILES_TABLE} AS f USING (filename)"
    )


def _ndjson_scan(paths: list[str]) -> str:
    scan = (
        f"read_json({_sql_list(paths)}, format='newline_delimited', "
        f"columns={_NDJSON_COLUMNS}, ignore_errors=true, filename=true)"
    )
    return _with_fid(
        f"SELECT {_message_columns(_NDJSON_GET, _NDJSON_PERSONAS)}, filename FROM {scan}"
    )


def _batch_scan(paths: list[str]) -> str:
    scan = f"read_json({_sql_list(paths)}, format='auto', columns={{'batch': 'JSON[]'}}, filename=true)"
    inner = f"SELECT unnest(batch) AS m, filename FROM {scan}"
    return _with_fid(
        f"SELECT {_message_columns(_BATCH_GET, _BATCH_PERSONAS)}, filename FROM ({inner})"
    )


@dataclass
class Parsed:
    """One parsed file: its cache entry and the folder of its Parquet rows (None: none written,
    either because it has no rows worth keeping or because the parse keeps no Parquet)."""

    file: ArchiveFile
    entry: CacheEntry
    rows_dir: Path | None


class Parser:
    """Parses local archive files in one DuckDB scan per kind into the table ``parsed``.

    With ``staging`` (a persistent cache), the rows worth keeping are then written from that
    table as one Parquet folder per file (:meth:`write_parquet`), without reading the archive
    again; without it nothing is written. Files DuckDB cannot read are skipped with a
    reason; lines it cannot read are counted and located (file and line number) by re-reading
    only the files that have some.
    """

    def __init__(self, con: Any, staging: Callable[[], Path] | None = None):
        self.con = con
        self.staging = staging

    def parse(self, files: list[ArchiveFile]) -> list[Parsed]:
        skipped: dict[str, str] = {}
        groups: dict[str, list[ArchiveFile]] = {"ndjson": [], "batch": []}
        for f in files:
            kind = _sniff(f.local)
            if kind.startswith("bad-gzip:"):
                skipped[f.name] = kind.split(":", 1)[1]
            else:
                groups[kind].append(f)
        self._create_tables(files)
        for kind, make in (("ndjson", _ndjson_scan), ("batch", _batch_scan)):
            groups[kind] = self._insert_with_retries(groups[kind], make, skipped)
        stats = self._stats()
        folder = self.write_parquet(stats) if self.staging is not None and stats else None
        batch = set(groups["batch"])
        out = []
        for fid, f in enumerate(files):
            if f.name in skipped:
                log.warning("skipping %s: %s", f.name, skipped[f.name])
                entry = CacheEntry(f.size, f.stamp, status="skipped", reason=skipped[f.name])
                out.append(Parsed(f, entry, None))
                continue
            kind = "batch" if f in batch else "ndjson"
            messages, malformed, kept = stats.get(fid, (0, 0, 0))
            entry = CacheEntry(f.size, f.stamp, kind=kind, messages=messages, malformed=malformed)
            if malformed:
                self._locate(f, entry)
            rows_dir = folder / f"fid={fid}" if folder is not None and kept else None
            out.append(Parsed(f, entry, rows_dir))
        return out

    def _create_tables(self, files: list[ArchiveFile]) -> None:
        cols = ", ".join(f"{c} {t}" for c, t in zip(ROW_COLUMNS, ROW_TYPES, strict=True))
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {PARSED_TABLE} (fid INTEGER, {cols})")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_FILES_TABLE} AS SELECT "
            "CAST(generate_subscripts($names, 1) - 1 AS INTEGER) AS fid, unnest($names) AS filename",
            {"names": [str(f.local) for f in files]},
        )

    def _insert_with_retries(self, files, make_sql, skipped):
        """Insert ``files``' rows; a file DuckDB fails on is skipped (reason kept), the rest retried.

        A failed INSERT leaves the table as it was (one statement, one transaction)."""
        import duckdb

        files = list(files)
        for _ in range(MAX_RETRIES):
            if not files:
                return files
            try:
                self.con.execute(
                    f"INSERT INTO {PARSED_TABLE} {make_sql([str(f.local) for f in files])}"
                )
                return files
            except duckdb.Error as exc:
                culprits = _blame(files, str(exc))
                if not culprits:
                    raise SourceError(
                        f"DuckDB could not read the archive files ({exc}). Check that every "
                        "file is gzipped NDJSON or a /v1/batch JSON body."
                    ) from None
                for f, reason in culprits:
                    skipped[f.name] = reason
                    files.remove(f)
        raise SourceError("Too many unreadable archive files; see the load report.")

    def _stats(self) -> dict[int, tuple[int, int, int]]:
        """Per file index: (messages, unreadable lines, rows worth keeping)."""
        rows = self.con.execute(
            "SELECT fid, count(*) FILTER (WHERE type IS NOT NULL), "
            "count(*) FILTER (WHERE type IS NULL), count(*) FILTER (WHERE type <> '') "
            f"FROM {PARSED_TABLE} GROUP BY fid"
        ).fetchall()
        return {int(fid): (int(m), int(bad), int(kept)) for fid, m, bad, kept in rows}

    def write_parquet(self, stats: dict[int, tuple[int, int, int]]) -> Path:
        """Write the kept rows of ``parsed`` as ``<staging>/fid=<n>/*.parquet``, one per file.

        One ``COPY ... PARTITION_BY`` per run of files holding about :data:`COPY_BATCH_ROWS`
        rows: a partitioned write buffers every partition until it ends, so one COPY of the
        whole table would hold a second copy of it in memory (+225 MB at 1M messages)."""
        folder = self.staging()
        target = quote_literal(str(folder))
        select = f"SELECT fid, {', '.join(ROW_COLUMNS)} FROM {PARSED_TABLE} WHERE type <> ''"
        for lo, hi in _fid_runs(stats):
            self.con.execute(
                f"COPY ({select} AND fid BETWEEN {lo} AND {hi}) TO {target} "
                "(FORMAT PARQUET, PARTITION_BY (fid), OVERWRITE_OR_IGNORE)"
            )
        return folder

    @staticmethod
    def _locate(f: ArchiveFile, entry: CacheEntry) -> None:
        if entry.kind == "batch":
            entry.located = [[None, "batch item without a type"]] * min(entry.malformed, 100)
            return
        entry.located = [[line, reason] for line, reason in _malformed_lines(f.local)]
        if len(entry.located) != entry.malformed:
            entry.note = (
                f"{f.name}: {entry.malformed} unreadable lines, {len(entry.located)} "
                "located by line number"
            )


def _blame(files: list[ArchiveFile], message: str) -> list[tuple[ArchiveFile, str]]:
    named = [f for f in files if str(f.local) in message]
    if named:
        return [(named[0], message.split("\n", 1)[0].replace(str(named[0].local), named[0].name))]
    blamed = []
    for f in files:
        if f.local.suffix.lower() == ".gz":
            reason = _gzip_ok(f.local)
            if reason:
                blamed.append((f, reason))
        elif f.local.suffix.lower() == ".json":
            try:
                orjson.loads(f.local.read_bytes())
            except orjson.JSONDecodeError as exc:
                blamed.append((f, f"not valid JSON: {exc}"))
    return blamed


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
