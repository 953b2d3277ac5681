"""The one Liquid environment the preview and the sandbox share."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from liquid.exceptions import LiquidError

import onesig_nb as osn
from onesig_nb.message.liquid import render_text


def test_variables_are_bare_tags_user_tags_and_custom_data():
    text = "{{ first_name }}/{{ user.tags.plan }}/{{ message.custom_data.offer }}/{{ nope }}."
    out = render_text(text, {"first_name": "Ana", "plan": "pro"}, {"offer": "10%"})
    assert out == "Ana/pro/10%/."


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in (1..100000000) %}x{% endfor %}",  # a runaway loop
        "{% for i in (1..9000) %}{% for j in (1..9000) %}x{% endfor %}{% endfor %}",
    ],
)
def test_a_runaway_template_is_an_error_not_a_hang(template):
    started = time.perf_counter()
    with pytest.raises(LiquidError):
        render_text(template, {})
    assert time.perf_counter() - started < 5
    findings = osn.Message(contents=template).lint(pd.DataFrame({"external_id": ["a"]}))
    assert any(f.severity == "error" for f in findings)
