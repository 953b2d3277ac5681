"""``onesig-nb send``: dry run, real run, re-run, conflicts and confirmation, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from onesig_nb.cli import main as cli_main
from onesig_nb.cli.send import cli_wording, main


@pytest.fixture
def files(tmp_path, roster, sb, monkeypatch):
    monkeypatch.setenv("ONESIGNAL_APP_ID", sb.app_id)
    monkeypatch.setenv("ONESIGNAL_REST_API_KEY", sb.api_key)
    monkeypatch.setenv("ONESIGNAL_API_BASE", sb.url)
    cohort = tmp_path / "cohort.parquet"
    roster[["external_id", "first_name", "plan"]].to_parquet(cohort)
    msg = tmp_path / "message.yaml"
    msg.write_text("contents:\n  en: \"Hi {{ first_name | default: 'there' }}\"\nheadings: Cart\n")
    return {"cohort": str(cohort), "msg": str(msg), "journal": str(tmp_path / "j.sqlite")}


def argv(f, name, *extra):
    return [
        "--cohort", f["cohort"], "--message", f["msg"], "--name", name,
        "--journal", f["journal"], *extra,
    ]  # fmt: skip


def test_dry_run_prints_the_plan_and_sends_nothing(files, sb, capsys):
    before = sb.request_count()
    assert main(argv(files, "cli-dry", "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "recipients      240" in out and "dry run: nothing was sent" in out
    assert sb.api_key not in out
    # the plan reads who is reachable (one subscription export); nothing else is requested
    assert set(sb.requests(before).path) <= {"/players/csv_export"}


def test_real_run_then_rerun_sends_nothing_twice(files, sb, capsys):
    assert main(argv(files, "cli-real")) == 0  # 240 people: under the default confirm_above
    out = capsys.readouterr().out
    assert "sent 216" in out
    before = sb.request_count()
    assert cli_main(["send", *argv(files, "cli-real")]) == 0
    out = capsys.readouterr().out
    assert "already sent" in out and sb.request_count() == before


def test_above_the_threshold_needs_yes(files, sb, capsys):
    before = sb.request_count()
    assert main(argv(files, "cli-big", "--confirm-above", "100")) == 3
    assert "--yes" in capsys.readouterr().err  # the plan read the export; nothing was sent
    assert set(sb.requests(before).path) <= {"/players/csv_export"}
    assert main(argv(files, "cli-big", "--confirm-above", "100", "--yes")) == 0


def test_changed_message_under_same_name_exits_nonzero_with_the_fix(files, sb, capsys, tmp_path):
    assert main(argv(files, "cli-conf")) == 0
    other = tmp_path / "other.yaml"
    other.write_text("contents: {en: Something else}\n")
    files = {**files, "msg": str(other)}
    before = sb.request_count()
    assert main(argv(files, "cli-conf")) == 1
    err = capsys.readouterr().err
    assert "new campaign name" in err and "extend" in err and sb.request_count() == before


def test_bad_inputs_exit_with_clear_messages(files, capsys, tmp_path):
    assert main(argv({**files, "msg": str(tmp_path / "nope.yaml")}, "x")) == 1
    assert "No message file" in capsys.readouterr().err
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"garbage" * 200)
    assert main(argv({**files, "journal": str(bad)}, "x")) == 1
    assert "Move that file aside" in capsys.readouterr().err
    assert main(["--name", "x"]) == 2


def test_dry_run_prints_real_characters_not_escapes(files, capsys):
    assert main(argv(files, "cli-chars", "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "\\u2026" not in out and "…" in out  # the masked key: "Key …abcd"


@pytest.fixture
def bare(files, monkeypatch, tmp_path):
    """The same files, but a scheduler box that lost its credentials."""
    for name in ("ONESIGNAL_APP_ID", "ONESIGNAL_REST_API_KEY", "ONESIGNAL_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return files


def test_send_without_credentials_refuses_and_starts_no_sandbox(bare, capsys, monkeypatch):
    import importlib

    # `onesig_nb.connect` is the function (osn.connect); the module is reached by its full name.
    module = importlib.import_module("onesig_nb.connect")
    monkeypatch.setattr(module, "connect", lambda **kw: pytest.fail("must not connect"))
    assert main(argv(bare, "cli-nokey")) == 1
    err = capsys.readouterr().err
    assert (
        "No ONESIGNAL_REST_API_KEY: refusing to send from a scheduled run to a temporary "
        "sandbox. Set ONESIGNAL_APP_ID and ONESIGNAL_REST_API_KEY (environment or .env), or "
        "pass --sandbox to rehearse." in err
    )


def test_sandbox_rehearsal_that_reaches_nobody_exits_nonzero(bare, capsys):
    # --sandbox: an empty temporary sandbox knows none of these people
    assert main(argv(bare, "cli-rehearse", "--sandbox")) == 1
    captured = capsys.readouterr()
    assert "temporary local sandbox" in captured.out
    assert "nobody was reached" in captured.err
    assert "no sample workspace found (pass --workspace DIR)" in captured.out


@pytest.fixture
def sample_files(sample_workspace, tmp_path):
    msg = tmp_path / "message.yaml"
    msg.write_text("contents:\n  en: \"Hi {{ first_name | default: 'there' }}\"\nheadings: Cart\n")
    return {
        "cohort": str(sample_workspace / "segment-logs"),
        "msg": str(msg),
        "journal": str(tmp_path / "real-journal.sqlite"),
    }


def test_sandbox_rehearsal_of_the_sample_reaches_its_people(
    sample_files, sample_workspace, bare, capsys
):
    from onesig_nb.samples import load_roster

    users = len(load_roster(sample_workspace))
    args = argv(sample_files, "cli-sample", "--audience", "cart_abandoners", "--sandbox", "--yes")
    assert main(args) == 0
    captured = capsys.readouterr()
    assert f"seeded with the {users} OneSignal users of the sample in" in captured.out
    assert "nobody was reached" not in captured.err
    sent = int(captured.out.split("campaign cli-sample: sent ")[1].split(",")[0].replace(" ", ""))
    assert sent > 0
    # a rehearsal keeps its own journal: the real one is never marked sent by it
    assert "a temporary journal" in captured.out
    assert not (Path(sample_files["journal"])).exists()
    assert main(args) == 0  # a second rehearsal is a new sandbox and a new journal: no conflict


def test_sandbox_flag_never_uses_the_app_in_the_credentials(files, sb, capsys):
    before = sb.request_count()
    assert main(argv(files, "cli-creds-rehearse", "--sandbox")) == 1  # nobody of cp-* in it
    out = capsys.readouterr().out
    assert "--sandbox: this run uses a temporary local sandbox" in out
    assert sb.request_count() == before


def test_an_unknown_audience_is_worded_with_the_flag(sample_files, bare, capsys):
    assert main(argv(sample_files, "cli-aud", "--audience", "cart_abandoner", "--dry-run")) == 1
    err = capsys.readouterr().err
    assert "No audience 'cart_abandoner' in this source. Did you mean 'cart_abandoners'?" in err
    assert "Pass one of these as --audience KEY." in err
    assert "audience=" not in err and "list_audiences" not in err


@pytest.mark.parametrize(
    ("library", "cli"),
    [
        (
            "Check campaign.plan(), then call send(confirm=1200) (or send(confirm=True)).",
            "Check the plan (--dry-run), then add --yes.",
        ),
        ("more than confirm_above=1,000. Nothing", "more than --confirm-above 1,000. Nothing"),
        ("Call send(extend=True) to send it only", "Call --extend to send it only"),
        (
            "call send(resend_expired=True) (onesig-nb send: --resend-expired) to send",
            "call --resend-expired to send",
        ),
        (
            "exclude_platforms=('ios', 'web'): people whose",
            "--exclude-platform ios --exclude-platform web: people whose",
        ),
        ("Resume it with the client (api=...) it was", "Resume it with the --api it was"),
        ("holds 3 audiences (a, b, c); pass audience=... to choose one.", "pass --audience KEY"),
    ],
)
def test_library_hints_are_reworded_with_the_commands_flags(library, cli):
    assert cli in cli_wording(library)


def test_a_text_warning_is_acknowledged_with_the_cli_flag(files, monkeypatch, capsys, tmp_path):
    """A misspelled variable without a fallback is refused until --acknowledge names it."""
    bad = tmp_path / "typo.yaml"
    bad.write_text("contents: 'Hi {{ frist_name }}, your cart is waiting.'\n")
    refused = main([*argv(files, "cli-ack", "--yes"), "--message", str(bad)])
    err = capsys.readouterr().err
    assert refused != 0 and "--acknowledge missing-variable" in err
    accepted = main(
        [*argv(files, "cli-ack", "--yes"), "--message", str(bad), "--acknowledge", "all"]
    )
    assert accepted == 0
