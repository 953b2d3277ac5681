"""The architecture is enforced, not hoped for: layers, witnesses, no cycles, no private imports.

The layers and the sandbox/samples independence are import-linter contracts in pyproject.toml
(``[tool.importlinter]``); ``make lint`` runs them too. These tests run them, prove they bite,
and add what import-linter does not check: import cycles and imports of another module's
underscore names.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "onesig_nb"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold():
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("sandbox/faults.py", "onesig_nb.onesignal.limits", "sandbox and the samples"),
        ("samples/ids.py", "onesig_nb.campaign", "sandbox and the samples"),
        ("errors.py", "onesig_nb.campaign", "Layers"),
        ("onesignal/models.py", "onesig_nb.message", "Layers"),
        ("message/findings.py", "onesig_nb.journal", "Layers"),
    ],
)
def test_a_forbidden_import_breaks_the_contracts(tmp_path, module, forbidden, contract):
    """On a copy of the package, one added import is caught and named."""
    shutil.copytree(PACKAGE, tmp_path / "onesig_nb", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "onesig_nb" / module
    target.write_text(target.read_text() + f"\nimport {forbidden}  # noqa\n")

    proc = _lint_imports(tmp_path)

    assert proc.returncode != 0
    broken = proc.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    assert forbidden in broken


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_there_are_no_import_cycles():
    """Late imports inside functions count: a cycle hidden in a function is still a cycle."""
    graph = grimp.build_graph("onesig_nb", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y"]]


def _private_imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
            continue
        internal = node.level > 0 or (node.module or "").split(".")[0] == "onesig_nb"
        if not internal:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"{path.relative_to(root)}:{node.lineno} imports {alias.name}")
    return found


def test_no_module_imports_another_modules_private_names():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(path)]
    assert found == []


def test_the_private_import_check_sees_one(tmp_path):
    sample = tmp_path / "probe.py"
    sample.write_text("from onesig_nb.config import _secret\nfrom .store import __all__, _now\n")
    assert _private_imports(sample, tmp_path) == [
        "probe.py:1 imports _secret",
        "probe.py:2 imports _now",
    ]


def test_every_package_says_its_job():
    for init in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 8, f"{init.relative_to(ROOT)} needs a docstring"
