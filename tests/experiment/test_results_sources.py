"""Results read Segment track events from any source and agree: the archive, the DuckDB
warehouse and PostgreSQL give the same people and converters per arm, which are exactly the
simulated truth (events before a person's own send, or after their window, never count)."""

from __future__ import annotations

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign.assignment import HOLDOUT
from onesig_nb.samples import simulate_conversions
from tests import postgres

LIFT = {"A": 0.0, "B": 0.5}


@pytest.fixture
def measured(workspace, seeded_sandbox, client, variants, tmp_path):
    """An experiment sent to the sample cohort, and a day of simulated conversions."""
    cohort = osn.load_cohort(workspace / "segment-logs", audience="cart_abandoners")
    exp = osn.Experiment(
        "measured", cohort, variants, client, journal=tmp_path / "j.sqlite", holdout=0.3
    )
    exp.send(confirm=True, progress=False)
    truth = simulate_conversions(
        workspace, exp.exposures(), base_rate=0.1, lift=LIFT, seed=4,
        delivered=seeded_sandbox.deliveries(),
    )  # fmt: skip
    later = exp.exposures()["sent_at"].max() + pd.Timedelta(days=4)
    return exp, truth, later


def _counts(res) -> pd.DataFrame:
    return res.to_frame().set_index("arm")[["people", "converters"]]


def test_archive_and_duckdb_agree_with_the_simulated_truth(measured, workspace):
    exp, truth, later = measured

    from_archive = exp.results(workspace / "segment-logs", window="72h", as_of=later)
    from_duckdb = exp.results(workspace / "warehouse.duckdb", window="72h", as_of=later)

    expected = truth.groupby("arm").agg(people=("external_id", "size"),
                                        converters=("converted", "sum"))  # fmt: skip
    pd.testing.assert_frame_equal(_counts(from_archive), _counts(from_duckdb))
    got = _counts(from_archive).loc[expected.index]
    assert got["people"].tolist() == expected["people"].tolist()
    assert got["converters"].tolist() == expected["converters"].tolist()
    assert not from_archive.provisional
    assert from_archive.to_frame().loc[lambda f: f.arm == "B", "clicks"].notna().all()


def test_a_shorter_window_and_an_earlier_as_of_count_fewer_and_say_provisional(measured, workspace):
    exp, truth, _ = measured
    first = exp.exposures()["sent_at"].min()

    early = exp.results(workspace / "warehouse.duckdb", window="72h",
                        as_of=first + pd.Timedelta(hours=6), clicks=False)  # fmt: skip
    short = exp.results(workspace / "warehouse.duckdb", window="2h",
                        as_of=first + pd.Timedelta(days=5), clicks=False)  # fmt: skip

    assert early.provisional and early.verdict.startswith("Provisional")
    total = int(truth["converted"].sum())
    assert early.to_frame()["converters"].sum() < total
    assert short.to_frame()["converters"].sum() < total
    with pytest.raises(osn.ValidationError, match="has not started"):
        exp.results(workspace / "warehouse.duckdb", as_of=first - pd.Timedelta(hours=1))


def test_an_unknown_event_is_refused_with_a_did_you_mean(measured, workspace):
    exp, _, later = measured

    with pytest.raises(osn.ValidationError, match="Did you mean 'Order Completed'") as err:
        exp.results(workspace / "segment-logs", event="order completed", as_of=later)
    assert "'Checkout Started'" in str(err.value)
    with pytest.raises(osn.ValidationError, match="Did you mean 'Order Completed'"):
        exp.results(workspace / "warehouse.duckdb", event="Order Complete", as_of=later)


@pytest.fixture
def pg_url(workspace):
    """A fresh PostgreSQL database holding the workspace's tracks table (skips without a
    server outside CI)."""
    with postgres.scratch_database(
        postgres.server_url(), workspace / "warehouse.duckdb",
        schema="web_source", tables=["tracks"], prefix="onesig_exp_",
    ) as url:  # fmt: skip
        yield url


def test_postgresql_agrees_with_the_archive(measured, workspace, pg_url):
    exp, _, later = measured
    from_pg = exp.results(pg_url, window="72h", as_of=later, clicks=False)
    from_archive = exp.results(workspace / "segment-logs", window="72h", as_of=later,
                               clicks=False)  # fmt: skip

    pd.testing.assert_frame_equal(_counts(from_pg), _counts(from_archive))
    assert _counts(from_pg).loc[HOLDOUT, "people"] > 0


def test_a_frame_of_events_is_a_source_too(measured):
    exp, truth, later = measured
    hits = truth[truth["converted"]]
    events = pd.DataFrame({"event": "Order Completed", "user_id": hits["external_id"],
                           "timestamp": hits["ts"]})  # fmt: skip

    res = exp.results(events, window="72h", as_of=later, clicks=False)

    assert res.to_frame()["converters"].sum() == len(hits)
