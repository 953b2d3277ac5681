"""A deterministic, realistic sample Segment workspace with its own ground truth.

``make_workspace(path, users=5_000, seed=7)`` writes, for ``users`` synthetic people:

- ``segment-logs/<source-id>/<UTC-midnight-epoch-ms>/part-HH.gz``: the S3-style archive of a web
  (analytics.js) source and an Engage (personas) source, gzipped NDJSON, 30 days of history;
- ``batch/batch-NNN.json``: a few analytics-python ``/v1/batch`` bodies from a backend;
- ``engage-csv/<audience>-{formatted,unformatted}.csv``: Engage "Download CSV" snapshots;
- ``warehouse.duckdb``: Segment warehouse tables derived from the same event stream, and the
  Profiles Sync tables (merged identities, profile traits) in the schema ``profiles_sync``;
- ``onesignal-users.csv``: the OneSignal roster (external_id = Segment userId);
- ``manifest.json``: who is in which audience, from the generator's own model of the world.

Same seed, same bytes (except ``warehouse.duckdb``, whose *contents* are deterministic): there is
no wall clock anywhere, gzip headers carry mtime 0 and no file name, JSON keys are sorted.
About five messages per user; 200,000 users give about a million messages.

The modules, one job each: :mod:`.world` (audience keys, clock, ids, catalogs), :mod:`.people`
(profiles and traits), :mod:`.membership` (audience timelines), :mod:`.events` (the event history),
:mod:`.archive`, :mod:`.warehouse`, :mod:`.batch`, :mod:`.engage_csv` and :mod:`.roster` (one file
kind each), :mod:`.manifest` (ground truth), :mod:`.workspace` (checks and atomic install) and
:mod:`.cli` (``onesig-nb sample``, which imports this package, never the reverse), with :mod:`.ids` (deterministic ids) and :mod:`.formats` (timestamps, JSON, CSV) shared
by the writers. :func:`_generate` below runs the stages in a fixed order: they share one random
stream, so that order is part of the same-seed-same-bytes contract. Besides the functions, only the
audience keys are exported here (tests iterate over them); everything else stays in its module.
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
from onesig_nb.samples.archive import write_archive
from onesig_nb.samples.batch import write_batches
from onesig_nb.samples.conversions import simulate_conversions
from onesig_nb.samples.engage_csv import write_engage_csvs
from onesig_nb.samples.events import add_duplicates, engage_messages, web_messages
from onesig_nb.samples.ids import B62, HEX, Ids
from onesig_nb.samples.manifest import ground_truth, load_manifest, write_manifest
from onesig_nb.samples.membership import make_timelines
from onesig_nb.samples.people import make_people
from onesig_nb.samples.profiles_sync import write_profiles_sync
from onesig_nb.samples.roster import load_roster, write_roster
from onesig_nb.samples.workspace import (
    MAX_USERS,
    check_int,
    check_target,
    default_workspace,
    install,
)
from onesig_nb.samples.world import ALL_KEYS, AUDIENCES, CSV_AUDIENCES, JOURNEY_KEY

__all__ = [
    "ALL_KEYS",
    "AUDIENCES",
    "CSV_AUDIENCES",
    "JOURNEY_KEY",
    "ensure_workspace",
    "load_manifest",
    "load_roster",
    "make_workspace",
    "simulate_conversions",
]

log = logging.getLogger("onesig_nb.samples")


def _generate(ws: Path, users: int, seed: int) -> dict[str, Any]:
    """Run every stage in the order that fixes the bytes (the stages share ``rng``).

    Stages are looked up in this module's namespace, so a test can replace one (for example
    ``write_roster``) to simulate a failure midway.
    """
    rng = np.random.default_rng(seed)
    people = make_people(rng, users)
    timelines = make_timelines(rng, people)
    web = web_messages(rng, people, Ids(np.random.default_rng([seed, 2]), HEX, 32))
    engage = engage_messages(rng, people, timelines, Ids(np.random.default_rng([seed, 3]), B62, 27))
    add_duplicates(rng, web, 0.003)
    add_duplicates(rng, engage, 0.015)
    archive = write_archive(ws, rng, people, web, engage)
    write_profiles_sync(ws / "warehouse.duckdb", people, timelines)  # draws no random numbers
    batch_messages = write_batches(ws, rng, people)
    roster = write_roster(ws, rng, people)
    audiences, member_profiles = ground_truth(people, timelines, roster)
    write_engage_csvs(ws, people, member_profiles)
    return write_manifest(
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
    users = check_int("users", users, minimum=1, maximum=MAX_USERS)
    seed = check_int("seed", seed, minimum=0)
    target = Path(path).expanduser().absolute()
    check_target(target, overwrite)
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
        install(tmp, target)
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
