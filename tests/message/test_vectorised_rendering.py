"""Templates of plain text, variables and ``default`` filters are rendered column by column,
without Liquid; anything else falls back to Liquid. Both paths must give identical text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from onesig_nb.message import liquid
from onesig_nb.message.rendering import TagColumns, render_simple, simple_parts

NAMES = ["first_name", "city", "plan", "n"]

literal = st.text(alphabet=st.sampled_from(list("ab {}|%-'\"\n!é😀")), max_size=6)
default = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("xy '{}é")), max_size=4))
spacing = st.sampled_from(["", " ", "  "])


@st.composite
def outputs(draw) -> str:
    name = draw(st.sampled_from(NAMES))
    fallback = draw(default)
    a, b, c = draw(spacing), draw(spacing), draw(spacing)
    if fallback is None:
        return "{{" + a + name + b + "}}"
    quote = draw(st.sampled_from(["'", '"']))
    if quote in fallback:
        fallback = fallback.replace(quote, "")
    return "{{" + a + name + b + "|" + c + "default:" + a + quote + fallback + quote + b + "}}"


templates = st.lists(st.one_of(literal, outputs()), min_size=1, max_size=6).map("".join)
values = st.one_of(st.none(), st.just(""), st.text(max_size=5), st.integers(-5, 5).map(str))


def liquid_text(source: str, row: dict) -> str:
    tags = {k: v for k, v in row.items() if v is not None and v != ""}
    return liquid.render_text(source, tags)


@settings(max_examples=300, deadline=None)
@given(source=templates, rows=st.lists(st.fixed_dictionaries({n: values for n in NAMES}),
                                       min_size=1, max_size=8))  # fmt: skip
def test_the_column_path_renders_exactly_what_liquid_renders(source, rows):
    parts = simple_parts(source)
    try:
        expected = [liquid_text(source, r) for r in rows]
    except Exception:  # noqa: BLE001 - not valid Liquid: the column path must not take it
        assert parts is None
        return
    if parts is None:
        return  # Liquid renders it (tags, filters or markup the column path leaves alone)
    frame = pd.DataFrame(rows, columns=NAMES).assign(external_id=[str(i) for i in range(len(rows))])
    got = render_simple(parts, TagColumns(frame, None), np.arange(len(rows)))
    assert list(got) == expected


def test_simple_templates_take_the_column_path_and_others_do_not():
    assert simple_parts("Hi {{ first_name | default: 'there' }}!") is not None
    assert simple_parts('{{first_name|default:"x"}} from {{ city }}') is not None
    for needs_liquid in (
        "{% if a %}x{% endif %}",
        "{{ first_name | upcase }}",
        "{{- first_name -}}",
        "{{ user.tags.city }}",
        "{{ message.custom_data.x }}",
        "{{ first_name | default: 'it\\'s' }}",
    ):
        assert simple_parts(needs_liquid) is None, needs_liquid


def test_typed_trait_columns_render_as_their_tag_values():
    frame = pd.DataFrame(
        {
            "external_id": ["a", "b", "c"],
            "n": [1.0, None, 3.5],
            "plan": pd.array(["pro", pd.NA, ""], dtype="string"),
            "city": [True, False, None],
        }
    )
    parts = simple_parts("{{ n | default: '?' }}/{{ plan | default: 'free' }}/{{ city }}")
    got = render_simple(parts, TagColumns(frame, None), np.arange(3))
    assert list(got) == ["1/pro/true", "?/free/false", "3.5/free/"]
