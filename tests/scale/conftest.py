"""Fixtures for the scale tests: a real S3 API on loopback (moto's server).

(The archive cache of the whole run lives in its temporary folder: see tests/conftest.py.)"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

from tests.conftest import require

BUCKET = "acme-segment-archive"
#: A secret key no report, repr, log line or error may ever show.
CANARY_SECRET = "CANARY-" + secrets.token_hex(16)
CANARY_KEY_ID = "AKIACANARYKEYID00001"


@pytest.fixture(scope="session")
def moto_endpoint() -> str:
    """``http://127.0.0.1:<random port>`` served by moto's threaded server (a real S3 API)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        require(False, f"moto[server] is not installed ({exc}); pip install 'moto[server]'")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _isolate_aws(monkeypatch, tmp_path: Path) -> None:
    """No developer profile, config file or instance role can leak into a test."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_ENDPOINT_URL_S3", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def aws_env(monkeypatch, tmp_path, moto_endpoint) -> str:
    """Credentials (with the canary secret) and the endpoint, the standard AWS way: env vars."""
    _isolate_aws(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CANARY_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_SECRET)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path, moto_endpoint) -> str:
    _isolate_aws(monkeypatch, tmp_path)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=CANARY_KEY_ID,
        aws_secret_access_key=CANARY_SECRET,
    )


def upload_tree(client, bucket: str, root: Path, prefix: str) -> list[str]:
    """Upload every file under ``root`` to ``bucket`` under ``prefix``; return the keys."""
    keys = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = prefix + path.relative_to(root).as_posix()
        client.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


@pytest.fixture(scope="session")
def s3_archive(moto_endpoint, sample_workspace) -> str:
    """The sample workspace's segment-logs uploaded to moto: ``s3://<bucket>/segment-logs/``."""
    client = s3_client(moto_endpoint)
    client.create_bucket(Bucket=BUCKET)
    upload_tree(client, BUCKET, sample_workspace / "segment-logs", "segment-logs/")
    return f"s3://{BUCKET}/segment-logs/"


@pytest.fixture
def local_archive(tmp_path, sample_workspace) -> Path:
    """A private copy of the sample archive that a test may grow, change and shrink."""
    dest = tmp_path / "segment-logs"
    shutil.copytree(sample_workspace / "segment-logs", dest)
    return dest
