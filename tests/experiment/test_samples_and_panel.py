"""simulate_conversions gives the same events for the same seed and replaces its own earlier
output; the ExperimentPanel sends phase one and the winner only after a typed confirmation."""

from __future__ import annotations

import duckdb
import pandas as pd

import onesig_nb as osn
from onesig_nb.samples import simulate_conversions


def _people(n: int = 400) -> pd.DataFrame:
    at = pd.Timestamp("2026-03-02T10:00:00Z")
    return pd.DataFrame({"external_id": [f"s-{i}" for i in range(n)],
                         "arm": ["holdout" if i % 4 == 0 else "A" for i in range(n)],
                         "sent_at": at})  # fmt: skip


def _tracks(ws) -> int:
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM tracks").fetchall()[0][0]
    finally:
        con.close()


def test_same_seed_same_truth_and_a_rerun_replaces_its_events(workspace):
    before = _tracks(workspace)
    one = simulate_conversions(workspace, _people(), base_rate=0.1, lift={"A": 0.3}, seed=9)
    after_one = _tracks(workspace)
    files = sorted((workspace / "segment-logs").rglob("conversions-*.gz"))
    two = simulate_conversions(workspace, _people(), base_rate=0.1, lift={"A": 0.3}, seed=9)

    pd.testing.assert_frame_equal(one, two)
    assert _tracks(workspace) == after_one > before
    assert files and sorted((workspace / "segment-logs").rglob("conversions-*.gz")) == files
    rates = one.groupby("arm")["converted"].mean()
    assert rates["A"] > rates["holdout"]
    assert (one.loc[one.converted, "ts"] > one.loc[one.converted, "sent_at"]).all()


def test_the_panel_sends_only_after_the_number_is_typed(seeded_sandbox, client, cohort,
                                                        variants, tmp_path):  # fmt: skip
    from onesig_nb.widgets import ExperimentPanel

    exp = osn.Experiment("panel", cohort, variants, client, journal=tmp_path / "j.sqlite",
                         holdout=0.2, test_fraction=0.5)  # fmt: skip
    panel = ExperimentPanel(exp, base_rate=0.05)
    n = panel.plan.to_send
    assert panel.send_button.description == f"Send phase one to {n} people"
    assert panel.winner_button.disabled

    panel._on_send()
    panel.confirm_text.value = str(n - 1)
    assert panel.confirm_button.disabled
    panel._on_confirm()
    assert exp.exposures().empty
    panel.confirm_text.value = str(n)
    panel._on_confirm()

    assert exp.plan().phase == "two"
    assert "held out" in panel.to_html()
    assert not panel.winner_button.disabled
    panel.arm_choice.value = "B"
    panel._on_winner()
    panel.confirm_text.value = "panel"
    panel._on_confirm()
    assert exp.records.winner()[0] == "B"
    assert exp.plan().phase == "done"


def test_the_results_chart_draws_an_arm_with_no_converter():
    """A rate of 0 sits on its Wilson interval's end; rounding must not break the chart."""
    import pandas as pd

    from onesig_nb.campaign.experiment_views import ExperimentResults

    frame = pd.DataFrame(
        {
            "arm": ["holdout", "A"],
            "people": [10, 12],
            "converters": [0, 3],
            "rate": [0.0, 0.25],
            "rate_low": [1e-18, 0.089],  # a hair above the rate, as floating point can give
            "rate_high": [0.278, 0.532],
        }
    )
    now = pd.Timestamp("2026-11-30", tz="UTC")
    results = ExperimentResults(
        name="tiny", event="Order Completed", window=pd.Timedelta("72h"), as_of=now,
        closes_at=now, frame=frame,
    )  # fmt: skip
    assert results.figure_png()  # a PNG, not a ValueError from matplotlib
