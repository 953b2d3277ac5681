"""The membership SQL, generated once, compiles for Snowflake, BigQuery, Redshift, Databricks
and Spark (sqlglot), survives a round trip, and, translated back, still gives the manifest's
members when DuckDB runs it on the sample warehouse."""

from __future__ import annotations

import pytest

from onesig_nb.errors import SourceError
from onesig_nb.samples import ALL_KEYS
from onesig_nb.segment.archive import open_duckdb
from onesig_nb.segment.dialects import inline_params, to_dialect
from onesig_nb.segment.membership import members_sql, summary_sql
from onesig_nb.segment.warehouse import Warehouse

sqlglot = pytest.importorskip("sqlglot", reason="sqlglot is a test dependency: pip install sqlglot")

DIALECTS = ("snowflake", "bigquery", "redshift", "databricks", "spark")
ID_TYPES = ("user_id", "anonymous_id", "auto")


@pytest.fixture(scope="module")
def warehouse(sample_workspace):
    wh = Warehouse.open(sample_workspace / "warehouse.duckdb")
    profiles = Warehouse.open(sample_workspace / "warehouse.duckdb", schema="profiles_sync")
    yield wh, profiles
    wh.close()
    profiles.close()


def generated(both: tuple[Warehouse, Warehouse], manifest: dict):
    """(label, portable SQL, params, checker) for every query the loaders send."""
    wh, profiles = both
    for audience in ALL_KEYS:
        truth = manifest["audiences"][audience]
        for id_type in ID_TYPES:
            sql = wh.cohort_sql(audience, id_type=id_type, as_of=False, traits=["plan", "ltv"])
            yield (f"cohort {audience} {id_type}", sql, {"audience": audience},
                   ("members", truth[f"by_{id_type}"]))  # fmt: skip
        sql = wh.cohort_sql(audience, id_type="user_id", as_of=True, traits=[])
        params = {"audience": audience, "as_of": manifest["as_of"]}
        yield f"cohort {audience} as_of", sql, params, ("members", truth["by_user_id_as_of"])
    counts = {k: len(v["by_user_id"]) for k, v in manifest["audiences"].items()}
    sql = summary_sql(wh.events_sql(wh.keys), id_type="user_id", as_of=False, one_audience=False)
    yield "summary", sql, {}, ("summary", counts)
    for id_type in ("user_id", "auto"):  # Profiles Sync: Segment's merged identities
        sql = profiles.cohort_sql("cart_abandoners", id_type=id_type, as_of=False, traits=["plan"])
        truth = manifest["audiences"]["cart_abandoners"][f"by_{id_type}"]
        yield f"profiles {id_type}", sql, {}, ("members", truth)
    sql = profiles.summary_query(profiles.keys, id_type="user_id", as_of=False, one=False)
    yield "profiles summary", sql, {}, ("summary", counts)
    archive = members_sql("SELECT * FROM audience_events", id_type="auto", as_of=True)
    yield "archive members", archive, {"audience": "churn_risk", "as_of": manifest["as_of"]}, None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_membership_sql_compiles_round_trips_and_still_answers(
    warehouse, sample_manifest, sample_workspace, dialect
):
    con = open_duckdb(str(sample_workspace / "warehouse.duckdb"), read_only=True)
    checked = 0
    try:
        for label, sql, params, check in generated(warehouse, sample_manifest):
            text = to_dialect(sql, dialect, params)
            # reads back without error, and settles after one re-generation (sqlglot may first
            # respell e.g. "x IS NOT NULL" as "NOT x IS NULL")
            again = sqlglot.parse_one(text, read=dialect).sql(dialect=dialect)
            assert sqlglot.parse_one(again, read=dialect).sql(dialect=dialect) == again, label
            if dialect in ("bigquery", "databricks", "spark"):
                assert '"' not in text, label  # double quotes would be strings there
            if check is None:
                continue
            back = sqlglot.transpile(text, read=dialect, write="duckdb")[0]
            frame = con.sql(back).df()
            kind, want = check
            if kind == "members":
                assert frame["external_id"].tolist() == want, (label, dialect)
            else:
                assert dict(zip(frame["audience"], frame["members"], strict=True)) == want
            checked += 1
    finally:
        con.close()
    assert checked == len(ALL_KEYS) * 4 + 4


def test_the_portable_text_itself_runs_on_duckdb(warehouse, sample_manifest, sample_workspace):
    con = open_duckdb(str(sample_workspace / "warehouse.duckdb"), read_only=True)
    try:
        for label, sql, params, check in generated(warehouse, sample_manifest):
            if check and check[0] == "members":
                got = con.sql(inline_params(sql, params)).df()["external_id"].tolist()
                assert got == check[1], label
    finally:
        con.close()


def test_literals_are_quoted_and_missing_values_refused():
    assert inline_params("SELECT :a, :b", {"a": "it's", "b": None}) == "SELECT 'it''s', NULL"
    assert inline_params("SELECT '10:00:00'", {}) == "SELECT '10:00:00'"
    with pytest.raises(SourceError, match=":audience"):
        inline_params("WHERE k = :audience", {})
