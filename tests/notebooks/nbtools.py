"""Build the numbered notebooks from their jupytext sources, run them, keep clean outputs.

Every ``notebooks/NN-name.ipynb`` is paired with ``notebooks/NN-name.py`` (jupytext py:percent,
set up by ``notebooks/jupytext.toml``). The ``.py`` is what people review and edit, cell tags
inline; the ``.ipynb`` is what people open, with the few outputs worth committing.

    python -m tests.notebooks.nbtools            # each .ipynb from its .py, no kernel: cells that
                                                 # did not change keep their kept outputs
    python -m tests.notebooks.nbtools --execute  # ... run each one offline first and keep only
                                                 # the outputs of "keep-output" cells, sanitized
                                                 # (`make notebooks`)
    python -m tests.notebooks.nbtools --check    # name the pairs that are out of step

Editing in JupyterLab (``make lab``) saves both files of a pair, since jupytext is installed; a
build afterwards cleans the ``.ipynb`` (Lab saves ids, counts and widget state). An ``.ipynb``
edited without jupytext, so newer than its ``.py`` and different from it, stops the build rather
than be overwritten: ``jupytext --sync`` carries the edit into the ``.py`` first.

Not part of the package. ``tests/notebooks/test_notebook_hygiene.py`` checks the committed pairs
with ``out_of_step``, ``problems`` and ``sanitize``.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import load_jupytext_configuration_file

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CONFIG_NAME = "jupytext.toml"  # the pairing: formats "ipynb,py:percent" (see the file)
SOURCE_FORMAT = "py:percent"
KEEP = "keep-output"  # the only cells whose outputs are committed
CHECK = "check"  # cells that check against the sample's known answers, collapsed in Lab
#: The cell metadata a pair carries (the ``cell_metadata_filter`` of ``jupytext.toml``); the
#: build drops any other (timings, ``trusted``, ``scrolled``, ...).
PAIRED_CELL_METADATA = ("tags", "jupyter")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
VOLATILE_MIME = ("application/vnd.jupyter.widget-view+json", "application/javascript")
# A kept output must never carry one of these (checked again by the hygiene test).
FORBIDDEN = [
    re.compile(r"/(?:root|tmp|home|work|Users)/"),
    re.compile(r"http://127\.0\.0\.1:\d+"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
    re.compile(r"\b[A-Za-z0-9_\-]{40,}\b"),
    re.compile(r"os_v2_app_"),
    re.compile(r"0x[0-9a-fA-F]{6,}"),
]


class PairOutOfStep(Exception):
    """A pair the build cannot take its cells from: the ``.py`` is missing or older than an edit."""


def stems(folder: Path = NOTEBOOKS) -> list[str]:
    """The numbered notebooks in ``folder`` (``NN-name``, from either file of a pair), in order."""
    return sorted({p.stem for ext in ("ipynb", "py") for p in folder.glob(f"[0-9][0-9]-*.{ext}")})


def cell_metadata(tags: Iterable[str]) -> dict:
    """Cell metadata: its tags, and check cells (tag ``check``) collapsed in JupyterLab."""
    tags = list(tags)
    meta: dict = {}
    if tags:
        meta["tags"] = tags
    if CHECK in tags:
        meta["jupyter"] = {"source_hidden": True}
    return meta


def new_notebook(cells: Iterable[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """A notebook holding copies of ``cells`` (type, source, tags), with the house metadata."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for cell in cells:
        make = nbformat.v4.new_markdown_cell
        if cell.cell_type == "code":
            make = nbformat.v4.new_code_cell
        elif cell.cell_type == "raw":
            make = nbformat.v4.new_raw_cell
        new = make(cell.source)
        new.pop("id", None)
        new.metadata = cell_metadata(cell.get("metadata", {}).get("tags", []))
        nb.cells.append(new)
    nb.nbformat, nb.nbformat_minor = 4, 4  # no cell ids: stable diffs
    return nb


def _config(folder: Path):
    return load_jupytext_configuration_file(str(folder / CONFIG_NAME))


def read_source(path: Path) -> nbformat.NotebookNode:
    """The notebook a jupytext ``.py`` source describes, exactly as written (not normalised)."""
    return jupytext.read(path, fmt=SOURCE_FORMAT, config=_config(path.parent))


