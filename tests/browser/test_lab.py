"""JupyterLab in a real browser, started exactly as ``make lab`` starts it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from .labpage import no_errors, open_notebook, run_all_cells, wait_all_ran

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AUDIENCE = "cart_abandoners"


def test_lab_answers_api_status_only_with_the_token(lab):
    with urllib.request.urlopen(f"{lab.base_url}/api/status?token={lab.token}", timeout=10) as r:
        assert r.status == 200
        assert "started" in json.loads(r.read())
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{lab.base_url}/api/status", timeout=10)
    assert err.value.code == 403


def test_lab_kernels_point_at_the_launched_sandbox(lab):
    assert lab.env["ONESIGNAL_API_BASE"] == lab.sandbox.url
    assert lab.env["ONESIGNAL_APP_ID"] == lab.sandbox.app_id
    assert lab.env["ONESIG_NB_WORKSPACE"] == str(lab.workspace)
    assert len(lab.sandbox.users()) > 0  # seeded from the roster


def _preview_user(page) -> str:
    return page.get_by_placeholder("Search an external id…").first.input_value()


def test_preview_mockups_render_and_switch_user(lab, page, artifacts_dir, sample_manifest):
    open_notebook(page, lab.notebook_url("01-quickstart.ipynb"))
    run_all_cells(page)
    wait_all_ran(page)
    no_errors(page)
    devices = page.locator(".osn-devices").first
    expect(devices).to_be_visible()
    for kind in ("ios", "android", "chrome"):
        expect(devices.locator(f".osn-device[data-device='{kind}']")).to_be_visible()
    members = sample_manifest["audiences"][AUDIENCE]["by_user_id"]
    first = _preview_user(page)
    assert first in members
    before = devices.inner_text()
    page.get_by_role("button", name="Next ▶").first.click()
    expect(page.get_by_placeholder("Search an external id…").first).not_to_have_value(first)
    second = _preview_user(page)
    assert second in members and second != first
    expect(page.locator(".osn-devices").first).not_to_have_text(before)
    page.screenshot(path=str(artifacts_dir / "lab-preview-switched.png"), full_page=True)
    assert len(lab.sandbox.notifications()) == 0  # running all cells sends nothing


def test_quickstart_click_path_sends_exactly_to_the_cohort(
    lab, page, artifacts_dir, sample_manifest
):
    sb = lab.sandbox
    open_notebook(page, lab.notebook_url("01-quickstart.ipynb"))
    run_all_cells(page)
    wait_all_ran(page)
    no_errors(page)
    assert len(sb.notifications()) == 0  # Run All sends nothing by itself

    # the preview: switch to another person
    first = _preview_user(page)
    page.get_by_role("button", name="Next ▶").first.click()
    expect(page.get_by_placeholder("Search an external id…").first).not_to_have_value(first)

    # Send test -> only the QA phone gets it
    page.locator("button.widget-button", has_text="Send test").click()  # name has an icon
    expect(page.get_by_text("Test sent to 1 of 1 QA ids")).to_be_visible()
    tests = sb.deliveries()
    assert sorted(tests.external_id) == ["qa-you"]
    page.screenshot(path=str(artifacts_dir / "lab-quickstart-test-sent.png"), full_page=True)

    # Send -> confirm by typing the number of people -> Confirm send
    # the plan sends only to the people OneSignal can reach (checked before sending)
    members = sample_manifest["audiences"][AUDIENCE]["reachable"]
    page.get_by_role("button", name=f"Send to {len(members):,} people", exact=True).click()
    confirm = page.get_by_role("button", name="Confirm send", exact=True)
    expect(confirm).to_be_disabled()
    page.get_by_placeholder(f"type {len(members)} or").fill(str(len(members)))
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.get_by_text("Sent to ").first).to_be_visible()
    expect(page.get_by_role("button", name="Already sent", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "lab-quickstart-sent.png"), full_page=True)

    campaign = [n for n in sb.notifications().id if n not in set(tests.notification_id)]
    got = sb.deliveries()
    got = got[got.notification_id.isin(campaign)]
    reachable = sample_manifest["audiences"][AUDIENCE]["reachable"]
    assert sorted(set(got.external_id)) == reachable  # exactly the cohort's reachable people
    assert got.groupby("external_id").notification_id.nunique().max() == 1  # each once

    # The marketer runs everything again: every check cell passes, nothing is sent twice, and
    # the panel shows the campaign as already sent (a state, not an error).
    before = len(sb.notifications())
    run_all_cells(page)
    wait_all_ran(page)
    no_errors(page)
    expect(page.get_by_role("button", name="Already sent", exact=True)).to_be_visible()
    assert len(sb.notifications()) == before
    page.screenshot(path=str(artifacts_dir / "lab-quickstart-run-again.png"), full_page=True)
