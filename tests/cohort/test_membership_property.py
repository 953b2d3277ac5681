"""Property tests: load_cohort agrees with a plain-Python statement of Segment's membership rule.

The reference (segment-data.md 2.5): only audience/journey_step computations with a key; value
is traits[key] (identify) or properties[key] (track) when it is a JSON boolean or "true"/"false";
duplicate messageIds dropped (first received copy kept); person by id type; as_of keeps
timestamp <= as_of; the last value by (timestamp, receivedAt, messageId) wins; members = true.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import onesig_nb as osn
from onesig_nb.errors import AudienceNotFound

KEYS = ("aud_a", "aud_b")
T0 = datetime(2025, 3, 1, tzinfo=UTC)
VALUES = (True, False, "true", "false", "yes", 1, None)


def _iso(seconds: int) -> str:
    return (
        (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@st.composite
def histories(draw):
    n = draw(st.integers(1, 25))
    events = []
    for i in range(n):
        if events and draw(st.integers(0, 9)) == 0:  # a duplicate delivery: same bytes
            events.append(dict(events[draw(st.integers(0, len(events) - 1))]))
            continue
        person = draw(st.integers(0, 3))
        ids = draw(st.sampled_from(["both", "user", "anon"]))
        kind = draw(st.sampled_from(["identify", "track"]))
        key = draw(st.sampled_from(KEYS))
        value = draw(st.sampled_from(VALUES))
        cls = draw(st.sampled_from(["audience", "audience", "journey_step", "trait", None]))
        ts = draw(st.integers(0, 5))  # few distinct instants: many ties
        recv = ts + draw(st.integers(0, 2))
        msg = {
            "type": kind,
            "messageId": f"m{i:03d}",
            "userId": f"u{person}" if ids != "anon" else None,
            "anonymousId": f"a{person}" if ids != "user" else None,
            "timestamp": _iso(ts),
            "receivedAt": _iso(recv),
            "context": {"personas": {"computation_class": cls, "computation_key": key}}
            if cls
            else {},
        }
        body = {key: value} if value is not None else {}
        msg["traits" if kind == "identify" else "properties"] = body
        events.append(msg)
    return events


def _value(msg):
    bag = msg.get("traits") if msg["type"] == "identify" else msg.get("properties")
    v = (bag or {}).get(msg["context"]["personas"]["computation_key"])
    if v is True or v == "true":
        return True
    if v is False or v == "false":
        return False
    return None


def reference(events, key, id_type, as_of=None):
    """The membership rule in plain Python."""
    kept, seen = [], set()
    for msg in sorted(events, key=lambda m: (m["receivedAt"], m["timestamp"])):
        if msg["messageId"] in seen:
            continue
        seen.add(msg["messageId"])
        kept.append(msg)
    latest = {}
    for msg in kept:
        personas = msg["context"].get("personas") or {}
        if personas.get("computation_class") not in ("audience", "journey_step"):
            continue
        if personas.get("computation_key") != key:
            continue
        value = _value(msg)
        if value is None:
            continue
        if as_of is not None and msg["timestamp"] > as_of:
            continue
        person = {
            "user_id": msg["userId"],
            "anonymous_id": msg["anonymousId"],
            "auto": msg["userId"] or msg["anonymousId"],
        }[id_type]
        if person is None:
            continue
        order = (msg["timestamp"], msg["receivedAt"], msg["messageId"])
        if person not in latest or order > latest[person][0]:
            latest[person] = (order, value)
    return sorted(p for p, (_, v) in latest.items() if v)


def _present(events):
    return {
        m["context"]["personas"]["computation_key"]
        for m in events
        if (m["context"].get("personas") or {}).get("computation_class")
        in ("audience", "journey_step")
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    events=histories(),
    id_type=st.sampled_from(["user_id", "anonymous_id", "auto"]),
    as_of=st.one_of(st.none(), st.integers(0, 5).map(_iso)),
)
def test_load_cohort_matches_reference_rule(tmp_path, events, id_type, as_of):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(m) for m in events) + "\n")
    key = "aud_a"
    if key not in _present(events):
        with pytest.raises(AudienceNotFound):
            osn.load_cohort(path, audience=key, id_type=id_type, as_of=as_of)
        return
    cohort = osn.load_cohort(path, audience=key, id_type=id_type, as_of=as_of)
    assert cohort.external_ids == reference(events, key, id_type, as_of)
    assert cohort.report["messages_read"] == len(events)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=histories(), id_type=st.sampled_from(["user_id", "anonymous_id", "auto"]))
def test_portable_sql_on_a_warehouse_table_matches_reference(tmp_path, events, id_type):
    """The warehouse path (same SQL text as PostgreSQL gets) on a DuckDB table of the events."""
    import duckdb

    key = "aud_a"
    if key not in _present(events):
        return
    db = Path(tempfile.mkdtemp(dir=tmp_path)) / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE identifies (id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, "
        '"timestamp" TIMESTAMP, received_at TIMESTAMP, context_personas_computation_class '
        "VARCHAR, context_personas_computation_key VARCHAR, aud_a VARCHAR, aud_b VARCHAR)"
    )
    con.execute(
        "CREATE TABLE audience_entered (id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, "
        '"timestamp" TIMESTAMP, received_at TIMESTAMP, context_personas_computation_class '
        "VARCHAR, context_personas_computation_key VARCHAR, audience_key VARCHAR, "
        "aud_a VARCHAR, aud_b VARCHAR)"
    )
    for m in events:
        personas = m["context"].get("personas") or {}
        bag = m.get("traits") if m["type"] == "identify" else m.get("properties")
        cells = [
            None if (bag or {}).get(k) is None else json.dumps(bag[k]).strip('"') for k in KEYS
        ]
        common = [
            m["messageId"], m["userId"], m["anonymousId"], m["timestamp"][:-1],
            m["receivedAt"][:-1], personas.get("computation_class"), personas.get("computation_key"),
        ]  # fmt: skip
        if m["type"] == "identify":
            con.execute("INSERT INTO identifies VALUES (?,?,?,?,?,?,?,?,?)", common + cells)
        else:
            row = common + [personas.get("computation_key")] + cells
            con.execute("INSERT INTO audience_entered VALUES (?,?,?,?,?,?,?,?,?,?)", row)
    con.close()
    cohort = osn.load_cohort(db, audience=key, id_type=id_type)
    assert cohort.external_ids == reference(events, key, id_type)
