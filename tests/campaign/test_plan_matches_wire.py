"""The plan's sample request is the body that really goes out, field by field.

A campaign's plan shows the marketer the request its first batch becomes. Here the batch is
then sent through the real client to a sandbox, and the body the sandbox received is compared
with the plan's sample: every field, on both API generations, with and without excluded
platforms. The only difference allowed is the id list, which the plan shortens to three ids and
a count of the rest.
"""

from __future__ import annotations

import json

import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.campaign.batches import SAMPLE_IDS
from onesig_nb.message import Message

#: One text for everyone, so the campaign is one group cut into batches of BATCH ids.
MSG = Message(contents="Flash sale ✓ today only", headings="Sale", url="https://example.com/s")
BATCH = 12

#: Where each API generation puts the targeted ids and the idempotency key.
IDS_AT = {"current": ("include_aliases", "external_id"), "legacy": ("include_external_user_ids",)}
KEY_AT = {"current": "idempotency_key", "legacy": "external_id"}


def _ids(body: dict, api: str) -> list:
    value = body
    for step in IDS_AT[api]:
        value = value[step]
    return value


def _without_ids(body: dict, api: str) -> dict:
    """The body with its id list left out (a JSON copy: what travels on the wire)."""
    body = json.loads(json.dumps(body))
    *parents, last = IDS_AT[api]
    holder = body
    for step in parents:
        holder = holder[step]
    holder.pop(last)
    return body


@pytest.mark.parametrize("excluded", [(), ("ios",), ("web",)], ids=["all", "no-ios", "no-web"])
@pytest.mark.parametrize("api", ["current", "legacy"])
def test_the_plans_sample_is_the_body_the_sandbox_received(sb, roster, tmp_path, api, excluded):
    people = roster[roster.subscribed][["external_id"]].head(4 * BATCH)
    cohort = osn.Cohort.from_frame(people)
    name = f"wire-{api}-{'-'.join(excluded) or 'all'}"
    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, api=api) as client:
        camp = Campaign(
            name, cohort, MSG, client, journal=tmp_path / "j.sqlite",
            exclude_platforms=excluded, batch_size=BATCH, confirm_above=10_000,
        )  # fmt: skip
        plan = camp.plan()
        sample = plan.sample_payload
        result = camp.send(progress=False)
    # people subscribed only on an excluded platform are excluded before sending
    assert result.requests == plan.requests == -(-plan.to_send // BATCH)

    key = sample["body"][KEY_AT[api]]
    sent = [n for n in sb.notifications().to_dict("records") if n["idempotency_key"] == key]
    assert len(sent) == 1, f"no notification in the sandbox with the sample's key {key}"
    wire = sent[0]["request"]

    shown, real = _ids(sample["body"], api), _ids(wire, api)
    assert shown[:SAMPLE_IDS] == real[:SAMPLE_IDS]
    assert shown[SAMPLE_IDS:] == [f"... {len(real) - SAMPLE_IDS:,} more"]
    expected, got = _without_ids(sample["body"], api), _without_ids(wire, api)
    assert sorted(expected) == sorted(got), "the plan shows other fields than are sent"
    for field in got:
        assert expected[field] == got[field], f"field {field!r}: plan != wire"

    scheme, shown_key = sample["headers"]["Authorization"].split(" ", 1)
    assert scheme == ("Basic" if api == "legacy" else "Key")
    assert sb.api_key not in shown_key and shown_key.endswith(sb.api_key[-4:])
