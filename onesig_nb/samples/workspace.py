"""The workspace directory: argument checks, refusing to clobber, atomic install, file lookup."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from onesig_nb.errors import SourceError, ValidationError

MAX_USERS = 5_000_000


def check_int(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int within bounds, else a :class:`ValidationError` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(
            f"{name} must be a whole number, got {value!r} ({type(value).__name__}). "
            f"Pass e.g. {name}=5000."
        )
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum:,}" if maximum is not None else ""
        raise ValidationError(f"{name} must be at least {minimum}{upper}, got {value}.")
    return value


def _is_workspace(path: Path) -> bool:
    try:
        return (
            orjson.loads((path / "manifest.json").read_bytes()).get("generated_for") == "onesig_nb"
        )
    except (OSError, ValueError, AttributeError):
        return False


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse a target that is a file, or a non-empty directory unless overwriting a workspace."""
    if target.exists() and not target.is_dir():
        raise ValidationError(
            f"{target} exists and is not a directory. Choose a new directory for the workspace."
        )
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:
            raise ValidationError(
                f"{target} already exists and is not empty. Pass overwrite=True "
                "(CLI: --overwrite) to replace it, or choose a new directory."
            )
        if not _is_workspace(target):
            raise ValidationError(
                f"Refusing to overwrite {target}: it is not empty and is not a sample workspace "
                "(no onesig_nb manifest.json). Choose a new or empty directory."
            )


def install(tmp: Path, target: Path) -> None:
    """Move the finished temp dir into place (replacing an old workspace only when asked)."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_workspace(target):  # someone else finished first: theirs is as good
                raise
            shutil.rmtree(tmp, ignore_errors=True)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def default_workspace() -> Path:
    """``$ONESIG_NB_WORKSPACE`` if set, else ``./workspace``."""
    return Path(os.environ.get("ONESIG_NB_WORKSPACE") or "workspace")


def file_in(path: str | os.PathLike, name: str) -> Path:
    """``name`` inside the workspace ``path`` (or ``path`` itself if it is a file), else a
    :class:`SourceError` saying how to generate a workspace."""
    p = Path(path).expanduser()
    p = p / name if p.is_dir() else p
    if not p.is_file():
        raise SourceError(
            f"No {name} at {p}. Generate a workspace with "
            f"onesig_nb.samples.make_workspace({str(Path(path))!r}) or `onesig-nb sample --out DIR`."
        )
    return p
