"""lint(): findings with severity, counts and what people will see instead."""

from __future__ import annotations

import pandas as pd
import pytest

from onesig_nb.message import DEVICE_LIMITS, Message


def codes(findings):
    return {f.code: f for f in findings}


def test_missing_variable_counts_users_and_shows_what_they_see(people):
    found = codes(Message("Hi {{ first_name }}!").lint(people.assign(language="en")))
    f = found["missing-variable"]
    assert f.severity == "warning" and f.count == 3 and f.examples == ("ben", "cho", "dee")
    assert "'Hi !'" in f.message and "default" in f.message


def test_missing_variable_with_a_default_is_only_a_note(people):
    f = codes(Message("Hi {{ first_name | default: 'there' }}").lint(people))["missing-variable"]
    assert f.severity == "info" and "'Hi there'" in f.message


def test_variable_absent_from_the_cohort_is_reported(people):
    f = codes(Message("Hi {{ nickname }}").lint(people))["missing-variable"]
    assert f.count == 5 and f.severity == "warning"
    assert f.message.startswith("No one in this cohort has 'nickname'.")
    assert "Its traits are: city, first_name, language, ltv, vip." in f.message


def test_misspelled_variable_is_a_warning_with_a_suggestion(people):
    f = codes(Message("Hi {{ frist_name | default: 'there' }}").lint(people))["missing-variable"]
    assert f.severity == "warning" and f.count == 5  # a fallback does not hide a typo
    assert f.message == (
        "No one in this cohort has 'frist_name'. Did you mean 'first_name'? "
        "Everyone would see 'Hi there'."
    )


def test_single_brace_placeholder_is_a_warning():
    found = [f for f in Message("Hi {first_name}", headings="{ city } deals").lint()]
    assert [f.code for f in found] == ["single-braces", "single-braces"]
    assert found[0].severity == "warning" and found[0].message == (
        "`{first_name}` uses single braces, so it is sent as written. "
        "Did you mean `{{ first_name }}`?"
    )
    assert any("`{ city }`" in f.message and "`{{ city }}`" in f.message for f in found)


@pytest.mark.parametrize(
    "template",
    ["Hi {{ first_name }}", "{{first_name}}", "{% if vip %}Hi{% endif %}", "a {} b", "{{ '{x}' }}"],
)
def test_double_braces_and_plain_braces_are_not_single_brace_findings(template):
    assert "single-braces" not in codes(Message(template).lint())


def test_empty_render_is_an_error(people):
    f = codes(Message("{{ first_name }}").lint(people))["empty-render"]
    assert f.severity == "error" and f.count == 3


@pytest.mark.parametrize(
    ("template", "code", "where"),
    [
        ("Hi {% if x %}", "liquid-syntax", "line 1, column 4"),
        ("Hi\n{{ x }", "liquid-syntax", "line 2"),
        ("Hi\n  {{ x | shout }}", "liquid-unknown-filter", "line 2, column 8"),
        ("{% bogus %}", "liquid-syntax", "line 1"),
    ],
)
def test_bad_liquid_is_an_error_with_line_and_column(people, template, code, where):
    for cohort in (None, people):
        f = codes(Message(template).lint(cohort))[code]
        assert f.severity == "error" and where in f.message


def test_render_time_failure_is_counted(people):
    msg = Message("{{ 100 | divided_by: ltv }}")
    f = codes(msg.lint(people))["render-failed"]
    assert f.severity == "error" and f.count == 1 and f.examples == ("cho",)  # no ltv tag


@pytest.mark.parametrize(
    ("url", "severity"),
    [
        ("http://shop.example", "warning"),
        ("shop.example/cart", "error"),
        ("https://", "error"),
        ("https://shop.example/a b", "error"),
        ("myapp://cart", "info"),
    ],
)
def test_bad_urls_and_images(url, severity):
    found = [f for f in Message("Hi", url=url).lint() if f.code == "url"]
    assert found and found[0].severity == severity
    img = [f for f in Message("Hi", chrome_web_image=url).lint() if f.code == "url"]
    assert img and img[0].field == "chrome_web_image"


def test_https_url_is_clean():
    assert Message("Hi", url="https://shop.example/cart", big_picture="hero_image").lint() == []


def test_templated_url_is_checked_per_user(people):
    found = [f for f in Message("Hi", url="{{ city }}").lint(people) if f.code == "url"]
    assert {f.severity for f in found} == {"error"} and sum(f.count for f in found) == 5
    assert any("renders empty" in f.message and f.examples == ("cho",) for f in found)


def test_liquid_in_data_is_flagged():
    f = codes(Message("Hi", data={"name": "{{ first_name }}"}).lint())["liquid-in-data"]
    assert f.severity == "warning"


def test_reserved_names_are_flagged(people):
    assert "reserved-tag" in codes(Message("Hi {{ journey }}").lint())
    assert "reserved-tag" in codes(Message("Hi").lint(people.assign(template="x")))


def test_truncation_per_device(people):
    long_body = "x" * (DEVICE_LIMITS["ios"]["body"] + 1)
    found = codes(Message(long_body, headings="t" * 70).lint(people))
    assert found["truncated-ios"].severity == "warning" and found["truncated-ios"].count == 5
    assert found["truncated-chrome"].count == 5
    assert "shows for all 5 users (longest" in found["truncated-ios"].message
    assert found["truncated-android"].field in ("contents", "headings")


