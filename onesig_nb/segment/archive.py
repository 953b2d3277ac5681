"""Segment archives (S3 ``.gz`` NDJSON, ``.jsonl``, captured ``/v1/batch`` bodies) parsed to Parquet.

A parse reads a set of files in runs (:class:`Parser`): gzip files are inflated by ISA-L (a
few times faster than the zlib inside DuckDB, and on the other core), then one DuckDB scan per
run reads them with an explicit schema of only the needed columns (``traits`` and
``properties`` typed JSON) and writes the rows straight to Parquet, one folder per file:
Engage audience messages keep their ids, times and value; identifies keep their traits; every
other message keeps only a marker so it can be counted. Those folders are what the archive
cache (:mod:`onesig_nb.segment.cache`) keeps (or, with ``cache=False``, a temporary folder
removed after the load), and :mod:`onesig_nb.segment.archive_set` queries them.

Lines DuckDB cannot read come back as all-NULL rows; only the files that have some are re-read
in Python to find the line numbers. A file that cannot be decompressed is skipped and reported
(or, if no file can be blamed, a :class:`SourceError` is raised).

A message without a readable ``timestamp`` is ordered (and compared with ``as_of``) by its
``receivedAt``, Segment's own fallback clock, rather than sorting before every dated message.
"""

from __future__ import annotations

import glob as globlib
import gzip
import hashlib
import logging
import shutil
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from onesig_nb.errors import SourceError
from onesig_nb.segment.cache import CacheEntry
from onesig_nb.segment.listing import ARCHIVE_SUFFIXES, ArchiveFile, is_archive_name
from onesig_nb.segment.membership import AUDIENCE_CLASSES_SQL, quote_literal

try:  # ISA-L: the same gzip format, inflated several times faster than zlib
    from isal import igzip as _igzip
    from isal.isal_zlib import error as _IsalError
except ImportError:  # pragma: no cover - a platform without an isal wheel
    _igzip, _IsalError = gzip, zlib.error

#: What inflating a damaged gzip file can raise (ISA-L's own error is not a zlib.error).
_INFLATE_ERRORS = (OSError, EOFError, ValueError, zlib.error, _IsalError)

