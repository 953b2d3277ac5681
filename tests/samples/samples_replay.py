"""Independent readers for the sample workspace: plain gzip + json, no code from onesig_nb.samples.

The ground-truth tests recompute audience membership from the written archive with these, so a
bug in the generator's own bookkeeping cannot hide behind itself.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path


def read_archive(ws: Path) -> tuple[list[dict], list[list]]:
    """Every parseable message of ``segment-logs/**/*.gz`` in file order, and the bad lines."""
    messages, bad = [], []
    for path in sorted((ws / "segment-logs").rglob("*.gz")):
        rel = path.relative_to(ws).as_posix()
        with gzip.open(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    msg = json.loads(line.decode("utf-8"))
                except ValueError:  # JSONDecodeError and UnicodeDecodeError
                    bad.append([rel, number])
                    continue
                msg["_file"] = rel
                messages.append(msg)
    return messages, bad


def instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def audience_value(msg: dict, key_filter: str | None = None) -> tuple[str, bool] | None:
    """(audience key, value) when the message carries membership per Contract 1, else None."""
    personas = (msg.get("context") or {}).get("personas") or {}
    if personas.get("computation_class") not in ("audience", "journey_step"):
        return None
    key = personas.get("computation_key")
    if not key or (key_filter and key != key_filter):
        return None
    if msg.get("type") == "identify":
        holder = msg.get("traits") or {}
    elif msg.get("type") == "track":
        holder = msg.get("properties") or {}
    else:
        return None
    value = holder.get(key)
    if isinstance(value, bool):
        return key, value
    if value in ("true", "false"):
        return key, value == "true"
    return None


def membership(messages: list[dict], id_type: str, as_of: str | None = None) -> dict[str, list]:
    """Members per audience key: the Contract 1 rule, written out plainly."""
    limit = instant(as_of) if as_of else None
    seen: set[str] = set()
    events = []
    for msg in messages:
        if msg["messageId"] in seen:
            continue
        seen.add(msg["messageId"])
        found = audience_value(msg)
        if found is None:
            continue
        if id_type == "user_id":
            person = msg.get("userId")
        elif id_type == "anonymous_id":
            person = msg.get("anonymousId")
        else:
            person = msg.get("userId") or msg.get("anonymousId")
        if not person:
            continue
        ts = instant(msg["timestamp"])
        if limit is not None and ts > limit:
            continue
        events.append((ts, instant(msg["receivedAt"]), found[0], person, found[1]))
    events.sort(key=lambda e: (e[0], e[1]))
    last: dict[tuple[str, str], bool] = {}
    for _ts, _recv, key, person, value in events:
        last[(key, person)] = value
    out: dict[str, set] = {}
    for (key, person), value in last.items():
        if value:
            out.setdefault(key, set()).add(person)
    return {key: sorted(people) for key, people in out.items()}
