"""Every audience, from every source kind and id choice, equals the manifest's ground truth."""

from __future__ import annotations

import pytest

import onesig_nb as osn
from onesig_nb.samples import ALL_KEYS, CSV_AUDIENCES

ID_TYPES = ("user_id", "anonymous_id", "auto")


@pytest.mark.parametrize("id_type", ID_TYPES)
@pytest.mark.parametrize("audience", ALL_KEYS)
def test_archive_membership_matches_manifest(sample_workspace, sample_manifest, audience, id_type):
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience=audience, id_type=id_type)
    assert cohort.external_ids == sample_manifest["audiences"][audience][f"by_{id_type}"]
    assert cohort.report["members"] == len(cohort)


@pytest.mark.parametrize("id_type", ID_TYPES)
@pytest.mark.parametrize("audience", ALL_KEYS)
def test_duckdb_warehouse_membership_matches_manifest(
    sample_workspace, sample_manifest, audience, id_type
):
    cohort = osn.load_cohort(
        sample_workspace / "warehouse.duckdb", audience=audience, id_type=id_type
    )
    assert cohort.external_ids == sample_manifest["audiences"][audience][f"by_{id_type}"]


@pytest.mark.parametrize("style", ["formatted", "unformatted"])
@pytest.mark.parametrize("id_type", ID_TYPES)
@pytest.mark.parametrize("audience", CSV_AUDIENCES)
def test_engage_csv_membership_matches_manifest(
    sample_workspace, sample_manifest, audience, id_type, style
):
    path = sample_workspace / "engage-csv" / f"{audience}-{style}.csv"
    cohort = osn.load_cohort(path, id_type=id_type)
    assert cohort.audience == audience
    assert cohort.external_ids == sample_manifest["audiences"][audience][f"by_{id_type}"]


@pytest.mark.parametrize("audience", ALL_KEYS)
def test_as_of_gives_past_membership_from_archive_and_warehouse(
    sample_workspace, sample_manifest, audience
):
    truth = sample_manifest["audiences"][audience]["by_user_id_as_of"]
    as_of = sample_manifest["as_of"]
    for source in (sample_workspace / "segment-logs", sample_workspace / "warehouse.duckdb"):
        cohort = osn.load_cohort(source, audience=audience, as_of=as_of)
        assert cohort.external_ids == truth, source


def test_workspace_root_reads_archives_and_batches(sample_workspace, sample_manifest):
    cohort = osn.load_cohort(sample_workspace, audience="cart_abandoners")
    assert cohort.report.kind == "archive"
    counts = sample_manifest["counts"]
    assert cohort.report["messages_read"] == counts["messages"] + counts["batch_messages"]
    assert cohort.external_ids == sample_manifest["audiences"]["cart_abandoners"]["by_user_id"]


def test_malformed_lines_are_counted_and_located(sample_workspace, sample_manifest):
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience="churn_risk")
    report = cohort.report
    located = sorted(
        [str(p.relative_to(sample_workspace)), line]
        for p, line in ((__import__("pathlib").Path(f), n) for f, n in report.malformed)
    )
    assert report["malformed_lines"] == len(sample_manifest["malformed_lines"])
    assert located == sample_manifest["malformed_lines"]


def test_duplicates_and_dropped_people_are_reported(sample_workspace, sample_manifest):
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience="cart_abandoners")
    report = cohort.report
    assert report["duplicates_dropped"] > 0
    assert report["latest_false"] > 0
    auto = set(sample_manifest["audiences"]["cart_abandoners"]["by_auto"])
    anonymous_only_members = len(auto - set(cohort.external_ids))
    assert report["no_id_members"] == anonymous_only_members > 0


def test_traits_are_latest_identify_values(sample_workspace):
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience="high_value_users")
    wh = osn.load_cohort(sample_workspace / "warehouse.duckdb", audience="high_value_users")
    assert {"first_name", "email", "language", "plan", "ltv", "city"} <= set(cohort.traits)
    assert not set(ALL_KEYS) & set(cohort.traits)  # audience flags are not traits
    assert cohort.df["ltv"].dtype.kind == "f"
    cols = ["external_id", "email", "city", "language", "last_product"]
    left = cohort.df[cols].reset_index(drop=True)
    right = wh.df[cols].reset_index(drop=True)
    assert left.equals(right)


def test_traits_argument_selects_columns(sample_workspace):
    cohort = osn.load_cohort(
        sample_workspace / "segment-logs", audience="new_signups", traits=["language", "plan"]
    )
    assert list(cohort.df.columns) == ["external_id", "language", "plan"]


def test_list_audiences_from_archives_and_warehouse(sample_workspace, sample_manifest):
    for source in (sample_workspace / "segment-logs", sample_workspace / "warehouse.duckdb"):
        table = osn.list_audiences(source)
        got = dict(zip(table["audience"], table["members"], strict=True))
        want = {k: len(v["by_user_id"]) for k, v in sample_manifest["audiences"].items()}
        assert got == want


def test_list_audiences_from_csv_folder(sample_workspace, sample_manifest):
    table = osn.list_audiences(sample_workspace / "engage-csv")
    got = dict(zip(table["audience"], table["members"], strict=True))
    assert got == {k: len(sample_manifest["audiences"][k]["by_user_id"]) for k in CSV_AUDIENCES}


@pytest.mark.postgres
@pytest.mark.parametrize("id_type", ID_TYPES)
def test_postgres_warehouse_membership_matches_manifest(pg_warehouse, sample_manifest, id_type):
    for audience in ALL_KEYS:
        cohort = osn.load_cohort(pg_warehouse, audience=audience, id_type=id_type)
        truth = sample_manifest["audiences"][audience][f"by_{id_type}"]
        assert cohort.external_ids == truth, audience
        assert cohort.report.kind == "warehouse"


@pytest.mark.postgres
def test_postgres_as_of_traits_and_listing(pg_warehouse, sample_workspace, sample_manifest):
    as_of = sample_manifest["as_of"]
    for audience in ALL_KEYS:
        cohort = osn.load_cohort(pg_warehouse, audience=audience, as_of=as_of)
        assert cohort.external_ids == sample_manifest["audiences"][audience]["by_user_id_as_of"]
    pg = osn.load_cohort(pg_warehouse, audience="churn_risk", schema="engage_spa_sample")
    duck = osn.load_cohort(sample_workspace / "warehouse.duckdb", audience="churn_risk")
    assert pg.df.reset_index(drop=True).equals(duck.df.reset_index(drop=True))
    table = osn.list_audiences(pg_warehouse)
    got = dict(zip(table["audience"], table["members"], strict=True))
    assert got == {k: len(v["by_user_id"]) for k, v in sample_manifest["audiences"].items()}
    assert "onesig:onesig@" not in pg.report.source  # the password is never shown
