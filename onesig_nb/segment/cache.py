"""The archive cache: parsed archive files kept as Parquet, so a reload parses only what changed.

Segment archives grow by a folder a day and old files never change, yet every load used to
decompress and parse the whole history. Here each archive file, once parsed, is kept as one
Parquet folder holding the rows :mod:`onesig_nb.segment.archive` extracts from it (audience
messages and identifies; only counts of everything else). An ``index.json`` per source maps
each file to its entry, keyed by the file's name, size and stamp (modification time for local
files, ETag for S3 objects) and by a digest of the parser itself, so:

- a new file, or one whose size or stamp changed, is parsed (and its old entry removed);
- a file no longer in the source is dropped from the cache, so its messages stop counting;
- a change to the parsing code invalidates every entry.

Where: ``cache=True`` uses ``$ONESIG_NB_CACHE_DIR``, else ``$XDG_CACHE_HOME/onesig_nb``, else
``~/.cache/onesig_nb``; ``cache=<folder>`` puts it there (e.g. inside a workspace);
``cache=False`` uses a temporary folder the same way (a parse always goes through Parquet, so
its memory stays bounded whatever the archive's size) and removes it, S3 downloads included,
after the load. One sub-folder per source (named by a digest of the source's absolute path or
URL, and the S3 endpoint).

Concurrent loads of one source are safe: entries are named after their content key and moved
into place atomically; at worst one load's index update is lost and a file is parsed again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from onesig_nb.errors import ValidationError
from onesig_nb.segment.listing import ArchiveFile

__all__ = ["CACHE_ENV", "ArchiveCache", "CacheEntry", "default_cache_root"]

log = logging.getLogger("onesig_nb.segment")

CACHE_ENV = "ONESIG_NB_CACHE_DIR"
INDEX_NAME = "index.json"
#: Bumped when the index layout changes (the parser digest covers the Parquet contents).
INDEX_FORMAT = 1


def default_cache_root() -> Path:
    """``$ONESIG_NB_CACHE_DIR``, else ``$XDG_CACHE_HOME/onesig_nb``, else ``~/.cache/onesig_nb``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "onesig_nb"


@dataclass
class CacheEntry:
    """What one parsed archive file gave: its counts, where its rows are, what was skipped."""

    size: int
    stamp: str
    entry: str = ""
    #: "ok" (rows in ``entry``), or "skipped" (unreadable; ``reason`` says why).
    status: str = "ok"
    kind: str = "ndjson"
    messages: int = 0
    malformed: int = 0
    #: (line or None, reason) of each located malformed line.
    located: list[list[Any]] = field(default_factory=list)
    reason: str = ""
    note: str = ""
    has_rows: bool = True