def test_image_shortens_what_ios_shows():
    body = "x" * (DEVICE_LIMITS["ios"]["body_with_image"] + 5)
    assert "truncated-ios" not in codes(Message(body).lint())
    assert "truncated-ios" in codes(
        Message(body, ios_attachments={"i": "https://x.io/a.png"}).lint()
    )


def test_huge_text_is_a_payload_error(people):
    f = codes(Message("x" * 5_000).lint(people))["payload-too-large"]
    assert f.severity == "error" and f.count == 5


def test_language_fallback_is_noted(people):
    f = codes(Message({"en": "Hi", "es": "Hola"}).lint(people))["language-fallback"]
    assert f.count == 1 and f.message == (
        "1 of 5 users reads German; the message has no text in that language, so they get English."
    )
    f = codes(Message("Hi").lint(people))["language-fallback"]
    assert f.message.startswith("3 of 5 users read Spanish (2) or German (1);")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {{ x", "A `{{` at line 1, column 4 is never closed with `}}`."),
        ("Hi {{ x }", "A `{{` at line 1, column 4 is never closed with `}}`."),
        ("a {% if x %}b{% endif", "A `{%` at line 1, column 14 is never closed with `%}`."),
        (
            "Hi\n{% if x %}yes",
            "The `{% if %}` at line 2, column 1 is never closed: add `{% endif %}` where its "
            "part ends.",
        ),
        (
            "{% for p in x %}{{ p }}",
            "The `{% for %}` at line 1, column 1 is never closed: add `{% endfor %}`",
        ),
        ("a {% endfi %}", "`{% endfi %}` at line 1, column 3 is not a Liquid tag. Did you mean"),
        ("{% bogus %}", "`{% bogus %}` at line 1, column 1 is not a Liquid tag."),
        ("x {% endif %}", "`{% endif %}` at line 1, column 3 has no `{% if %}` before it"),
        ("{{ x | upcas }}", "`| upcas` at line 1, column 6 is not a Liquid filter. Did you mean"),
    ],
)
def test_liquid_errors_are_in_plain_words(template, expected):
    f = [f for f in Message(template).lint() if f.code.startswith("liquid")][0]
    assert f.message.startswith("contents (en): " + expected), f.message
    assert "found end of" not in f.message and "expected" not in f.message


def test_lint_returns_a_readable_list(people):
    found = Message("Hi {{ first_name }}", url="http://x.io").lint(people)
    assert isinstance(found, list) and len(found) == 3  # still a plain list for old code
    lines = str(found).splitlines()
    assert lines[0].startswith("warning: 3 of 5 users have no tag 'first_name'")
    assert all(line.split(":")[0] in ("error", "warning", "info") for line in lines)
    assert repr(found) == str(found) and "Finding(" not in repr(found)
    assert str(found[0]) == lines[0]
    frame = found.to_frame()
    assert list(frame.columns) == ["severity", "code", "message", "field", "count", "examples"]
    assert len(frame) == 3 and frame.loc[0, "count"] == 3
    html = found._repr_html_()
    assert html.count("<li") == 3 and "data-code='url'" in html
    assert str(Message("Hi").lint()) == "No problems found."
    assert Message("Hi").lint().to_frame().empty


def test_one_person_findings_name_the_person(people):
    one = people.iloc[[2]].assign(first_name="Cho")  # German reader, no ltv
    found = Message("Hi {{ nickname }}", headings="{{ ltv | default: 1 }}").lint(one)
    assert codes(found)["language-fallback"].message == (
        "Cho's language is German; the message has no German text, so Cho sees English."
    )
    missing = {f.message for f in found if f.code == "missing-variable"}
    assert missing == {
        "Cho has no 'nickname'. Cho would see 'Hi '.",
        "Cho has no 'ltv', so Cho sees '1' (the template's fallback).",
    }
    for f in found:
        assert "users" not in f.message and "1 of 1" not in f.message


@pytest.mark.parametrize("n", [1, 2])
def test_counts_have_the_right_grammar(people, n):
    found = Message("x" * 5_000).lint(people.assign(language="en").iloc[:n])
    text = " ".join(f.message for f in found)
    assert "1 users" not in text and "users' notification is" not in text


def test_findings_are_sorted_errors_first(people):
    sev = [f.severity for f in Message("{{ first_name }}", url="http://x.io").lint(people)]
    order = {"error": 0, "warning": 1, "info": 2}
    assert sev == sorted(sev, key=order.get) and sev[0] == "error"


def test_lint_never_raises_on_a_bad_cohort():
    f = Message("Hi").lint(pd.DataFrame({"id": [1]}))
    assert f[0].code == "cohort" and f[0].severity == "error"


def test_clean_message_has_no_findings(people):
    msg = Message({"en": "Hi {{ first_name | default: 'there' }}", "es": "Hola", "de": "Hallo"})
    found = msg.lint(people)
    assert [f.severity for f in found] == ["info"]  # the fallback note, for the English reader
    assert found[0].count == 1 and found[0].examples == ("dee",)
    assert Message({"en": "Hi", "es": "Hola", "de": "Hallo"}).lint(people) == []
