"""`make bench-quick` runs every benchmark area at its small size and prints each area's table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("cohort_load", "tag_edits", "push_fanout", "preview", "rerun", "sandbox_load")


@pytest.mark.slow
def test_bench_quick_runs_and_prints_every_area_table():
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=480,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for area in AREAS:
        assert f"### {area}" in proc.stdout, f"no table for {area}"
        assert f"[{area}] " in proc.stdout
    assert "area did not run" not in proc.stdout
