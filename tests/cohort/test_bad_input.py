"""Bad input becomes a typed onesig_nb error or a counted skip, never a bare traceback."""

from __future__ import annotations

import gzip
import json

import pytest

import onesig_nb as osn
from onesig_nb.errors import AudienceNotFound, SourceError, ValidationError


def _msg(i: int, key: str = "vip", value=True, user: str = "u1") -> dict:
    return {
        "type": "identify", "messageId": f"m{i}", "userId": user,
        "timestamp": f"2025-03-01T00:00:{i:02d}.000Z", "receivedAt": f"2025-03-01T00:00:{i:02d}.100Z",
        "traits": {key: value, "plan": "pro"},
        "context": {"personas": {"computation_class": "audience", "computation_key": key}},
    }  # fmt: skip


def _write_gz(path, messages, extra_lines=()):
    lines = [json.dumps(m).encode() for m in messages] + list(extra_lines)
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))


def test_empty_folder_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no cohort files"):
        osn.load_cohort(tmp_path, audience="vip")


def test_missing_file_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="No such file"):
        osn.load_cohort(tmp_path / "nope.csv")


def test_unknown_audience_lists_the_ones_that_exist(tmp_path):
    _write_gz(tmp_path / "a.gz", [_msg(1, "vip"), _msg(2, "churn")])
    with pytest.raises(AudienceNotFound) as info:
        osn.load_cohort(tmp_path, audience="nope")
    assert info.value.available == ["churn", "vip"]
    assert "'churn'" in str(info.value) and "'vip'" in str(info.value)


def test_several_audiences_without_a_choice_is_a_source_error(tmp_path):
    _write_gz(tmp_path / "a.gz", [_msg(1, "vip"), _msg(2, "churn")])
    with pytest.raises(SourceError, match="pass audience"):
        osn.load_cohort(tmp_path)


def test_non_json_line_is_counted_with_file_and_line(tmp_path):
    _write_gz(tmp_path / "a.gz", [_msg(1), _msg(2, user="u2")], extra_lines=[b"{not json", b"[1]"])
    cohort = osn.load_cohort(tmp_path, audience="vip")
    assert cohort.external_ids == ["u1", "u2"]
    assert cohort.report["malformed_lines"] == 2
    assert cohort.report.malformed == [(str(tmp_path / "a.gz"), 3), (str(tmp_path / "a.gz"), 4)]


def test_corrupt_gzip_is_skipped_and_reported(tmp_path):
    _write_gz(tmp_path / "good.gz", [_msg(1)])
    _write_gz(tmp_path / "broken.gz", [_msg(i, user=f"x{i}") for i in range(50)])
    data = (tmp_path / "broken.gz").read_bytes()
    (tmp_path / "broken.gz").write_bytes(data[: len(data) // 2])  # truncated upload
    (tmp_path / "notgz.gz").write_bytes(b"plain text, not gzip")
    cohort = osn.load_cohort(tmp_path, audience="vip")
    assert cohort.external_ids == ["u1"]
    skipped = dict(cohort.report.skipped_files)
    assert set(skipped) == {str(tmp_path / "broken.gz"), str(tmp_path / "notgz.gz")}
    assert cohort.report["skipped_files"] == 2


@pytest.mark.parametrize("where", [0.01, 0.5], ids=["first-block", "middle"])
def test_a_damaged_gzip_is_skipped_whole_with_the_reason(tmp_path, where):
    _write_gz(tmp_path / "good.gz", [_msg(1)])
    _write_gz(tmp_path / "damaged.gz", [_msg(i, user=f"x{i}") for i in range(2_000)])
    data = bytearray((tmp_path / "damaged.gz").read_bytes())
    at = max(20, int(len(data) * where))  # past the 10-byte header: the deflate data itself
    data[at : at + 40] = bytes(b ^ 0x55 for b in data[at : at + 40])
    (tmp_path / "damaged.gz").write_bytes(bytes(data))
    cohort = osn.load_cohort(tmp_path, audience="vip")
    assert cohort.external_ids == ["u1"]  # nothing of the damaged file, not even its first half
    reason = dict(cohort.report.skipped_files)[str(tmp_path / "damaged.gz")]
    assert reason.startswith("corrupt gzip")


def test_no_room_for_the_decompressed_copy_is_a_source_error_not_a_corrupt_file(tmp_path):
    from onesig_nb.segment.archive import inflate

    _write_gz(tmp_path / "good.gz", [_msg(1)])
    nowhere = tmp_path / "no-such-folder" / "good.jsonl"
    with pytest.raises(SourceError, match="Could not write the decompressed copy of good.gz"):
        inflate(tmp_path / "good.gz", nowhere)
    assert inflate(tmp_path / "good.gz", tmp_path / "good.jsonl") is None
    assert b'"u1"' in (tmp_path / "good.jsonl").read_bytes()


def test_only_corrupt_files_is_a_source_error(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"\x1f\x8bgarbage")
    with pytest.raises(SourceError):
        osn.load_cohort(tmp_path, audience="vip")


def test_csv_without_id_column_is_a_source_error(tmp_path):
    path = tmp_path / "vip-formatted.csv"
    path.write_text("key,first_name\nsegment_id_1,Ann\n")
    with pytest.raises(SourceError, match="no id column"):
        osn.load_cohort(path)


def test_unformatted_csv_with_a_bad_json_cell_counts_the_row(tmp_path):
    path = tmp_path / "vip-unformatted.csv"
    path.write_text(
        'key,external_ids\nsegment_id_1,"{""user_id"":[""u1""]}"\nsegment_id_2,"{broken"\n'
    )
    cohort = osn.load_cohort(path)
    assert cohort.external_ids == ["u1"]
    assert cohort.report.malformed == [(str(path), 3)]


@pytest.mark.parametrize(
    "url",
    [
        "nosuchdialect://user:secret@localhost/db",
        "postgresql+psycopg://user:secret@127.0.0.1:1/db",
    ],
)
def test_wrong_sql_url_is_a_source_error_without_the_password(url):
    with pytest.raises(SourceError) as info:
        osn.load_cohort(url, audience="vip")
    assert "secret" not in str(info.value)


def test_not_a_duckdb_file_is_a_source_error(tmp_path):
    path = tmp_path / "fake.duckdb"
    path.write_text("hello")
    with pytest.raises(SourceError):
        osn.load_cohort(path, audience="vip")


def test_bad_id_type_and_as_of_are_validation_errors(tmp_path):
    _write_gz(tmp_path / "a.gz", [_msg(1)])
    with pytest.raises(ValidationError, match="id_type"):
        osn.load_cohort(tmp_path, audience="vip", id_type="email")
    with pytest.raises(ValidationError, match="as_of"):
        osn.load_cohort(tmp_path, audience="vip", as_of="not a date")


def test_unsupported_source_type_is_a_source_error():
    with pytest.raises(SourceError, match="Cannot load a cohort"):
        osn.load_cohort(42)


def test_frame_without_id_column_is_a_source_error():
    import pandas as pd

    with pytest.raises(SourceError, match="no id column"):
        osn.load_cohort(pd.DataFrame({"name": ["a"]}))
