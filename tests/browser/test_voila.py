"""01-quickstart as a Voilà app (``make app``): the same clicks, no code on the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AUDIENCE = "cart_abandoners"


def test_voila_app_click_path_sends_exactly_to_the_cohort(
    voila_app, page, artifacts_dir, sample_manifest
):
    sb = voila_app.sandbox
    page.goto(voila_app.url)
    devices = page.locator(".osn-devices").first
    expect(devices).to_be_visible()
    assert "ensure_workspace" not in page.locator("body").inner_text()  # no code shown
    assert len(sb.notifications()) == 0  # rendering the app sends nothing

    search = page.get_by_placeholder("Search an external id…").first
    first = search.input_value()
    page.get_by_role("button", name="Next ▶").first.click()
    expect(search).not_to_have_value(first)

    page.locator("button.widget-button", has_text="Send test").click()
    expect(page.get_by_text("Test sent to 1 of 1 QA ids")).to_be_visible()
    tests = sb.deliveries()
    assert sorted(tests.external_id) == ["qa-you"]

    # the plan sends only to the people OneSignal can reach (checked before sending)
    members = sample_manifest["audiences"][AUDIENCE]["reachable"]
    page.get_by_role("button", name=f"Send to {len(members):,} people", exact=True).click()
    page.get_by_placeholder(f"type {len(members)} or").fill(str(len(members)))
    page.get_by_role("button", name="Confirm send", exact=True).click()
    expect(page.get_by_role("button", name="Already sent", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "voila-quickstart-sent.png"), full_page=True)

    campaign = [n for n in sb.notifications().id if n not in set(tests.notification_id)]
    got = sb.deliveries()
    got = got[got.notification_id.isin(campaign)]
    assert sorted(set(got.external_id)) == sample_manifest["audiences"][AUDIENCE]["reachable"]
    assert got.groupby("external_id").notification_id.nunique().max() == 1

    # Opening the app again (a new visit runs the notebook again): no error anywhere, and the
    # campaign shows as already sent.
    before = len(sb.notifications())
    page.goto(voila_app.url)
    expect(page.locator(".osn-devices").first).to_be_visible()
    expect(page.get_by_role("button", name="Already sent", exact=True)).to_be_visible()
    body = page.locator("body").inner_text()
    assert "There was an error when executing cell" not in body
    assert "Traceback" not in body
    assert len(sb.notifications()) == before
    page.screenshot(path=str(artifacts_dir / "voila-quickstart-again.png"), full_page=True)
