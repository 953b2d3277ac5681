"""Bad input is refused before anything is sent, with a typed error that says how to fix it."""

from __future__ import annotations

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.samples import simulate_conversions


@pytest.fixture(scope="module", autouse=True)
def _b_people_are_in_onesignal(seeded_sandbox):
    """The b-* people exist in the sandbox: a campaign sends only to people it can reach
    (the others are excluded before sending), and these tests are about bad input."""
    seeded_sandbox.add_users([{"external_id": f"b-{i}", "platform": "ios"} for i in range(200)])


def _cohort(n: int = 40) -> osn.Cohort:
    return osn.Cohort(pd.DataFrame({"external_id": [f"b-{i}" for i in range(n)]}))


@pytest.fixture
def msgs():
    return {"A": osn.Message(contents="a"), "B": osn.Message(contents="b")}


def test_variants_that_are_not_messages(client, tmp_path):
    with pytest.raises(osn.ValidationError, match="Variant 'B' is a str, not a Message"):
        osn.Experiment("x", _cohort(), {"A": osn.Message(contents="a"), "B": "hello"}, client,
                       journal=tmp_path / "j.sqlite")  # fmt: skip
    with pytest.raises(osn.ValidationError, match="dict of arm name -> Message"):
        osn.Experiment("x", _cohort(), [osn.Message(contents="a")], client,
                       journal=tmp_path / "j.sqlite")  # fmt: skip
    with pytest.raises(osn.ValidationError, match="'holdout' is reserved"):
        osn.Experiment("x", _cohort(), {"holdout": osn.Message(contents="a")}, client,
                       journal=tmp_path / "j.sqlite")  # fmt: skip


def test_weights_that_do_not_sum_up(client, msgs, tmp_path):
    with pytest.raises(osn.ValidationError, match="The weights sum to 1.2, not 1"):
        osn.Experiment("x", _cohort(), msgs, client, journal=tmp_path / "j.sqlite",
                       weights={"A": 0.6, "B": 0.6})  # fmt: skip
    with pytest.raises(osn.ValidationError, match="a share for each variant"):
        osn.Experiment("x", _cohort(), msgs, client, journal=tmp_path / "j.sqlite",
                       weights={"A": 1.0})  # fmt: skip
    with pytest.raises(osn.ValidationError, match="holdout must be a share"):
        osn.Experiment("x", _cohort(), msgs, client, journal=tmp_path / "j.sqlite", holdout=1.5)


def test_auto_winner_without_a_holdout(client, msgs, tmp_path):
    exp = osn.Experiment("no-hold", _cohort(), msgs, client, journal=tmp_path / "j.sqlite",
                         holdout=0, test_fraction=0.5)  # fmt: skip
    exp.send(confirm=True, progress=False)

    with pytest.raises(osn.ValidationError, match="holdout=0: there is nothing to beat"):
        exp.send_winner("auto", confirm=True, progress=False)
    assert exp.send_winner("A", confirm=True, progress=False).winner == "A"


def test_auto_winner_refuses_without_a_winner_in_plain_words(client, msgs, tmp_path):
    exp = osn.Experiment("no-win", _cohort(200), msgs, client, journal=tmp_path / "j.sqlite",
                         holdout=0.3, test_fraction=0.5)  # fmt: skip
    exp.send(confirm=True, progress=False)
    sent = exp.exposures()
    first = sent[sent.arm != "holdout"].head(3)
    events = pd.DataFrame({"event": "Order Completed", "user_id": first.external_id,
                           "timestamp": first.sent_at + pd.Timedelta("1h")})  # fmt: skip
    res = exp.results(events, window="24h", as_of=sent.sent_at.max() + pd.Timedelta("2D"),
                      clicks=False)  # fmt: skip

    with pytest.raises(
        osn.ValidationError,
        match="No variant beats the holdout yet: .* vs 0.0% .* more people per arm",
    ):
        exp.send_winner("auto", confirm=True, progress=False)
    assert res.winner is None and "more people per arm" in res.refusal


def test_a_window_that_has_not_started(client, msgs, tmp_path):
    exp = osn.Experiment("early", _cohort(), msgs, client, journal=tmp_path / "j.sqlite")
    events = pd.DataFrame({"event": ["Order Completed"], "user_id": ["b-1"],
                           "timestamp": [pd.Timestamp.now(tz="UTC")]})  # fmt: skip

    with pytest.raises(osn.ValidationError, match="has not started: nothing was sent yet"):
        exp.results(events)
    with pytest.raises(osn.ValidationError, match="window must be a positive duration"):
        exp.results(events, window="-3h")


def test_changing_the_split_of_a_named_experiment_is_refused(client, msgs, tmp_path):
    osn.Experiment("same", _cohort(), msgs, client, journal=tmp_path / "j.sqlite").plan()

    with pytest.raises(osn.errors.CampaignConflict, match="holdout 0.1 -> 0.2"):
        osn.Experiment("same", _cohort(), msgs, client, journal=tmp_path / "j.sqlite",
                       holdout=0.2)  # fmt: skip


def test_simulate_conversions_checks_its_input(workspace):
    people = pd.DataFrame({"external_id": ["a"], "arm": ["A"],
                           "sent_at": [pd.Timestamp("2026-01-01", tz="UTC")]})  # fmt: skip
    with pytest.raises(osn.ValidationError, match="lift names arms nobody is in: 'C'"):
        simulate_conversions(workspace, people, base_rate=0.1, lift={"C": 0.1})
    with pytest.raises(osn.ValidationError, match="base_rate must be a probability"):
        simulate_conversions(workspace, people, base_rate=2, lift={"A": 0.1})
    with pytest.raises(osn.ValidationError, match="external_id, arm and sent_at"):
        simulate_conversions(workspace, people.drop(columns="arm"), base_rate=0.1, lift={})
