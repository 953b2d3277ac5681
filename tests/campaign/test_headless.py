"""``onesig-nb send``: dry run, real run, re-run, conflicts and confirmation, against the sandbox."""

from __future__ import annotations

import pytest

from onesig_nb.cli import main as cli_main
from onesig_nb.cli.send import main


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
    assert sb.request_count() == before


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
    assert "--yes" in capsys.readouterr().err and sb.request_count() == before
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
