"""Cohort behaviour: frames and Parquet, fingerprint, subset, notebook reprs, batch bodies."""

from __future__ import annotations

import json

import pandas as pd

import onesig_nb as osn
from onesig_nb.cohort import Cohort


def test_frame_source_uses_external_id_and_keeps_other_columns_as_traits():
    df = pd.DataFrame({"external_id": ["b", "a", "b", None], "plan": ["pro", "free", "x", "y"]})
    cohort = osn.load_cohort(df, audience="manual")
    assert cohort.external_ids == ["b", "a"]  # input order, duplicates merged, no-id dropped
    assert list(cohort.df.columns) == ["external_id", "plan"]
    assert cohort.report["rows_without_id"] == 1
    assert cohort.report["duplicate_ids"] == 1


def test_frame_with_user_and_anonymous_ids_follows_id_type():
    df = pd.DataFrame({"user_id": ["u1", None], "anonymous_id": ["a1", "a2"], "ltv": [1.0, 2.0]})
    assert osn.load_cohort(df, id_type="user_id").external_ids == ["u1"]
    assert osn.load_cohort(df, id_type="anonymous_id").external_ids == ["a1", "a2"]
    assert osn.load_cohort(df, id_type="auto").external_ids == ["u1", "a2"]


def test_frame_audience_column_filters_members():
    df = pd.DataFrame({"external_id": ["a", "b", "c"], "vip": [True, False, "true"]})
    cohort = osn.load_cohort(df, audience="vip")
    assert cohort.external_ids == ["a", "c"]
    assert "vip" not in cohort.df.columns


def test_parquet_source(tmp_path):
    path = tmp_path / "people.parquet"
    pd.DataFrame({"external_id": ["x", "y"], "city": ["Lyon", "Oslo"]}).to_parquet(path)
    cohort = osn.load_cohort(path)
    assert cohort.report.kind == "parquet"
    assert cohort.df.to_dict("list") == {"external_id": ["x", "y"], "city": ["Lyon", "Oslo"]}


def test_fingerprint_changes_with_ids_and_traits():
    base = Cohort.from_frame(pd.DataFrame({"external_id": ["a", "b"], "plan": ["pro", "free"]}))
    same = Cohort.from_frame(pd.DataFrame({"external_id": ["a", "b"], "plan": ["pro", "free"]}))
    other_ids = Cohort.from_frame(
        pd.DataFrame({"external_id": ["a", "c"], "plan": ["pro", "free"]})
    )
    other_trait = Cohort.from_frame(
        pd.DataFrame({"external_id": ["a", "b"], "plan": ["pro", "pro"]})
    )
    assert base.fingerprint == same.fingerprint
    assert len({base.fingerprint, other_ids.fingerprint, other_trait.fingerprint}) == 3


def test_subset_keeps_order_and_traits():
    cohort = Cohort.from_frame(pd.DataFrame({"external_id": ["a", "b", "c"], "n": [1, 2, 3]}))
    sub = cohort.subset(["c", "a", "zz"])
    assert sub.external_ids == ["a", "c"]
    assert sub.df["n"].tolist() == [1, 3]
    assert len(sub) == 2 and "c" in sub


def test_cohort_and_report_render_html(sample_workspace):
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience="cart_abandoners")
    page = cohort._repr_html_()
    assert f"<b>{len(cohort):,}</b> people" in page
    assert "cart_abandoners" in page and "trait summary" in page and "<table" in page
    assert cohort.external_ids[0] in page  # the sample table
    report_html = cohort.report._repr_html_()
    assert "malformed lines skipped" in report_html and "part-" in report_html
    summary = cohort.trait_summary()
    assert "ltv" in set(summary["trait"])
    assert json.loads(json.dumps(cohort.report.to_dict()))["counts"]["members"] == len(cohort)


def test_batch_bodies_are_read_as_messages(tmp_path):
    items = [
        {"type": "identify", "userId": "u1", "messageId": "b1", "anonymousId": None,
         "timestamp": "2025-03-01T10:00:00.000+00:00", "traits": {"vip": True, "plan": "pro"},
         "context": {"personas": {"computation_class": "audience", "computation_key": "vip"}}},
        {"type": "track", "userId": "u2", "messageId": "b2", "event": "Audience Entered",
         "timestamp": "2025-03-01T10:00:01.000+00:00", "properties": {"vip": "true"},
         "context": {"personas": {"computation_class": "journey_step", "computation_key": "vip"}}},
    ]  # fmt: skip
    body = {"batch": items, "sentAt": "2025-03-01T10:00:02+00:00", "writeKey": "k"}
    (tmp_path / "batch-001.json").write_text(json.dumps(body, indent=2))
    cohort = osn.load_cohort(tmp_path / "batch-001.json", audience="vip")
    assert cohort.external_ids == ["u1", "u2"]
    assert cohort.df.set_index("external_id").loc["u1", "plan"] == "pro"
    assert cohort.report["messages_read"] == 2


def test_kind_override_and_glob(tmp_path):
    line = {"type": "identify", "userId": "u1", "messageId": "m1",
            "timestamp": "2025-03-01T10:00:00Z", "traits": {"vip": True},
            "context": {"personas": {"computation_class": "audience", "computation_key": "vip"}}}  # fmt: skip
    (tmp_path / "events.log").write_text(json.dumps(line) + "\n")
    cohort = osn.load_cohort(tmp_path / "events.log", audience="vip", kind="archive")
    assert cohort.external_ids == ["u1"]
    (tmp_path / "more.jsonl").write_text(json.dumps(line | {"userId": "u9", "messageId": "m9"}))
    assert osn.load_cohort(str(tmp_path / "*.jsonl"), audience="vip").external_ids == ["u9"]