def source_text(nb: nbformat.NotebookNode, folder: Path = NOTEBOOKS) -> str:
    """The jupytext ``.py`` source of ``nb``, as ``folder``'s ``jupytext.toml`` writes it."""
    return jupytext.writes(nb, fmt=SOURCE_FORMAT, config=_config(folder))


def paired_cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, dict]]:
    """What the two files of a pair must agree on: each cell's type, source and tags/collapse."""
    return [
        (
            cell.cell_type,
            cell.source if isinstance(cell.source, str) else "".join(cell.source),
            {k: v for k, v in cell.get("metadata", {}).items() if k in PAIRED_CELL_METADATA},
        )
        for cell in nb.cells
    ]


def out_of_step(stem: str, folder: Path = NOTEBOOKS) -> list[str]:
    """How ``stem``'s ``.ipynb`` and ``.py`` disagree (empty list = in step)."""
    ipynb, py = folder / f"{stem}.ipynb", folder / f"{stem}.py"
    missing = [p.name for p in (ipynb, py) if not p.is_file()]
    if missing:
        return [f"{stem}: {' and '.join(missing)} missing"]
    have = paired_cells(nbformat.read(ipynb, as_version=4))
    want = paired_cells(read_source(py))
    found = []
    if len(have) != len(want):
        found.append(f"{stem}: {ipynb.name} has {len(have)} cells, {py.name} {len(want)}")
    for i, (a, b) in enumerate(zip(have, want, strict=False)):
        for part, x, y in zip(("type", "source", "metadata"), a, b, strict=True):
            if x != y:
                found.append(f"{stem}: cell {i} {part} differs: {x!r} in .ipynb, {y!r} in .py")
    return found


def _clean_output(out: dict) -> dict | None:
    out = copy.deepcopy(out)
    if out.get("output_type") in ("display_data", "execute_result"):
        data = {k: v for k, v in out.get("data", {}).items() if k not in VOLATILE_MIME}
        if not data:
            return None
        out["data"] = data
        out["metadata"] = {}
        if out["output_type"] == "execute_result":
            out["execution_count"] = None
    if out.get("output_type") == "stream" and out.get("name") == "stderr":
        return None
    if out.get("output_type") == "error":
        return None
    return out


def sanitize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep outputs only on ``keep-output`` cells; drop counts, timings, widget state, paths."""
    nb = copy.deepcopy(nb)
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    number = 0
    for cell in nb.cells:
        cell.pop("id", None)
        tags = cell.get("metadata", {}).get("tags", [])
        cell.metadata = cell_metadata(tags)
        if cell.cell_type != "code":
            continue
        number += 1
        cell.execution_count = None
        if KEEP in tags:
            cell.outputs = [o for o in map(_clean_output, cell.outputs) if o is not None]
            # nbval refuses outputs on an unnumbered cell; top-to-bottom numbering is stable
            cell.execution_count = number if cell.outputs else None
            for out in cell.outputs:
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = number
        else:
            cell.outputs = []
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What makes a notebook unfit to commit (empty list = fine)."""
    found = []
    number = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        number += 1
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("outputs") and KEEP not in tags:
            found.append(f"cell {i}: has outputs but is not tagged {KEEP!r}")
        if cell.get("execution_count") not in (None, number):
            found.append(f"cell {i}: execution_count is not its top-to-bottom number")
        if cell.get("outputs") and cell.get("execution_count") is None:
            found.append(f"cell {i}: outputs without an execution_count (nbval refuses them)")
        text = str(cell.get("outputs", ""))
        for pattern in FORBIDDEN:
            if pattern.search(text):
                found.append(f"cell {i}: output matches forbidden pattern {pattern.pattern!r}")
        for out in cell.get("outputs", []):
            if any(m in out.get("data", {}) for m in VOLATILE_MIME):
                found.append(f"cell {i}: output keeps a widget/JS view")
        if "execution" in cell.get("metadata", {}):
            found.append(f"cell {i}: execution timestamps in metadata")
    if "widgets" in nb.metadata:
        found.append("notebook metadata keeps widget state")
    return found


