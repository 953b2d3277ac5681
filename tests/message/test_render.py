"""Rendering: OneSignal's variables, tag rules for missing values, languages, batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.message import Message
from onesig_nb.message.liquid import render_text
from onesig_nb.segment.tags import tags_from_traits

#: A dashboard template id (the OpenAPI v11.6 example); custom_data needs one.
TEMPLATE_ID = "e4d3c2b1-a09f-4f1e-8d7c-6b5a4f3e2d1c"


def test_render_returns_the_contract_columns(people):
    out = Message("Hi").render(people)
    assert list(out.columns) == [
        "external_id",
        "language",
        "heading",
        "subtitle",
        "contents",
        "url",
    ]
    assert out["external_id"].tolist() == people["external_id"].tolist()


def test_default_filter_covers_missing_none_empty_and_nan(people):
    out = Message("Hi {{ first_name | default: 'there' }}").render(people.assign(language="en"))
    assert out["contents"].tolist() == ["Hi Ana", "Hi there", "Hi there", "Hi there", "Hi Eva"]


def test_missing_tag_renders_empty_like_onesignal(people):
    out = Message("Hi {{ first_name }}!").render(people.assign(language="en"))
    assert out["contents"].tolist()[:4] == ["Hi Ana!", "Hi !", "Hi !", "Hi !"]


def test_user_tags_and_custom_data_variables(people):
    msg = Message(
        "{{ user.tags.city }} {{ message.custom_data.offer }}",
        template_id=TEMPLATE_ID,
        custom_data={"offer": "-10%"},
    )
    out = msg.render(people.assign(language="en"))
    assert out["contents"].tolist()[0] == "Berlin -10%"
    assert out["contents"].tolist()[2] == " -10%"


def test_numbers_and_booleans_render_as_onesignal_tag_strings(people):
    out = Message("{{ ltv }}|{{ vip }}").render(people.assign(language="en"))
    assert out["contents"].tolist() == ["10|true", "2.5|false", "|true", "3|false", "7|true"]


def test_tag_map_renames_traits(people):
    df = people.rename(columns={"first_name": "firstName"}).assign(language="en")
    msg = Message("Hi {{ first_name | default: 'x' }}")
    assert msg.render(df)["contents"][0] == "Hi x"
    assert msg.render(df, tag_map={"firstName": "first_name"})["contents"][0] == "Hi Ana"


def test_language_trait_picks_the_text_and_falls_back_to_english(people):
    msg = Message({"en": "Hi", "es": "Hola"}, headings={"en": "Title", "es": "Título"})
    out = msg.render(people)
    assert out["language"].tolist() == ["en", "es", "en", "en", "es"]
    assert out["contents"].tolist() == ["Hi", "Hola", "Hi", "Hi", "Hola"]
    assert out["heading"].tolist() == ["Title", "Título", "Title", "Title", "Título"]


def test_heading_without_the_language_falls_back_to_english(people):
    out = Message({"en": "Hi", "es": "Hola"}, headings="Title").render(people)
    assert set(out["heading"]) == {"Title"}


def test_each_field_picks_the_language_separately_like_onesignal():
    df = pd.DataFrame({"external_id": ["a", "b"], "language": ["fr", "es-MX"]})
    out = Message({"en": "Hi", "es": "Hola"}, headings={"en": "T", "fr": "Titre"}).render(df)
    assert out["heading"].tolist() == ["Titre", "T"]
    assert out["contents"].tolist() == ["Hi", "Hi"]  # exact codes only, as the sandbox does
    assert out["language"].tolist() == ["en", "en"]


def test_render_agrees_with_the_shared_liquid_rules_for_every_person(people):
    msg = Message(
        "Hi {{ first_name | default: 'there' | upcase }}{% if city %} in {{ city }}{% endif %}"
        " {{ user.tags.ltv }}",
        template_id=TEMPLATE_ID,
        custom_data={"a": "b"},
    )
    out = msg.render(people.assign(language="en"))
    for i, row in enumerate(people.assign(language="en").to_dict("records")):
        row.pop("external_id")
        expected = render_text(msg.contents["en"], tags_from_traits(row), msg.custom_data)
        assert out["contents"][i] == expected


def test_render_accepts_a_cohort_like_object(people):
    class FakeCohort:
        df = people

    assert len(Message("Hi").render(FakeCohort())) == 5


def test_render_rejects_a_frame_without_external_id():
    with pytest.raises(ValidationError, match="external_id"):
        Message("Hi").render(pd.DataFrame({"id": [1]}))


@pytest.mark.parametrize(
    ("template", "match"),
    [("Hi {% if x %}", "not valid Liquid"), ("{{ x | nofilter }}", "is not a Liquid filter")],
)
def test_render_raises_validation_error_on_bad_templates(people, template, match):
    with pytest.raises(ValidationError, match=match):
        Message(template).render(people)


def test_emoji_and_right_to_left_text_render_unchanged():
    df = pd.DataFrame({"external_id": ["a"], "first_name": ["سارة"]})
    out = Message("مرحبا {{ first_name }} 🎉👩‍👩‍👧").render(df)
    assert out["contents"][0] == "مرحبا سارة 🎉👩‍👩‍👧"


def test_lists_and_dicts_are_never_tags():
    df = pd.DataFrame({"external_id": ["a"], "items": [["x", "y"]]})
    assert Message("[{{ items }}]").render(df)["contents"][0] == "[]"


def test_memo_renders_once_per_distinct_value_tuple(monkeypatch):
    from onesig_nb.message import liquid

    calls = []
    real = liquid.render_text

    def counting(src, tags, custom=None):
        calls.append(dict(tags))
        return real(src, tags, custom)

    monkeypatch.setattr(liquid, "render_text", counting)
    n = 3_000
    df = pd.DataFrame(
        {
            "external_id": [f"u{i}" for i in range(n)],
            "first_name": np.array(["Ana", "Ben", None])[np.arange(n) % 3],
            "ltv": np.arange(n),  # not read by the template: must not split the memo
        }
    )
    # a filter other than default needs Liquid (plain variables take the column path)
    out = Message("Hi {{ first_name | upcase }}").render(df)
    assert len(calls) == 3
    assert out["contents"].tolist()[:3] == ["Hi ANA", "Hi BEN", "Hi "]


def test_client_batches_group_identical_texts_with_no_liquid_left(people):
    msg = Message(
        {"en": "Hi {{ first_name | default: 'there' }}", "es": "Hola"},
        headings="{{ city | default: 'Hey' }}",
        ttl=60,
    )
    batches = msg.client_batches(people.assign(city="X"))
    ids = sorted(i for _, group in batches for i in group)
    assert ids == sorted(people["external_id"])
    for payload, _group in batches:
        assert "{{" not in str(payload["contents"]) and payload["ttl"] == 60
        assert "en" in payload["contents"]
    spanish = [g for p, g in batches if p["contents"].get("es") == "Hola"]
    assert spanish == [["ben", "eva"]]


def test_personalization_modes(people):
    assert Message("Hi").personalization(people).mode == "none"
    p = Message("Hi {{ first_name }}").personalization(people)
    assert p.mode == "server" and p.distinct_texts == 3 and "TagSync" in p.reason
    c = Message("Hi {{ first_name }}").personalization(people, synced_tags=["plan"])
    assert c.mode == "client" and "first_name" in c.reason
    assert Message("Hi {{ first_name }}").personalization().distinct_texts is None
