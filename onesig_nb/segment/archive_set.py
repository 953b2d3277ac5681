"""An archive source opened for queries: list it, parse only what the cache lacks, read it all.

:meth:`ArchiveSet.load` lists the source (a local folder, glob or file, or an ``s3://`` prefix),
asks the archive cache (:mod:`onesig_nb.segment.cache`) which files it already holds, fetches
(S3) and parses (:class:`~onesig_nb.segment.archive.Parser`) the others into the cache's
Parquet folders, and opens a DuckDB connection whose view ``raw`` reads every file's rows from
there and whose view ``audience_events`` is the relation :mod:`onesig_nb.segment.membership`
expects. With ``cache=False`` the cache is a temporary folder: the same path, forgotten after.
The :class:`LoadReport` gets the counts of every file, cached or not, and says what came from
the cache.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onesig_nb.errors import SourceError
from onesig_nb.segment.archive import (
    ROW_COLUMNS,
    ROW_TYPES,
    Parser,
    collect_archive_files,
    open_duckdb,
    parser_digest,
)
from onesig_nb.segment.cache import ArchiveCache
from onesig_nb.segment.listing import ArchiveFile, list_local, source_label
from onesig_nb.segment.membership import AUDIENCE_CLASSES_SQL, DuckDBRunner, quote_literal
from onesig_nb.segment.report import LoadReport, Skipped
from onesig_nb.segment.s3 import S3Store, endpoint_url, is_s3_url

__all__ = ["ArchiveSet"]

log = logging.getLogger("onesig_nb.segment")

#: The columns of ``raw``, each cast to its type (Parquet and the parse table agree on them).
_RAW_COLUMNS = ", ".join(
    f"CAST({c} AS {t}) AS {c}" for c, t in zip(ROW_COLUMNS, ROW_TYPES, strict=True)
)


def _list(source: Any, cache_root: Path | None) -> tuple[list[ArchiveFile], S3Store | None]:
    if is_s3_url(source):
        store = S3Store(source)
        return store.list(), store
    files = list_local(collect_archive_files(source))
    if cache_root is not None:  # a cache folder inside the archive folder is not archive data
        files = [f for f in files if not f.local.resolve().is_relative_to(cache_root)]
    return files, None


@dataclass
class ArchiveSet:
    """The files of one archive source, parsed (or taken from the cache) and open in DuckDB."""

    files: list[ArchiveFile]
    con: Any = None
    cache: ArchiveCache | None = None
    from_cache: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, source: Any, report: LoadReport, *, cache: Any = True) -> ArchiveSet:
        """Open ``source``; ``cache`` is True (default folder), False (none) or a folder."""
        label = source_label(source)
        scope = (endpoint_url() or "aws") if is_s3_url(source) else ""
        arch_cache = ArchiveCache.open(label, cache=cache, parser=parser_digest(), scope=scope)
        self = cls(files=[], con=open_duckdb(), cache=arch_cache)
        try:
            root = arch_cache.root.resolve() if arch_cache.root is not None else None
            self.files, store = _list(source, root)
            self._refresh(store, report)
            self._open_views()
            self._fill(report)
        except BaseException:
            self.close()
            raise
        return self

    @property
    def runner(self) -> DuckDBRunner:
        return DuckDBRunner(self.con)

    def close(self) -> None:
        """Close the connection and remove temporary files (the cache itself stays)."""
        if self.con is not None:
            self.con.close()
            self.con = None
        if self.cache is not None:
            self.cache.close()

    # ------------------------------------------------------------------ steps
    def _refresh(self, store: S3Store | None, report: LoadReport) -> None:
        cache = self.cache
        hits, misses = cache.lookup(self.files)
        changed = sum(1 for f in misses if f.name in cache.entries)
        gone = cache.drop_missing({f.name for f in self.files})
        self.from_cache = [f.name for f in hits]
        if misses:
            local = store.fetch(misses, cache.staging()) if store else misses
            for parsed in Parser(self.con, cache.staging).parse(local):
                original = parsed.file
                cache.put(
                    ArchiveFile(original.name, original.size, original.stamp),
                    parsed.entry,
                    parsed.rows_dir,
                )
        cache.save()
        if cache.persistent:
            report.add("files_from_cache", len(hits))
            report.add("files_parsed", len(misses))
            if changed:
                report.add("files_changed", changed)
            if gone:
                report.add("files_gone", len(gone))
            report.notes.append(
                f"archive cache: {len(hits):,} of {len(self.files):,} files taken from the cache"
                f" in {cache.folder}; {len(misses):,} parsed now"
                + (f" ({changed:,} changed since the last load)" if changed else "")
                + (f"; {len(gone):,} no longer in the source, dropped" if gone else "")
            )
        else:
            report.notes.append("archive cache off (cache=False): every file parsed")

    def _open_views(self) -> None:
        globs = [self.cache.parquet_glob(f.name) for f in self.files]
        globs = [g for g in globs if g]
        if globs:
            paths = "[" + ", ".join(quote_literal(g) for g in globs) + "]"
            self.con.execute(
                f"CREATE TEMP VIEW raw AS SELECT {_RAW_COLUMNS} "
                f"FROM read_parquet({paths}, hive_partitioning = false) WHERE type <> ''"
            )
        else:
            cols = ", ".join(f"{c} {t}" for c, t in zip(ROW_COLUMNS, ROW_TYPES, strict=True))
            self.con.execute(f"CREATE TEMP TABLE raw ({cols})")
        self.con.execute(
            f"""CREATE TEMP VIEW audience_events AS
            SELECT message_id, user_id, anonymous_id, ts, received_at,
                   ckey AS computation_key,
                   CASE val WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END AS value
            FROM raw WHERE cclass IN ({AUDIENCE_CLASSES_SQL}) AND ckey IS NOT NULL AND ckey <> ''"""
        )

    def _fill(self, report: LoadReport) -> None:
        entries = [(f.name, self.cache.entries[f.name]) for f in self.files]
        for name, e in entries:
            if e.status == "skipped":
                report.add("skipped_files", 1)
                report.skip(Skipped("file", name, None, e.reason))
        ok = [(name, e) for name, e in entries if e.status == "ok"]
        report.add("files_read", len(ok))
        report.add("messages_read", sum(e.messages for _, e in ok))
        report.add("malformed_lines", sum(e.malformed for _, e in ok))
        for name, e in ok:
            for line, reason in e.located:
                report.skip(Skipped("malformed_line", name, line, reason))
            if e.note:
                report.notes.append(e.note)
        if not ok:
            raise SourceError(
                "None of the archive files could be read: "
                + "; ".join(f"{f}: {r}" for f, r in report.skipped_files[:5])
            )