def entry_key(f: ArchiveFile, parser: str) -> str:
    """The entry folder name for one version of one file under one parser."""
    text = f"{f.name}\0{f.size}\0{f.stamp}\0{parser}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ArchiveCache:
    """One source's cache folder: ``index.json``, ``entries/<key>/*.parquet``, staging folders."""

    def __init__(self, folder: Path, *, parser: str, persistent: bool):
        self.folder = folder
        self.parser = parser
        self.persistent = persistent
        self.entries: dict[str, CacheEntry] = {}
        self._staging: list[Path] = []
        #: The folder holding every source's cache (None for a temporary one).
        self.root: Path | None = None
        (folder / "entries").mkdir(parents=True, exist_ok=True)
        if persistent:
            self.entries = self._read_index()

    def __repr__(self) -> str:
        state = "persistent" if self.persistent else "temporary"
        return f"ArchiveCache({str(self.folder)!r}, {state}, {len(self.entries)} entries)"

    @classmethod
    def open(cls, label: str, *, cache: Any, parser: str, scope: str = "") -> ArchiveCache:
        """The cache for the source ``label`` (``cache`` as :func:`load_cohort` takes it)."""
        if cache is False or cache is None:
            return cls(Path(tempfile.mkdtemp(prefix="onesig-parse-")), parser=parser,
                       persistent=False)  # fmt: skip
        if cache is True:
            root = default_cache_root()
        elif isinstance(cache, (str, os.PathLike)):
            root = Path(cache).expanduser()
        else:
            raise ValidationError(
                f"cache must be True, False or a folder path, not {type(cache).__name__}."
            )
        digest = hashlib.sha256(f"{label}\0{scope}".encode()).hexdigest()[:20]
        try:
            made = cls(root / "archives" / digest, parser=parser, persistent=True)
            made.root = root
            return made
        except OSError as exc:
            log.warning("archive cache unusable at %s (%s); parsing without it", root, exc)
            return cls(Path(tempfile.mkdtemp(prefix="onesig-parse-")), parser=parser,
                       persistent=False)  # fmt: skip

    # ------------------------------------------------------------------ index
    def _read_index(self) -> dict[str, CacheEntry]:
        try:
            doc = orjson.loads((self.folder / INDEX_NAME).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if doc.get("format") != INDEX_FORMAT or doc.get("parser") != self.parser:
            return {}  # other code wrote it: every entry is stale
        try:
            return {name: CacheEntry(**e) for name, e in doc.get("files", {}).items()}
        except TypeError:
            return {}

    def _write_index(self) -> None:
        doc = {
            "format": INDEX_FORMAT,
            "parser": self.parser,
            "files": {name: asdict(e) for name, e in sorted(self.entries.items())},
        }
        tmp = self.folder / f".{INDEX_NAME}.{uuid.uuid4().hex}"
        tmp.write_bytes(orjson.dumps(doc))
        os.replace(tmp, self.folder / INDEX_NAME)

    # ------------------------------------------------------------------ lookups
    def lookup(self, files: list[ArchiveFile]) -> tuple[list[ArchiveFile], list[ArchiveFile]]:
        """(files whose entry is valid, files to parse)."""
        hits, misses = [], []
        for f in files:
            e = self.entries.get(f.name)
            valid = (
                e is not None
                and e.size == f.size
                and e.stamp == f.stamp
                and (not e.has_rows or self.entry_dir(e.entry).is_dir())
            )
            (hits if valid else misses).append(f)
        return hits, misses

    def entry_dir(self, key: str) -> Path:
        return self.folder / "entries" / key

    def parquet_glob(self, name: str) -> str | None:
        """The Parquet files of ``name``'s entry as a glob, or None when it holds no rows."""
        e = self.entries[name]
        if e.status != "ok" or not e.has_rows:
            return None
        return str(self.entry_dir(e.entry) / "*.parquet")

    def staging(self) -> Path:
        """A fresh folder for one parse (removed by :meth:`commit` or :meth:`close`)."""
        path = self.folder / f"staging-{uuid.uuid4().hex}"
        path.mkdir(parents=True)
        self._staging.append(path)
        return path

    # ------------------------------------------------------------------ updates
    def put(self, f: ArchiveFile, entry: CacheEntry, rows_dir: Path | None) -> None:
        """Record the parse of ``f``; ``rows_dir`` (its Parquet folder) is moved into place."""
        entry.entry = entry_key(f, self.parser)
        entry.has_rows = rows_dir is not None
        old = self.entries.get(f.name)
        if rows_dir is not None:
            final = self.entry_dir(entry.entry)
            if final.is_dir():
                shutil.rmtree(rows_dir, ignore_errors=True)  # another load already put it
            else:
                os.replace(rows_dir, final)
        if old is not None and old.entry and old.entry != entry.entry:
            shutil.rmtree(self.entry_dir(old.entry), ignore_errors=True)
        self.entries[f.name] = entry

    def drop_missing(self, names: set[str]) -> list[str]:
        """Forget the entries of files no longer in the source; return their names."""
        gone = sorted(n for n in self.entries if n not in names)
        for name in gone:
            e = self.entries.pop(name)
            if e.entry:
                shutil.rmtree(self.entry_dir(e.entry), ignore_errors=True)
        return gone

    def save(self) -> None:
        """Write the index (a temporary cache keeps it in memory only)."""
        if self.persistent:
            try:
                self._write_index()
            except OSError as exc:
                log.warning("could not write the archive cache index in %s: %s", self.folder, exc)

    def close(self) -> None:
        """Remove staging folders (and the whole folder of a temporary cache)."""
        if not self.persistent:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        for path in self._staging:
            shutil.rmtree(path, ignore_errors=True)
