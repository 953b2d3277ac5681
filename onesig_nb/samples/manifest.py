"""The manifest: ground-truth audience membership from the membership model, plus counts and ids,
written as ``manifest.json`` and read back by :func:`load_manifest`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from onesig_nb.samples.batch import BATCH_SPLITS
from onesig_nb.samples.formats import JSON_OPTS, iso
from onesig_nb.samples.membership import is_member
from onesig_nb.samples.workspace import file_in
from onesig_nb.samples.world import (
    ALL_KEYS,
    AS_OF_MS,
    COMPUTATION_IDS,
    CSV_AUDIENCES,
    ENGAGE_SOURCE_ID,
    HISTORY_DAYS,
    HISTORY_END_MS,
    HISTORY_START_MS,
    LAST_ADDED_KEYS,
    SPACE_ID,
    WEB_SOURCE_ID,
)


def ground_truth(people, timelines, roster) -> tuple[dict, dict[str, list[int]]]:
    """Membership per audience from the generator's model (intended state), not from the events."""
    reachable_ids = {u for u, _plat, sub, _tags in roster if sub}
    sets = {k: {"by_user_id": set(), "by_anonymous_id": set(), "by_auto": set(),
                "by_user_id_as_of": set()} for k in ALL_KEYS}  # fmt: skip
    profiles: dict[str, list[int]] = {k: [] for k in ALL_KEYS}
    for p, key, steps in timelines:
        uid, s = people["user_ids"][p], sets[key]
        if uid and is_member(steps, AS_OF_MS):
            s["by_user_id_as_of"].add(uid)
        if not is_member(steps):
            continue
        profiles[key].append(p)
        # "last added" ID Sync: entries reached only the newest anonymousId, exits reached all
        anon = people["anon"][p][-1:] if key in LAST_ADDED_KEYS else people["anon"][p]
        s["by_anonymous_id"].update(anon)
        if uid:
            s["by_user_id"].add(uid)
            s["by_auto"].add(uid)
        else:
            s["by_auto"].update(anon)
    out = {}
    for key, s in sets.items():
        s["reachable"] = s["by_user_id"] & reachable_ids
        out[key] = {name: sorted(v) for name, v in s.items()}
    return out, {k: sorted(v) for k, v in profiles.items()}


def write_manifest(
    ws: Path, *, seed: int, users: int, people, archive, batch_messages: int, roster, audiences
) -> dict[str, Any]:
    """Write ``manifest.json`` (sorted keys, indented) and return it."""
    counts = archive["counts"]
    counts.update(
        people=users, known_users=sum(people["known"]),
        anonymous_only=users - sum(people["known"]), batch_files=len(BATCH_SPLITS),
        batch_messages=batch_messages, roster_rows=len(roster),
        roster_users=len({r[0] for r in roster}),
    )  # fmt: skip
    manifest = {
        "seed": seed, "users": users, "generated_for": "onesig_nb", "as_of": iso(AS_OF_MS),
        "audiences": audiences, "csv_audiences": list(CSV_AUDIENCES), "counts": counts,
        "malformed_lines": archive["malformed"],
        "sources": {"web": WEB_SOURCE_ID, "engage": ENGAGE_SOURCE_ID},
        "space_id": SPACE_ID, "computation_ids": COMPUTATION_IDS,
        "history": {"start": iso(HISTORY_START_MS), "end": iso(HISTORY_END_MS),
                    "days": HISTORY_DAYS},
    }  # fmt: skip
    (ws / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | JSON_OPTS) + b"\n"
    )
    return manifest


def load_manifest(path: str | os.PathLike) -> dict:
    """Read ``manifest.json`` of a workspace (the directory or the file itself)."""
    return orjson.loads(file_in(path, "manifest.json").read_bytes())
