"""The packaging promises: one dependency list in two files, a small public API, two commands."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import yaml

import onesig_nb

ROOT = Path(__file__).resolve().parents[2]

# pip name -> conda-forge name, where they differ.
CONDA_NAMES = {
    "duckdb": "python-duckdb",
    "isal": "python-isal",
    "uvicorn[standard]": "uvicorn-standard",
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_carries_exactly_the_pyproject_dependencies():
    deps = _pyproject()["project"]["dependencies"]
    expected = {CONDA_NAMES.get(_name(d), _name(d)): d for d in deps}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    conda_names = {_name(d) for d in conda} - {"python", "pip"}
    assert conda_names == set(expected), (
        "environment.yml and pyproject.toml disagree: "
        f"only in pyproject: {sorted(set(expected) - conda_names)}, "
        f"only in environment.yml: {sorted(conda_names - set(expected))}"
    )
    # and the lower bounds agree too
    for line in conda:
        name = _name(line)
        if name in expected:
            assert line.removeprefix(name) == expected[name].lower().removeprefix(
                _name(expected[name])
            ), f"{name}: environment.yml says {line!r}, pyproject says {expected[name]!r}"


def test_environment_yml_installs_the_package_itself_with_pip():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip_sections and "-e ." in pip_sections[0]
    assert "conda-forge" in env["channels"]


def test_extras_cover_tests_and_the_app():
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"voila", "papermill"} <= {_name(d) for d in extras["app"]}
    assert {"pytest", "nbval", "playwright", "hypothesis"} <= {_name(d) for d in extras["test"]}


#: The public API that notebooks, tests and the README rely on (shared/DESIGN.md). Adding a
#: name is a decision: add it here too.
PUBLIC_API = sorted(
    "APIError AuthError ConfigError OneSigNbError RateLimited TransportError ValidationError "
    "Campaign CampaignResult Cohort Experiment Message OneSignal Rules Sandbox TagSync "
    "campaigns connect list_audiences load_cohort set_rules".split()
)


def test_public_api_is_exactly_all_and_every_name_resolves():
    assert onesig_nb.__all__ == PUBLIC_API
    for name in onesig_nb.__all__:
        assert getattr(onesig_nb, name) is not None, name


def test_connect_is_the_function_even_after_its_module_is_imported():
    """`onesig_nb.connect` names both a module and osn.connect(); the function must win."""
    import importlib

    module = importlib.import_module("onesig_nb.connect")
    assert callable(onesig_nb.connect)
    assert onesig_nb.connect is module.connect


def test_widgets_export_exactly_the_four_panels():
    import onesig_nb.widgets as widgets

    assert widgets.__all__ == ["ExperimentPanel", "MessageComposer", "MessagePreview", "SendPanel"]


def test_importing_the_package_does_not_import_widgets_or_pandas():
    import subprocess
    import sys

    code = "import sys, onesig_nb; print('ipywidgets' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_design_names_are_reachable():
    for dotted in [
        "onesig_nb.errors.OneSigNbError",
        "onesig_nb.samples.make_workspace",
        "onesig_nb.widgets.MessagePreview",
        "onesig_nb.widgets.MessageComposer",
        "onesig_nb.widgets.SendPanel",
    ]:
        module, _, attr = dotted.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), dotted


def test_makefile_has_the_documented_targets_and_ci_calls_make_test():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "test", "bench", "bench-quick", "lint", "app"):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "CI=true" in ci
    readme = (ROOT / "README.md").read_text()
    assert "make lab\nmake test" in readme
