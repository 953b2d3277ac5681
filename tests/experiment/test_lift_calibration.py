"""The statistics keep their promises on simulated experiments with a known answer (no HTTP).

Thousands of A/B/holdout experiments are drawn with numpy's binomial, all compared at once by
the same function the Experiment uses (:func:`onesig_nb.campaign.lift.compare_counts`): the
95% intervals must cover the true lift 93-97% of the time, and with no true lift the winner
rule may name an arm in at most about 5% of them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from onesig_nb.campaign.lift import (
    compare_arms,
    compare_counts,
    holm,
    minimum_detectable_rate,
    people_needed,
    pick_winner,
    winner_index,
)

EXPERIMENTS = 2_000
PEOPLE = 3_000  # per arm and in the holdout
BASE = 0.04


def _simulate(lifts, *, seed: int, base: float = BASE, people: int = PEOPLE):
    rng = np.random.default_rng(seed)
    lifts = np.asarray(lifts, dtype=float)
    hold = rng.binomial(people, base, EXPERIMENTS)
    arms = rng.binomial(people, base + lifts, (EXPERIMENTS, len(lifts)))
    return compare_counts(arms, np.full(arms.shape, people), hold, np.full(EXPERIMENTS, people))


@pytest.mark.parametrize(
    ("lifts", "base", "seed"),
    [((0.02, 0.01), BASE, 11), ((0.0, 0.005, 0.015), 0.02, 12), ((0.05,), 0.30, 13)],
)
def test_95_percent_intervals_cover_the_true_lift_93_to_97_percent_of_the_time(lifts, base, seed):
    r = _simulate(lifts, seed=seed, base=base)
    truth = np.asarray(lifts)
    covered = (r["lift_low"] <= truth) & (truth <= r["lift_high"])
    relative = (base + truth) / base - 1
    covered_rel = (r["relative_low"] <= relative) & (relative <= r["relative_high"])

    assert 0.93 <= covered.mean() <= 0.97, covered.mean()
    assert 0.93 <= covered_rel.mean() <= 0.97, covered_rel.mean()


@pytest.mark.parametrize("arms", [1, 2, 4])
def test_with_no_true_lift_the_winner_rule_names_an_arm_at_most_5_percent_of_the_time(arms):
    r = _simulate([0.0] * arms, seed=100 + arms)

    picked = winner_index(r["lift"], r["lift_low"], r["p_adjusted"]) >= 0

    assert picked.mean() <= 0.05, picked.mean()


def test_a_real_lift_is_found_and_the_best_arm_usually_wins():
    r = _simulate([0.01, 0.025], seed=7)

    picked = winner_index(r["lift"], r["lift_low"], r["p_adjusted"])

    assert (picked == 1).mean() > 0.9
    assert (picked == 0).mean() < 0.05


def test_holm_gives_the_numbers_of_statsmodels_multipletests():
    rng = np.random.default_rng(5)
    for _ in range(20):
        p = rng.random(rng.integers(1, 6)) ** 3
        expected = multipletests(p, alpha=0.05, method="holm")[1]
        assert np.allclose(holm(p[None, :])[0], expected)


def test_compare_arms_and_pick_winner_read_one_experiment():
    comps = compare_arms({"A": (120, 3000), "B": (200, 3000)}, (110, 3000))

    assert [c.arm for c in comps] == ["A", "B"]
    b = comps[1]
    assert b.rate == pytest.approx(200 / 3000)
    assert b.lift == pytest.approx(200 / 3000 - 110 / 3000)
    assert b.lift_low < b.lift < b.lift_high
    assert b.relative == pytest.approx(200 / 110 - 1)
    assert b.p_adjusted >= b.p_value
    assert pick_winner(comps) is b
    assert not comps[0].significant


def test_an_empty_holdout_gives_no_lift_and_no_winner():
    comps = compare_arms({"A": (10, 100)}, (0, 0))

    assert math.isnan(comps[0].lift) and comps[0].p_value == 1.0
    assert pick_winner(comps) is None


def test_the_minimum_detectable_rate_shrinks_with_more_people_and_is_detectable():
    small = minimum_detectable_rate(0.03, 1_000, 1_000)
    large = minimum_detectable_rate(0.03, 20_000, 20_000)

    assert 0.03 < large < small < 1
    # Planned at that rate, the same sample size is what the power calculation asks for.
    needed = people_needed(0.03, large, holdout_share=1, arm_share=1)
    assert needed == pytest.approx(20_000, rel=0.01)
    assert people_needed(0.03, 0.03, holdout_share=1, arm_share=1) == math.inf
