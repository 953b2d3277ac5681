"""Write the numbered notebooks from the cell texts in ``_cells.py``, run them, keep clean outputs.

    python notebooks/_build.py            # write the .ipynb files with no outputs
    python notebooks/_build.py --execute  # ... then run each one offline and keep only the
                                          # outputs of cells tagged "keep-output", sanitized

Not part of the package: the committed ``.ipynb`` files are what people open. The sanitizer
(``sanitize``) is also what ``tests/notebooks/test_notebook_hygiene.py`` checks against.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
KEEP = "keep-output"  # the only cells whose outputs are committed
CHECK = "check"  # cells that check against the sample's known answers, collapsed in Lab
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


def _cells_module():
    spec = importlib.util.spec_from_file_location("_cells", HERE / "_cells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _metadata(tags: list[str]) -> dict:
    """Cell metadata: its tags, and check cells (tag ``check``) collapsed in JupyterLab."""
    meta: dict = {}
    if tags:
        meta["tags"] = list(tags)
    if CHECK in tags:
        meta["jupyter"] = {"source_hidden": True}
    return meta


def make_notebook(cells: list[tuple]) -> nbformat.NotebookNode:
    """A notebook from ``(kind, source[, tags])`` tuples, kind ``"md"`` or ``"code"``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for item in cells:
        kind, source = item[0], item[1].strip("\n")
        tags = list(item[2]) if len(item) > 2 else []
        cell = (nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell)(
            source
        )
        cell.pop("id", None)
        cell.metadata = _metadata(tags)
        nb.cells.append(cell)
    nb.nbformat, nb.nbformat_minor = 4, 4  # no cell ids: stable diffs
    return nb


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
        cell.metadata = _metadata(tags)
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


def execute(nb: nbformat.NotebookNode, *, cwd: Path, timeout: int = 600) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--execute", action="store_true", help="run each notebook and keep clean outputs"
    )
    p.add_argument("--only", nargs="*", help="notebook stems to build (default: all)")
    args = p.parse_args(argv)
    cells = _cells_module()
    with tempfile.TemporaryDirectory(prefix="onesig-nb-build-") as tmp:
        if args.execute:
            # a private workspace + journals, so outputs never depend on this machine's state
            os.environ["ONESIG_NB_WORKSPACE"] = str(Path(tmp) / "workspace")
            for name in list(os.environ):
                if name.startswith("ONESIGNAL_"):
                    del os.environ[name]
        for stem, content in cells.NOTEBOOKS.items():
            if args.only and stem not in args.only:
                continue
            nb = make_notebook(content)
            if args.execute:
                print(f"running {stem} …", flush=True)
                nb = execute(nb, cwd=HERE)
            nb = sanitize(nb)
            bad = problems(nb)
            if bad:
                print(f"{stem}: " + "; ".join(bad), file=sys.stderr)
                return 1
            nbformat.write(nb, HERE / f"{stem}.ipynb")
            print(f"wrote {stem}.ipynb", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
