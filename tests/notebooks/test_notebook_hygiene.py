"""The committed notebooks are clean: no key, no machine paths, no timestamps, small, outputs only
where they teach something, and in step with their source (``notebooks/_cells.py``).

These read JSON only (no kernel), so they stay fast; nbval runs the notebooks themselves.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = [
    "01-quickstart",
    "02-load-segment-cohorts",
    "03-compose-and-preview",
    "04-send-push",
    "05-sync-tags",
    "06-going-live",
    "07-scheduled-campaign",
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


def _build_module():
    spec = importlib.util.spec_from_file_location("_nb_build", NOTEBOOKS / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(stem: str) -> dict:
    return json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))


def test_every_numbered_notebook_is_committed():
    found = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    assert found == EXPECTED


@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_has_no_key_path_or_timestamp(stem):
    text = (NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8")
    for pattern in KEY_PATTERNS:
        assert not pattern.search(text), f"{stem}: looks like a key: {pattern.pattern}"
    assert not PATH_PATTERN.search(text), f"{stem}: a machine path is saved in the notebook"
    assert not TIMESTAMP.search(text), f"{stem}: a timestamp is saved in the notebook"


@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_stays_small(stem):
    assert (NOTEBOOKS / f"{stem}.ipynb").stat().st_size <= MAX_BYTES


@pytest.mark.parametrize("stem", EXPECTED)
def test_outputs_only_where_allowed(stem):
    nb = _load(stem)
    problems = _build_module().problems(_as_node(nb))
    assert problems == []
    assert "widgets" not in nb["metadata"]
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}


@pytest.mark.parametrize("stem", EXPECTED)
def test_notebook_matches_its_source(stem):
    """Edits go to notebooks/_cells.py; `python notebooks/_build.py --execute` regenerates."""
    build = _build_module()
    expected = build.make_notebook(build._cells_module().NOTEBOOKS[stem])
    nb = _load(stem)
    assert [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]] == [
        (c.cell_type, c.source) for c in expected.cells
    ]


def test_scheduled_notebook_has_a_papermill_parameters_cell():
    cells = _load("07-scheduled-campaign")["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0]["cell_type"] == "code"


def test_sanitizer_strips_volatile_outputs():
    build = _build_module()
    nb = build.make_notebook([("code", "print(1)"), ("code", "x", ("keep-output",))])
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
    clean = build.sanitize(nb)
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
    assert build.problems(clean) == [] and "widgets" not in clean.metadata


def _as_node(nb: dict):
    import nbformat

    return nbformat.from_dict(nb)
