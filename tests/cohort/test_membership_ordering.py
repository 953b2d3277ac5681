"""Membership ordering: which message is the latest, and which values count as members."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

import onesig_nb as osn


def _audience_msg(mid: str, value: bool, *, ts: str | None, received: str) -> dict:
    msg = {
        "type": "identify", "messageId": mid, "userId": "u1", "receivedAt": received,
        "traits": {"vip": value, "plan": "pro" if value else "free"},
        "context": {"personas": {"computation_class": "audience", "computation_key": "vip"}},
    }  # fmt: skip
    if ts is not None:
        msg["timestamp"] = ts
    return msg


def _write(tmp_path, messages) -> None:
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(m) + "\n" for m in messages))


def test_message_without_timestamp_is_ordered_by_received_at(tmp_path):
    # entered on March 1st; left on March 2nd, in a message that only carries receivedAt
    _write(
        tmp_path,
        [
            _audience_msg("m1", True, ts="2025-03-01T10:00:00Z", received="2025-03-01T10:00:00Z"),
            _audience_msg("m2", False, ts=None, received="2025-03-02T10:00:00Z"),
        ],
    )
    assert osn.load_cohort(tmp_path, audience="vip").external_ids == []
    # and as_of compares that message by its receivedAt, instead of dropping it
    before = osn.load_cohort(tmp_path, audience="vip", as_of="2025-03-01T12:00:00Z")
    assert before.external_ids == ["u1"]
    after = osn.load_cohort(tmp_path, audience="vip", as_of="2025-03-03")
    assert after.external_ids == []


def test_traits_of_a_message_without_timestamp_count_as_latest_by_received_at(tmp_path):
    _write(
        tmp_path,
        [
            _audience_msg("m1", False, ts="2025-03-01T10:00:00Z", received="2025-03-01T10:00:00Z"),
            _audience_msg("m2", True, ts=None, received="2025-03-02T10:00:00Z"),
        ],
    )
    cohort = osn.load_cohort(tmp_path, audience="vip")
    assert cohort.df.to_dict("records") == [{"external_id": "u1", "plan": "pro"}]


def test_frame_audience_column_of_numpy_booleans_selects_members():
    # a list of numpy comparisons with a gap: pandas keeps np.bool_ objects in an object column
    frame = pd.DataFrame({"external_id": ["a", "b", "c"], "vip": [np.True_, np.False_, None]})
    assert frame["vip"].dtype == object
    cohort = osn.load_cohort(frame, audience="vip")
    assert cohort.external_ids == ["a"]
    assert cohort.report.to_dict()["counts"]["not_members"] == 2
