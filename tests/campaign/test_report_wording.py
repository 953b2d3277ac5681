"""The delivery report speaks plainly and keeps OneSignal's batch ids out of the way."""

from __future__ import annotations

from .conftest import make


def test_report_uses_plain_words_and_tucks_batch_ids_away(journal):
    camp = make(journal)
    camp.send(progress=False)
    report = camp.report(sleep=lambda s: None, poll_interval=0)
    page = report._repr_html_()
    for word in ("clicked", "errors", "still sending", "devices delivered", "<details>"):
        assert word in page
    assert "converted" not in page and "errored" not in page and "remaining" not in page
    assert page.index("<details>") < page.index(report.frame.notification_id.iloc[0])
    labels = [t.get_text() for t in report.figure().axes[0].get_yticklabels()]
    assert "People targeted (accepted)" in labels and "Devices delivered" in labels
