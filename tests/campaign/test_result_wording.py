"""A campaign result in plain words: the banner reconciles the counts, "sent" says what it
promises, and a result before any send says so."""

from __future__ import annotations

from .conftest import make
from .fakes import FakeClient


def test_plan_and_result_say_sent_means_accepted_and_name_excluded_platforms(journal):
    camp = make(journal, exclude_platforms=("ios",))
    plan = camp.plan()
    text = str(plan) + plan._repr_html_()
    assert "accepted the push" in text and "report()" in text
    assert "only subscribed devices are ios" in text
    res = camp.send(progress=False)
    assert "accepted the push" in res.summary["sent_means"]
    assert "report()" in res._repr_html_()


def test_result_banner_reconciles_the_counts_with_correct_plurals(journal):
    client = FakeClient(max_ids=100, unsubscribed={"u000003"})
    res = make(journal, client=client).send(progress=False)
    kind, text = res.headline()
    assert kind == "ok"
    assert text == (
        "✓ 49 people were accepted (unconfirmed): OneSignal took the push, but whether they "
        "have a subscribed device was not checked. 1 more person was accepted, but OneSignal "
        "listed a device of theirs as not subscribed: they got it only on another subscribed "
        "device, if they have one. Nobody was sent this twice."
    )
    page = res._repr_html_()
    assert "font-size:16px" in page and "accepted (unconfirmed)" in page
    assert "accepted, with a device not subscribed" in page
    assert "showing 20 of 50 — <code>result.to_frame()</code> has everyone" in page
    assert page.index("<th>why</th>") < page.index("<th>notification_id</th>")


def test_plural_listed_devices_and_one_request(journal):
    client = FakeClient(max_ids=100, unsubscribed={"u000003", "u000004"})
    camp = make(journal, client=client)
    plan = camp.plan()
    assert "in 1 request," in plan.headline()
    res = camp.send(progress=False)
    assert "2 more people were accepted, but OneSignal listed a device" in res.headline()[1]
    again = camp.send(progress=False)
    assert again.headline()[1].startswith(
        "✓ Already sent earlier: nothing was sent again. 48 people were accepted (unconfirmed)"
    )


def test_result_before_sending_says_not_sent_yet(journal):
    camp = make(journal)
    res = camp.result()
    assert res.not_started == 50
    assert res.headline()[1] == (
        "Not sent yet: click Send to 50 people above (or call campaign.send()), then run this "
        "cell again."
    )
    assert "people accepted" not in res._repr_html_()
    camp.send(progress=False)
    assert camp.result().not_started is None


def test_a_batch_that_created_nothing_reads_as_not_subscribed_and_got_nothing(journal):
    """Only when OneSignal created no notification is a listed person known not to be reached."""
    client = FakeClient(max_ids=10, unsubscribed={f"u{i:06d}" for i in range(10)})
    res = make(journal, n=20, client=client).send(progress=False)
    assert res.summary["not_reached"] == 10 and res.summary["accepted_unconfirmed"] == 10
    assert "10 are not in this OneSignal app" in res.headline()[1]
    assert "not_reached=10" in repr(res)
