"""Hypothesis strategies shared by the fuzz tests (the sandbox's request handling and the
client's response parsing): one definition of "any JSON-like value"."""

from __future__ import annotations

from hypothesis import strategies as st


def json_values(
    *, int_bits: int, text_size: int, key_size: int, items: int, leaves: int
) -> st.SearchStrategy:
    """Any value JSON can carry: null, booleans, integers within ``±2**int_bits`` (past 64 bits
    to reach overflow paths), finite floats, short texts, and lists or objects of those up to
    ``items`` long, ``leaves`` scalars in all."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**int_bits), max_value=2**int_bits),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=text_size),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=items),
            st.dictionaries(st.text(max_size=key_size), inner, max_size=items),
        ),
        max_leaves=leaves,
    )
