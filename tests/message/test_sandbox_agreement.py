"""The preview renders exactly what the sandbox delivers, for every user of the sample roster."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("onesig_nb.sandbox")
pytest.importorskip("onesig_nb.samples")
requests = pytest.importorskip("requests")

from onesig_nb.message import Message  # noqa: E402
from onesig_nb.samples import load_roster  # noqa: E402

MESSAGES = [
    Message(
        {
            "en": "Hi {{ first_name | default: 'there' }}, your {{ plan }} plan{% if ltv %} "
            "(LTV {{ user.tags.ltv }}){% endif %} {{ message.custom_data.offer }} 🎉",
            "es": "Hola {{ first_name | default: 'amigo' | upcase }}",
            "de": "Hallo {{ first_name }}!",
        },
        headings={"en": "{{ plan | capitalize }} perks", "fr": "Avantages {{ plan }}"},
        url="https://shop.example/{{ plan | default: 'free' }}?u={{ first_name | url_encode }}",
        template_id="e4d3c2b1-a09f-4f1e-8d7c-6b5a4f3e2d1c",  # custom_data needs a template
        custom_data={"offer": "-10%"},
    ),
]


def _send(sb, payload: dict, ids: list[str]) -> str:
    body = {
        **payload,
        "app_id": sb.app_id,
        "include_aliases": {"external_id": ids},
        "target_channel": "push",
    }
    r = requests.post(
        f"{sb.url}/notifications",
        json=body,
        headers={"Authorization": f"Key {sb.api_key}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["id"]


def _template(sb) -> str:
    """A template in the sandbox (v11.6 create-template); the request's own fields win."""
    r = requests.post(
        f"{sb.url}/templates",
        json={"app_id": sb.app_id, "name": "agreement", "contents": {"en": "template text"}},
        headers={"Authorization": f"Key {sb.api_key}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["id"]


@pytest.mark.parametrize("msg", MESSAGES)
def test_render_matches_sandbox_deliveries_for_every_user(sandbox, sample_workspace, msg):
    roster = load_roster(sample_workspace)
    subscribed = roster[roster["subscribed"]]
    # what OneSignal holds per user, as a cohort: external_id + one column per tag
    tags = pd.DataFrame(subscribed["tags"].tolist(), index=subscribed.index)
    cohort = pd.concat([subscribed[["external_id"]], tags], axis=1).drop_duplicates("external_id")
    ids = cohort["external_id"].tolist()

    payload = msg.to_payload()
    if payload.get("template_id"):  # the sandbox, like OneSignal, needs the template to exist
        payload["template_id"] = _template(sandbox)
    nid = _send(sandbox, payload, ids)  # server mode: one templated notification
    delivered = sandbox.deliveries(nid).drop_duplicates("external_id").set_index("external_id")
    preview = msg.render(cohort).set_index("external_id")

    assert set(delivered.index) == set(ids)
    for column in ("heading", "subtitle", "contents", "url"):
        got = delivered.loc[ids, column].tolist()
        want = preview.loc[ids, column].tolist()
        mismatches = [
            (i, w, g) for i, w, g in zip(ids, want, got, strict=True) if (w or None) != (g or None)
        ]
        assert not mismatches, f"{column}: {len(mismatches)} differ, e.g. {mismatches[:3]}"
