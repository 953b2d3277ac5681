"""Secret leak: with a recognizable fake key configured, it must appear nowhere we write or show.

The canary key is the sandbox's key and ``ONESIGNAL_REST_API_KEY``. Every path a user takes
runs with DEBUG logging captured: the client, a campaign and a tag sync, the error paths, the CLI
and every notebook. Then notebook outputs, logs, the journal file, the sandbox store, reprs and
exception texts are scanned for the key (or any long piece of it; a mask shows the last 4
characters, which is allowed).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import onesig_nb as osn
from onesig_nb.errors import APIError, AuthError, OneSigNbError, TransportError

CANARY = "osn-LEAK-CANARY-7f3a9c2e5b1d4f60a8e2c9b7d1e3"
#: fragments that would betray the key; the last 4 characters may show (that is the mask)
FRAGMENTS = (CANARY, CANARY[:-4], "LEAK-CANARY", CANARY[8:30])
ROOT = Path(__file__).resolve().parents[2]
AUDIENCE = "cart_abandoners"


def leaks(text: str | bytes) -> list[str]:
    """The fragments of the key found in ``text``."""
    if isinstance(text, bytes):
        return [f for f in FRAGMENTS if f.encode() in text]
    return [f for f in FRAGMENTS if f in text]


def assert_clean(where: str, text: str | bytes) -> None:
    found = leaks(text)
    if found:
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        at = raw.find(found[0])
        context = raw[max(0, at - 40) : at + 60]
        pytest.fail(f"the API key leaked into {where}: ...{context!r}...")


def files_bytes(*paths: Path) -> bytes:
    """The raw bytes of these files and their SQLite sidecars (-wal, -shm, -journal)."""
    out = b""
    for path in paths:
        for candidate in (path, *(Path(str(path) + s) for s in ("-wal", "-shm", "-journal"))):
            if candidate.is_file():
                out += candidate.read_bytes()
    return out


@pytest.fixture
def canary_sandbox(tmp_path, sample_workspace):
    from onesig_nb.samples import load_roster

    db = tmp_path / "sandbox-store.sqlite"
    with osn.Sandbox(db=str(db), api_key=CANARY) as sb:
        sb.add_users(load_roster(sample_workspace))
        yield sb


@pytest.fixture
def canary_env(monkeypatch, canary_sandbox, sample_workspace):
    monkeypatch.setenv("ONESIGNAL_REST_API_KEY", CANARY)
    monkeypatch.setenv("ONESIGNAL_APP_ID", canary_sandbox.app_id)
    monkeypatch.setenv("ONESIGNAL_API_BASE", canary_sandbox.url)
    monkeypatch.setenv("ONESIG_NB_WORKSPACE", str(sample_workspace))
    return canary_sandbox


@pytest.fixture
def debug_log(tmp_path):
    """Everything logged at DEBUG (root and onesig_nb), as text in a file."""
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        handler.close()


def texts_of(*objects) -> str:
    """repr, str and the HTML repr of each object."""
    parts = []
    for obj in objects:
        parts.append(repr(obj))
        parts.append(str(obj))
        html = getattr(obj, "_repr_html_", None)
        if callable(html):
            parts.append(str(html()))
    return "\n".join(parts)


def exception_text(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc)), repr(exc), str(exc)]
    for attr in ("errors", "body", "args"):
        parts.append(repr(getattr(exc, attr, None)))
    return "\n".join(parts)


def test_campaign_paths_with_debug_logging_never_show_the_key(
    canary_env, debug_log, sample_workspace, tmp_path
):
    sb = canary_env
    journal = tmp_path / "campaigns.sqlite"
    client = osn.connect()
    shown = [texts_of(client, client.sandbox, sb)]
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience=AUDIENCE)
    msg = osn.Message(
        "Hi {{ first_name | default: 'there' }}", headings="Your cart", url="https://example.com"
    )
    camp = osn.Campaign("leak-check", cohort, msg, client, journal=str(journal))
    plan = camp.plan()
    camp.send_test([cohort.external_ids[0]])
    result = camp.send(confirm=True, progress=False)
    report = camp.report()
    sync = osn.TagSync("leak-tags", cohort, client, tags=["plan", "ltv"], journal=str(journal))
    sync_plan = sync.plan()
    sync_result = sync.run(progress=False)
    shown.append(texts_of(cohort, msg, camp, plan, result, report, sync, sync_plan, sync_result))
    shown.append(result.to_frame().to_string())
    shown.append(osn.campaigns(str(journal)).to_string())
    push = client.send_push(cohort.external_ids[:5], {"contents": {"en": "direct"}})
    shown.append(texts_of(push, *push.responses))
    client.close()

    assert result.summary.get("sent", 0) > 0, "the campaign must really have sent something"
    assert_clean("reprs and HTML reprs", "\n".join(shown))
    assert_clean("the DEBUG log", debug_log.read_text())
    assert debug_log.stat().st_size > 0, "DEBUG logging captured nothing"
    assert_clean("the journal file", files_bytes(journal))
    assert_clean("the sandbox request log", sb.requests().to_string())


def test_error_paths_never_show_the_key(canary_env, debug_log):
    sb = canary_env
    texts = []
    # AuthError: the canary is a key the server refuses (another sandbox's key differs)
    with osn.Sandbox() as other:
        for api in ("current", "legacy"):
            client = osn.OneSignal(other.app_id, CANARY, base_url=other.url, api=api)
            with pytest.raises(AuthError) as info:
                client.edit_tags("nobody", {"plan": "pro"})
            texts += [exception_text(info.value), texts_of(client)]
            client.close()
    # APIError: a request the server rejects (unknown user; over-long tag set)
    client = osn.OneSignal(sb.app_id, CANARY, base_url=sb.url)
    with pytest.raises(APIError) as info:
        client.edit_tags("no-such-user-anywhere", {"plan": "pro"})
    texts.append(exception_text(info.value))
    with pytest.raises(OneSigNbError) as info:
        client.view_notification("00000000-0000-0000-0000-000000000000")
    texts.append(exception_text(info.value))
    client.close()
    # TransportError: nothing listens there
    dead = osn.OneSignal(
        sb.app_id,
        CANARY,
        base_url="http://127.0.0.1:9",
        timeout=0.5,
        retry=__import__("onesig_nb.onesignal", fromlist=["RetryPolicy"]).RetryPolicy(
            max_attempts=2, base=0.01, cap=0.01
        ),
    )
    with pytest.raises(TransportError) as info:
        dead.edit_tags("u", {"plan": "pro"})
    texts += [exception_text(info.value), texts_of(dead)]
    dead.close()
    # credentials and config objects
    from onesig_nb.config import load_credentials

    creds = load_credentials()
    texts.append(texts_of(creds))

    assert_clean("exception texts and reprs", "\n".join(texts))
    assert_clean("the DEBUG log", debug_log.read_text())


def test_sandbox_store_does_not_hold_a_supplied_key(canary_env):
    """The sandbox may keep a key it generated; a key it was given is stored hashed only."""
    sb = canary_env
    client = osn.OneSignal(sb.app_id, CANARY, base_url=sb.url)
    client.edit_tags(str(sb.users()["external_id"].iloc[0]), {"plan": "pro"})
    client.close()
    assert_clean("the sandbox store (SQLite file)", files_bytes(Path(sb.db)))


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "onesig_nb.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_send_dry_run_and_real_send_never_show_the_key(canary_env, sample_workspace, tmp_path):
    msg = tmp_path / "message.yaml"
    msg.write_text(
        "contents:\n  en: \"Hi {{ first_name | default: 'there' }}\"\nheadings:\n  en: Your cart\n"
    )
    env = {k: v for k, v in os.environ.items()}
    journal = tmp_path / "cli-journal.sqlite"
    base = [
        "send",
        "--cohort",
        str(sample_workspace / "segment-logs"),
        "--audience",
        AUDIENCE,
        "--message",
        str(msg),
        "--name",
        "leak-cli",
        "--journal",
        str(journal),
    ]
    dry = _cli([*base, "--dry-run"], env, tmp_path)
    real = _cli([*base, "--yes"], env, tmp_path)
    for name, proc in (("dry run", dry), ("real send", real)):
        assert proc.returncode == 0, f"{name}: {proc.stdout[-1500:]}{proc.stderr[-1500:]}"
        assert_clean(f"CLI {name} output", proc.stdout + proc.stderr)
    assert len(canary_env.deliveries()) > 0, "the real CLI send must have delivered"
    assert_clean("the CLI's journal", files_bytes(journal))
    # a wrong key through the CLI: the error it prints must not show the configured key
    bad_env = dict(env, ONESIGNAL_APP_ID="00000000-0000-4000-8000-000000000000")
    bad = _cli([*base[:-2], "--journal", str(tmp_path / "bad.sqlite"), "--yes"], bad_env, tmp_path)
    assert bad.returncode != 0
    assert_clean("CLI error output", bad.stdout + bad.stderr)


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
def test_every_notebook_runs_twice_without_showing_the_key(canary_env, sample_workspace, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    assert NOTEBOOKS, "no notebooks found to check"
    before = canary_env.request_count()
    # Twice in a row against the same running sandbox and existing workspace: the second round
    # must run clean too (campaigns already sent say so instead of sending again).
    for src in NOTEBOOKS + NOTEBOOKS:
        work = tmp_path / src.stem
        work = work if not work.exists() else tmp_path / f"{src.stem}-again"
        work.mkdir()
        copy = work / src.name
        shutil.copy(src, copy)
        nb = nbformat.read(copy, as_version=4)
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
        ).execute()
        nbformat.write(nb, copy)
        assert_clean(f"the outputs of {src.name}", copy.read_text())
        for written in work.rglob("*"):
            if written.is_file() and written != copy:
                assert_clean(f"{written.name} written by {src.name}", written.read_bytes())
    assert canary_env.request_count() > before, "the notebooks never used the configured key"
