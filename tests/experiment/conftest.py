"""Fixtures for the experiment tests: a writable copy of the sample workspace, a seeded sandbox
and its client, and a small cohort with the variants every test uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import sandbox_seeded_with_the_roster

#: The audience whose members the sandbox tests split (about 50 people in the sample).
AUDIENCE = "cart_abandoners"


@pytest.fixture
def workspace(sample_workspace, tmp_path) -> Path:
    """A copy of the sample workspace that simulate_conversions may write to."""
    target = tmp_path / "ws"
    shutil.copytree(sample_workspace, target)
    return target


#: A sandbox of this module, seeded with the sample roster (test_bad_input adds users to it).
seeded_sandbox = pytest.fixture(scope="module", name="seeded_sandbox")(
    sandbox_seeded_with_the_roster
)


@pytest.fixture
def client(seeded_sandbox):
    import onesig_nb as osn

    c = osn.OneSignal(seeded_sandbox.app_id, seeded_sandbox.api_key, base_url=seeded_sandbox.url)
    yield c
    c.close()


@pytest.fixture(scope="session")
def cohort(sample_workspace):
    import onesig_nb as osn

    return osn.load_cohort(sample_workspace / "segment-logs", audience=AUDIENCE)


@pytest.fixture
def variants():
    import onesig_nb as osn

    return {
        "A": osn.Message(headings="Still there?", contents="Variant A: your cart misses you"),
        "B": osn.Message(headings="10% off", contents="Variant B: 10% off your cart today"),
    }
