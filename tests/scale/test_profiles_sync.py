"""Segment Profiles Sync tables (id_graph, external_id_mapping, profile_traits) in the sample
warehouse, and as a cohort source whose identities Segment has already merged."""

from __future__ import annotations

import duckdb
import pytest

import onesig_nb as osn
from onesig_nb.samples import ALL_KEYS, make_workspace
from onesig_nb.samples.world import LAST_ADDED_KEYS

ID_TYPES = ("user_id", "anonymous_id", "auto")
SCHEMA = "profiles_sync"


def _tables(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT * FROM {SCHEMA}.{t} ORDER BY ALL").fetchall()
            for t in ("id_graph", "external_id_mapping", "profile_traits")
        }
    finally:
        con.close()


@pytest.mark.parametrize("id_type", ID_TYPES)
def test_profiles_sync_members_match_the_manifest(sample_workspace, sample_manifest, id_type):
    source = sample_workspace / "warehouse.duckdb"
    for audience in ALL_KEYS:
        cohort = osn.load_cohort(source, schema=SCHEMA, audience=audience, id_type=id_type)
        truth = sample_manifest["audiences"][audience][f"by_{id_type}"]
        if id_type == "user_id" or audience not in LAST_ADDED_KEYS:
            assert cohort.external_ids == truth, audience
        else:
            # "last added" ID Sync told the archive only each member's newest anonymousId;
            # the merged profile knows all of them
            assert set(truth) < set(cohort.external_ids), audience
        assert "Profiles Sync" in " ".join(cohort.report.notes)


def test_merged_identities_reach_every_device_of_a_member(sample_workspace, sample_manifest):
    con = duckdb.connect(str(sample_workspace / "warehouse.duckdb"), read_only=True)
    rows = con.sql(
        f"""SELECT u.external_id_value, list(a.external_id_value ORDER BY a.external_id_value)
        FROM {SCHEMA}.external_id_mapping u JOIN {SCHEMA}.external_id_mapping a
          ON a.canonical_segment_id = u.canonical_segment_id AND a.external_id_type = 'anonymous_id'
        WHERE u.external_id_type = 'user_id' GROUP BY 1 HAVING count(*) > 1"""
    ).fetchall()
    merged = con.execute(
        f"SELECT count(*) FROM {SCHEMA}.id_graph WHERE segment_id <> canonical_segment_id"
    ).fetchone()[0]
    con.close()
    assert rows and merged > 0  # people with several devices, whose profiles were merged
    members = set(sample_manifest["audiences"]["new_signups"]["by_user_id"])
    cohort = osn.load_cohort(
        sample_workspace / "warehouse.duckdb", schema=SCHEMA, audience="new_signups",
        id_type="anonymous_id",
    )  # fmt: skip
    for user, anons in rows:
        if user in members:
            assert set(anons) <= set(cohort.external_ids), user


def test_profile_traits_equal_the_latest_identify_traits(sample_workspace):
    source = sample_workspace / "warehouse.duckdb"
    cols = ["external_id", "email", "city", "plan", "ltv", "last_product"]
    profiles = osn.load_cohort(source, schema=SCHEMA, audience="high_value_users")
    engage = osn.load_cohort(source, audience="high_value_users")
    assert not set(ALL_KEYS) & set(profiles.traits)  # audience columns are not traits
    assert profiles.df[cols].reset_index(drop=True).equals(engage.df[cols].reset_index(drop=True))


def test_list_audiences_and_as_of_on_profiles_sync(sample_workspace, sample_manifest):
    source = sample_workspace / "warehouse.duckdb"
    table = osn.list_audiences(source, schema=SCHEMA, raw_columns=True)
    got = dict(zip(table["audience"], table["members"], strict=True))
    assert got == {k: len(v["by_user_id"]) for k, v in sample_manifest["audiences"].items()}
    cohort = osn.load_cohort(source, schema=SCHEMA, audience="churn_risk", as_of="2025-03-02")
    assert "as_of is ignored" in str(cohort.report)
    assert (
        cohort.report["profiles_with_value"] > 0 and "audience_messages" not in cohort.report.counts
    )


def test_profiles_sync_tables_are_deterministic(tmp_path):
    first = make_workspace(tmp_path / "a", users=60, seed=3)
    second = make_workspace(tmp_path / "b", users=60, seed=3)
    tables = _tables(first / "warehouse.duckdb")
    assert tables == _tables(second / "warehouse.duckdb")
    assert all(tables.values())
    graph = {seg: canon for seg, canon, _ in tables["id_graph"]}
    merged_to = {r[0]: r[-1] for r in tables["profile_traits"]}
    assert {seg for seg, canon in graph.items() if seg != canon} == {
        seg for seg, to in merged_to.items() if to is not None
    }
