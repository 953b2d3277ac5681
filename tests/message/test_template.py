"""custom_data goes with a template_id, as OneSignal uses it; without one the text renders blank.

Source: the v11.6 create-notification schema describes ``custom_data`` as "Use with
`template_id`" and ``template_id`` as a UUID (see onesignal-behaviour-sources.md, "custom_data in
Liquid").
"""

from __future__ import annotations

import pandas as pd
import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.message import Message

TEMPLATE_ID = "e4d3c2b1-a09f-4f1e-8d7c-6b5a4f3e2d1c"
OFFER = "Your code: {{ message.custom_data.code }}"


def _codes(findings) -> set[str]:
    return {f.code for f in findings}


def test_custom_data_without_a_template_is_refused_with_the_fix():
    with pytest.raises(ValidationError, match="custom_data needs a template_id") as caught:
        Message(OFFER, custom_data={"code": "X1"})
    assert "template_id='<the template's UUID>'" in str(caught.value)


@pytest.mark.parametrize(
    "bad", ["welcome-template", "1234", 42, "e4d3c2b1a09f4f1e8d7c6b5a4f3e2d1c"]
)
def test_a_template_id_that_is_not_a_uuid_is_refused(bad):
    with pytest.raises(ValidationError, match="is not a template id; copy the UUID"):
        Message("Hi", template_id=bad)


def test_a_template_id_with_custom_data_is_sent_and_round_trips():
    msg = Message(OFFER, template_id=TEMPLATE_ID, custom_data={"code": "X1"})
    payload = msg.to_payload()
    assert payload["template_id"] == TEMPLATE_ID
    assert payload["custom_data"] == {"code": "X1"}
    assert Message.from_dict(msg.to_dict()) == msg
    assert Message(OFFER, template_id=TEMPLATE_ID).fingerprint != Message(OFFER).fingerprint


def test_a_template_id_alone_is_accepted_and_its_surrounding_spaces_dropped():
    assert Message("Hi", template_id=f" {TEMPLATE_ID.upper()} ").template_id == TEMPLATE_ID.upper()


def test_the_preview_renders_custom_data_blank_without_a_template_as_onesignal_does():
    people = pd.DataFrame({"external_id": ["a"]})
    assert Message(OFFER).render(people)["contents"].tolist() == ["Your code: "]
    with_template = Message(OFFER, template_id=TEMPLATE_ID, custom_data={"code": "X1"})
    assert with_template.render(people)["contents"].tolist() == ["Your code: X1"]


def test_lint_warns_when_a_text_reads_custom_data_without_a_template():
    found = [f for f in Message(OFFER).lint() if f.code == "custom-data-without-template"]
    assert [(f.severity, f.field) for f in found] == [("warning", "contents")]
    assert "template_id=" in found[0].message


def test_lint_notes_that_a_template_decides_what_is_shown():
    findings = Message(OFFER, template_id=TEMPLATE_ID, custom_data={"code": "X1"}).lint()
    assert "custom-data-without-template" not in _codes(findings)
    note = next(f for f in findings if f.code == "template")
    assert note.severity == "info" and TEMPLATE_ID in note.message


def test_a_message_without_custom_data_or_template_gets_neither_finding():
    assert _codes(Message("Hi {{ first_name }}").lint()).isdisjoint(
        {"custom-data-without-template", "template"}
    )
