"""Payloads, dict/YAML round trips and fingerprints."""

from __future__ import annotations

import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.message import Message

#: A dashboard template id (the OpenAPI v11.6 example); custom_data needs one.
TEMPLATE_ID = "e4d3c2b1-a09f-4f1e-8d7c-6b5a4f3e2d1c"


def test_to_payload_holds_only_set_fields_and_keeps_liquid():
    msg = Message("Hi {{ first_name }}", url="https://x.io", ttl=60)
    assert msg.to_payload() == {
        "contents": {"en": "Hi {{ first_name }}"},
        "url": "https://x.io",
        "ttl": 60,
    }
    assert "app_id" not in msg.to_payload()


def test_from_dict_round_trips_and_fingerprint_is_stable():
    msg = Message(
        {"en": "Hi", "es": "Hola"},
        headings="T",
        buttons=[{"id": "a", "text": "A"}],
        data={"k": 1},
        template_id=TEMPLATE_ID,
        custom_data={"offer": "10%"},
    )
    again = Message.from_dict(msg.to_dict())
    assert again == msg and again.fingerprint == msg.fingerprint
    assert Message("Hi!").fingerprint != msg.fingerprint


def test_fingerprint_changes_with_any_field():
    assert Message("Hi", ttl=60).fingerprint != Message("Hi", ttl=61).fingerprint


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ValidationError, match="Unknown message field"):
        Message.from_dict({"contents": "Hi", "colour": "red"})


def test_from_yaml_reads_message_file(tmp_path):
    path = tmp_path / "message.yaml"
    path.write_text(
        "message:\n  contents:\n    en: \"Hi {{ first_name | default: 'there' }}\"\n"
        "    es: Hola\n  headings: Cart\n  url: https://shop.example/cart\n  ttl: 3600\n",
        encoding="utf-8",
    )
    msg = Message.from_yaml(path)
    assert msg.contents["es"] == "Hola" and msg.headings == {"en": "Cart"} and msg.ttl == 3600


def test_from_yaml_reports_missing_and_invalid_files(tmp_path):
    with pytest.raises(ValidationError, match="No message file"):
        Message.from_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("contents: [unclosed", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid YAML"):
        Message.from_yaml(bad)


def test_variables_cover_bare_names_and_user_tags():
    msg = Message(
        "{{ first_name }} {{ user.tags.plan }} {{ message.custom_data.offer }}",
        headings="{% if city %}{{ city }}{% endif %}",
        template_id=TEMPLATE_ID,
        custom_data={"offer": "x"},
    )
    assert msg.variables == {"first_name", "plan", "city"}
