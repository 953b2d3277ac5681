"""The manifest's ground truth agrees with membership recomputed from what was written."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pandas as pd

from .samples_replay import audience_value, membership

KEYS = ["cart_abandoners", "high_value_users", "new_signups", "churn_risk", "j_o_winback"]


def test_manifest_names_the_five_audience_keys(sample_manifest):
    assert sorted(sample_manifest["audiences"]) == sorted(KEYS)
    assert sample_manifest["csv_audiences"] == ["cart_abandoners", "high_value_users"]
    assert sample_manifest["users"] == 600 and sample_manifest["seed"] == 7
    for truth in sample_manifest["audiences"].values():
        for name in ("by_user_id", "by_anonymous_id", "by_auto", "by_user_id_as_of", "reachable"):
            assert truth[name] == sorted(set(truth[name])), name


def test_members_by_user_id_match_a_replay_of_the_archive(archive, sample_manifest):
    got = membership(archive[0], "user_id")
    for key in KEYS:
        assert got.get(key, []) == sample_manifest["audiences"][key]["by_user_id"], key


def test_members_by_anonymous_id_match_a_replay_of_the_archive(archive, sample_manifest):
    got = membership(archive[0], "anonymous_id")
    for key in KEYS:
        assert got.get(key, []) == sample_manifest["audiences"][key]["by_anonymous_id"], key


def test_members_by_auto_id_match_a_replay_of_the_archive(archive, sample_manifest):
    got = membership(archive[0], "auto")
    for key in KEYS:
        assert got.get(key, []) == sample_manifest["audiences"][key]["by_auto"], key


def test_members_as_of_match_a_replay_limited_to_as_of(archive, sample_manifest):
    got = membership(archive[0], "user_id", as_of=sample_manifest["as_of"])
    for key in KEYS:
        assert got.get(key, []) == sample_manifest["audiences"][key]["by_user_id_as_of"], key
    assert got != membership(archive[0], "user_id"), "as_of should change someone's membership"


def test_as_of_boundary_is_inclusive_and_matters(archive, sample_manifest):
    as_of = sample_manifest["as_of"]
    at_boundary = [m for m in archive[0] if m["timestamp"] == as_of and audience_value(m)]
    assert at_boundary, "some audience messages sit exactly at as_of"
    strictly_before = [m for m in archive[0] if m["timestamp"] != as_of]
    assert membership(strictly_before, "user_id", as_of=as_of) != membership(
        archive[0], "user_id", as_of=as_of
    )


def test_reachable_is_members_with_a_subscribed_roster_row(sample_workspace, sample_manifest):
    roster = pd.read_csv(sample_workspace / "onesignal-users.csv", dtype=str)
    subscribed = set(roster.loc[roster["subscribed"] == "true", "external_id"])
    for key in KEYS:
        truth = sample_manifest["audiences"][key]
        assert truth["reachable"] == sorted(set(truth["by_user_id"]) & subscribed), key
    members = set(sample_manifest["audiences"]["cart_abandoners"]["by_user_id"])
    assert members - set(roster["external_id"]), "some members have no OneSignal row at all"
    unsubscribed = set(roster.loc[roster["subscribed"] == "false", "external_id"]) - subscribed
    assert unsubscribed & set().union(
        *(set(sample_manifest["audiences"][k]["by_user_id"]) for k in KEYS)
    ), "some members only have unsubscribed rows"


def test_file_order_and_boolean_only_shortcuts_give_wrong_answers(archive, sample_manifest):
    """The sample punishes the usual shortcuts: trusting file order, or only JSON booleans."""
    file_order: dict[tuple[str, str], bool] = {}
    for m in archive[0]:
        found = audience_value(m)
        if found and m.get("userId"):
            file_order[(found[0], m["userId"])] = found[1]
    truth = sample_manifest["audiences"]
    wrong = [
        key
        for key in KEYS
        if sorted(u for (k, u), v in file_order.items() if v and k == key)
        != truth[key]["by_user_id"]
    ]
    assert wrong, "a tie (exit + re-entry at one timestamp) is written in the wrong order"
    journey = [m for m in archive[0] if (audience_value(m) or ("",))[0] == "j_o_winback"]
    values = {(m.get("traits") or m.get("properties"))["j_o_winback"] for m in journey}
    assert values == {"true", "false"} and truth["j_o_winback"]["by_user_id"]


def test_exits_reach_every_identifier_but_last_added_entries_one(archive):
    anon_of: dict[str, set] = {}
    groups: dict[tuple, set] = {}
    for m in archive[0]:
        found = audience_value(m)
        if not found or not m.get("userId"):
            continue
        anon_of.setdefault(m["userId"], set()).add(m["anonymousId"])
        if m["type"] == "track":
            group = (found[0], m["event"], m["userId"], m["timestamp"])
            groups.setdefault(group, set()).add(m["anonymousId"])
    exits = {g: a for g, a in groups.items() if g[1] == "Audience Exited"}
    assert exits and all(a == anon_of[g[2]] for g, a in exits.items())
    assert any(len(a) > 1 for a in exits.values())
    last_added = [
        a for g, a in groups.items() if g[0] == "new_signups" and g[1] == "Audience Entered"
    ]
    assert last_added and all(len(a) == 1 for a in last_added)
    assert any(
        len(a) > 1
        for g, a in groups.items()
        if g[0] != "new_signups" and g[1] == "Audience Entered"
    )


def test_engage_csvs_hold_the_final_members(sample_workspace, sample_manifest):
    for key in sample_manifest["csv_audiences"]:
        truth = sample_manifest["audiences"][key]
        fmt = pd.read_csv(sample_workspace / f"engage-csv/{key}-formatted.csv", dtype=str)
        fmt = fmt.fillna("")
        assert sorted(u for u in fmt["user_id"] if u) == truth["by_user_id"]
        anon_cols = [c for c in fmt.columns if c.startswith("anonymous_id")]
        anon = {v for c in anon_cols for v in fmt[c] if v}
        assert set(truth["by_anonymous_id"]) <= anon
        assert fmt["key"].str.fullmatch(r"segment_id_\d+").all() and fmt["key"].is_unique
        raw = pd.read_csv(sample_workspace / f"engage-csv/{key}-unformatted.csv", dtype=str)
        assert list(raw.columns) == ["key", "external_ids", "traits"]
        ids = [json.loads(x) for x in raw["external_ids"]]
        assert all(isinstance(v, list) for d in ids for v in d.values())
        assert sorted(u for d in ids for u in d.get("user_id", [])) == truth["by_user_id"]
        assert list(raw["key"]) == list(fmt["key"])
        traits = [json.loads(x) for x in raw["traits"]]
        assert all(isinstance(t, dict) for t in traits)
    anon_only = fmt_rows = pd.read_csv(
        sample_workspace / "engage-csv/cart_abandoners-formatted.csv", dtype=str
    )
    assert anon_only["user_id"].isna().any(), "anonymous-only members appear in the CSV"
    assert "email_1" in fmt_rows.columns or "anonymous_id_1" in fmt_rows.columns


def test_warehouse_users_table_matches_members(sample_workspace, sample_manifest):
    con = duckdb.connect(str(sample_workspace / "warehouse.duckdb"), read_only=True)
    try:
        for key in KEYS:
            cond = f"{key} = 'true'" if key == "j_o_winback" else f"{key}"
            got = [
                r[0]
                for r in con.execute(f"SELECT id FROM users WHERE {cond} ORDER BY id").fetchall()
            ]
            assert got == sample_manifest["audiences"][key]["by_user_id"], key
        cols = {r[0] for r in con.execute("DESCRIBE users").fetchall()}
        assert "anonymous_id" not in cols and "id" in cols
        n_users = con.execute("SELECT count(*), count(DISTINCT id) FROM users").fetchone()
        assert n_users[0] == n_users[1] == sample_manifest["counts"]["known_users"]
    finally:
        con.close()


def test_warehouse_event_tables_replay_to_the_same_members(sample_workspace, sample_manifest):
    con = duckdb.connect(str(sample_workspace / "warehouse.duckdb"), read_only=True)
    try:
        sql = """
            WITH ev AS (
              SELECT user_id, audience_key AS k, timestamp, received_at,
                     coalesce(CAST(cart_abandoners AS VARCHAR), CAST(high_value_users AS VARCHAR),
                              CAST(new_signups AS VARCHAR), CAST(churn_risk AS VARCHAR), j_o_winback) AS v
              FROM audience_entered UNION ALL
              SELECT user_id, audience_key, timestamp, received_at,
                     coalesce(CAST(cart_abandoners AS VARCHAR), CAST(high_value_users AS VARCHAR),
                              CAST(new_signups AS VARCHAR), CAST(churn_risk AS VARCHAR), j_o_winback)
              FROM audience_exited)
            SELECT k, user_id FROM ev WHERE user_id IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY k, user_id
                                       ORDER BY timestamp DESC, received_at DESC) = 1
               AND v = 'true'
            ORDER BY k, user_id"""
        got: dict[str, list] = {}
        for key, uid in con.execute(sql).fetchall():
            got.setdefault(key, []).append(uid)
        for key in KEYS:
            assert got.get(key, []) == sample_manifest["audiences"][key]["by_user_id"], key
        counts = sample_manifest["counts"]
        for table in ("identify", "track", "page", "audience_entered", "audience_exited"):
            name = {"identify": "identifies", "track": "tracks", "page": "pages"}.get(table, table)
            n = con.execute(f"SELECT count(*), count(DISTINCT id) FROM {name}").fetchone()
            assert n[0] == n[1] == counts[table], table
        ids = con.execute(
            "SELECT count(DISTINCT context_personas_computation_id) FROM tracks"
        ).fetchone()
        assert ids[0] == 5
    finally:
        con.close()


def test_sample_has_every_realism_feature(archive, sample_manifest):
    msgs, _bad = archive
    ids = Counter(m["messageId"] for m in msgs)
    assert any(c > 1 for c in ids.values()), "duplicate deliveries"
    engage = [m for m in msgs if m["messageId"].startswith("personas_")]
    per_person: dict[tuple, list] = {}
    for m in engage:
        key, value = audience_value(m)
        per_person.setdefault((key, m.get("userId") or m["anonymousId"]), []).append(
            (m["timestamp"], m["receivedAt"], value, m["type"])
        )
    flips = [sorted(set(v)) for v in per_person.values()]
    assert any([x[2] for x in f if x[3] == "track"].count(True) >= 2 for f in flips), "re-entry"
    assert any(len({x[0] for x in f if not x[2]} & {x[0] for x in f if x[2]}) for f in flips), (
        "an exit and a re-entry with the same timestamp (tie broken by receivedAt)"
    )
    anon_only = [m for m in engage if m["userId"] is None]
    assert anon_only and all(m["anonymousId"] for m in anon_only)
    by_uid: dict[tuple, set] = {}
    for m in engage:
        if m["userId"]:
            by_uid.setdefault((m["userId"], m["timestamp"], m["type"]), set()).add(m["anonymousId"])
    assert any(len(v) >= 2 for v in by_uid.values()), "one event per identifier combination"
    events = Counter(m.get("event") for m in msgs if m["type"] == "track")
    for name in ("Audience Entered", "Audience Exited", "Order Completed", "Product Viewed",
                 "Checkout Started"):  # fmt: skip
        assert events[name] > 0, name
