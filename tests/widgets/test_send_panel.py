"""SendPanel headless: typed confirmation, test send, double click = zero new requests."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.message import Message
from onesig_nb.widgets import SendPanel
from onesig_nb.widgets.send_panel import describe_test_send

RED, AMBER, GREEN = "#b00020", "#8a5a00", "#1b7f3b"

N = 60


@pytest.fixture(scope="module")
def sb():
    roster = pd.DataFrame(
        {
            "external_id": [f"sp-{i:03d}" for i in range(N)],
            "platform": ["android"] * N,
            "subscribed": [True] * N,
        }
    )
    with osn.Sandbox() as sandbox:
        sandbox.add_users(roster)
        sandbox.add_users([{"external_id": "qa-9", "platform": "web"}])
        sandbox.add_users([{"external_id": "qa-off", "platform": "ios", "subscribed": False}])
        yield sandbox


@pytest.fixture
def panel(sb, tmp_path):
    client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
    cohort = osn.Cohort.from_frame(
        pd.DataFrame({"external_id": [f"sp-{i:03d}" for i in range(N)], "first_name": "Ana"})
    )
    msg = Message(contents="Hi {{ first_name }}")
    camp = Campaign(
        f"panel-{tmp_path.name}", cohort, msg, client, journal=tmp_path / "j", test_users=["qa-9"]
    )
    yield SendPanel(camp, report_options={"sleep": lambda s: None, "timeout": 10})
    client.close()


def test_panel_shows_the_plan_and_the_count_on_the_button(panel):
    assert f"Send to {N} people" == panel.send_button.description
    assert "Plan for campaign" in panel.plan_view.value
    assert panel.confirm_box.layout.display == "none"


def test_confirmation_requires_typing_the_count_or_the_name(panel, sb):
    before = sb.request_count()
    panel.send_button.click()
    assert panel.confirm_box.layout.display == "flex"
    panel.confirm_text.value = "59"
    assert panel.confirm_button.disabled
    panel.confirm_button.click()  # a click on a disabled button sends nothing
    assert sb.request_count() == before
    panel.confirm_text.value = panel.campaign.name
    assert not panel.confirm_button.disabled
    panel.cancel_button.click()
    assert panel.confirm_box.layout.display == "none" and sb.request_count() == before


def test_send_then_double_click_makes_zero_new_requests(panel, sb):
    panel.send_button.click()
    panel.confirm_text.value = str(N)
    panel.confirm_button.click()
    assert panel.wait(30)
    assert panel.progress.value == N
    assert "sent" in panel.results.value and "<img" in panel.report_view.value
    assert panel.send_button.disabled and panel.send_button.description == "Already sent"
    assert panel.send_button.button_style == "success"  # a state, not an error
    after = sb.request_count()
    panel.confirm_button.click()
    panel.confirm_button.click()
    panel.send_button.click()
    assert sb.request_count() == after
    assert panel.campaign.result().summary["sent"] == N


def test_concurrent_double_click_sends_once(panel, sb):
    panel.send_button.click()
    panel.confirm_text.value = str(N)
    before = len(sb.notifications())
    threads = [threading.Thread(target=panel.confirm_button.click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert panel.wait(30)
    assert len(sb.notifications()) - before == 1  # one batch, one notification, not two
    assert panel.campaign.result().summary["sent"] == N


def test_send_test_button_uses_the_qa_list(panel, sb):
    panel.test_button.click()
    assert "Test sent to 1 of 1" in panel.status.value
    assert panel.campaign.status == "tested"


def test_confirm_sends_the_typed_count_so_a_changed_cohort_is_refused(panel, sb):
    panel.send_button.click()
    panel.confirm_text.value = str(N)  # the person confirms N people ...
    fewer = [f"sp-{i:03d}" for i in range(N // 2)]
    panel.campaign.cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": fewer}))
    before = sb.request_count()
    panel.confirm_button.click()  # ... but a later cell re-bound the cohort
    assert panel.wait(30)
    assert sb.request_count() == before
    assert f"confirmed for {N} people" in panel.status.value
    assert panel.campaign.status == "new"


def test_a_test_send_that_reached_nobody_is_red_with_the_reason(panel):
    panel.qa_ids.value = "nobody-here"
    panel.test_button.click()
    status = panel.status.value
    assert RED in status and GREEN not in status
    assert "Test NOT delivered: &#x27;nobody-here&#x27; is not in this OneSignal app" in status
    assert "Audience &gt; Users" in status


def test_a_test_send_with_a_listed_device_is_amber_and_names_it(panel):
    """OneSignal lists unsubscribed devices of an accepted push; the person may have others."""
    panel.qa_ids.value = "qa-9, qa-off"
    panel.test_button.click()
    status = panel.status.value
    assert AMBER in status and "accepted the test for 2 of 2 QA ids (qa-9, qa-off)" in status
    assert "listed a device of &#x27;qa-off&#x27; as not subscribed" in status


def test_a_test_send_that_reached_some_is_amber_and_names_each_miss():
    frame = pd.DataFrame(
        {"external_id": ["qa-9", "qa-gone"], "status": ["sent", "not_reached"],
         "notification_id": ["n1", None], "error": [None, None]}
    )  # fmt: skip
    text, kind = describe_test_send(osn.CampaignResult("c (test)", frame), ["qa-9", "qa-gone"])
    assert kind == "warn" and "Test sent to 1 of 2 QA ids (qa-9)" in text
    assert "'qa-gone' is not in this OneSignal app" in text


def test_a_failed_test_send_shows_the_error_text():
    frame = pd.DataFrame(
        {"external_id": ["qa-1"], "status": ["failed"], "notification_id": [None],
         "error": ["TransportError: could not connect to 127.0.0.1:9"]}
    )  # fmt: skip
    result = osn.CampaignResult("c (test)", frame)
    text, kind = describe_test_send(result, ["qa-1"])
    assert kind == "error" and "could not connect to 127.0.0.1:9" in text


def test_after_a_test_the_button_offers_another_and_after_sending_no_type_0(panel):
    assert panel.test_button.description == "Send test"
    panel.test_button.click()
    assert panel.test_button.description == "Send another test"
    panel.send_button.click()
    panel.confirm_text.value = str(N)
    panel.confirm_button.click()
    assert panel.wait(30)
    assert panel.confirm_text.placeholder == "" and "type 0" not in panel.confirm_text.placeholder
    assert f"Sent to {N} people." in panel.results.value and "font-size:16px" in panel.results.value


def test_saved_notebooks_show_the_plan_and_the_last_result_as_html(panel):
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "Will send to <b>60 people</b>" in bundle["text/html"]
    panel.send_button.click()
    panel.confirm_text.value = str(N)
    panel.confirm_button.click()
    assert panel.wait(30)
    html = panel._repr_mimebundle_()["text/html"]
    assert f"Sent to {N} people." in html and "Delivery report" in html


def test_a_liquid_syntax_error_shows_the_plan_and_blocks_sending(sb, tmp_path):
    client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": ["sp-000"], "first_name": "Ana"}))
    camp = Campaign("broken", cohort, Message(contents="Hi {{ first_name"), client,
                    journal=tmp_path / "j")  # fmt: skip
    panel = SendPanel(camp)  # does not raise
    assert "Checks" in panel.plan_view.value and panel.plan.state == "blocked"
    assert "Fix the errors in the checks above before sending." in panel.status.value
    assert panel.send_button.disabled and panel.test_button.disabled
    client.close()


def _campaign(sb, tmp_path, msg, **kw):
    client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
    cohort = osn.Cohort.from_frame(
        pd.DataFrame({"external_id": [f"sp-{i:03d}" for i in range(N)], "first_name": "Ana"})
    )
    return Campaign(f"gate-{tmp_path.name}", cohort, msg, client, journal=tmp_path / "j", **kw)


def test_a_misspelled_variable_is_repeated_with_its_count_and_needs_the_box_ticked(sb, tmp_path):
    camp = _campaign(sb, tmp_path, Message(contents="Hi {{ frist_name }}, your cart is waiting"))
    panel = SendPanel(camp, report=False)
    assert not panel.send_button.disabled  # a warning does not block: it asks
    panel.send_button.click()
    shown = panel.warnings_view.value
    assert "changes the text for some people" in shown and "60 people" in shown
    assert "frist_name" in shown and "missing-variable" in shown
    assert panel.acknowledge.layout.display != "none" and not panel.acknowledge.value
    before = sb.request_count()
    panel.confirm_text.value = str(N)
    assert panel.confirm_button.disabled  # the count alone is not enough
    panel.confirm_button.click()  # a click on the disabled button starts nothing
    assert not panel.sending and sb.request_count() == before and camp.status == "new"
    panel.acknowledge.value = True
    assert not panel.confirm_button.disabled
    panel.confirm_button.click()
    assert panel.wait(30)
    assert camp.result().summary["sent"] == N and f"Sent to {N} people." in panel.results.value
    camp.client.close()


def test_a_message_without_text_warnings_shows_no_box(panel):
    panel.send_button.click()
    assert panel.warnings_view.value == "" and panel.acknowledge.layout.display == "none"
    panel.confirm_text.value = str(N)
    assert not panel.confirm_button.disabled


def test_require_test_keeps_send_disabled_until_a_test_of_this_message(sb, tmp_path):
    msg = Message(contents="Hi {{ first_name | default: 'there' }}")
    camp = _campaign(sb, tmp_path, msg, require_test=True, test_users=["qa-9"])
    panel = SendPanel(camp, report=False)
    assert panel.send_button.disabled and "Send a test first" in panel.status.value
    assert "require_test" in panel.send_button.tooltip
    panel.test_button.click()
    assert not panel.send_button.disabled and "Test sent to 1 of 1" in panel.status.value
    camp.client.close()


def test_while_sending_the_progress_shows_count_and_rate_and_stop_hides_after(panel):
    panel.send_button.click()
    panel.confirm_text.value = str(N)
    panel.confirm_button.click()
    assert panel.wait(30)
    assert f"{N} of {N} people" in panel.progress_text.value
    assert "people/s" in panel.progress_text.value
    assert panel.stop_button.layout.display == "none" and not panel.sending
