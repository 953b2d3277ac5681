"""The statistics of an experiment, and nothing else: sample-ratio check, lift against the
holdout with confidence intervals, corrected p-values, the winner rule, power and sample sizes.

Every distribution comes from scipy or statsmodels; this module only chooses the methods and
words their results:

- sample ratio: :func:`scipy.stats.chisquare` (goodness of fit of arm sizes to their weights);
- absolute lift: Newcombe's hybrid score interval for a difference of two independent
  proportions (:func:`statsmodels.stats.proportion.confint_proportions_2indep`,
  ``method="newcomb"``), which keeps its coverage near 95% at conversion rates of a few percent
  where the Wald interval does not; its p-value is the score test of the same difference
  (:func:`~statsmodels.stats.proportion.test_proportions_2indep`, ``method="score"``);
- relative lift: the ratio of the two rates, ``method="log-adjusted"``;
- several arms: Holm's step-down correction (the numbers of
  :func:`statsmodels.stats.multitest.multipletests`, computed in :func:`holm` for many
  experiments at once), which keeps the chance of calling any arm a winner by luck at ``alpha``
  or below;
- power: :class:`statsmodels.stats.power.NormalIndPower` on Cohen's ``h``
  (:func:`~statsmodels.stats.proportion.proportion_effectsize`).

Pure functions of counts: no journal, no HTTP, fast enough for thousands of simulated
experiments (the calibration test runs them vectorised).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ALPHA",
    "POWER",
    "SRM_ALPHA",
    "ArmComparison",
    "RatioCheck",
    "compare_arms",
    "compare_counts",
    "holm",
    "minimum_detectable_rate",
    "people_needed",
    "pick_winner",
    "ratio_check",
    "winner_index",
]

#: Two-sided significance level of every interval and test (95% intervals).
ALPHA = 0.05
#: The power a test should have to detect the lift it was planned for (the usual 80%).
POWER = 0.8
#: A sample-ratio mismatch is flagged below this chi-square p-value. Practitioners use a very
#: small threshold because a real mismatch is a bug, not noise: Fabijan et al., "Diagnosing
#: Sample Ratio Mismatch in Online Controlled Experiments" (KDD 2019) flag at p < 0.0005;
#: 0.001 is the common rounder choice and what this toolkit uses.
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class RatioCheck:
    """Whether the arm sizes match their intended split (chi-square goodness of fit)."""

    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float

    @property
    def flagged(self) -> bool:
        return bool(self.p_value < SRM_ALPHA)

    @property
    def text(self) -> str:
        """One sentence: "The split matches the plan" or what is off and what it means."""
        total = sum(self.observed.values())
        if total == 0:
            return "Nobody is assigned yet."
        shares = ", ".join(
            f"{arm} {n / total:.1%} (planned {self.expected[arm] / total:.1%})"
            for arm, n in self.observed.items()
        )
        if not self.flagged:
            return f"The split matches the plan: {shares}."
        return (
            f"The split is off: {shares}; a split this uneven happens by chance less than once "
            f"in {round(1 / max(self.p_value, 1e-12)):,} experiments (chi-square p = "
            f"{self.p_value:.2g}). Something other than chance decides who is in which arm "
            "(a filter, a lost send, people added to one arm only): find it before trusting "
            "the results."
        )


def ratio_check(observed: Mapping[str, int], weights: Mapping[str, float]) -> RatioCheck:
    """Compare arm sizes with the weights they were drawn with (``weights`` sum to 1)."""
    arms = [a for a in weights if weights[a] > 0]
    counts = np.array([int(observed.get(a, 0)) for a in arms], dtype=float)
    total = counts.sum()
    expected = np.array([weights[a] for a in arms], dtype=float) * total
    if total == 0 or len(arms) < 2:
        chi2, p = 0.0, 1.0
    else:
        from scipy.stats import chisquare

        res = chisquare(counts, expected)
        chi2, p = float(res.statistic), float(res.pvalue)
    return RatioCheck(
        observed={a: int(c) for a, c in zip(arms, counts, strict=True)},
        expected={a: float(e) for a, e in zip(arms, expected, strict=True)},
        chi2=chi2,
        p_value=p,
    )


@dataclass(frozen=True)
class ArmComparison:
    """One arm against the holdout: rates, lifts with 95% intervals, raw and Holm p-values."""

    arm: str
    people: int
    converters: int
    rate: float
    lift: float  # absolute: rate - holdout rate
    lift_low: float
    lift_high: float
    relative: float  # rate / holdout rate - 1
    relative_low: float
    relative_high: float
    p_value: float
    p_adjusted: float

    @property
    def significant(self) -> bool:
        """Better than the holdout after the correction for several arms."""
        return bool(self.p_adjusted < ALPHA and self.lift > 0)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis (one row per experiment).

    The same numbers as :func:`statsmodels.stats.multitest.multipletests` with
    ``method="holm"`` (a test pins them equal), computed for many experiments at once:
    multipletests runs a full :func:`gc.collect` on every call (about 0.1 s in a notebook
    process), which a calibration over thousands of simulated experiments cannot afford.
    """
    p = np.asarray(p_values, dtype=float)
    k = p.shape[-1]
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1) * (k - np.arange(k))
    adjusted = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return out


