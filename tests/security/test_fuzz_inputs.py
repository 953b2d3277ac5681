"""Fuzzing user inputs: cohort sources and messages. Only onesig_nb's typed errors come out.

Whatever a marketer feeds in (odd DataFrames, half-broken archive lines, strange CSVs, wrong
message fields, hostile templates), the answer is a result or a ``OneSigNbError`` subclass with
a message, never a bare ``KeyError``/``TypeError`` from pandas, DuckDB or Liquid.
"""

from __future__ import annotations

import gzip
import json
import math
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import onesig_nb as osn
from onesig_nb.errors import OneSigNbError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

AUDIENCES = ["cart_abandoners", "high_value_users", "j_o_winback", "nope"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["true", "false", "", "NaN", "2025-03-01T00:00:00Z", "u_000001"]),
)
json_like = st.recursive(
    scalars.filter(lambda v: not (isinstance(v, float) and not math.isfinite(v))),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def typed_only(fn, *args, **kwargs):
    """Run ``fn``; a OneSigNbError is a fine answer, anything else fails the test."""
    try:
        return fn(*args, **kwargs)
    except OneSigNbError as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return None


def _use(cohort) -> None:
    """Touch what a notebook touches on a cohort."""
    if cohort is None:
        return
    assert isinstance(cohort.external_ids, list)
    assert len(cohort) == len(cohort.external_ids)
    assert all(isinstance(i, str) for i in cohort.external_ids)
    cohort._repr_html_()
    cohort.report.to_dict()
    assert isinstance(cohort.fingerprint, str)


# ---- DataFrame sources ----------------------------------------------------------------------

columns = st.lists(
    st.one_of(
        st.sampled_from(["external_id", "user_id", "anonymous_id", "first_name", "ltv", "tags"]),
        st.text(max_size=6),
    ),
    min_size=1,
    max_size=4,
    unique=True,
)


@FUZZ
@given(cols=columns, data=st.data(), id_type=st.sampled_from(["user_id", "anonymous_id", "auto"]))
def test_dataframe_sources_give_a_cohort_or_a_typed_error(cols, data, id_type):
    n = data.draw(st.integers(min_value=0, max_value=5))
    frame = pd.DataFrame({c: data.draw(st.lists(scalars, min_size=n, max_size=n)) for c in cols})
    _use(typed_only(osn.load_cohort, frame, id_type=id_type))
    _use(typed_only(osn.Cohort.from_frame, frame))


# ---- archive sources ------------------------------------------------------------------------


def _message(draw_value, kind: str, key: str) -> dict:
    msg = {
        "type": kind,
        "messageId": draw_value,
        "timestamp": "2025-03-02T10:00:00.000Z",
        "receivedAt": "2025-03-02T10:00:00.100Z",
        "userId": "u_000001",
        "context": {"personas": {"computation_class": "audience", "computation_key": key}},
    }
    if kind == "track":
        msg.update(event="Audience Entered", properties={"audience_key": key, key: True})
    else:
        msg["traits"] = {key: True, "first_name": "Ana"}
    return msg


archive_lines = st.lists(
    st.one_of(
        # a well-formed Engage message with one field replaced by anything
        st.builds(
            lambda mid, kind, key, field, value: json.dumps(
                {**_message(mid, kind, key), field: value}
            ),
            st.text(max_size=6),
            st.sampled_from(["identify", "track", "page", "alias", 7]),
            st.sampled_from(AUDIENCES[:3]),
            st.sampled_from(
                [
                    "userId",
                    "anonymousId",
                    "timestamp",
                    "receivedAt",
                    "context",
                    "traits",
                    "properties",
                    "type",
                    "messageId",
                ]
            ),
            json_like,
        ),
        json_like.map(json.dumps),
        st.text(max_size=40),
        st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    ),
    min_size=0,
    max_size=12,
)


@FUZZ
@given(
    lines=archive_lines,
    audience=st.sampled_from(AUDIENCES + [None]),
    compress=st.booleans(),
    id_type=st.sampled_from(["user_id", "auto"]),
)
def test_archive_sources_give_a_cohort_or_a_typed_error(lines, audience, compress, id_type):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "segment-logs" / "src" / "1740787200000"
        folder.mkdir(parents=True)
        text = "\n".join(line.replace("\n", " ") for line in lines) + "\n"
        if compress:
            (folder / "part-00.gz").write_bytes(gzip.compress(text.encode("utf-8", "replace")))
        else:
            (folder / "part-00.jsonl").write_text(text, encoding="utf-8", errors="replace")
        root = Path(tmp) / "segment-logs"
        _use(typed_only(osn.load_cohort, root, audience=audience, id_type=id_type))
        result = typed_only(osn.list_audiences, root)
        assert result is None or isinstance(result, pd.DataFrame)


@FUZZ
@given(raw=st.binary(max_size=60), gz=st.booleans())
def test_corrupt_archive_files_give_a_typed_error(raw, gz):
    with tempfile.TemporaryDirectory() as tmp:
        name = "part-00.gz" if gz else "part-00.jsonl"
        (Path(tmp) / name).write_bytes(raw)
        _use(typed_only(osn.load_cohort, Path(tmp), audience="cart_abandoners"))


# ---- Engage CSV sources ---------------------------------------------------------------------

csv_cells = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=10),
    st.sampled_from(['{"user_id": ["u_1"]}', '{"user_id": "u_1"}', "[1,2]", '"', "", "u_000002"]),
)


