"""Seeded sandboxes carry the QA phone "qa-you", once, from connect() and from `make lab`."""

from __future__ import annotations

import shutil

import pandas as pd

from onesig_nb.cli.lab import start_sandbox
from onesig_nb.connect import SANDBOX_TEST_USER, connect, seed_sandbox
from onesig_nb.samples import load_roster

ROSTER = "onesignal-users.csv"


def _qa_rows(sb) -> pd.DataFrame:
    users = sb.users()
    return users[users.external_id == SANDBOX_TEST_USER]


def test_the_test_user_constant_is_qa_you_and_not_in_the_sample_roster(sample_workspace):
    assert SANDBOX_TEST_USER == "qa-you"
    assert SANDBOX_TEST_USER not in set(load_roster(sample_workspace).external_id)


def test_seed_sandbox_adds_the_roster_and_one_subscribed_ios_qa_phone_once(
    fresh_sandbox, sample_workspace
):
    roster = load_roster(sample_workspace)
    first = seed_sandbox(fresh_sandbox, sample_workspace)
    assert first == {"roster": len(roster), "test_user": 1}
    again = seed_sandbox(fresh_sandbox, sample_workspace)
    assert again == {"roster": 0, "test_user": 0}
    users = fresh_sandbox.users()
    assert len(users) == roster.external_id.nunique() + 1
    (subs,) = _qa_rows(fresh_sandbox).subscriptions
    assert subs == [{"platform": "ios", "subscribed": True}]


def test_seeding_without_a_workspace_first_still_adds_the_roster_later(
    fresh_sandbox, sample_workspace
):
    assert seed_sandbox(fresh_sandbox) == {"roster": 0, "test_user": 1}
    later = seed_sandbox(fresh_sandbox, sample_workspace)
    assert later["roster"] > 0 and later["test_user"] == 0
    assert len(_qa_rows(fresh_sandbox)) == 1


def test_connect_without_a_key_can_push_to_qa_you_out_of_the_box(
    sample_workspace, monkeypatch, capsys
):
    monkeypatch.setenv("ONESIG_NB_WORKSPACE", str(sample_workspace))
    with connect() as client:
        line = capsys.readouterr().out
        assert "'qa-you'" in line and "Nothing reaches real users" in line
        result = client.send_push([SANDBOX_TEST_USER], {"contents": {"en": "QA check"}})
        assert result.notification_ids
        deliveries = client.sandbox.deliveries()
        assert list(deliveries.external_id) == [SANDBOX_TEST_USER]
        assert list(deliveries.platform) == ["ios"]


def test_the_lab_sandbox_gets_qa_you_once_across_restarts(sample_workspace, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(sample_workspace / ROSTER, ws / ROSTER)
    sb = start_sandbox(ws)
    try:
        count = len(sb.users())
        assert len(_qa_rows(sb)) == 1
    finally:
        sb.stop()
    sb = start_sandbox(ws)  # same sandbox.sqlite: seeding must not add anything twice
    try:
        assert len(sb.users()) == count and len(_qa_rows(sb)) == 1
    finally:
        sb.stop()
