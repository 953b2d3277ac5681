"""The README's quickstart runs as written, offline, and sends each person exactly one push."""

from __future__ import annotations

import re
from pathlib import Path

from onesig_nb.samples import load_roster

README = Path(__file__).resolve().parents[2] / "README.md"


def quickstart_code() -> str:
    text = README.read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the quickstart should be one copy-pasteable block"
    return blocks[0]


def test_readme_quickstart_runs_and_is_exactly_once(sample_workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ONESIG_NB_WORKSPACE", str(sample_workspace))
    namespace: dict = {}
    exec(compile(quickstart_code(), str(README), "exec"), namespace)

    cohort, client, result = namespace["cohort"], namespace["client"], namespace["result"]
    sandbox = client.sandbox
    try:
        frame = result.to_frame()
        assert len(frame) == len(cohort) > 0
        assert set(frame.external_id) == set(cohort.external_ids)
        deliveries = sandbox.deliveries()
        campaign_rows = deliveries[deliveries.notification_id.isin(set(frame.notification_id))]
        # exactly once: no (person, device) pair got the campaign twice
        assert not campaign_rows.duplicated(["external_id", "platform"]).any()
        sent = set(frame.loc[frame.status == "sent", "external_id"])
        roster = load_roster(sample_workspace)
        subscribed = set(roster.loc[roster.subscribed, "external_id"])
        # "sent" is exactly who the sandbox delivered to: the plan knew who is reachable
        assert set(campaign_rows.external_id) == sent == subscribed & set(cohort.external_ids)
        # OneSignal ignores ids it has never seen without saying so, and accepts people whose
        # devices are all unsubscribed: both are known before sending and excluded
        excluded = set(frame.loc[frame.status == "excluded", "external_id"])
        assert excluded == set(cohort.external_ids) - subscribed
        assert set(frame.status) == {"sent", "excluded"}
        assert (tmp_path / "campaigns.sqlite").exists()
    finally:
        client.close()
        if sandbox is not None:
            sandbox.stop()


def test_readme_message_yaml_example_is_a_valid_message(tmp_path):
    from onesig_nb.message import Message

    text = README.read_text()
    block = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert len(block) == 1
    path = tmp_path / "message.yaml"
    path.write_text(block[0])
    msg = Message.from_yaml(path)
    assert msg.to_payload()["contents"]["en"].startswith("Hi {{ first_name")
    assert msg.to_payload()["url"] == "https://shop.example.com/cart"