def carry_outputs(nb: nbformat.NotebookNode, old: nbformat.NotebookNode) -> list[int]:
    """Give each kept code cell of ``nb`` the outputs of ``old``'s code cell with the same source.

    Returns the indexes of kept cells that found none (their source changed: run ``--execute``).
    """
    saved: dict[str, list] = {}
    for cell in old.cells:
        if cell.cell_type == "code" and cell.get("outputs"):
            saved.setdefault(cell.source, []).append(cell.outputs)
    lost = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or KEEP not in cell.metadata.get("tags", []):
            continue
        if saved.get(cell.source):
            cell.outputs = copy.deepcopy(saved[cell.source].pop(0))
        else:
            lost.append(i)
    return lost


def execute(nb: nbformat.NotebookNode, *, cwd: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run ``nb`` top to bottom in a fresh kernel whose working folder is ``cwd``."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def build(stem: str, *, run: bool, folder: Path = NOTEBOOKS) -> nbformat.NotebookNode:
    """``stem``'s clean notebook from its ``.py`` source (run in ``folder`` when ``run``).

    Raises ``PairOutOfStep`` when the ``.py`` is missing, or when the ``.ipynb`` differs from it
    and is the newer one (an edit made without jupytext, which building would lose).
    """
    ipynb, py = folder / f"{stem}.ipynb", folder / f"{stem}.py"
    if not py.is_file():
        raise PairOutOfStep(f"{py.name} is missing: run `.venv/bin/jupytext --sync {ipynb}`")
    nb = new_notebook(read_source(py).cells)
    old = nbformat.read(ipynb, as_version=4) if ipynb.is_file() else None
    if old is not None and ipynb.stat().st_mtime > py.stat().st_mtime and out_of_step(stem, folder):
        raise PairOutOfStep(
            f"{ipynb.name} was edited after {py.name} and they differ: run "
            f"`.venv/bin/jupytext --sync {ipynb}` to carry the edit into {py.name}, then build again"
        )
    if run:
        nb = execute(nb, cwd=folder)
    elif old is not None:
        for i in carry_outputs(nb, old):
            print(f"{stem}: kept cell {i} changed, so it has no output until --execute", flush=True)
    return sanitize(nb)


def write_pair(stem: str, nb: nbformat.NotebookNode, folder: Path = NOTEBOOKS) -> list[str]:
    """Write ``stem``'s ``.ipynb`` and its ``.py`` (both from ``nb``); the names that changed."""
    ipynb_text = nbformat.writes(nb).rstrip("\n") + "\n"  # as nbformat.write
    # the .py from the .ipynb as saved (keys sorted), as jupytext writes it when Lab saves a pair
    py_text = source_text(nbformat.reads(ipynb_text, as_version=4), folder)
    written = []
    for path, text in ((folder / f"{stem}.ipynb", ipynb_text), (folder / f"{stem}.py", py_text)):
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path.name)
    return written


def _offline_environment(tmp: Path) -> None:
    """A private workspace and IPython profile, and no key: outputs never depend on this machine."""
    os.environ["ONESIG_NB_WORKSPACE"] = str(tmp / "workspace")
    os.environ["IPYTHONDIR"] = str(tmp / "ipython")
    for name in list(os.environ):
        if name.startswith("ONESIGNAL_"):
            del os.environ[name]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--execute", action="store_true", help="run each notebook and keep clean outputs"
    )
    p.add_argument("--check", action="store_true", help="only say which pairs are out of step")
    p.add_argument("--only", nargs="*", help="notebook stems to build (default: all)")
    args = p.parse_args(argv)
    chosen = [s for s in stems() if not args.only or s in args.only]
    if args.check:
        found = [line for stem in chosen for line in out_of_step(stem)]
        print("\n".join(found) or f"{len(chosen)} pairs in step")
        return 1 if found else 0
    with tempfile.TemporaryDirectory(prefix="onesig-nb-build-") as tmp:
        if args.execute:
            _offline_environment(Path(tmp))
        for stem in chosen:
            if args.execute:
                print(f"running {stem} …", flush=True)
            try:
                nb = build(stem, run=args.execute)
            except PairOutOfStep as exc:
                print(f"{stem}: {exc}", file=sys.stderr)
                return 1
            bad = problems(nb)
            if bad:
                print(f"{stem}: " + "; ".join(bad), file=sys.stderr)
                return 1
            written = write_pair(stem, nb)
            print(f"{stem}: wrote {', '.join(written)}" if written else f"{stem}: unchanged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
