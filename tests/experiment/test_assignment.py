"""Assignment: deterministic, recorded in the journal, stable as the cohort grows, unbiased over
many seeds, and a skewed split is flagged in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare

import onesig_nb as osn
from onesig_nb.campaign.assignment import HOLDOUT, REST, assign
from onesig_nb.campaign.lift import ratio_check


class NoClient:
    """Enough of a client for planning (nothing is sent in these tests)."""

    app_id = "app-test"
    api = "current"
    key_hint = "…"
    max_ids_per_request = 2_000
    max_workers = 1

    def redact(self, text: str) -> str:
        return text


def _cohort(n: int, prefix: str = "p") -> osn.Cohort:
    return osn.Cohort(pd.DataFrame({"external_id": [f"{prefix}-{i:05d}" for i in range(n)]}))


def _exp(cohort, tmp_path, **kw):
    msgs = {"A": osn.Message(contents="a"), "B": osn.Message(contents="b")}
    return osn.Experiment("spring", cohort, msgs, NoClient(), journal=tmp_path / "j.sqlite", **kw)


WEIGHTS = {"A": 0.5, "B": 0.5}


def test_the_rule_depends_only_on_the_name_and_the_id():
    ids = [f"u{i}" for i in range(500)]
    one = assign("exp", ids, weights=WEIGHTS, holdout=0.1, test_fraction=None)
    again = assign("exp", list(reversed(ids)), weights=WEIGHTS, holdout=0.1, test_fraction=None)
    other = assign("exp-2", ids, weights=WEIGHTS, holdout=0.1, test_fraction=None)

    assert one == again
    assert one != other  # another experiment, another split


def test_arms_are_recorded_once_and_kept_when_the_cohort_grows(tmp_path):
    exp = _exp(_cohort(300), tmp_path, holdout=0.2)
    first = exp.assign()

    grown = _exp(_cohort(600), tmp_path, holdout=0.2)
    second = grown.assign()

    assert {i: second[i] for i in first} == first
    newcomers = {i: a for i, a in second.items() if i not in first}
    assert newcomers == assign(
        "spring", list(newcomers), weights=WEIGHTS, holdout=0.2, test_fraction=None
    )
    stored = grown.records.arms()
    assert len(stored) == 600


def test_a_recorded_arm_wins_over_the_rule(tmp_path):
    exp = _exp(_cohort(50), tmp_path, holdout=0.2)
    eid = exp.cohort.external_ids[0]
    exp.records.save_settings(exp._settings())
    exp.records.record(
        {
            eid: "B"
            if assign("spring", [eid], weights=WEIGHTS, holdout=0.2, test_fraction=None)[eid] != "B"
            else "A"
        }
    )

    recorded = exp.records.arms()[eid]

    assert exp.assign()[eid] == recorded


def test_with_a_test_fraction_the_rest_waits_for_the_winner():
    ids = [f"u{i}" for i in range(20_000)]
    arms = pd.Series(assign("e", ids, weights=WEIGHTS, holdout=0.1, test_fraction=0.2))
    shares = arms.value_counts(normalize=True)

    assert shares[HOLDOUT] == pytest.approx(0.1, abs=0.01)
    assert shares["A"] == pytest.approx(0.9 * 0.2 * 0.5, abs=0.01)
    assert shares[REST] == pytest.approx(0.9 * 0.8, abs=0.015)


def test_chi_square_over_many_seeds_shows_no_bias():
    """Over 200 experiment names, the split's chi-square p-values are uniform (no arm is
    favoured): about 5% fall below 0.05, and their distribution passes a uniformity test."""
    ids = [f"user-{i}" for i in range(2_000)]
    weights = {"A": 0.3, "B": 0.3, "C": 0.4}
    shares = {HOLDOUT: 0.1, **{a: 0.9 * w for a, w in weights.items()}}
    pvalues = []
    for seed in range(200):
        arms = assign(f"exp-{seed}", ids, weights=weights, holdout=0.1, test_fraction=None)
        counts = pd.Series(arms).value_counts().to_dict()
        pvalues.append(ratio_check(counts, shares).p_value)
    pvalues = np.array(pvalues)

    assert (pvalues < 0.05).mean() < 0.1
    decile_counts = np.histogram(pvalues, bins=10, range=(0, 1))[0]
    assert chisquare(decile_counts).pvalue > 0.001


def test_a_skewed_split_is_flagged_in_plain_words():
    ok = ratio_check({HOLDOUT: 1_000, "A": 4_480, "B": 4_520}, {HOLDOUT: 0.1, "A": 0.45, "B": 0.45})
    skewed = ratio_check(
        {HOLDOUT: 1_000, "A": 4_100, "B": 4_900}, {HOLDOUT: 0.1, "A": 0.45, "B": 0.45}
    )

    assert not ok.flagged and ok.text.startswith("The split matches the plan")
    assert skewed.flagged
    assert "The split is off" in skewed.text and "A 41.0% (planned 45.0%)" in skewed.text


def test_the_plan_flags_a_split_that_lost_people_of_one_arm(tmp_path):
    exp = _exp(_cohort(4_000), tmp_path, holdout=0.2)
    arms = exp.assign()
    lost = [i for i, a in arms.items() if a == "B"][:600]
    shrunk = osn.Cohort(exp.cohort.df[~exp.cohort.df.external_id.isin(lost)])

    plan = _exp(shrunk, tmp_path, holdout=0.2).plan()

    assert plan.ratio.flagged
    assert "The split is off" in str(plan)