__all__ = [
    "ARCHIVE_SUFFIXES",
    "ROW_COLUMNS",
    "ROW_TYPES",
    "Parsed",
    "Parser",
    "collect_archive_files",
    "inflate",
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
#: Decompressed bytes parsed per DuckDB statement (one run). A run's rows are written as
#: Parquet partitioned by file, a write that buffers its partitions until it ends, so this
#: bounds the parse's memory whatever the archive's size (64 MiB is about 75,000 messages).
RUN_BYTES = 64 << 20
#: Bytes per read while inflating (large enough that ISA-L, not Python, sets the pace).
INFLATE_CHUNK = 1 << 20

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
ROWS_LAYOUT = "rows-v3:" + ",".join(ROW_COLUMNS)


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


def _with_fid(select: str, fids: list[int]) -> str:
    """``select`` (with DuckDB's ``file_index`` column) as rows with each file's ``fid`` first.

    ``file_index`` is the file's position in this statement's list; ``fids`` maps it to the
    file's index in the whole parse (an integer lookup, far cheaper than keeping a path)."""
    fid = f"CAST([{', '.join(map(str, fids))}][CAST(file_index AS BIGINT) + 1] AS INTEGER)"
    return f"SELECT {fid} AS fid, {', '.join(ROW_COLUMNS)} FROM ({select})"


def _ndjson_scan(paths: list[str], fids: list[int]) -> str:
    scan = (
        f"read_json({_sql_list(paths)}, format='newline_delimited', "
        f"columns={_NDJSON_COLUMNS}, ignore_errors=true)"
    )
    cols = _message_columns(_NDJSON_GET, _NDJSON_PERSONAS)
    return _with_fid(f"SELECT {cols}, file_index FROM {scan}", fids)


def _batch_scan(paths: list[str], fids: list[int]) -> str:
    scan = f"read_json({_sql_list(paths)}, format='auto', columns={{'batch': 'JSON[]'}})"
    inner = f"SELECT unnest(batch) AS m, file_index FROM {scan}"
    cols = _message_columns(_BATCH_GET, _BATCH_PERSONAS)
    return _with_fid(f"SELECT {cols}, file_index FROM ({inner})", fids)


def _gzip_isize(path: Path) -> int:
    """A gzip file's decompressed size from its trailer (modulo 4 GiB, as gzip stores it)."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() < 18:
            return 0
        fh.seek(-4, 2)
        return int.from_bytes(fh.read(4), "little")


def inflate(path: Path, out: Path) -> str | None:
    """Decompress the gzip file ``path`` into ``out`` with ISA-L; None, or why the file is bad.

    A file that fails part-way is not used at all (like a truncated upload), so its
    half-written copy is removed. Failing to *write* the copy (a full disk) is not the file's
    fault: that raises :class:`SourceError` saying where the space ran out."""
    try:
        src = _igzip.open(path, "rb")
    except OSError as exc:
        return f"unreadable: {exc}"
    with src:
        try:
            with open(out, "wb") as dst:
                while True:
                    try:
                        chunk = src.read(INFLATE_CHUNK)
                    except _INFLATE_ERRORS as exc:
                        reason = f"corrupt gzip: {exc}"
                        break
                    if not chunk:
                        return None
                    dst.write(chunk)
        except OSError as exc:
            out.unlink(missing_ok=True)
            raise SourceError(
                f"Could not write the decompressed copy of {path.name} in {out.parent} "
                f"({exc}). Free some disk space there, or pass cache=<a folder on a larger disk>."
            ) from None
    out.unlink(missing_ok=True)
    return reason


@dataclass
class _Run:
    """Files parsed by one DuckDB statement: ``(fid, file, path DuckDB reads)`` each."""

    kind: str
    members: list[tuple[int, ArchiveFile, Path]]


def _plan_runs(kind: str, files: list[tuple[int, ArchiveFile]]) -> list[_Run]:
    """Consecutive files grouped into runs of about :data:`RUN_BYTES` of decompressed text."""
    runs: list[_Run] = []
    current: list[tuple[int, ArchiveFile, Path]] = []
    size = 0
    for fid, f in files:
        current.append((fid, f, f.local))
        gz = f.local.suffix.lower() == ".gz"
        size += _gzip_isize(f.local) if gz else f.local.stat().st_size
        if size >= RUN_BYTES:
            runs.append(_Run(kind, current))
            current, size = [], 0
    if current:
        runs.append(_Run(kind, current))
    return runs


@dataclass
class Parsed:
    """One parsed file: its cache entry and the folder of its Parquet rows (None when the
    file gave no rows at all)."""

    file: ArchiveFile
    entry: CacheEntry
    rows_dir: Path | None


class Parser:
    """Parses local archive files into Parquet, one folder per file (``<staging>/fid=<n>``).

    Files are parsed in runs of about :data:`RUN_BYTES`: gzip files are first inflated by
    ISA-L into a scratch folder (in a worker thread, one run ahead), then one DuckDB statement
    reads the run and writes its rows straight to Parquet, so nothing of the archive is held in
    memory beyond one run whatever its size. Every message keeps a row (irrelevant ones keep
    only ``type = ''``, unreadable lines are all NULL), so the Parquet also gives the counts.
    Files DuckDB cannot read are skipped with a reason; lines it cannot read are counted and
    located (file and line number) by re-reading only the files that have some.
    """

    def __init__(self, con: Any, staging: Callable[[], Path]):
        self.con = con
        self.staging = staging

    def parse(self, files: list[ArchiveFile]) -> list[Parsed]:
        skipped: dict[str, str] = {}
        groups: dict[str, list[tuple[int, ArchiveFile]]] = {"ndjson": [], "batch": []}
        for fid, f in enumerate(files):
            kind = _sniff(f.local)
            if kind.startswith("bad-gzip:"):
                skipped[f.name] = kind.split(":", 1)[1]
            else:
                groups[kind].append((fid, f))
        folder = self.staging()
        scratch = folder / "inflated"
        scratch.mkdir()
        runs = [r for kind, g in groups.items() for r in _plan_runs(kind, g)]
        kinds = {fid: kind for kind, g in groups.items() for fid, _ in g}
        try:
            self._parse_runs(runs, folder, scratch, skipped)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        stats = self._stats(folder)
        out = []
        for fid, f in enumerate(files):
            if f.name in skipped:
                log.warning("skipping %s: %s", f.name, skipped[f.name])
                entry = CacheEntry(f.size, f.stamp, status="skipped", reason=skipped[f.name])
                out.append(Parsed(f, entry, None))
                continue
            messages, malformed = stats.get(fid, (0, 0))
            entry = CacheEntry(
                f.size, f.stamp, kind=kinds[fid], messages=messages, malformed=malformed
            )
            if malformed:
                self._locate(f, entry)
            rows_dir = folder / f"fid={fid}"
            out.append(Parsed(f, entry, rows_dir if rows_dir.is_dir() else None))
        return out

    def _parse_runs(self, runs: list[_Run], folder: Path, scratch: Path, skipped) -> None:
        """Inflate run i+1 in a worker thread while DuckDB parses run i."""
        if not runs:
            return
        with ThreadPoolExecutor(1, thread_name_prefix="onesig-inflate") as pool:
            ahead = pool.submit(self._inflate_run, runs[0], scratch)
            for i in range(len(runs)):
                run, failed = ahead.result()
                if i + 1 < len(runs):
                    ahead = pool.submit(self._inflate_run, runs[i + 1], scratch)
                skipped.update(failed)
                self._copy_with_retries(run, folder, skipped)
                for _, f, path in run.members:
                    if path != f.local:
                        path.unlink(missing_ok=True)

    @staticmethod
    def _inflate_run(run: _Run, scratch: Path) -> tuple[_Run, dict[str, str]]:
        """The run with its gzip NDJSON files inflated, and the files that failed to inflate."""
        if run.kind != "ndjson":
            return run, {}
        members, failed = [], {}
        for fid, f, path in run.members:
            if path.suffix.lower() == ".gz":
                out = scratch / f"{fid}.jsonl"
                reason = inflate(path, out)
                if reason is not None:
                    failed[f.name] = reason
                    continue
                path = out
            members.append((fid, f, path))
        return _Run(run.kind, members), failed

    def _copy_with_retries(self, run: _Run, folder: Path, skipped: dict[str, str]) -> None:
        """Write ``run``'s rows; a file DuckDB fails on is skipped (reason kept), the rest
        retried. A failed statement's partial output is removed before the retry."""
        import duckdb

        members = list(run.members)
        make_sql = _ndjson_scan if run.kind == "ndjson" else _batch_scan
        for _ in range(MAX_RETRIES):
            if not members:
                return
            select = make_sql([str(p) for _, _, p in members], [fid for fid, _, _ in members])
            try:
                self._copy(select, folder, [fid for fid, _, _ in members])
                return
            except duckdb.Error as exc:
                for fid, _, _ in members:
                    shutil.rmtree(folder / f"fid={fid}", ignore_errors=True)
                culprits = _blame(members, str(exc))
                if not culprits:
                    raise SourceError(
                        f"DuckDB could not read the archive files ({exc}). Check that every "
                        "file is gzipped NDJSON or a /v1/batch JSON body."
                    ) from None
                for member, reason in culprits:
                    skipped[member[1].name] = reason
                    members.remove(member)
        raise SourceError("Too many unreadable archive files; see the load report.")

    def _copy(self, select: str, folder: Path, fids: list[int]) -> None:
        """One statement: ``select``'s rows to ``<folder>/fid=<n>/``. A single file is
        streamed to its own Parquet file; several use one partitioned write, which buffers
        its partitions until it ends (hence runs of bounded size)."""
        if len(fids) == 1:
            target = folder / f"fid={fids[0]}"
            target.mkdir()
            cols = ", ".join(ROW_COLUMNS)
            self.con.execute(
                f"COPY (SELECT {cols} FROM ({select})) TO "
                f"{quote_literal(str(target / 'data_0.parquet'))} (FORMAT PARQUET)"
            )
            return
        self.con.execute(
            f"COPY ({select}) TO {quote_literal(str(folder))} "
            "(FORMAT PARQUET, PARTITION_BY (fid), OVERWRITE_OR_IGNORE)"
        )

    def _stats(self, folder: Path) -> dict[int, tuple[int, int]]:
        """Per file index: (messages, unreadable lines)."""
        if not any(folder.glob("fid=*/*.parquet")):
            return {}
        files = quote_literal(str(folder / "fid=*" / "*.parquet"))
        rows = self.con.execute(
            "SELECT fid, count(*) FILTER (WHERE type IS NOT NULL), "
            "count(*) FILTER (WHERE type IS NULL) "
            f"FROM read_parquet({files}, hive_partitioning = true) GROUP BY fid"
        ).fetchall()
        return {int(fid): (int(m), int(bad)) for fid, m, bad in rows}

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


def _blame(members: list[tuple[int, ArchiveFile, Path]], message: str):
    """The run members DuckDB's error names (or batch bodies that are not JSON), each with a
    reason. DuckDB never reads a gzip file: those were inflated (or skipped) before."""
    named = [m for m in members if str(m[2]) in message]
    if named:
        m = named[0]
        return [(m, message.split("\n", 1)[0].replace(str(m[2]), m[1].name))]
    blamed = []
    for m in members:
        path = m[2]
        if path.suffix.lower() == ".json":
            try:
                orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError as exc:
                blamed.append((m, f"not valid JSON: {exc}"))
    return blamed


def _malformed_lines(path: Path):
    """Yield (line number, reason) for lines that are not a JSON object with a ``type``."""
    opener = _igzip.open if path.suffix.lower() == ".gz" else open
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