@FUZZ
@given(
    header=st.lists(
        st.one_of(
            st.sampled_from(
                ["key", "user_id", "anonymous_id", "email_1", "external_ids", "traits", "plan"]
            ),
            st.text(max_size=5),
        ),
        min_size=1,
        max_size=4,
    ),
    rows=st.lists(st.lists(csv_cells, min_size=1, max_size=5), max_size=5),
    name=st.sampled_from(["cart_abandoners-formatted.csv", "cart_abandoners-unformatted.csv"]),
)
def test_engage_csv_sources_give_a_cohort_or_a_typed_error(header, rows, name):
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(buf.getvalue())
        _use(typed_only(osn.load_cohort, path))
        _use(typed_only(osn.load_cohort, path, audience="cart_abandoners"))


# ---- Message and lint -----------------------------------------------------------------------

templates = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "Hi {{ first_name | default: 'there' }}",
            "{{ user.tags.city }} {{ message.custom_data.code }}",
            "{% if city %}from {{ city }}",  # unclosed tag
            "{{ first_name | nosuchfilter }}",
            "{{ ",
            "{% for x in y %}{{ x }}{% endfor %}",
            "مرحبا {{ first_name }} 👋",
            "x" * 3000,
        ]
    ),
)
lang_maps = st.one_of(
    templates,
    st.dictionaries(st.sampled_from(["en", "es", "de", "xx", "", "EN"]), templates, max_size=3),
    json_like,
)
optional_text = st.one_of(st.none(), templates, json_like)


@FUZZ
@given(
    contents=lang_maps,
    headings=st.one_of(st.none(), lang_maps),
    url=optional_text,
    data=st.one_of(st.none(), json_like),
    buttons=st.one_of(st.none(), json_like, st.lists(json_like, max_size=4)),
    ttl=st.one_of(st.none(), scalars),
    priority=st.one_of(st.none(), scalars),
    send_after=st.one_of(st.none(), scalars),
    custom_data=st.one_of(st.none(), json_like),
    template_id=st.one_of(
        st.none(), st.just("e4d3c2b1-a09f-4f1e-8d7c-6b5a4f3e2d1c"), st.text(max_size=40)
    ),
)
def test_messages_give_a_message_or_a_typed_error(
    contents, headings, url, data, buttons, ttl, priority, send_after, custom_data, template_id
):
    msg = typed_only(
        osn.Message,
        contents,
        headings=headings,
        url=url,
        data=data,
        buttons=buttons,
        ttl=ttl,
        priority=priority,
        send_after=send_after,
        custom_data=custom_data,
        template_id=template_id,
    )
    if msg is None:
        return
    cohort = osn.Cohort.from_frame(
        pd.DataFrame(
            {
                "external_id": ["a", "b", "c"],
                "first_name": ["Ana", None, ""],
                "city": ["Oslo", float("nan"), "Lagos"],
                "language": ["en", "es", None],
            }
        )
    )
    findings = typed_only(msg.lint)
    assert findings is None or isinstance(findings, list)
    findings = typed_only(msg.lint, cohort)
    assert findings is None or all(f.severity in ("error", "warning", "info") for f in findings)
    typed_only(msg.render, cohort)
    typed_only(msg.personalization, cohort)
    typed_only(msg.client_batches, cohort)
    assert isinstance(msg.to_payload(), dict)
    assert isinstance(msg.fingerprint, str)
    again = typed_only(osn.Message.from_dict, msg.to_dict())
    assert again is None or again.fingerprint == msg.fingerprint
