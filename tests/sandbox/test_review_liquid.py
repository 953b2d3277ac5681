"""Liquid templates the sandbox must accept, refuse, or fail per user (found in review)."""

from __future__ import annotations

import pytest


def test_a_template_that_fails_only_for_some_tags_is_sent_with_errored_rows(fresh_api):
    sb = fresh_api.sb
    sb.add_users(
        [
            {"external_id": "s2", "platform": "ios", "tags": {"score": "2"}},
            {"external_id": "s0", "platform": "ios", "tags": {"score": "0"}},
        ]
    )
    # valid Liquid: only a user with score 0 makes divided_by fail at render time
    r = fresh_api.push(["s2", "s0"], contents={"en": "{{ 10 | divided_by: score }} points"})
    assert r.status_code == 200, r.text
    nid = r.json()["id"]
    rows = sb.deliveries(nid).set_index("external_id")
    assert rows.loc["s2", "contents"] == "5 points"
    assert rows.loc["s2", "status"] == "sent"
    assert rows.loc["s0", "status"] == "errored" and "divide" in rows.loc["s0", "error"]
    view = fresh_api.current("GET", f"/notifications/{nid}?app_id={sb.app_id}").json()
    assert view["successful"] == 1 and view["errored"] == 1


@pytest.mark.parametrize(
    ("template", "words"),
    [("Hi {% if %}", "invalid Liquid syntax"), ("Hi {{ x | shout }}", "unknown Liquid filter")],
)
def test_syntax_errors_and_unknown_filters_are_still_refused(fresh_api, template, words):
    r = fresh_api.push(["ana"], contents={"en": template})
    assert r.status_code == 400 and words in r.json()["errors"][0]
    assert fresh_api.sb.deliveries().empty
