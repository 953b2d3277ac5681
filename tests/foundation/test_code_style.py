"""Code style: `make lint` keeps the code clean (ruff), and really fails when it is not."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")

pytestmark = pytest.mark.skipif(
    RUFF is None, reason="ruff is not installed (pip install -e '.[test]')"
)


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([RUFF, *args], cwd=cwd, capture_output=True, text=True)


def test_the_codebase_passes_lint_and_format_checks():
    check = ruff("check", "onesig_nb", "tests", "bench", "notebooks")
    assert check.returncode == 0, check.stdout
    fmt = ruff("format", "--check", "onesig_nb", "tests", "bench")
    assert fmt.returncode == 0, fmt.stdout


def test_lint_fails_on_a_violation_with_the_project_settings(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx=[1,\n2]\n")
    config = str(ROOT / "pyproject.toml")
    assert ruff("check", "--config", config, str(bad)).returncode == 1
    assert ruff("format", "--check", "--config", config, str(bad)).returncode == 1


def test_the_lint_target_cannot_be_silenced():
    recipe = (ROOT / "Makefile").read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "ruff check" in recipe and "ruff format --check" in recipe
    assert not re.search(r"--exit-zero|\|\| *true|^\t-", recipe, re.M)
