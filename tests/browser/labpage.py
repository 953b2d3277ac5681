"""Playwright steps that work in JupyterLab 4 (see shared/reference/jupyter-testing.md §2)."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def open_notebook(page: Page, url: str) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is idle."""
    page.goto(url)
    expect(page.locator(".jp-NotebookPanel")).to_be_visible()
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle")


def run_all_cells(page: Page) -> None:
    """Run ▸ Run All Cells (the notebook must be active: click a prompt first)."""
    # the visible notebook: Lab restores earlier tabs, and a hidden one must not take the click
    page.locator(".jp-NotebookPanel:visible .jp-Cell .jp-InputPrompt").first.click()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def wait_all_ran(page: Page, timeout_ms: int = 120_000) -> None:
    """Wait until no cell is queued or running ('[*]') and the kernel is idle again.

    Check cells are collapsed, and JupyterLab leaves a collapsed cell's prompt empty; every
    other prompt must show its execution number.
    """
    page.wait_for_function(
        """() => {
            const panel = '.jp-NotebookPanel:not(.lm-mod-hidden)';
            const texts = [...document.querySelectorAll(`${panel} .jp-CodeCell .jp-InputPrompt`)]
                .map(p => p.textContent.trim());
            return texts.some(t => /\\[\\d+\\]/.test(t))
                && texts.every(t => t === '' || /\\[\\d+\\]/.test(t));
        }""",
        timeout=timeout_ms,
    )
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle")


def no_errors(page: Page) -> None:
    """No cell shows a Python traceback."""
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
    assert not tracebacks, tracebacks[0][:2000]
