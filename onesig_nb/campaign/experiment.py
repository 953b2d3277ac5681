"""Experiment: A/B/n variants with a holdout, lift measured from Segment conversions, and the
winner sent to everyone else exactly once.

    exp = Experiment("spring-nudge", cohort, {"A": msg_a, "B": msg_b}, client,
                     journal="campaigns.sqlite", holdout=0.1, test_fraction=0.2)
    exp.plan(base_rate=0.03)        # arm sizes, split check, the smallest lift it can detect
    exp.send(confirm=True)          # phase one: each variant to its arm; the holdout is held out
    res = exp.results(ws / "segment-logs", event="Order Completed", window="72h")
    exp.send_winner(arm="auto", confirm=True)   # the winner to everyone not in phase one, once

Built from :class:`~onesig_nb.campaign.campaign.Campaign` and nothing private of it: each arm is
its own journaled campaign named ``"<experiment>:<arm>"`` over that arm's people (so a test send,
confirmation, exactly-once, resume after a kill and progress are the campaign's own), and the
winner goes out as ``"<experiment>:rest"``. Who is in which arm, when the holdout was held out
and which arm won are recorded in the same journal file, in the experiment's own tables
(:mod:`~onesig_nb.campaign.assignment`). The statistics are :mod:`~onesig_nb.campaign.lift`;
the track events come from :mod:`~onesig_nb.campaign.conversions`; the display is
:mod:`~onesig_nb.campaign.experiment_views`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from onesig_nb._times import positive_duration, utc_instant
from onesig_nb.campaign.assignment import HOLDOUT, RESERVED_ARMS, REST, ExperimentRecords, assign
from onesig_nb.campaign.batches import as_cohort
from onesig_nb.campaign.campaign import Campaign
from onesig_nb.campaign.conversions import read_track_events
from onesig_nb.campaign.experiment_views import (
    ArmPlan,
    ExperimentPlan,
    ExperimentResults,
    ExperimentSend,
    no_winner_text,
)
from onesig_nb.campaign.lift import (
    compare_arms,
    minimum_detectable_rate,
    people_needed,
    pick_winner,
    ratio_check,
)
from onesig_nb.campaign.protocols import PushClient
from onesig_nb.errors import (
    CampaignConflict,
    ConfirmationRequired,
    OneSigNbError,
    ValidationError,
)
from onesig_nb.journal import Journal, open_journal
from onesig_nb.message import Message

__all__ = ["DEFAULT_WINDOW", "Experiment"]

log = logging.getLogger("onesig_nb.campaign.experiment")

#: How long after their send a person's conversion counts, unless results() is told otherwise.
DEFAULT_WINDOW = "72h"
#: Weights must sum to 1 within this tolerance (floating point: 1/3 + 1/3 + 1/3).
WEIGHT_TOLERANCE = 1e-6


def _check_variants(variants: Any) -> dict[str, Message]:
    if not isinstance(variants, Mapping) or not variants:
        raise ValidationError(
            "variants must be a dict of arm name -> Message, e.g. "
            "variants={'A': Message(...), 'B': Message(...)}."
        )
    out: dict[str, Message] = {}
    for arm, msg in variants.items():
        if not isinstance(arm, str) or not arm.strip():
            raise ValidationError(f"Variant names must be non-empty strings, not {arm!r}.")
        if arm in RESERVED_ARMS:
            raise ValidationError(
                f"{arm!r} is reserved for the experiment's own arms ({', '.join(RESERVED_ARMS)}); "
                "name the variant something else, e.g. 'A'."
            )
        if not isinstance(msg, Message):
            raise ValidationError(
                f"Variant {arm!r} is a {type(msg).__name__}, not a Message. Build each variant "
                f"with onesig_nb.Message(contents=...): variants={{{arm!r}: Message(...)}}."
            )
        out[arm] = msg
    return out


def _check_weights(weights: Any, arms: list[str]) -> dict[str, float]:
    if weights is None:
        return {a: 1 / len(arms) for a in arms}
    if not isinstance(weights, Mapping) or set(weights) != set(arms):
        got = sorted(weights) if isinstance(weights, Mapping) else weights
        raise ValidationError(
            f"weights must give a share for each variant ({', '.join(arms)}), got {got!r}. "
            "Leave weights=None for an even split."
        )
    out: dict[str, float] = {}
    for arm in arms:
        w = weights[arm]
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w <= 1:
            raise ValidationError(
                f"The weight of variant {arm!r} must be a share between 0 and 1, not {w!r}."
            )
        out[arm] = float(w)
    total = sum(out.values())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ValidationError(
            f"The weights sum to {total:g}, not 1: they are each variant's share of the people "
            f"who are not held out. E.g. {dict.fromkeys(arms, round(1 / len(arms), 4))} "
            "(or weights=None for an even split)."
        )
    return out


def _check_share(name: str, value: Any, *, allow_zero: bool) -> float:
    low = 0 <= value if allow_zero else 0 < value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low and value < 1):
        span = "0 (none) and below 1" if allow_zero else "above 0 and below 1"
        raise ValidationError(
            f"{name} must be a share of the cohort {span}, e.g. {name}=0.1, not {value!r}."
        )
    return float(value)


class Experiment:
    """Variants of a push to random arms of one cohort, a holdout that gets nothing, and the
    lift each variant caused, measured from Segment track events.

    :param name: unique within the journal; it seeds the assignment and names the campaigns
    :param cohort: a :class:`~onesig_nb.Cohort` (or a DataFrame with ``external_id``)
    :param variants: arm name -> :class:`~onesig_nb.Message`
    :param client: a :class:`~onesig_nb.OneSignal` client (real API or sandbox)
    :param journal: SQLite file (or open journal) shared with the arms' campaigns
    :param holdout: share of the cohort never sent (0 for none: then lift cannot be measured)
    :param weights: each variant's share of the people not held out (default: even)
    :param test_fraction: send the variants to this share of the non-holdout cohort first;
        :meth:`send_winner` later sends the chosen variant to the rest (None: one phase)
    :param campaign_options: passed to every arm's :class:`~onesig_nb.Campaign`
        (``confirm_above``, ``batch_size``, ``exclude_platforms``, ``personalization``,
        ``test_users``, ``tag_map``, ``rules``: the sending rules, so the arms count against
        the frequency cap like any campaign and wait out quiet hours; ``now``)
    """

    def __init__(
        self,
        name: str,
        cohort: Any,
        variants: Mapping[str, Message],
        client: PushClient,
        *,
        journal: Journal | str | os.PathLike = "campaigns.sqlite",
        holdout: float = 0.1,
        weights: Mapping[str, float] | None = None,
        test_fraction: float | None = None,
        **campaign_options: Any,
    ):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("An experiment needs a non-empty name (it seeds the split).")
        if "schedule" in campaign_options:
            raise ValidationError(
                "Experiments send now: schedule= would make each arm's send time a guess. "
                "Run the cell at the time you want instead."
            )
        self.name = name
        self.variants = _check_variants(variants)
        self.weights = _check_weights(weights, list(self.variants))
        self.holdout = _check_share("holdout", holdout, allow_zero=True)
        self.test_fraction = (
            None
            if test_fraction is None
            else _check_share("test_fraction", test_fraction, allow_zero=False)
        )
        self.cohort = as_cohort(cohort)
        self.client = client
        self.journal = open_journal(journal)
        self.confirm_above = int(campaign_options.get("confirm_above", 1_000))
        self.campaign_options = dict(campaign_options)
        self.records = ExperimentRecords(self.journal, name)
        self._check_settings()
        self.last_results: ExperimentResults | None = None

    def __repr__(self) -> str:
        arms = ", ".join(self.variants)
        return (
            f"Experiment({self.name!r}, arms=[{arms}], holdout={self.holdout:g}, "
            f"people={len(self.cohort):,}, journal={str(self.journal.path)!r})"
        )

    # -- settings and assignment --------------------------------------------------------------
    def _settings(self) -> dict:
        return {
            "variants": list(self.variants),
            "weights": self.weights,
            "holdout": self.holdout,
            "test_fraction": self.test_fraction,
        }

    def _check_settings(self) -> None:
        """Refuse a name already used with another split (its people would change arms)."""
        stored = self.records.settings()
        if stored is None or stored == self._settings():
            return
        diff = ", ".join(
            f"{k} {stored.get(k)!r} -> {v!r}"
            for k, v in self._settings().items()
            if stored.get(k) != v
        )
        raise CampaignConflict(
            f"Experiment {self.name!r} (journal {str(self.journal.path)!r}) was set up with a "
            f"different split ({diff}). People already assigned would change arms, which breaks "
            "the comparison. Nothing was sent. Use the original settings, or a new experiment "
            "name for a new test."
        )

    def campaign_name(self, arm: str) -> str:
        """The journaled campaign of an arm: ``"<experiment>:<arm>"`` (``:rest`` = the winner)."""
        return f"{self.name}:{arm}"

    def _phase_one_started(self) -> bool:
        return any(self.journal.batches(self.campaign_name(a), kind="send") for a in self.variants)

    def _phase_one_start(self) -> str | None:
        times = [
            b.created_at
            for a in self.variants
            for b in self.journal.batches(self.campaign_name(a), kind="send")
            if b.created_at
        ]
        return min(times) if times else None

    def _usable_ids(self) -> list[str]:
        return [i for i in dict.fromkeys(self.cohort.external_ids) if isinstance(i, str) and i]

    def assign(self) -> dict[str, str]:
        """``{external_id: arm}`` for the current cohort, newcomers recorded in the journal."""
        self.records.save_settings(self._settings())
        recorded = self.records.arms()
        ids = self._usable_ids()
        new = [i for i in ids if i not in recorded]
        if new:
            fresh = assign(
                self.name, new, weights=self.weights, holdout=self.holdout,
                test_fraction=self.test_fraction, phase_one_open=not self._phase_one_started(),
            )  # fmt: skip
            self.records.record(fresh)
            recorded = self.records.arms()
        return {i: recorded[i] for i in ids}

    def assignments(self):
        """DataFrame: external_id, arm (a variant, ``holdout`` or ``rest``) for the cohort."""
        import pandas as pd

        arms = self.assign()
        return pd.DataFrame({"external_id": list(arms), "arm": list(arms.values())})

    def _members(self, arm: str, arms: Mapping[str, str]) -> list[str]:
        return [i for i, a in arms.items() if a == arm]

    def arm_campaign(self, arm: str, *, message: Message | None = None) -> Campaign:
        """The campaign that sends ``arm`` (a variant, or ``rest`` with ``message``)."""
        arms = self.assign()
        if arm not in self.variants and arm != REST:
            raise ValidationError(
                f"No arm {arm!r} in experiment {self.name!r}: its variants are "
                f"{', '.join(map(repr, self.variants))}."
            )
        cohort = self.cohort.subset(self._members(arm, arms))
        msg = message if message is not None else self.variants.get(arm)
        return Campaign(
            self.campaign_name(arm), cohort, msg, self.client, journal=self.journal,
            **self.campaign_options,
        )  # fmt: skip

    # -- plan ---------------------------------------------------------------------------------
    def _planned_shares(self) -> dict[str, float]:
        f = 1.0 if self.test_fraction is None else self.test_fraction
        shares = {HOLDOUT: self.holdout}
        shares.update({a: (1 - self.holdout) * f * w for a, w in self.weights.items()})
        if self.test_fraction is not None:
            shares[REST] = (1 - self.holdout) * (1 - f)
        return shares

    def _split_check(self, arms: Mapping[str, str]):
        """The chi-square split check over people assigned while phase one was open (later
        newcomers join ``rest`` by design, which is not a mismatch)."""
        start = self._phase_one_start()
        if start is not None:
            when = self.records.assigned_at()
            arms = {i: a for i, a in arms.items() if when.get(i, "") <= start}
        counts: dict[str, int] = {}
        for a in arms.values():
            counts[a] = counts.get(a, 0) + 1
        return ratio_check(counts, self._planned_shares())

    def _phase(self) -> str:
        if not self._phase_one_done():
            return "one"
        if self.test_fraction is None:
            return "done"
        rest = self.journal.run(self.campaign_name(REST))
        if rest is None or self.arm_campaign_status(REST) != "sent":
            return "two"
        return "done"

    def arm_campaign_status(self, arm: str) -> str:
        from onesig_nb.campaign.results import campaign_status

        return campaign_status(self.journal, self.campaign_name(arm))

    def _phase_one_done(self) -> bool:
        arms = self.records.arms()
        return (
            all(
                self.arm_campaign_status(a) == "sent"
                for a in self.variants
                if any(v == a for v in arms.values())
            )
            and self._phase_one_started()
        )

    def plan(self, *, base_rate: float | None = None) -> ExperimentPlan:
        """Arm sizes, the split check and, given the ``base_rate`` you expect without a push,
        the smallest conversion rate an arm must reach for this test to detect it.

        Records newcomers' arms in the journal (that is what makes the split stable); sends
        nothing.
        """
        if base_rate is not None and not (
            isinstance(base_rate, (int, float)) and 0 < base_rate < 1
        ):
            raise ValidationError(
                f"base_rate is the conversion rate you expect without a push, a share between "
                f"0 and 1 such as 0.03, not {base_rate!r}."
            )
        arms = self.assign()
        shares = self._planned_shares()
        phase = self._phase()
        rows, plans = [], {}
        for arm in [HOLDOUT, *self.variants] + ([REST] if self.test_fraction is not None else []):
            members = self._members(arm, arms)
            to_send, state = 0, ""
            if arm == HOLDOUT:
                state = "held out: never sent"
            elif arm == REST:
                winner = self.records.winner()
                if winner is None:
                    state = "waits for the winner (send_winner)"
                else:
                    camp = self.arm_campaign(REST, message=self.variants[winner[0]])
                    plans[arm] = p = camp.plan(extend=True)
                    to_send = p.to_send if phase == "two" or self._phase_one_done() else 0
                    state = f"gets {winner[0]}: {p.state_text}"
            elif members:
                plans[arm] = p = self.arm_campaign(arm).plan(extend=True)
                to_send, state = p.to_send, p.state_text
            else:
                state = "nobody in this arm"
            rows.append(ArmPlan(arm, len(members), shares[arm], to_send, state))
        mde = None
        if base_rate is not None:
            sizes = [r.people for r in rows if r.arm in self.variants]
            hold = next(r.people for r in rows if r.arm == HOLDOUT)
            mde = minimum_detectable_rate(
                float(base_rate), min(sizes) if sizes else 0, hold, arms=len(self.variants)
            )
        notes = []
        if self.holdout == 0:
            notes.append(
                "holdout=0: nobody is held out, so results() can compare the variants with "
                "each other but cannot say whether sending helped at all."
            )
        for arm, p in plans.items():
            if p.errors:
                notes.append(
                    f"{arm}: {len(p.errors)} lint error(s): see exp.arm_campaign({arm!r}).plan()"
                )
            elif p.state in ("conflict", "blocked") and p.note:
                notes.append(f"{arm}: {p.note}")
        return ExperimentPlan(
            name=self.name, arms=rows, ratio=self._split_check(arms), phase=phase,
            base_rate=None if base_rate is None else float(base_rate), mde_rate=mde,
            notes=notes, campaign_plans=plans, held_out=tuple(self._members(HOLDOUT, arms)),
        )  # fmt: skip

    # -- send ---------------------------------------------------------------------------------
    def _ready(self, campaigns: dict[str, Campaign]) -> dict[str, Any]:
        """Each arm campaign's plan; refuses (sending nothing) when any arm cannot send."""
        plans = {arm: c.plan(extend=True) for arm, c in campaigns.items()}
        for arm, p in plans.items():
            if p.errors:
                listed = "; ".join(f"{f.code}: {f.message}" for f in p.errors)
                raise ValidationError(
                    f"Variant {arm!r} of experiment {self.name!r} has lint errors, so no arm "
                    f"was sent: {listed}. Fix the message and send again."
                )
            if p.state in ("conflict", "blocked"):
                raise CampaignConflict(
                    f"Arm {arm!r} of experiment {self.name!r} cannot send, so no arm was sent: "
                    f"{p.note or p.state_text}"
                )
        return plans

    def _confirm(self, confirm: Any, to_send: dict[str, int], what: str) -> None:
        total = sum(to_send.values())
        per = ", ".join(f"{a}: {n:,}" for a, n in to_send.items())
        if type(confirm) is int and confirm != total:
            raise ConfirmationRequired(
                f"Experiment {self.name!r} was confirmed for {confirm:,} people, but {what} "
                f"would now send to {total:,} ({per}). Nothing was sent. Check exp.plan(), then "
                f"confirm={total}."
            )
        if total > self.confirm_above and not (confirm is True or type(confirm) is int):
            raise ConfirmationRequired(
                f"Experiment {self.name!r}: {what} would send to {total:,} people ({per}), more "
                f"than confirm_above={self.confirm_above:,}. Nothing was sent. Check exp.plan(), "
                f"then pass confirm={total} (or confirm=True)."
            )

    def send(
        self,
        *,
        confirm: bool | int | None = None,
        acknowledge: bool | Iterable[str] | str = (),
        progress: Any = True,
    ) -> ExperimentSend:
        """Phase one: each variant to its arm, exactly once; the holdout is journaled as held
        out and never sent. Re-running resumes an interrupted arm and sends nobody twice;
        people who joined the cohort since are assigned by the same rule (and, without
        ``test_fraction``, their arm is sent to them).

        :param confirm: ``True`` or the total number of people of every arm (as the plan shows
            it), needed above ``confirm_above``
        :param acknowledge: lint warnings that change the text for some people, accepted for
            every arm (as :meth:`Campaign.send` takes them)
        """
        arms = self.assign()
        campaigns = {a: self.arm_campaign(a) for a in self.variants if self._members(a, arms)}
        plans = self._ready(campaigns)
        self._confirm(confirm, {a: p.to_send for a, p in plans.items()}, "phase one")
        results = {}
        for arm, camp in campaigns.items():
            results[arm] = camp.send(
                confirm=plans[arm].to_send, acknowledge=acknowledge, extend=True, progress=progress
            )
        holdout = [i for i, a in arms.items() if a == HOLDOUT]
        held_before = self.records.held()
        answered = any(
            self.journal.batches(self.campaign_name(a), kind="send", states=("done",))
            for a in campaigns
        )
        if answered:  # the variants went out (to whoever OneSignal could reach)
            self.records.hold(holdout)
        fresh = sum(1 for i in holdout if i not in held_before)
        return ExperimentSend(self.name, results, held_out=len(holdout) if fresh else 0)

    def send_winner(
        self,
        arm: str = "auto",
        *,
        confirm: bool | int | None = None,
        acknowledge: bool | Iterable[str] | str = (),
        results: ExperimentResults | None = None,
        progress: Any = True,
    ) -> ExperimentSend:
        """Phase two: send one variant to everyone not in a phase-one arm (the holdout stays
        held out), exactly once, across kernel deaths.

        :param arm: ``"auto"`` (the winner rule on ``results``: the arm that beats the holdout
            after the correction, with the highest lower confidence bound) or a variant's name.
            The first choice is journaled: later calls resume it and refuse another arm.
        :param acknowledge: lint warnings that change the text for some people, accepted (as
            :meth:`Campaign.send` takes them)
        :param results: what to decide on (default: the last :meth:`results` of this object)
        """
        if self.test_fraction is None:
            raise ValidationError(
                f"Experiment {self.name!r} sends every variant in one phase (test_fraction="
                "None): there is nobody left to send a winner to. Set test_fraction=0.2 on a new "
                "experiment to test on a share first."
            )
        if arm != "auto" and arm not in self.variants:
            raise ValidationError(
                f"arm must be 'auto' or one of the variants ({', '.join(map(repr, self.variants))}),"
                f" not {arm!r}."
            )
        arms = self.assign()
        if not self._phase_one_done():
            raise ValidationError(
                f"Phase one of experiment {self.name!r} is not sent yet (or unfinished): call "
                "exp.send(confirm=...) first, wait for conversions, then send the winner."
            )
        recorded = self.records.winner()
        if recorded is not None:
            if arm not in ("auto", recorded[0]):
                raise CampaignConflict(
                    f"Experiment {self.name!r} already chose {recorded[0]!r} for the rest "
                    f"({recorded[1]}). Nothing was sent: sending {arm!r} too would push two "
                    f"variants to the same people. Call send_winner() (or arm={recorded[0]!r}) "
                    "to finish that send."
                )
            chosen, reason = recorded
        else:
            chosen, reason = self._choose(arm, results)
        camp = self.arm_campaign(REST, message=self.variants[chosen])
        if not self._members(REST, arms):
            return ExperimentSend(self.name, {}, winner=chosen, note="Nobody is in the rest.")
        plans = self._ready({REST: camp})
        self._confirm(confirm, {REST: plans[REST].to_send}, f"sending {chosen!r} to the rest")
        if recorded is None:
            kept, _ = self.records.choose_winner(chosen, reason)
            if kept != chosen:  # another kernel chose first
                raise CampaignConflict(
                    f"Another process chose {kept!r} as the winner of {self.name!r} a moment "
                    "ago. Nothing was sent from here. Call send_winner() to finish its send."
                )
        result = camp.send(
            confirm=plans[REST].to_send, acknowledge=acknowledge, extend=True, progress=progress
        )
        return ExperimentSend(self.name, {REST: result}, winner=chosen, note=reason)

    def _choose(self, arm: str, results: ExperimentResults | None) -> tuple[str, str]:
        if arm != "auto":
            return arm, f"named by hand: arm={arm!r}"
        if self.holdout == 0:
            raise ValidationError(
                f"arm='auto' picks the variant that beats the holdout, but experiment "
                f"{self.name!r} has holdout=0: there is nothing to beat. Name the variant: "
                f"send_winner(arm={next(iter(self.variants))!r})."
            )
        res = results or self.last_results
        if res is None:
            raise ValidationError(
                "arm='auto' decides on results: call exp.results(source, event='...') first "
                "(or pass results=...), or name the variant: send_winner(arm='B')."
            )
        if res.provisional:
            raise ValidationError(
                f"The results are provisional: the {res.window} window closes at "
                f"{res.closes_at:%Y-%m-%d %H:%M} UTC for the last person measured. Read "
                "results again after that (or with as_of= a later time), or name the variant."
            )
        if res.winner is None:
            raise ValidationError(
                f"{res.refusal[:1].upper()}{res.refusal[1:]}. Nothing was sent. Wait for more "
                "data, or name the variant to send it anyway: send_winner(arm='...')."
            )
        return res.winner, res.verdict

    # -- results ------------------------------------------------------------------------------
    def exposures(self):
        """Who was measured from when: external_id, arm, sent_at (UTC).

        Variant people count from their batch's answer (the journal's ``finished_at``), all of
        them whether or not OneSignal could reach a device, just as the holdout includes people
        who could not have been reached (intention to treat: the only comparison the holdout
        makes fair). People whose batch failed or never got an answer are not measured. Holdout
        people count from when their experiment's arms went out (the journal's ``held_at``).
        """
        import pandas as pd

        arms = self.assign()
        rows = []
        for arm in self.variants:
            name = self.campaign_name(arm)
            answered = self._answered_at(name)
            for b in self.journal.batches(name, kind="send", states=("done",)):
                at = answered.get(b.seq) or b.created_at
                rows += [(eid, arm, at) for eid in b.external_ids if arms.get(eid) == arm]
        rows += [(eid, HOLDOUT, at) for eid, at in self.records.held().items() if eid in arms]
        frame = pd.DataFrame(rows, columns=["external_id", "arm", "sent_at"])
        frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True)
        return frame.drop_duplicates("external_id", keep="first").reset_index(drop=True)

    def _answered_at(self, run: str) -> dict[int, str]:
        """``{batch seq: when its answer was journaled}`` (the ``batches.finished_at`` column,
        which :class:`~onesig_nb.journal.Batch` does not carry)."""
        rows = self.journal.store.rows(
            "SELECT seq, finished_at FROM batches WHERE run=? AND kind='send' "
            "AND finished_at IS NOT NULL",
            (run,),
        )
        return dict(rows)

    def results(
        self,
        source: Any,
        event: str = "Order Completed",
        window: Any = DEFAULT_WINDOW,
        as_of: Any = None,
        *,
        clicks: bool = True,
        kind: str | None = None,
        schema: str | None = None,
    ) -> ExperimentResults:
        """Conversions per arm: a person converted when ``event`` follows their own send time
        within ``window`` (and by ``as_of``, default now). Lifts against the holdout with 95%
        intervals, Holm-corrected p-values, the winner (if any) and OneSignal's clicks.

        :param source: any cohort source holding track events: the archive folder, a DuckDB
            warehouse, a SQLAlchemy URL (PostgreSQL), or a DataFrame of events
        """
        import pandas as pd

        window_td = positive_duration(window, name="window")
        now = utc_instant(as_of, name="as_of") if as_of is not None else pd.Timestamp.now(tz="UTC")
        exposed = self.exposures()
        if exposed.empty:
            raise ValidationError(
                f"The results window of experiment {self.name!r} has not started: nothing was "
                "sent yet. Call exp.send(confirm=...) first."
            )
        first = exposed["sent_at"].min()
        if now < first:
            raise ValidationError(
                f"The results window has not started at as_of={now:%Y-%m-%d %H:%M} UTC: the "
                f"first send of {self.name!r} was at {first:%Y-%m-%d %H:%M} UTC. Pass a later "
                "as_of (or none, for now)."
            )
        until = min(now, exposed["sent_at"].max() + window_td)
        events = read_track_events(
            source, event, since=first, until=until, id_type=self.cohort.id_type,
            kind=kind, schema=schema,
        )  # fmt: skip
        hits = exposed.merge(events, on="external_id", how="inner")
        ok = (hits["ts"] > hits["sent_at"]) & (hits["ts"] <= hits["sent_at"] + window_td)
        ok &= hits["ts"] <= now
        converted = set(hits.loc[ok, "external_id"])
        exposed["converted"] = exposed["external_id"].isin(converted)
        counts = exposed.groupby("arm")["converted"].agg(["sum", "count"])
        result = self._compare(counts, event, window_td, now, exposed)
        if clicks:
            self._add_clicks(result)
        self.last_results = result
        return result

    def _compare(self, counts, event, window, now, exposed) -> ExperimentResults:
        import pandas as pd
        from statsmodels.stats.proportion import proportion_confint

        def cn(arm: str) -> tuple[int, int]:
            if arm not in counts.index:
                return 0, 0
            return int(counts.loc[arm, "sum"]), int(counts.loc[arm, "count"])

        hold = cn(HOLDOUT)
        comps = compare_arms({a: cn(a) for a in self.variants}, hold)
        winner = pick_winner(comps) if hold[1] else None
        base = hold[0] / hold[1] if hold[1] else math.nan
        rows = []
        for arm, (c, n) in [(HOLDOUT, hold)] + [(a, cn(a)) for a in self.variants]:
            lo, hi = proportion_confint(c, n, alpha=0.05, method="wilson") if n else (math.nan,) * 2
            row = {"arm": arm, "people": n, "converters": c, "rate": c / n if n else math.nan,
                   "rate_low": float(lo), "rate_high": float(hi)}  # fmt: skip
            comp = next((x for x in comps if x.arm == arm), None)
            for key in ("lift", "lift_low", "lift_high", "relative", "relative_low",
                        "relative_high", "p_value", "p_adjusted"):  # fmt: skip
                row[key] = getattr(comp, key) if comp is not None else math.nan
            row["significant"] = bool(comp.significant) if comp is not None else False
            rows.append(row)
        frame = pd.DataFrame(rows)
        refusal = ""
        if winner is None:
            needed = {
                c.arm: people_needed(
                    base,
                    c.rate,
                    holdout_share=hold[1],
                    arm_share=max(c.people, 1),
                    arms=len(self.variants),
                )  # fmt: skip
                for c in comps
                if c.people
            }
            refusal = no_winner_text(comps, base, hold[1], needed)
        measured = {a: n for a, (_, n) in ((a, cn(a)) for a in [HOLDOUT, *self.variants])}
        shares = {a: s for a, s in self._planned_shares().items() if a != REST}
        start = self._phase_one_start()
        if start is not None:  # only people assigned while phase one was open
            when = self.records.assigned_at()
            early = exposed[exposed["external_id"].map(lambda i: when.get(i, "") <= start)]
            measured = early["arm"].value_counts().to_dict()
        ratio = ratio_check(measured, {a: s / sum(shares.values()) for a, s in shares.items()})
        notes = [
            f"A person converted when {event!r} followed their own send within "
            f"{window}; variant people counted whether or not a device got the push, like the "
            "holdout (intention to treat). Intervals: Newcombe (difference), log ratio "
            "(relative); p-values: score test, Holm-corrected across arms."
        ]
        if not hold[1]:
            notes.append("No holdout: lifts cannot be computed; compare the arms' rates only.")
        return ExperimentResults(
            name=self.name, event=event, window=window, as_of=now,
            closes_at=exposed["sent_at"].max() + window, frame=frame, comparisons=comps,
            ratio=ratio, winner=None if winner is None else winner.arm, refusal=refusal,
            notes=notes,
        )  # fmt: skip

    def _add_clicks(self, result: ExperimentResults) -> None:
        """OneSignal's clicks and delivered devices per arm (secondary: a click is not a sale)."""
        clicks, delivered = {}, {}
        for arm in self.variants:
            if not self.journal.batches(self.campaign_name(arm), kind="send"):
                continue
            try:
                report = self.arm_campaign(arm).report(poll_interval=0.0, timeout=0.0)
            except OneSigNbError as exc:
                result.notes.append(f"OneSignal clicks of {arm} are not available: {exc}")
                continue
            clicks[arm] = report.totals["converted"]
            delivered[arm] = report.totals["successful"]
        result.frame["clicks"] = result.frame["arm"].map(clicks)
        result.frame["devices_delivered"] = result.frame["arm"].map(delivered)
