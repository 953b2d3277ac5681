"""What the sample workspace looks like on disk: layout, message shapes, ids, timestamps."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime

import pandas as pd

from onesig_nb.samples import load_manifest, load_roster

from .samples_replay import instant

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_layout_has_every_file_of_contract_1(sample_workspace, sample_manifest):
    ws = sample_workspace
    for rel in ("manifest.json", "warehouse.duckdb", "onesignal-users.csv"):
        assert (ws / rel).is_file(), rel
    for key in ("cart_abandoners", "high_value_users"):
        for style in ("formatted", "unformatted"):
            assert (ws / f"engage-csv/{key}-{style}.csv").is_file()
    assert len(list((ws / "batch").glob("*.json"))) == sample_manifest["counts"]["batch_files"] == 3
    sources = sorted(p.name for p in (ws / "segment-logs").iterdir())
    assert sources == sorted(sample_manifest["sources"].values())
    gz = list((ws / "segment-logs").rglob("*.gz"))
    assert len(gz) == sample_manifest["counts"]["files"]
    assert not [p for p in ws.parent.iterdir() if p.name.startswith(".")], "temp dirs left"


def test_day_folders_are_utc_midnight_ms_of_received_at(archive):
    days = set()
    for m in archive[0]:
        folder = int(m["_file"].split("/")[2])
        assert folder % 86_400_000 == 0
        received = instant(m["receivedAt"])
        day = datetime.fromtimestamp(folder / 1000, UTC)
        assert day <= received < day.replace(hour=23, minute=59, second=59, microsecond=999_999)
        days.add(folder)
    assert len(days) >= 28, "about 30 days of history"


def test_gzip_headers_have_no_name_and_no_mtime(sample_workspace):
    for path in list((sample_workspace / "segment-logs").rglob("*.gz"))[:20]:
        head = path.read_bytes()[:10]
        assert head[:3] == b"\x1f\x8b\x08"
        assert head[3] & 0x08 == 0, "FNAME flag must be off"
        assert head[4:8] == b"\x00\x00\x00\x00", "mtime must be 0"


def test_malformed_lines_are_exactly_those_in_the_manifest(archive, sample_manifest):
    assert archive[1] == sample_manifest["malformed_lines"]
    assert len(archive[1]) == sample_manifest["counts"]["malformed_lines"] >= 3


def test_counts_match_the_archive(archive, sample_manifest):
    msgs, _ = archive
    counts = sample_manifest["counts"]
    assert len(msgs) == counts["messages"]
    unique = {m["messageId"]: m for m in msgs}
    assert len(msgs) - len(unique) == counts["duplicate_messages"] > 0
    web = [m for m in unique.values() if m["messageId"].startswith("ajs-next-")]
    engage = [m for m in unique.values() if m["messageId"].startswith("personas_")]
    assert (len(web), len(engage)) == (counts["web_messages"], counts["engage_messages"])
    for kind in ("identify", "track", "page"):
        assert sum(m["type"] == kind for m in unique.values()) == counts[kind], kind
    assert 4 <= counts["messages"] / counts["people"] <= 6.5, "about five messages per user"


def test_duplicates_are_byte_identical_deliveries(archive):
    by_id: dict[str, list] = {}
    for m in archive[0]:
        by_id.setdefault(m["messageId"], []).append({k: v for k, v in m.items() if k != "_file"})
    dups = [v for v in by_id.values() if len(v) > 1]
    assert dups and all(all(x == v[0] for x in v) for v in dups)


def test_web_messages_look_like_analytics_js(archive):
    web = [m for m in archive[0] if not m["messageId"].startswith("personas_")]
    for m in web:
        assert re.fullmatch(rf"ajs-next-\d{{13}}-{UUID}", m["messageId"]), m["messageId"]
        assert len(m["messageId"]) <= 100
        assert re.fullmatch(UUID, m["anonymousId"])
        assert m["userId"] is None or re.fullmatch(r"u_\d{6,}", m["userId"])
        assert m["context"]["library"]["name"] == "analytics.js"
        assert {"page", "userAgent"} <= set(m["context"])
        for field in ("originalTimestamp", "sentAt", "receivedAt", "timestamp"):
            assert re.fullmatch(ISO_MS, m[field]), field
        # timestamp = receivedAt - (sentAt - originalTimestamp), exactly
        o, s, r, t = (
            instant(m[f]) for f in ("originalTimestamp", "sentAt", "receivedAt", "timestamp")
        )
        assert t == r - (s - o)
        assert int(m["messageId"].split("-")[2]) == int(o.timestamp() * 1000)
    assert any(m["userId"] is None for m in web), "anonymous page views keep userId: null"
    idents = [m for m in web if m["type"] == "identify"]
    traits = set().union(*(m["traits"] for m in idents))
    assert traits == {"first_name", "last_name", "email", "city", "country", "language", "plan",
                      "ltv", "last_product"}  # fmt: skip
    no_first = sum("first_name" not in m["traits"] for m in idents) / len(idents)
    assert 0.05 < no_first < 0.3
    langs = pd.Series([m["traits"]["language"] for m in idents]).value_counts(normalize=True)
    assert set(langs.index) <= {"en", "es", "de", "fr"} and langs.idxmax() == "en"
    assert {m["traits"]["plan"] for m in idents} == {"free", "pro", "business"}
    assert all(isinstance(m["traits"]["ltv"], float) for m in idents)


def test_engage_messages_carry_personas_context(archive, sample_manifest):
    engage = [m for m in archive[0] if m["messageId"].startswith("personas_")]
    assert engage
    for m in engage:
        assert re.fullmatch(r"personas_[0-9A-Za-z]{27}", m["messageId"])
        p = m["context"]["personas"]
        assert p["computation_class"] == "audience"
        assert re.fullmatch(r"aud_[0-9A-Za-z]{27}", p["computation_id"])
        assert (
            re.fullmatch(r"spa_[0-9A-Za-z]{22}", p["space_id"]) and p["namespace"] == p["space_id"]
        )
        assert sample_manifest["computation_ids"][p["computation_key"]] == p["computation_id"]
        assert m["sentAt"] is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", m["originalTimestamp"])
        assert m["originalTimestamp"][:23] == m["timestamp"][:23]
        assert instant(m["receivedAt"]) > instant(m["timestamp"])
        key = p["computation_key"]
        if m["type"] == "track":
            assert m["event"] in ("Audience Entered", "Audience Exited")
            assert m["properties"]["audience_key"] == key
            assert (m["event"] == "Audience Entered") == (m["properties"][key] in (True, "true"))
        else:
            assert m["type"] == "identify" and key in m["traits"]


def test_batch_files_are_analytics_python_bodies(sample_workspace):
    for path in sorted((sample_workspace / "batch").glob("*.json")):
        body = json.loads(path.read_text())
        assert set(body) == {"batch", "sentAt", "writeKey"}
        assert 0 < len(body["batch"]) <= 2500 and len(path.read_bytes()) < 500_000
        for item in body["batch"]:
            assert item["anonymousId"] is None and "userId" in item
            assert item["context"]["library"]["name"] == "analytics-python"
            assert item["integrations"] == {}
            assert re.fullmatch(UUID, item["messageId"])
            assert item["timestamp"].endswith("+00:00") and item["type"] in (
                "identify",
                "track",
                "page",
            )
        datetime.fromisoformat(body["sentAt"])


def test_roster_loads_with_typed_columns(sample_workspace, sample_manifest):
    roster = load_roster(sample_workspace)
    assert list(roster.columns) == ["external_id", "platform", "subscribed", "tags"]
    assert set(roster["platform"]) == {"ios", "android", "web"}
    assert roster["subscribed"].dtype == bool and (~roster["subscribed"]).any()
    assert roster["external_id"].str.fullmatch(r"u_\d{6}").all()
    assert roster["external_id"].duplicated().any(), "some users have two subscriptions"
    assert all(isinstance(t, dict) and all(isinstance(v, str) for v in t.values())
               for t in roster["tags"])  # fmt: skip
    assert len(roster) == sample_manifest["counts"]["roster_rows"]
    assert roster["external_id"].nunique() == sample_manifest["counts"]["roster_users"]
    assert load_roster(sample_workspace / "onesignal-users.csv").equals(roster)


def test_roster_tags_are_partly_stale_against_latest_traits(sample_workspace, archive):
    latest: dict[str, tuple] = {}
    for m in archive[0]:
        if m["type"] == "identify" and m["messageId"].startswith("ajs-") and m["userId"]:
            key = (instant(m["timestamp"]), instant(m["receivedAt"]))
            if m["userId"] not in latest or key > latest[m["userId"]][0]:
                latest[m["userId"]] = (key, m["traits"])
    roster = load_roster(sample_workspace).drop_duplicates("external_id")
    same = differ = 0
    for uid, tags in zip(roster["external_id"], roster["tags"], strict=True):
        traits = latest[uid][1]
        expected = {"plan": traits["plan"], "language": traits["language"]}
        if all(tags.get(k) == v for k, v in expected.items()) and "ltv" in tags:
            same += 1
        else:
            differ += 1
    assert same > differ > 0


def test_manifest_loads_from_dir_or_file(sample_workspace, sample_manifest):
    assert load_manifest(sample_workspace) == sample_manifest
    assert load_manifest(sample_workspace / "manifest.json") == sample_manifest
    assert sample_manifest["generated_for"] == "onesig_nb"
    assert re.fullmatch(ISO_MS, sample_manifest["as_of"])
    raw = gzip.decompress((next((sample_workspace / "segment-logs").rglob("*.gz"))).read_bytes())
    assert raw.endswith(b"\n")