def compare_counts(
    converters: np.ndarray, people: np.ndarray, holdout_converters: Any, holdout_people: Any
) -> dict[str, np.ndarray]:
    """Every arm of every experiment against its holdout, at once.

    :param converters: shape ``(experiments, arms)`` (or ``(arms,)`` for one experiment)
    :param people: same shape
    :param holdout_converters: shape ``(experiments,)`` (or a number)
    :returns: arrays of the shape of ``converters``: ``rate``, ``lift``, ``lift_low``,
        ``lift_high``, ``relative``, ``relative_low``, ``relative_high``, ``p_value``,
        ``p_adjusted`` (Holm across the arms of each experiment). An arm or holdout with nobody
        gets NaN lifts and a p-value of 1.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    c1 = np.atleast_2d(np.asarray(converters, dtype=float))
    n1 = np.atleast_2d(np.asarray(people, dtype=float))
    c0 = np.broadcast_to(np.asarray(holdout_converters, dtype=float).reshape(-1, 1), c1.shape)
    n0 = np.broadcast_to(np.asarray(holdout_people, dtype=float).reshape(-1, 1), c1.shape)
    nan = np.full(c1.shape, np.nan)
    out = {k: nan.copy() for k in ("lift_low", "lift_high", "relative_low", "relative_high")}
    p = np.ones(c1.shape)
    ok = (n1 > 0) & (n0 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n1 > 0, c1 / np.where(n1 > 0, n1, 1), np.nan)
        base = np.where(n0 > 0, c0 / np.where(n0 > 0, n0, 1), np.nan)
        if ok.any():
            args = (c1[ok], n1[ok], c0[ok], n0[ok])
            low, high = confint_proportions_2indep(*args, method="newcomb", alpha=ALPHA)
            out["lift_low"][ok], out["lift_high"][ok] = low, high
            rlow, rhigh = confint_proportions_2indep(
                *args, method="log-adjusted", compare="ratio", alpha=ALPHA
            )
            out["relative_low"][ok] = np.asarray(rlow, dtype=float) - 1
            out["relative_high"][ok] = np.asarray(rhigh, dtype=float) - 1
            pv = np.asarray(
                test_proportions_2indep(*args, method="score", compare="diff").pvalue, dtype=float
            )
            p[ok] = np.where(np.isnan(pv), 1.0, pv)
        relative = np.where(base > 0, rate / np.where(base > 0, base, 1) - 1, np.nan)
    out.update(rate=rate, lift=rate - base, relative=relative, p_value=p, p_adjusted=holm(p))
    return out


def winner_index(lift: np.ndarray, lift_low: np.ndarray, p_adjusted: np.ndarray) -> np.ndarray:
    """Per experiment (row), the index of the arm the winner rule picks, or -1: among arms
    better than the holdout with a Holm-adjusted p below :data:`ALPHA`, the one with the
    highest lower bound of its absolute lift."""
    qualified = (np.asarray(p_adjusted) < ALPHA) & (np.asarray(lift) > 0)
    score = np.where(qualified, np.nan_to_num(np.asarray(lift_low), nan=-np.inf), -np.inf)
    best = np.argmax(score, axis=-1)
    return np.where(qualified.any(axis=-1), best, -1)


def compare_arms(
    arms: Mapping[str, tuple[int, int]], holdout: tuple[int, int]
) -> list[ArmComparison]:
    """Each arm ``(converters, people)`` against the ``holdout`` ``(converters, people)``."""
    names = list(arms)
    if not names:
        return []
    r = compare_counts(
        [[arms[a][0] for a in names]], [[arms[a][1] for a in names]], holdout[0], holdout[1]
    )
    return [
        ArmComparison(
            arm=arm,
            people=int(arms[arm][1]),
            converters=int(arms[arm][0]),
            **{k: float(v[0, i]) for k, v in r.items()},
        )  # fmt: skip
        for i, arm in enumerate(names)
    ]


def pick_winner(comparisons: Sequence[ArmComparison]) -> ArmComparison | None:
    """The arm that beats the holdout after the correction with the highest lower bound of its
    absolute lift (:func:`winner_index`), or None when no arm does."""
    if not comparisons:
        return None
    i = int(
        winner_index(
            np.array([[c.lift for c in comparisons]]),
            np.array([[c.lift_low for c in comparisons]]),
            np.array([[c.p_adjusted for c in comparisons]]),
        )[0]
    )
    return None if i < 0 else comparisons[i]


def _rate_for_h(base: float, h: float) -> float:
    """The conversion rate that is Cohen's ``h`` above ``base`` (the inverse of
    :func:`~statsmodels.stats.proportion.proportion_effectsize`; 1.0 when out of range)."""
    angle = math.asin(math.sqrt(base)) + h / 2
    return 1.0 if angle >= math.pi / 2 else math.sin(angle) ** 2


def minimum_detectable_rate(
    base_rate: float, people_per_arm: int, holdout_people: int, *, arms: int = 1
) -> float:
    """The smallest conversion rate an arm must reach for the test to detect it against
    ``base_rate`` with :data:`POWER` (two-sided, ``alpha`` split over ``arms`` as Holm's first
    step does). NaN when an arm or the holdout is empty."""
    from statsmodels.stats.power import NormalIndPower

    if people_per_arm <= 0 or holdout_people <= 0 or not 0 < base_rate < 1:
        return math.nan
    h = NormalIndPower().solve_power(
        effect_size=None, nobs1=people_per_arm, alpha=ALPHA / max(1, arms), power=POWER,
        ratio=holdout_people / people_per_arm, alternative="two-sided",
    )  # fmt: skip
    return _rate_for_h(base_rate, float(h))


def people_needed(
    base_rate: float, arm_rate: float, *, holdout_share: float, arm_share: float, arms: int = 1
) -> float:
    """People per arm needed to detect ``arm_rate`` against ``base_rate`` with :data:`POWER`,
    when the holdout gets ``holdout_share / arm_share`` people for each arm person. Infinite
    when the rates are equal (or the arm is worse: nothing to detect)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    if not (0 <= base_rate < 1 and 0 < arm_rate < 1) or arm_rate <= base_rate:
        return math.inf
    h = abs(float(proportion_effectsize(arm_rate, base_rate)))
    n = NormalIndPower().solve_power(
        effect_size=h, nobs1=None, alpha=ALPHA / max(1, arms), power=POWER,
        ratio=holdout_share / arm_share, alternative="two-sided",
    )  # fmt: skip
    return float(n)
