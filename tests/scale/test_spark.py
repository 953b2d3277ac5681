"""Spark local mode runs the same membership rule as DuckDB and gives the same answers on the
sample workspace (members of every audience for every id type, the report's counts, traits)."""

from __future__ import annotations

import os
import shutil

import pytest

import onesig_nb as osn
from onesig_nb.samples import ALL_KEYS, make_workspace
from onesig_nb.segment.dialects import to_dialect
from onesig_nb.segment.membership import latest_ctes
from onesig_nb.segment.spark import SparkArchive
from tests.scale.conftest import require

ID_TYPES = ("user_id", "anonymous_id", "auto")
#: A small workspace keeps local-mode Spark (one core, 512 MB) well under a minute.
SPARK_USERS = 300


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        require(False, f"pyspark is not installed ({exc}): pip install pyspark")
    require(
        shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME")),
        "Spark needs a Java runtime (java not on PATH; .ci/run installs default-jre-headless)",
    )
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("onesig-nb-tests")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def small_workspace(tmp_path_factory):
    path = tmp_path_factory.mktemp("spark") / "ws"
    make_workspace(path, users=SPARK_USERS, seed=7)
    return path


def test_members_of_every_audience_and_id_type_equal_duckdb(spark, small_workspace):
    import json

    logs = str(small_workspace / "segment-logs")
    truth = json.loads((small_workspace / "manifest.json").read_text())["audiences"]
    archive = SparkArchive(logs, spark)
    try:
        for id_type in ID_TYPES:
            ctes = latest_ctes(
                f"SELECT * FROM {archive.view('events')}",
                id_type=id_type, as_of=False, one_audience=False,
            )  # fmt: skip
            sql = f"{ctes}\nSELECT computation_key, person FROM latest WHERE value"
            rows = spark.sql(to_dialect(sql, "spark")).collect()
            got = {a: sorted(p for k, p in rows if k == a) for a in ALL_KEYS}
            # DuckDB gives exactly the manifest's members (tests/cohort/test_sample_workspace.py)
            assert got == {a: truth[a][f"by_{id_type}"] for a in ALL_KEYS}, id_type
            duck = osn.list_audiences(logs, id_type=id_type, raw_columns=True, cache=False)
            assert {a: len(m) for a, m in got.items()} == dict(
                zip(duck["audience"], duck["members"], strict=True)
            )
    finally:
        archive.close()


def test_load_cohort_with_spark_equals_duckdb_with_traits_and_report(spark, small_workspace):
    logs = str(small_workspace / "segment-logs")
    on_spark = osn.load_cohort(logs, audience="cart_abandoners", engine=spark)
    on_duck = osn.load_cohort(logs, audience="cart_abandoners", cache=False)
    assert on_spark.report.kind == "spark"
    assert on_spark.df.equals(on_duck.df)  # members, trait columns, values and dtypes
    for name in ("messages_read", "malformed_lines", "audience_messages", "duplicates_dropped",
                 "latest_false", "no_id_messages", "no_id_people", "no_id_members", "members"):  # fmt: skip
        assert on_spark.report[name] == on_duck.report[name], name


def test_a_spark_dataframe_and_as_of_give_the_same_answers(spark, small_workspace):
    import json

    manifest = json.loads((small_workspace / "manifest.json").read_text())
    logs = str(small_workspace / "segment-logs")
    frame = spark.read.json(logs + "/*/*/*.gz")  # schema inferred, nested structs
    table = osn.list_audiences(frame, as_of=manifest["as_of"], raw_columns=True)
    want = osn.list_audiences(logs, as_of=manifest["as_of"], raw_columns=True, cache=False)
    assert table.astype(str).equals(want.astype(str))
    cohort = osn.load_cohort(frame, audience="churn_risk", as_of=manifest["as_of"], traits=["plan"])
    assert cohort.external_ids == manifest["audiences"]["churn_risk"]["by_user_id_as_of"]
    assert list(cohort.df.columns) == ["external_id", "plan"]


def test_engine_must_be_a_spark_session(small_workspace):
    with pytest.raises(osn.errors.ValidationError, match="engine must be a pyspark SparkSession"):
        osn.load_cohort(small_workspace / "segment-logs", audience="churn_risk", engine="spark")
