"""``onesig-nb send --rules`` / ``--reopen`` and ``onesig-nb cancel``, in-process against a real
sandbox: a frequency cap across two campaigns, a bad rules file, and a scheduled campaign
cancelled from the command line, refused, then reopened."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.cli import main as cli_main
from onesig_nb.cli.cancel import main as cancel_main
from onesig_nb.cli.send import cli_wording
from onesig_nb.cli.send import main as send_main

MESSAGE = "contents:\n  en: \"Hi {{ first_name | default: 'there' }}\"\nheadings: Cart\n"


def credentials(monkeypatch, sandbox) -> None:
    monkeypatch.setenv("ONESIGNAL_APP_ID", sandbox.app_id)
    monkeypatch.setenv("ONESIGNAL_REST_API_KEY", sandbox.api_key)
    monkeypatch.setenv("ONESIGNAL_API_BASE", sandbox.url)


@pytest.fixture
def files(tmp_path, roster, sb, monkeypatch):
    """The module sandbox's 240 people (every 10th unsubscribed) as a cohort file."""
    credentials(monkeypatch, sb)
    cohort = tmp_path / "cohort.parquet"
    roster[["external_id", "first_name", "plan"]].to_parquet(cohort)
    msg = tmp_path / "message.yaml"
    msg.write_text(MESSAGE)
    return {"cohort": str(cohort), "msg": str(msg), "journal": str(tmp_path / "j.sqlite")}


def argv(f, name, *extra):
    return [
        "--cohort", f["cohort"], "--message", f["msg"], "--name", name,
        "--journal", f["journal"], *extra,
    ]  # fmt: skip


def test_rules_cap_leaves_the_second_campaign_with_nobody(files, sb, tmp_path, capsys):
    rules = tmp_path / "rules.yaml"
    rules.write_text("max_per_person: [1, 24h]\n")
    assert send_main(argv(files, "cap-a", "--rules", str(rules))) == 0
    out = capsys.readouterr().out
    assert "rule            at most 1 push per person in any day" in out
    assert "sent 216" in out

    before = sb.request_count()
    code = cli_main(["send", *argv(files, "cap-b", "--rules", str(rules))])
    captured = capsys.readouterr()
    assert code == 1  # nobody reached exits 1, as for people not in the app
    assert "Left out: 216 capped" in captured.out  # the plan says why
    assert "left out by the sending rules" in captured.out  # the result's note
    assert "216 were left out by the sending rules (216 capped until " in captured.err
    assert "(1 per day)" in captured.err
    assert "24 cannot be reached" in captured.err
    assert "Check the app id" not in captured.err  # not blamed on the app or the cohort
    # no push was created for campaign B (the plan may read the subscription export)
    assert "/notifications" not in set(sb.requests(before).path)


def test_the_dry_run_shows_the_rules_and_who_they_leave_out(files, tmp_path, capsys):
    rules = tmp_path / "rules.yaml"
    rules.write_text("max_per_person: [1, 24h]\nsuppress: \"plan == 'pro'\"\n")
    assert send_main(argv(files, "rules-dry", "--rules", str(rules), "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "rule            never to" in out and "Left out: " in out and "suppressed" in out
    assert "dry run: nothing was sent." in out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("max_per_person: [0, 24h]\n", "max_per_person must be (count, window)"),
        ("max_per_persn: [1, 24h]\n", "Unknown rule(s) ['max_per_persn']"),
        ("quiet_hours: [21:00\n", "is not valid YAML"),
        ("- max_per_person\n", "must hold a mapping"),
        ("quiet_hours: ['25:00', '08:00']\n", "quiet_hours' start must be a local time"),
    ],
)
def test_a_bad_rules_file_is_a_clear_error_naming_the_file(files, sb, tmp_path, capsys, text, says):
    rules = tmp_path / "bad-rules.yaml"
    rules.write_text(text)
    before = sb.request_count()
    assert send_main(argv(files, "rules-bad", "--rules", str(rules))) == 1
    err = capsys.readouterr().err
    assert err.startswith("onesig-nb send: error: ") and str(rules) in err and says in err
    assert "Traceback" not in err and sb.request_count() == before  # refused before any request


