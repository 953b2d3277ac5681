"""Incremental reloads: a grown, changed or shrunk archive loads exactly like a cold load, while
only new or changed files are parsed; the report says what came from the cache."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

import onesig_nb as osn

AUDIENCE = "cart_abandoners"
#: Report counts that describe the cache itself, so a cold load has none of them.
CACHE_COUNTS = {"files_from_cache", "files_parsed", "files_changed", "files_gone"}


def load_both(source: Path, cache: Path, audience: str = AUDIENCE):
    warm = osn.load_cohort(source, audience=audience, cache=cache)
    cold = osn.load_cohort(source, audience=audience, cache=False)
    assert warm.df.equals(cold.df)  # members and every trait
    plain = {k: v for k, v in warm.report.counts.items() if k not in CACHE_COUNTS}
    assert plain == cold.report.counts
    assert sorted(warm.report.malformed) == sorted(cold.report.malformed)
    assert sorted(warm.report.skipped_files) == sorted(cold.report.skipped_files)
    return warm


def days(archive: Path) -> list[Path]:
    return sorted((d for d in archive.glob("*/*") if d.is_dir()), key=lambda d: int(d.name))


def test_add_a_day_change_a_file_delete_a_file(local_archive, tmp_path):
    cache = tmp_path / "cache"
    held = tmp_path / "held-back"
    last = days(local_archive)[-1]
    last_files = len(list(last.glob("*.gz")))
    shutil.move(last, held)
    first = load_both(local_archive, cache)
    total = first.report["files_read"] + first.report["skipped_files"]
    assert first.report["files_parsed"] == total and first.report["files_from_cache"] == 0

    shutil.move(held, last)  # a new day arrives
    grown = load_both(local_archive, cache)
    assert grown.report["files_parsed"] == last_files
    assert grown.report["files_from_cache"] == total
    assert "taken from the cache" in str(grown.report)

    # change a file: someone who was not in the audience enters it
    outsider = "u_cache_test_1"
    assert outsider not in grown.external_ids
    victim = sorted(local_archive.rglob("*.gz"))[0]
    lines = gzip.decompress(victim.read_bytes()).splitlines()
    lines.append(json.dumps(_entered(outsider)).encode())
    victim.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    changed = load_both(local_archive, cache)
    assert outsider in changed.external_ids
    assert (changed.report["files_parsed"], changed.report["files_changed"]) == (1, 1)

    victim.unlink()  # delete it again: the outsider's only event goes with it
    shrunk = load_both(local_archive, cache)
    assert outsider not in shrunk.external_ids
    assert (shrunk.report["files_parsed"], shrunk.report["files_gone"]) == (0, 1)
    assert shrunk.report["messages_read"] < grown.report["messages_read"]


def _entered(user: str) -> dict:
    return {
        "type": "track", "event": "Audience Entered", "userId": user, "anonymousId": "anon-x",
        "messageId": "cache-test-1", "timestamp": "2030-01-01T00:00:00.000Z",
        "receivedAt": "2030-01-01T00:00:00.100Z",
        "properties": {"audience_key": AUDIENCE, AUDIENCE: True},
        "context": {"personas": {"computation_class": "audience", "computation_key": AUDIENCE}},
    }  # fmt: skip


def test_a_same_size_rewrite_is_detected_by_its_modification_time(local_archive, tmp_path):
    cache = tmp_path / "cache"
    load_both(local_archive, cache)
    target = sorted(local_archive.rglob("*.gz"))[3]
    data = target.read_bytes()
    target.write_bytes(data)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = load_both(local_archive, cache)
    assert (again.report["files_parsed"], again.report["files_changed"]) == (1, 1)


def test_every_audience_and_id_type_from_the_cache_matches_the_manifest(
    sample_workspace, sample_manifest, tmp_path
):
    cache = tmp_path / "cache"
    source = sample_workspace / "segment-logs"
    osn.load_cohort(source, audience=AUDIENCE, cache=cache)  # fills the cache
    for audience, truth in sample_manifest["audiences"].items():
        for id_type in ("user_id", "anonymous_id", "auto"):
            cohort = osn.load_cohort(source, audience=audience, id_type=id_type, cache=cache)
            assert cohort.report["files_parsed"] == 0
            assert cohort.external_ids == truth[f"by_{id_type}"], (audience, id_type)


def test_a_corrupt_file_is_remembered_then_reread_once_fixed(local_archive, tmp_path):
    cache = tmp_path / "cache"
    target = sorted(local_archive.rglob("*.gz"))[5]
    good = target.read_bytes()
    target.write_bytes(good[: len(good) // 2])  # truncated copy
    broken = load_both(local_archive, cache)
    assert [f for f, _ in broken.report.skipped_files] == [str(target)]
    again = load_both(local_archive, cache)
    assert again.report["files_parsed"] == 0 and again.report["skipped_files"] == 1
    target.write_bytes(good)
    fixed = load_both(local_archive, cache)
    assert fixed.report["skipped_files"] == 0 and fixed.report["files_parsed"] == 1


def test_new_parsing_code_invalidates_every_cached_file(local_archive, tmp_path):
    cache = tmp_path / "cache"
    first = load_both(local_archive, cache)
    (index,) = cache.glob("archives/*/index.json")
    doc = json.loads(index.read_text())
    doc["parser"] = "written-by-older-code"
    index.write_text(json.dumps(doc))
    again = load_both(local_archive, cache)
    assert again.report["files_parsed"] == first.report["files_parsed"]


def test_cache_false_leaves_nothing_behind(local_archive, tmp_path, monkeypatch):
    root = tmp_path / "default-cache"
    monkeypatch.setenv("ONESIG_NB_CACHE_DIR", str(root))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    cohort = osn.load_cohort(local_archive, audience=AUDIENCE, cache=False)
    assert "files_from_cache" not in cohort.report.counts
    assert "cache off" in str(cohort.report)
    assert not root.exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    osn.load_cohort(local_archive, audience=AUDIENCE)  # the default: cached under the root
    assert list(root.glob("archives/*/index.json"))


def test_a_cache_folder_inside_the_archive_is_not_read_as_data(local_archive):
    inside = local_archive / "cache-here"
    first = osn.load_cohort(local_archive, audience=AUDIENCE, cache=inside)
    second = osn.load_cohort(local_archive, audience=AUDIENCE, cache=inside)
    assert second.report["files_parsed"] == 0
    assert second.report["files_read"] == first.report["files_read"]
    assert second.df.equals(first.df)


@pytest.mark.parametrize("bad", [42, ["a"]])
def test_cache_argument_is_checked(local_archive, bad):
    with pytest.raises(osn.errors.ValidationError, match="cache must be True, False or a folder"):
        osn.load_cohort(local_archive, audience=AUDIENCE, cache=bad)


def test_cache_false_leaves_nothing_behind_and_a_cached_load_keeps_one_folder_per_file(
    local_archive, tmp_path, monkeypatch
):
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    osn.load_cohort(local_archive, audience=AUDIENCE, cache=False)
    assert list(scratch.iterdir()) == []  # parsed rows and inflated text both removed

    cache = tmp_path / "cache"
    cold = load_both(local_archive, cache)
    folders = list(cache.glob("archives/*/entries/*"))
    assert 0 < len(folders) <= cold.report["files_read"]
    assert not list(cache.glob("archives/*/staging-*"))
    warm = load_both(local_archive, cache)
    assert warm.report["files_parsed"] == 0 and warm.df.equals(cold.df)


@pytest.mark.parametrize("run_bytes", [1, 1 << 40], ids=["a-file-per-run", "one-run"])
def test_how_files_are_grouped_into_runs_never_changes_the_answer(
    local_archive, monkeypatch, run_bytes
):
    from onesig_nb.segment import archive

    default = osn.load_cohort(local_archive, audience=AUDIENCE, cache=False)
    statements: list[int] = []
    real_copy = archive.Parser._copy

    def spy(self, select, folder, fids):
        statements.append(len(fids))
        return real_copy(self, select, folder, fids)

    monkeypatch.setattr(archive, "RUN_BYTES", run_bytes)
    monkeypatch.setattr(archive.Parser, "_copy", spy)
    grouped = osn.load_cohort(local_archive, audience=AUDIENCE, cache=False)
    assert grouped.df.equals(default.df)
    assert grouped.report.counts == default.report.counts
    assert sorted(grouped.report.malformed) == sorted(default.report.malformed)
    if run_bytes == 1:
        assert set(statements) == {1} and len(statements) == default.report["files_read"]
    else:
        assert len(statements) <= 2  # one run of NDJSON (and one of batch bodies, if any)
