"""Browser fixtures: JupyterLab / Voilà started exactly as ``make lab`` / ``make app`` start them
(:func:`onesig_nb.cli.lab.start`), and Debian's Chromium driven by Playwright's sync API.

Each stack gets its own copy of the small sample workspace, so its persisted sandbox and its
campaign journals start empty. Jupyter, IPython and Chromium state live in a temp folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import chromium_path, require

REPO = Path(__file__).resolve().parents[2]


NOTEBOOKS = REPO / "notebooks"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


def _copy_workspace(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("sandbox*", "journals"))
    return dst


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    require(path is not None, "Chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        require(False, "playwright (python) is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _start(kind: str, sample_workspace: Path, tmp_path_factory, artifacts_dir: Path):
    from onesig_nb.cli.lab import start

    root = tmp_path_factory.mktemp(f"stack-{kind}")
    ws = _copy_workspace(sample_workspace, root / "workspace")
    # a copy of the notebooks: JupyterLab autosaves what it runs, and the committed notebooks
    # must stay exactly as they are (tests/notebooks checks them)
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy2(nb, notebooks / nb.name)
    return start(
        ws,
        notebooks,
        port=0,
        voila="01-quickstart.ipynb" if kind == "voila" else None,
        users=600,
        state_dir=root / "state",
        log_path=artifacts_dir / f"{kind}-server.log",
    )


@pytest.fixture(scope="module")
def lab(sample_workspace, tmp_path_factory, artifacts_dir):
    """JupyterLab + sandbox as ``make lab`` starts them (fresh workspace copy per module)."""
    stack = _start("lab", sample_workspace, tmp_path_factory, artifacts_dir)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def voila_app(sample_workspace, tmp_path_factory, artifacts_dir):
    """01-quickstart as a Voilà app + sandbox, as ``make app`` starts them."""
    stack = _start("voila", sample_workspace, tmp_path_factory, artifacts_dir)
    yield stack
    stack.stop()


@pytest.fixture
def page(chromium, artifacts_dir, request):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    try:  # always leave a picture of where the test ended
        pg.screenshot(path=str(artifacts_dir / f"{request.node.name}-end.png"), full_page=True)
    except Exception:  # noqa: BLE001 - a failed screenshot must not mask the test result
        pass
    context.close()
