"""Random text never raises anything but ValidationError, and lint never raises at all."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onesig_nb.errors import ValidationError
from onesig_nb.message import Message

COHORT = pd.DataFrame(
    {"external_id": ["a", "b"], "first_name": ["Ana", None], "language": ["en", "es"]}
)
TOKENS = [*"{}%|:'\" abcxyz_.-\n", "{{", "}}", "{%", "%}", "if ", "endif", "| default:", "🎉", "ש"]
liquidish = st.lists(st.sampled_from(TOKENS), max_size=20).map("".join)
texts = st.one_of(
    st.text(max_size=60), liquidish, st.integers(), st.none(), st.lists(st.text(), max_size=2)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents=texts, heading=texts, url=st.one_of(st.none(), st.text(max_size=30), liquidish))
def test_random_text_only_raises_validation_error(contents, heading, url):
    try:
        msg = Message(
            {"en": contents}, headings=heading if isinstance(heading, str) else None, url=url
        )
    except ValidationError:
        return
    findings = msg.lint(COHORT)  # never raises
    assert all(f.severity in ("error", "warning", "info") for f in findings)
    try:
        out = msg.render(COHORT)
    except ValidationError:
        assert any(f.severity == "error" for f in findings)
        return
    assert len(out) == 2
