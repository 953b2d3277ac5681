"""Fixtures shared by the whole suite.

- Every test runs with no ``ONESIGNAL_*`` variables and no ``.env`` in its working directory,
  so nothing can ever reach the real API.
- ``sample_workspace``: the deterministic sample Segment workspace (small, built once).
- ``sandbox``: a session-wide sandbox seeded with the workspace's OneSignal roster;
  ``fresh_sandbox``: an empty one per test.
- ``require_tool(...)``: skip with a clear reason on a laptop without Chromium / PostgreSQL,
  fail under CI (``CI=true``), where ``.ci/run`` installs them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SAMPLE_USERS = 600
SAMPLE_SEED = 7


def require(condition: bool, reason: str) -> None:
    """Skip outside CI when ``condition`` is false; fail under CI (where it must hold)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run should have installed it)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(autouse=True)
def _no_real_onesignal(monkeypatch, tmp_path_factory):
    """No test sees real credentials, and none reads a developer's .env file."""
    for name in list(os.environ):
        if name.startswith("ONESIGNAL_") or name == "ONESIG_NB_WORKSPACE":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONESIG_NB_DOTENV", str(tmp_path_factory.getbasetemp() / "no-such.env"))
    # The archive cache of parsed files stays in this run's temporary folder, never in ~/.cache.
    monkeypatch.setenv("ONESIG_NB_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "archive-cache"))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sample_workspace(tmp_path_factory) -> Path:
    """A small deterministic sample workspace (generated once per test session)."""
    from onesig_nb.samples import make_workspace

    path = tmp_path_factory.mktemp("workspace") / "ws"
    make_workspace(path, users=SAMPLE_USERS, seed=SAMPLE_SEED)
    return path


@pytest.fixture(scope="session")
def sample_manifest(sample_workspace) -> dict:
    import json

    return json.loads((sample_workspace / "manifest.json").read_text())


def sandbox_seeded_with_the_roster(sample_workspace) -> Iterator[Any]:
    """A started sandbox seeded with the sample OneSignal roster: the body of fixtures of
    several scopes (one per session here; one per module where a module adds users)."""
    import onesig_nb as osn
    from onesig_nb.samples import load_roster

    with osn.Sandbox() as sb:
        sb.add_users(load_roster(sample_workspace))
        yield sb


sandbox = pytest.fixture(scope="session", name="sandbox")(sandbox_seeded_with_the_roster)


@pytest.fixture
def fresh_sandbox():
    """An empty sandbox of the test's own."""
    import onesig_nb as osn

    with osn.Sandbox() as sb:
        yield sb
