"""The committed notebooks are clean: no key, no machine paths, no timestamps, small, outputs only
where they teach something, and each ``.ipynb`` in step with its jupytext ``.py`` source.

These read files only (no kernel), so they stay fast; nbval runs the notebooks themselves.
``tests/notebooks/nbtools.py`` builds the notebooks (``make notebooks``) and holds the rules.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from jupytext.config import load_jupytext_configuration_file

from tests.notebooks import nbtools

NOTEBOOKS = nbtools.NOTEBOOKS
EXPECTED = [
    "01-quickstart",
    "02-load-segment-cohorts",
    "03-compose-and-preview",
    "04-send-push",
    "05-sync-tags",
    "06-going-live",
    "07-scheduled-campaign",
    "08-ab-test",
    "09-sending-rules",
]
MAX_BYTES = 60_000  # per notebook: small enough to review in a diff
KEY_PATTERNS = [
    re.compile(r"os_v2_app_[a-z0-9]+", re.I),  # real OneSignal app keys
    re.compile(r"(?:Basic|Key)\s+[A-Za-z0-9+/=_\-]{20,}"),  # an Authorization header value
    re.compile(r"ONESIGNAL_REST_API_KEY\s*=\s*['\"]?[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\b[A-Za-z0-9_\-]{40,}\b"),  # any long token-looking string
]
PATH_PATTERN = re.compile(r"(?:/root|/tmp|/home/[^/\s]+|/work|/Users/[^/\s]+|[A-Z]:\\\\)")
TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
#: Besides the pairs: the jupytext pairing, and what .gitignore keeps out of git (Lab's
#: checkpoints, bytecode, a user's .env next to the notebooks).
ALLOWED_EXTRAS = {nbtools.CONFIG_NAME}
IGNORED = {".ipynb_checkpoints", "__pycache__", ".env"}


def _load(stem: str) -> dict:
    return json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))


def test_every_numbered_notebook_is_committed():
    found = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    assert found == EXPECTED


@pytest.mark.parametrize("name", [f"{stem}{ext}" for stem in EXPECTED for ext in (".ipynb", ".py")])
def test_notebook_has_no_key_path_or_timestamp(name):
    text = (NOTEBOOKS / name).read_text(encoding="utf-8")
    for pattern in KEY_PATTERNS:
        assert not pattern.search(text), f"{name}: looks like a key: {pattern.pattern}"
    assert not PATH_PATTERN.search(text), f"{name}: a machine path is saved in the notebook"
    assert not TIMESTAMP.search(text), f"{name}: a timestamp is saved in the notebook"


@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_stays_small(stem):
    assert (NOTEBOOKS / f"{stem}.ipynb").stat().st_size <= MAX_BYTES


@pytest.mark.parametrize("stem", EXPECTED)
def test_outputs_only_where_allowed(stem):
    nb = _load(stem)
    problems = nbtools.problems(nbformat.from_dict(nb))
    assert problems == []
    assert "widgets" not in nb["metadata"]
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}


@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_is_in_step_with_its_source(stem):
    """Edit the .py (or the pair in Lab); `make notebooks` rebuilds the .ipynb from it."""
    assert nbtools.out_of_step(stem) == []


@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_is_clean_as_built(stem):
    """The .ipynb is exactly what the build writes: no ids, counts, timings or stray metadata."""
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    assert nbtools.sanitize(nb) == nb


def test_notebooks_folder_holds_only_the_pairs():
    names = {p.name for p in NOTEBOOKS.iterdir()} - IGNORED
    pairs = {f"{stem}{ext}" for stem in EXPECTED for ext in (".ipynb", ".py")}
    assert names - ALLOWED_EXTRAS == pairs, "builders and helpers belong in tests/notebooks/"


def test_the_pairing_is_ipynb_and_py_percent():
    config = load_jupytext_configuration_file(str(NOTEBOOKS / nbtools.CONFIG_NAME))
    assert config.formats in ("ipynb,py:percent", ["ipynb,py:percent"])


def test_check_cells_are_collapsed_in_the_source_too():
    for stem in EXPECTED:
        for cell in nbtools.read_source(NOTEBOOKS / f"{stem}.py").cells:
            if nbtools.CHECK in cell.metadata.get("tags", []):
                assert cell.metadata.get("jupyter") == {"source_hidden": True}, stem


def _copy_pair(stem, tmp_path):
    for name in (f"{stem}.ipynb", f"{stem}.py", nbtools.CONFIG_NAME):
        shutil.copy(NOTEBOOKS / name, tmp_path / name)


def _edit_source(folder: Path, stem: str) -> None:
    py = folder / f"{stem}.py"
    py.write_text(py.read_text().replace("In ten cells", "In eleven cells"), encoding="utf-8")


def _drop_parameters_tag(folder: Path, stem: str) -> None:
    ipynb = folder / f"{stem}.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[1].metadata["tags"] = []  # the papermill parameters cell loses its tag
    nbformat.write(nb, ipynb)


@pytest.mark.parametrize(
    ("stem", "edit", "named"),
    [
        ("01-quickstart", _edit_source, "cell 0 source differs"),
        ("07-scheduled-campaign", _drop_parameters_tag, "cell 1 metadata differs"),
    ],
    ids=["source-edited-in-the-py", "tag-dropped-in-the-ipynb"],
)
def test_a_cell_changed_on_one_side_only_is_named(tmp_path, stem, edit, named):
    _copy_pair(stem, tmp_path)
    assert nbtools.out_of_step(stem, tmp_path) == []  # an untouched copy is in step
    edit(tmp_path, stem)
    found = nbtools.out_of_step(stem, tmp_path)
    assert len(found) == 1 and named in found[0]


def test_a_cell_added_to_one_side_only_is_out_of_step(tmp_path):
    stem = "07-scheduled-campaign"
    _copy_pair(stem, tmp_path)
    py = tmp_path / f"{stem}.py"
    cells = len(_load(stem)["cells"])
    py.write_text(py.read_text() + "\n# %%\nprint(s)\n", encoding="utf-8")
    assert nbtools.out_of_step(stem, tmp_path) == [
        f"{stem}: {stem}.ipynb has {cells} cells, {stem}.py {cells + 1}"
    ]


def test_building_a_pair_writes_nothing_new(tmp_path):
    """The committed pair is a fixed point of the build (no kernel: kept outputs carried over)."""
    stem = "02-load-segment-cohorts"
    _copy_pair(stem, tmp_path)
    nb = nbtools.build(stem, run=False, folder=tmp_path)
    assert nbtools.write_pair(stem, nb, tmp_path) == []


def test_building_refuses_to_overwrite_a_newer_ipynb_edit(tmp_path):
    stem = "07-scheduled-campaign"
    _copy_pair(stem, tmp_path)
    ipynb = tmp_path / f"{stem}.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[0].source += "\n\nAn edit made without jupytext."
    nbformat.write(nb, ipynb)
    py_time = (tmp_path / f"{stem}.py").stat().st_mtime
    os.utime(ipynb, (py_time + 10, py_time + 10))
    with pytest.raises(nbtools.PairOutOfStep, match="jupytext --sync"):
        nbtools.build(stem, run=False, folder=tmp_path)


def test_building_from_an_edited_source_updates_the_ipynb(tmp_path):
    stem = "07-scheduled-campaign"
    _copy_pair(stem, tmp_path)
    py = tmp_path / f"{stem}.py"
    py.write_text(py.read_text().replace("every day", "every morning"), encoding="utf-8")
    nb = nbtools.build(stem, run=False, folder=tmp_path)
    assert nbtools.write_pair(stem, nb, tmp_path) == [f"{stem}.ipynb"]
    assert nbtools.out_of_step(stem, tmp_path) == []
    assert "every morning" in (tmp_path / f"{stem}.ipynb").read_text()


def test_scheduled_notebook_has_a_papermill_parameters_cell():
    cells = _load("07-scheduled-campaign")["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0]["cell_type"] == "code"


def test_sanitizer_strips_volatile_outputs():
    nb = nbtools.new_notebook(
        [
            nbformat.v4.new_code_cell("print(1)"),
            nbformat.v4.new_code_cell("x", metadata={"tags": ["keep-output"]}),
        ]
    )
    nb.cells[0].outputs = [{"output_type": "stream", "name": "stdout", "text": "/tmp/x\n"}]
    nb.cells[0].execution_count = 3
    nb.cells[1].outputs = [
        {
            "output_type": "execute_result",
            "execution_count": 4,
            "metadata": {},
            "data": {
                "text/plain": "42",
                "application/vnd.jupyter.widget-view+json": {"model_id": "a"},
            },
        },
        {"output_type": "stream", "name": "stderr", "text": "warning\n"},
    ]
    nb.metadata["widgets"] = {"state": {}}
    clean = nbtools.sanitize(nb)
    assert clean.cells[0].outputs == [] and clean.cells[0].execution_count is None
    assert clean.cells[1].execution_count == 2  # its top-to-bottom number
    assert clean.cells[1].outputs == [
        {
            "output_type": "execute_result",
            "execution_count": 2,
            "metadata": {},
            "data": {"text/plain": "42"},
        }
    ]
    assert nbtools.problems(clean) == [] and "widgets" not in clean.metadata
