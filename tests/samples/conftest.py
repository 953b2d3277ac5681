"""Fixtures for the sample-workspace tests (helpers live in samples_replay.py)."""

from __future__ import annotations

import pytest

from .samples_replay import read_archive


@pytest.fixture(scope="session")
def archive(sample_workspace):
    """(messages, malformed [file, line] pairs) read back from the shared sample workspace."""
    return read_archive(sample_workspace)
