"""The files of an archive source, each with what identifies its version (size and a stamp).

A source is a local folder, glob or file (stamp = modification time in nanoseconds), or an
``s3://bucket/prefix/`` URL (stamp = the object's ETag; see :mod:`onesig_nb.segment.s3`).
The archive cache (:mod:`onesig_nb.segment.cache`) keys parsed files by (name, size, stamp),
so a file whose size or stamp changed is parsed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from onesig_nb.errors import SourceError

__all__ = [
    "ARCHIVE_SUFFIXES",
    "CACHE_FOLDER",
    "ArchiveFile",
    "is_archive_name",
    "list_local",
    "source_label",
]

ARCHIVE_SUFFIXES = (".gz", ".jsonl", ".ndjson", ".json")
#: A folder name never read as archive data (a cache placed inside the archive folder).
CACHE_FOLDER = ".onesig-cache"


@dataclass(frozen=True)
class ArchiveFile:
    """One archive file: ``name`` is what reports show (a local path or an ``s3://`` URL)."""

    name: str
    size: int
    stamp: str
    #: Where to read it locally; None for a remote object not fetched yet.
    local: Path | None = None

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()


def is_archive_name(name: str) -> bool:
    """Whether a file name looks like archive data (suffix; never a workspace manifest)."""
    path = Path(name)
    return (
        path.suffix.lower() in ARCHIVE_SUFFIXES
        and path.name != "manifest.json"
        and CACHE_FOLDER not in path.parts
    )


def _local(path: Path) -> ArchiveFile:
    st = path.stat()
    return ArchiveFile(name=str(path), size=st.st_size, stamp=str(st.st_mtime_ns), local=path)


def list_local(files: list[Path]) -> list[ArchiveFile]:
    """:class:`ArchiveFile` entries for local paths (a file that vanished is an error)."""
    try:
        return [_local(p) for p in files]
    except FileNotFoundError as exc:
        raise SourceError(
            f"An archive file disappeared while it was being listed ({exc.filename}). "
            "Load again once the copy into the folder has finished."
        ) from None


def source_label(source: object) -> str:
    """How a source is named in reports and cache folders (an absolute path, or the URL)."""
    text = str(source)
    if "://" in text:
        return text
    return str(Path(text).expanduser().absolute())
