"""A deterministic, realistic sample Segment workspace with its own ground truth.

``make_workspace(path, users=5_000, seed=7)`` writes, for ``users`` synthetic people:

- ``segment-logs/<source-id>/<UTC-midnight-epoch-ms>/part-HH.gz``: the S3-style archive of a web
  (analytics.js) source and an Engage (personas) source, gzipped NDJSON, 30 days of history;
- ``batch/batch-NNN.json``: a few analytics-python ``/v1/batch`` bodies from a backend;
- ``engage-csv/<audience>-{formatted,unformatted}.csv``: Engage "Download CSV" snapshots;
- ``warehouse.duckdb``: Segment warehouse tables derived from the same event stream;
- ``onesignal-users.csv``: the OneSignal roster (external_id = Segment userId);
- ``manifest.json``: who is in which audience, from the generator's own model of the world.

Same seed, same bytes (except ``warehouse.duckdb``, whose *contents* are deterministic): there is
no wall clock anywhere, gzip headers carry mtime 0 and no file name, JSON keys are sorted.
About five messages per user; 200,000 users give about a million messages.

The modules, one job each: :mod:`.world` (audience keys, clock, ids, catalogs), :mod:`.people`
(profiles and traits), :mod:`.membership` (audience timelines), :mod:`.events` (the event history),
:mod:`.archive`, :mod:`.warehouse`, :mod:`.batch`, :mod:`.engage_csv` and :mod:`.roster` (one file
kind each), :mod:`.manifest` (ground truth), :mod:`.workspace` (checks and atomic install) and
:mod:`.cli`. :func:`_generate` below runs the stages in a fixed order: they share one random
stream, so that order is part of the same-seed-same-bytes contract. Names imported ``as``
themselves are re-exports: every public name of the former single module stays importable here.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from onesig_nb.errors import ValidationError
from onesig_nb.samples.archive import GZIP_LEVEL as GZIP_LEVEL
from onesig_nb.samples.archive import _write_archive
from onesig_nb.samples.batch import BATCH_SPLITS as BATCH_SPLITS
from onesig_nb.samples.batch import WRITE_KEY as WRITE_KEY
from onesig_nb.samples.batch import _write_batches
from onesig_nb.samples.cli import main
from onesig_nb.samples.engage_csv import _write_engage_csvs
from onesig_nb.samples.events import _add_duplicates, _engage_messages, _web_messages
from onesig_nb.samples.ids import _B62, _HEX, _Ids
from onesig_nb.samples.manifest import _truth, _write_manifest, load_manifest
from onesig_nb.samples.membership import _timelines
from onesig_nb.samples.people import _people
from onesig_nb.samples.roster import _write_roster, load_roster
from onesig_nb.samples.warehouse import TABLES as TABLES
from onesig_nb.samples.workspace import (
    MAX_USERS,
    _check_int,
    _check_target,
    _install,
    default_workspace,
)
from onesig_nb.samples.world import AJS_LIBRARY as AJS_LIBRARY
from onesig_nb.samples.world import ALL_KEYS, AUDIENCES, CSV_AUDIENCES, JOURNEY_KEY
from onesig_nb.samples.world import AS_OF_MS as AS_OF_MS
from onesig_nb.samples.world import CITIES as CITIES
from onesig_nb.samples.world import COMPUTATION_IDS as COMPUTATION_IDS
from onesig_nb.samples.world import DAY_MS as DAY_MS
from onesig_nb.samples.world import ENGAGE_INTEGRATIONS as ENGAGE_INTEGRATIONS
from onesig_nb.samples.world import ENGAGE_LIBRARY as ENGAGE_LIBRARY
from onesig_nb.samples.world import ENGAGE_SOURCE_ID as ENGAGE_SOURCE_ID
from onesig_nb.samples.world import FILE_WINDOW_MS as FILE_WINDOW_MS
from onesig_nb.samples.world import FIRST_NAMES as FIRST_NAMES
from onesig_nb.samples.world import HISTORY_DAYS as HISTORY_DAYS
from onesig_nb.samples.world import HISTORY_END_MS as HISTORY_END_MS
from onesig_nb.samples.world import HISTORY_START_MS as HISTORY_START_MS
from onesig_nb.samples.world import HOUR_MS as HOUR_MS
from onesig_nb.samples.world import KNOWN_ONLY_KEYS as KNOWN_ONLY_KEYS
from onesig_nb.samples.world import LANGUAGES as LANGUAGES
from onesig_nb.samples.world import LAST_ADDED_KEYS as LAST_ADDED_KEYS
from onesig_nb.samples.world import LAST_NAMES as LAST_NAMES
from onesig_nb.samples.world import PAGES as PAGES
from onesig_nb.samples.world import PLANS as PLANS
from onesig_nb.samples.world import PRODUCTS as PRODUCTS
from onesig_nb.samples.world import ROSTER_TAGS as ROSTER_TAGS
from onesig_nb.samples.world import SITE as SITE
from onesig_nb.samples.world import SPACE_ID as SPACE_ID
from onesig_nb.samples.world import TRACK_EVENTS as TRACK_EVENTS
from onesig_nb.samples.world import TRAIT_COLUMNS as TRAIT_COLUMNS
from onesig_nb.samples.world import USER_AGENTS as USER_AGENTS
from onesig_nb.samples.world import WEB_SOURCE_ID as WEB_SOURCE_ID

__all__ = [
    "ALL_KEYS",
    "AUDIENCES",
    "CSV_AUDIENCES",
    "JOURNEY_KEY",
    "ensure_workspace",
    "load_manifest",
    "load_roster",
    "main",
    "make_workspace",
]

log = logging.getLogger("onesig_nb.samples")


def _generate(ws: Path, users: int, seed: int) -> dict[str, Any]:
    """Run every stage in the order that fixes the bytes (the stages share ``rng``).

    Stages are looked up in this module's namespace, so a test can replace one (for example
    ``_write_roster``) to simulate a failure midway.
    """
    rng = np.random.default_rng(seed)
    people = _people(rng, users)
    timelines = _timelines(rng, people)
    web = _web_messages(rng, people, _Ids(np.random.default_rng([seed, 2]), _HEX, 32))
    engage = _engage_messages(
        rng, people, timelines, _Ids(np.random.default_rng([seed, 3]), _B62, 27)
    )
    _add_duplicates(rng, web, 0.003)
    _add_duplicates(rng, engage, 0.015)
    archive = _write_archive(ws, rng, people, web, engage)
    batch_messages = _write_batches(ws, rng, people)
    roster = _write_roster(ws, rng, people)
    audiences, member_profiles = _truth(people, timelines, roster)
    _write_engage_csvs(ws, people, member_profiles)
    return _write_manifest(
        ws, seed=seed, users=users, people=people, archive=archive,
        batch_messages=batch_messages, roster=roster, audiences=audiences,
    )  # fmt: skip


def make_workspace(
    path: str | os.PathLike, *, users: int = 5_000, seed: int = 7, overwrite: bool = False
) -> Path:
    """Write a deterministic sample Segment workspace to ``path`` and return its path.

    Everything is written to a temporary directory next to ``path`` and renamed into place at the
    end, so a failure never leaves a half-written workspace. An existing non-empty directory is
    only replaced with ``overwrite=True``, and only if it is itself a sample workspace.
    """
    users = _check_int("users", users, minimum=1, maximum=MAX_USERS)
    seed = _check_int("seed", seed, minimum=0)
    target = Path(path).expanduser().absolute()
    _check_target(target, overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise ValidationError(
            f"Cannot write the sample workspace to {target}: {exc.strerror or exc}. "
            "Choose a directory you can write to (e.g. ./workspace)."
        ) from exc
    try:
        os.chmod(tmp, 0o755)
        started = time.perf_counter()
        manifest = _generate(tmp, users, seed)
        _install(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "wrote sample workspace %s: %d users, %d messages in %.1f s", target, users,
        manifest["counts"]["messages"], time.perf_counter() - started,
    )  # fmt: skip
    return target


def ensure_workspace(
    path: str | os.PathLike | None = None, *, users: int = 5_000, seed: int = 7
) -> Path:
    """Return the workspace at ``path``, generating it first only if ``manifest.json`` is missing."""
    target = Path(path) if path is not None else default_workspace()
    if (target / "manifest.json").is_file():
        return target.expanduser().absolute()
    return make_workspace(target, users=users, seed=seed)