def test_a_missing_rules_file_is_named(files, tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert send_main(argv(files, "rules-missing", "--rules", str(missing))) == 1
    assert f"Rules file {str(missing)!r} does not exist." in capsys.readouterr().err


@pytest.mark.parametrize(
    ("library", "cli"),
    [
        (
            "To send it after all, call send(reopen=True) (onesig-nb send: --reopen): it sends",
            "To send it after all, run this command again with --reopen: it sends",
        ),
        ("it was cancelled (send(reopen=True) sends it after all)", "(--reopen sends it"),
        (
            "was cancelled (x), so send() sends nothing more (what went out before the cancel "
            "is in result() and the cancel's list). To send it after all, call "
            "send(reopen=True) (onesig-nb send: --reopen): it sends",
            "so onesig-nb send sends nothing more (what went out before the cancel was listed "
            "by onesig-nb cancel). To send it after all, run this command again with --reopen",
        ),
        (
            "send() now refuses; send(reopen=True) sends it after all.",
            "onesig-nb send now refuses it; onesig-nb send --reopen sends it after all.",
        ),
    ],
)
def test_reopen_hints_are_worded_with_the_flag(library, cli):
    assert cli in cli_wording(library)
    assert "reopen=True" not in cli_wording(library)


# -- cancel -----------------------------------------------------------------------------------
PEOPLE = ["ana", "ben", "kai"]


@pytest.fixture
def own_sb():
    """A sandbox of the test's own: its clock moves."""
    with osn.Sandbox() as sandbox:
        sandbox.add_users([{"external_id": e, "platform": "ios"} for e in PEOPLE])
        yield sandbox


@pytest.fixture
def scheduled(tmp_path, own_sb, monkeypatch):
    """A cohort of three and a message scheduled one day ahead on the sandbox clock."""
    credentials(monkeypatch, own_sb)
    cohort = tmp_path / "cohort.parquet"
    # no first_name: everyone gets the same text, so one notification
    pd.DataFrame({"external_id": PEOPLE, "plan": ["free", "pro", "free"]}).to_parquet(cohort)
    when = (own_sb.now() + timedelta(days=1)).replace(microsecond=0)
    msg = tmp_path / "scheduled.yaml"
    msg.write_text(MESSAGE + f"send_after: '{when.isoformat()}'\n")
    return {"cohort": str(cohort), "msg": str(msg), "journal": str(tmp_path / "j.sqlite")}


def test_cancel_a_scheduled_campaign_then_reopen_it(scheduled, own_sb, capsys):
    sb = own_sb
    assert send_main(argv(scheduled, "later")) == 0
    assert "goes out" in capsys.readouterr().out
    first = sb.notifications()
    assert len(first) == 1 and first.state.iloc[0] == "scheduled"

    assert cli_main(["cancel", "--name", "later", "--journal", scheduled["journal"]]) == 0
    out = capsys.readouterr().out
    assert "campaign later: Cancelled for 3 people (scheduled, not delivered)." in out
    assert "onesig-nb send now refuses it; onesig-nb send --reopen sends it after all." in out
    assert "cancelled 3" in out and "gone out 0" in out and "1 cancel request." in out
    assert "Already gone out" not in out
    assert sb.notifications().state.tolist() == ["canceled"]

    reopened_after = sb.advance(days=2)
    assert sb.deliveries().empty  # the cancelled push never went out

    before = sb.request_count()
    assert send_main(argv(scheduled, "later")) == 1
    captured = capsys.readouterr()
    assert "was cancelled" in captured.err and "--reopen" in captured.err
    assert "reopen=True" not in captured.err + captured.out
    assert "/notifications" not in set(sb.requests(before).path)

    assert send_main(argv(scheduled, "later", "--reopen")) == 0
    out = capsys.readouterr().out
    assert "sent 3" in out
    notes = sb.notifications()
    new = notes[~notes.id.isin(first.id)]
    assert len(new) == 1  # a new request (new key), not the cancelled one replayed
    sb.advance(minutes=1)
    delivered = sb.deliveries()
    assert sorted(delivered.external_id) == PEOPLE
    assert set(delivered.notification_id) == set(new.id)
    assert (delivered.delivered_at >= reopened_after.timestamp()).all()  # only the new one

    # running it again sends nothing twice
    assert send_main(argv(scheduled, "later", "--reopen")) == 0
    assert "already sent" in capsys.readouterr().out
    assert len(sb.notifications()) == 2


def test_cancel_lists_what_had_already_gone_out(scheduled, own_sb, tmp_path, capsys):
    now_msg = tmp_path / "now.yaml"
    now_msg.write_text(MESSAGE)
    args = argv({**scheduled, "msg": str(now_msg)}, "at-once")
    assert send_main(args) == 0
    capsys.readouterr()
    # sent at once, answered under an hour ago: cancel asks, and OneSignal refuses (delivered)
    assert cancel_main(["--name", "at-once", "--journal", scheduled["journal"]]) == 0
    out = capsys.readouterr().out
    assert "3 people had already got it (listed below)." in out
    assert "Already gone out, or unknown" in out
    for person in PEOPLE:
        assert f"  {person}" in out and "gone_out" in out
    assert "to_frame()" not in out


def test_cancel_refuses_clearly(scheduled, own_sb, tmp_path, capsys, monkeypatch):
    journal = scheduled["journal"]
    # no journal file: nothing is created
    assert cancel_main(["--name", "later", "--journal", journal]) == 1
    assert "no journal file" in capsys.readouterr().err
    assert not (tmp_path / "j.sqlite").exists()

    assert send_main(argv(scheduled, "later")) == 0
    capsys.readouterr()
    assert cancel_main(["--name", "latre", "--journal", journal]) == 1
    err = capsys.readouterr().err
    assert "no campaign named 'latre'" in err and "Campaigns in it: 'later'" in err

    assert cancel_main(["--journal", journal]) == 2  # --name is required
    capsys.readouterr()

    before = own_sb.request_count()
    monkeypatch.setenv("ONESIGNAL_APP_ID", "00000000-0000-4000-8000-000000000000")
    assert cancel_main(["--name", "later", "--journal", journal]) == 1  # another app's key
    err = capsys.readouterr().err
    assert f"belongs to app {own_sb.app_id}" in err and "Nothing was cancelled" in err
    assert own_sb.request_count() == before

    for name in ("ONESIGNAL_APP_ID", "ONESIGNAL_REST_API_KEY", "ONESIGNAL_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    before = own_sb.request_count()
    assert cancel_main(["--name", "later", "--journal", journal]) == 1
    assert "No ONESIGNAL_REST_API_KEY: cannot cancel" in capsys.readouterr().err
    assert own_sb.request_count() == before
    assert own_sb.notifications().state.tolist() == ["scheduled"]
