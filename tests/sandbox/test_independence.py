"""The sandbox is a witness of OneSignal, not the client's twin (issue 13, "Independence").

It imports nothing of the client or campaign side, so a wrong belief about OneSignal cannot be
enforced identically on both sides; and the two tables of OneSignal's limits are compared
value by value, so a disagreement is seen and explained, never shared.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import onesig_nb.onesignal.limits as client_limits
import onesig_nb.sandbox
import onesig_nb.sandbox.limits as sandbox_limits

#: packages the sandbox must never import (DESIGN.md: "sandbox/ ... imports nothing of the
#: client side"); onesig_nb.errors is the one shared module it may use
FORBIDDEN = (
    "onesig_nb.onesignal",
    "onesig_nb.message",
    "onesig_nb.segment",
    "onesig_nb.campaign",
    "onesig_nb.journal",
    "onesig_nb.cohort",
    "onesig_nb.connect",
    "onesig_nb.widgets",
    "onesig_nb.samples",
    "onesig_nb.cli",
)
ALLOWED_OUTSIDE = {"onesig_nb", "onesig_nb.errors"}

#: client-limit name -> why the sandbox's value may differ (empty: the tables agree today)
EXPLAINED_DIFFERENCES: dict[str, str] = {}
#: client-limit names the sandbox's table need not carry, with the reason
NOT_IN_SANDBOX: dict[str, str] = {}

SANDBOX_MODULES = sorted(
    f"onesig_nb.sandbox.{m.name}" for m in pkgutil.iter_modules(onesig_nb.sandbox.__path__)
)


def _is_forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_importing_every_sandbox_module_loads_no_client_module():
    """Run in a fresh interpreter: what ``import onesig_nb`` loads is the baseline; importing
    every sandbox module (server included) may add only sandbox modules and onesig_nb.errors."""
    script = (
        "import importlib, json, sys\n"
        "import onesig_nb\n"
        "before = set(sys.modules)\n"
        f"for name in {SANDBOX_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    added = json.loads(out.stdout)
    ours = [m for m in added if m.startswith("onesig_nb")]
    assert "onesig_nb.sandbox.server" in ours  # the walk really imported the server
    leaked = [m for m in ours if _is_forbidden(m)]
    assert not leaked, f"the sandbox imports client-side modules: {leaked}"
    outside = [m for m in ours if not m.startswith("onesig_nb.sandbox")]
    assert set(outside) <= ALLOWED_OUTSIDE, outside


def test_no_sandbox_source_file_names_a_client_module():
    """Static check (also catches imports inside functions that a test run may not reach)."""
    offenders = []
    for path in Path(onesig_nb.sandbox.__path__[0]).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            offenders += [(path.name, n) for n in names if _is_forbidden(n)]
    assert not offenders


def test_the_import_graph_has_no_chain_from_the_sandbox_to_the_client():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("onesig_nb")
    for target in FORBIDDEN:
        if target not in graph.modules:
            continue
        chain = graph.find_shortest_chain(importer="onesig_nb.sandbox", imported=target)
        assert chain is None, f"onesig_nb.sandbox reaches {target} via {chain}"


def _constants(module) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, (int, float, str, frozenset))
    }


def _sources(module) -> dict[str, str]:
    """Each constant's ``#:`` comment (constants right below one comment share it)."""
    out: dict[str, str] = {}
    comment: list[str] = []
    last = ""
    for line in Path(module.__file__).read_text().splitlines():
        if line.startswith("#:"):
            comment.append(line[2:].strip())
            continue
        if not line.strip():
            comment, last = [], ""
            continue
        head = line.split("=", 1)[0].strip().split(":")[0]
        if "=" in line and not line[0].isspace() and head.isupper() and head.isidentifier():
            if comment:
                last, comment = " ".join(comment), []
            out[head] = last
    return out


def limit_differences() -> list[str]:
    """Every client limit whose sandbox value differs or is missing, with both sources."""
    client, sandbox = _constants(client_limits), _constants(sandbox_limits)
    client_src, sandbox_src = _sources(client_limits), _sources(sandbox_limits)
    found = []
    for name, value in sorted(client.items()):
        if name not in sandbox:
            found.append(f"{name}: client {value!r}; not in the sandbox table")
        elif sandbox[name] != value:
            found.append(
                f"{name}: client {value!r} ({client_src.get(name, 'no source')}) vs sandbox "
                f"{sandbox[name]!r} ({sandbox_src.get(name, 'no source')})"
            )
    return found


def test_every_sandbox_limit_cites_a_source():
    sources = _sources(sandbox_limits)
    missing = [n for n in _constants(sandbox_limits) if not sources.get(n)]
    assert not missing, f"limits without a source comment: {missing}"
    for name, entry in sandbox_limits.BEHAVIOURS.items():
        assert entry.get("sandbox") and entry.get("source"), name


def test_client_and_sandbox_limits_agree_or_the_difference_is_explained(capsys):
    """Value by value; an allowed difference is printed with its reason, any other fails."""
    differences = limit_differences()
    unexplained = []
    for line in differences:
        name = line.split(":", 1)[0]
        reason = EXPLAINED_DIFFERENCES.get(name) or NOT_IN_SANDBOX.get(name)
        if reason:
            print(f"allowed difference {line} -- {reason}")
        else:
            unexplained.append(line)
    assert not unexplained, "client and sandbox disagree about OneSignal:\n" + "\n".join(
        unexplained
    )


def test_the_comparison_names_a_difference_with_both_sources(monkeypatch):
    """The comparison itself works: a changed client value is reported, not missed."""
    monkeypatch.setattr(client_limits, "MAX_BUTTONS", 4)
    lines = limit_differences()
    assert any(line.startswith("MAX_BUTTONS: client 4") and "maxItems: 3" in line for line in lines)
