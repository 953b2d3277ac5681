"""Our errors in a notebook read as their message, not as a traceback through onesig_nb.

An in-process IPython shell runs the cells, as a kernel would.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

IPython = pytest.importorskip("IPython")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from onesig_nb._display import register  # noqa: E402

UNKNOWN_AUDIENCE = "No audience 'cart_abandoner' in this source."
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def shown(capsys) -> str:
    """What the cell printed, without terminal colours."""
    return ANSI.sub("", capsys.readouterr().out)


@pytest.fixture
def shell(sample_workspace):
    sh = InteractiveShell.instance()
    sh.set_custom_exc((), None)
    assert register(sh)
    sh.user_ns["ws"] = sample_workspace
    yield sh
    sh.set_custom_exc((), None)
    sh.user_ns.pop("ws", None)


def test_an_unknown_audience_shows_its_message_without_our_frames(shell, capsys):
    result = shell.run_cell(
        "import onesig_nb as osn\n"
        "cohort = osn.load_cohort(ws / 'segment-logs', audience='cart_abandoner')\n"
    )
    out = shown(capsys)
    assert "AudienceNotFound: " + UNKNOWN_AUDIENCE in out
    assert "Did you mean 'cart_abandoners'?" in out
    assert "(raised in your cell, line 2; %tb shows the full traceback)" in out
    assert "Traceback" not in out and "onesig_nb/" not in out and "loader" not in out
    assert not result.success  # still a failed cell: nbval, papermill and Voilà see it


def test_the_full_traceback_is_one_tb_away(shell, capsys):
    shell.run_cell("import onesig_nb as osn\nosn.load_cohort(ws / 'segment-logs', audience='x')")
    capsys.readouterr()
    shell.run_line_magic("tb", "")
    out = shown(capsys)
    assert "Traceback" in out and "onesig_nb" in out and "AudienceNotFound" in out


def test_other_exceptions_keep_the_normal_traceback(shell, capsys):
    result = shell.run_cell("def f():\n    return 1 / 0\nf()\n")
    out = shown(capsys)
    assert "Traceback" in out and "ZeroDivisionError" in out and "return 1 / 0" in out
    assert "%tb shows" not in out and not result.success


def test_another_librarys_handler_is_left_alone():
    sh = InteractiveShell.instance()
    sh.set_custom_exc((KeyError,), lambda *a, **k: None)
    try:
        assert register(sh) is False and sh.custom_exceptions == (KeyError,)
    finally:
        sh.set_custom_exc((), None)


def test_outside_ipython_nothing_is_registered():
    code = "import onesig_nb, sys; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # import onesig_nb never loads IPython


def test_importing_onesig_nb_in_a_running_shell_registers_the_display():
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "sh = InteractiveShell.instance()\n"
        "import onesig_nb\n"
        "print(sh.custom_exceptions == (onesig_nb.OneSigNbError,))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_a_stopped_send_ends_with_its_plain_message(shell, capsys):
    # a stop is a KeyboardInterrupt too (SendStopped): IPython would show a traceback for it
    shell.user_ns["Stopped"] = type(
        "Stopped", (__import__("onesig_nb").OneSigNbError, KeyboardInterrupt), {}
    )
    result = shell.run_cell("raise Stopped('stopped: 10 sent, 5 left; Send resumes.')")
    out = shown(capsys)
    assert "Stopped: stopped: 10 sent, 5 left; Send resumes." in out and "Traceback" not in out
    assert not result.success
