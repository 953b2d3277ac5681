"""Archives read in place from S3: a real S3 API (moto's server on loopback) holding the sample
workspace gives exactly the manifest's members, and the credentials never show anywhere."""

from __future__ import annotations

import json
import logging

import pytest

import onesig_nb as osn
from onesig_nb.errors import SourceError
from onesig_nb.samples import ALL_KEYS
from tests.scale.conftest import BUCKET, CANARY_SECRET, s3_client

ID_TYPES = ("user_id", "anonymous_id", "auto")


@pytest.mark.parametrize("id_type", ID_TYPES)
def test_every_audience_from_s3_matches_the_manifest(aws_env, s3_archive, sample_manifest, id_type):
    for audience in ALL_KEYS:
        cohort = osn.load_cohort(s3_archive, audience=audience, id_type=id_type)
        truth = sample_manifest["audiences"][audience][f"by_{id_type}"]
        assert cohort.external_ids == truth, audience
        assert cohort.report.kind == "archive"


def test_s3_load_without_cache_equals_the_local_load(aws_env, s3_archive, sample_workspace):
    remote = osn.load_cohort(s3_archive, audience="high_value_users", cache=False)
    local = osn.load_cohort(sample_workspace / "segment-logs", audience="high_value_users")
    assert remote.df.equals(local.df)  # members and their traits
    assert remote.report["messages_read"] == local.report["messages_read"]
    assert remote.report["malformed_lines"] == local.report["malformed_lines"] == 3
    # malformed lines are located by object URL, not by a temporary download path
    assert all(f.startswith(f"s3://{BUCKET}/segment-logs/") for f, _ in remote.report.malformed)


def test_one_source_prefix_is_enough_for_membership(aws_env, s3_archive, sample_manifest):
    engage = sample_manifest["sources"]["engage"]
    cohort = osn.load_cohort(f"{s3_archive}{engage}/", audience="churn_risk", traits=[])
    assert cohort.external_ids == sample_manifest["audiences"]["churn_risk"]["by_user_id"]


def test_list_audiences_reads_s3_in_place(aws_env, s3_archive, sample_manifest):
    table = osn.list_audiences(s3_archive, raw_columns=True)
    got = dict(zip(table["audience"], table["members"], strict=True))
    assert got == {k: len(v["by_user_id"]) for k, v in sample_manifest["audiences"].items()}


def test_credentials_never_show_in_reports_reprs_or_logs(
    aws_env, s3_archive, caplog, capsys, monkeypatch
):
    caplog.set_level(logging.DEBUG)  # every logger, botocore's included
    cohort = osn.load_cohort(s3_archive, audience="cart_abandoners", cache=False)
    table = osn.list_audiences(s3_archive, cache=False)
    shown = [
        str(cohort.report), repr(cohort.report), cohort.report._repr_html_(),
        json.dumps(cohort.report.to_dict()), repr(cohort), cohort._repr_html_(),
        table.to_string(), caplog.text,
    ]  # fmt: skip
    errors = []
    for bad in (f"s3://{BUCKET}-missing/segment-logs/", f"s3://AKIA:{CANARY_SECRET}@{BUCKET}/x/"):
        with pytest.raises(SourceError) as info:
            osn.load_cohort(bad, audience="cart_abandoners")
        errors.append(str(info.value))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(SourceError) as info:
        osn.load_cohort(s3_archive, audience="cart_abandoners")
    errors.append(str(info.value))
    captured = capsys.readouterr()
    assert len(caplog.records) > 0  # the logs were really captured
    for text in shown + errors + [captured.out, captured.err]:
        assert CANARY_SECRET not in text
    assert "NoSuchBucket" in errors[0] and "must not carry credentials" in errors[1]
    assert "Cannot reach http://127.0.0.1:9" in errors[2]


def test_missing_credentials_say_how_to_give_them(no_aws_credentials, s3_archive):
    with pytest.raises(SourceError, match="No AWS credentials.*AWS_ACCESS_KEY_ID.*AWS_PROFILE"):
        osn.load_cohort(s3_archive, audience="churn_risk", cache=False)


def test_a_profile_from_the_shared_credentials_file_is_used(
    no_aws_credentials, s3_archive, tmp_path, monkeypatch, sample_manifest
):
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[segment-reader]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = {CANARY_SECRET}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_PROFILE", "segment-reader")
    cohort = osn.load_cohort(s3_archive, audience="new_signups", traits=[])
    assert cohort.external_ids == sample_manifest["audiences"]["new_signups"]["by_user_id"]


def test_grown_changed_and_shrunk_bucket_reloads_like_a_cold_load(
    aws_env, s3_archive, tmp_path, sample_workspace
):
    client = s3_client(aws_env)
    bucket = "grows-daily"
    client.create_bucket(Bucket=bucket)
    root = sample_workspace / "segment-logs"
    files = sorted(root.rglob("*.gz"))
    keys = [f"segment-logs/{p.relative_to(root).as_posix()}" for p in files]
    for path, key in zip(files[:-20], keys[:-20], strict=True):
        client.upload_file(str(path), bucket, key)
    url = f"s3://{bucket}/segment-logs/"
    cache = tmp_path / "cache"

    def both(audience="cart_abandoners"):
        warm = osn.load_cohort(url, audience=audience, cache=cache, traits=["plan"])
        cold = osn.load_cohort(url, audience=audience, cache=False, traits=["plan"])
        assert warm.df.equals(cold.df)
        assert warm.report["messages_read"] == cold.report["messages_read"]
        return warm.report

    assert both()["files_parsed"] == len(files) - 20
    for path, key in zip(files[-20:], keys[-20:], strict=True):  # a day arrives
        client.upload_file(str(path), bucket, key)
    report = both()
    assert (report["files_from_cache"], report["files_parsed"]) == (len(files) - 20, 20)
    client.put_object(Bucket=bucket, Key=keys[0], Body=(files[1]).read_bytes())  # rewritten
    client.delete_object(Bucket=bucket, Key=keys[2])
    report = both()
    assert (report["files_parsed"], report["files_changed"], report["files_gone"]) == (1, 1, 1)
