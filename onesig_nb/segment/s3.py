"""Segment archives read in place from S3 or an S3-compatible store (MinIO, moto, R2 ...).

Segment's S3 destination writes ``s3://<bucket>/segment-logs/<source-id>/<day ms>/<file>.gz``
(segment-data.md section 4.1). This module lists those objects and fetches the ones the archive
cache does not hold yet; parsing is the same DuckDB code as for local files. DuckDB's own S3
support (httpfs) needs an extension download at run time, which locked-down machines cannot do,
so boto3 lists and streams the objects instead.

Credentials come from the standard AWS chain (environment variables, ``AWS_PROFILE`` and the
shared config files, SSO, instance roles); they are never taken from the URL and never appear in
a report, a repr, a log line or an error message. ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``
point the client at an S3-compatible store (then path-style addressing is used, which those
stores expect).
"""

from __future__ import annotations

import logging
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onesig_nb.errors import SourceError
from onesig_nb.segment.listing import ArchiveFile, is_archive_name

__all__ = ["S3Location", "S3Store", "endpoint_url", "is_s3_url"]

log = logging.getLogger("onesig_nb.segment")

SCHEME = "s3://"
#: Environment variables naming a custom endpoint, most specific first (the AWS SDKs' names).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
#: Objects fetched at once (each fetch is one streaming GET; boto3's default pool is 10).
FETCH_THREADS = 8
#: Bytes copied per read while streaming an object to disk.
CHUNK_BYTES = 1 << 20


def is_s3_url(source: object) -> bool:
    """Whether ``source`` is an ``s3://`` URL."""
    return isinstance(source, str) and source[:5].lower() == SCHEME


def endpoint_url() -> str | None:
    """The custom S3 endpoint from the environment, or None for AWS itself."""
    for name in ENDPOINT_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (``s3://bucket/segment-logs/<source-id>/``)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        rest = url[len(SCHEME) :]
        bucket, _, prefix = rest.partition("/")
        if "@" in bucket or ":" in bucket:
            # Never echo the URL: it may hold a secret.
            raise SourceError(
                "An s3:// URL must not carry credentials. Give them the standard AWS way: "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and ~/.aws/credentials."
            )
        if not bucket:
            raise SourceError(
                f"{url!r} names no bucket. Use s3://<bucket>/segment-logs/<source-id>/."
            )
        return cls(bucket=bucket, prefix=prefix)

    @property
    def url(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}"

    def object_url(self, key: str) -> str:
        return f"{SCHEME}{self.bucket}/{key}"


def _client() -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is a dependency
        raise SourceError("Reading s3:// archives needs boto3: pip install boto3") from None
    endpoint = endpoint_url()
    config = Config(
        max_pool_connections=FETCH_THREADS,
        retries={"mode": "standard"},
        s3={"addressing_style": "path"} if endpoint else {},
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)


def _failure(exc: BaseException, what: str) -> SourceError:
    """A :class:`SourceError` that says what to fix, carrying no credential."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    where = endpoint_url() or "AWS S3"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return SourceError(
            f"No AWS credentials to {what}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE with ~/.aws/credentials (aws configure)."
        )
    if isinstance(exc, EndpointConnectionError):
        return SourceError(
            f"Cannot reach {where} to {what}. Check the network, or AWS_ENDPOINT_URL for an "
            "S3-compatible store."
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "error")
        hints = {
            "NoSuchBucket": "check the bucket name",
            "AccessDenied": "the credentials lack s3:ListBucket / s3:GetObject on it",
            "InvalidAccessKeyId": "the access key id is unknown to this store",
            "SignatureDoesNotMatch": "the secret key does not match the access key id",
            "PreconditionFailed": "an object changed while it was being read; load again",
        }
        hint = hints.get(code, "check the URL, the credentials and the endpoint")
        return SourceError(f"{where} refused to {what} ({code}): {hint}.")
    return SourceError(f"Could not {what} on {where}: {type(exc).__name__}.")


class S3Store:
    """Lists and fetches the archive objects under one :class:`S3Location`."""

    def __init__(self, url: str):
        self.location = S3Location.parse(url)
        self.client = _client()

    def __repr__(self) -> str:
        return f"S3Store({self.location.url!r}, endpoint={endpoint_url() or 'aws'})"

    def list(self) -> list[ArchiveFile]:
        """Every archive object under the prefix, with its size and ETag (no data read)."""
        from botocore.exceptions import BotoCoreError, ClientError

        loc = self.location
        found: list[ArchiveFile] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=loc.bucket, Prefix=loc.prefix
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    if key.endswith("/") or not is_archive_name(key):
                        continue
                    found.append(
                        ArchiveFile(
                            name=loc.object_url(key),
                            size=int(obj["Size"]),
                            stamp=str(obj.get("ETag", "")).strip('"'),
                        )
                    )
        except (BotoCoreError, ClientError) as exc:
            raise _failure(exc, f"list {loc.url}") from None
        if not found:
            raise SourceError(
                f"No Segment archive objects under {loc.url}: expected .gz NDJSON in the S3 "
                "layout segment-logs/<source-id>/<day>/*.gz. Check the bucket and prefix."
            )
        return sorted(found, key=lambda f: f.name)

    def fetch(self, files: list[ArchiveFile], folder: Path) -> list[ArchiveFile]:
        """Download ``files`` into ``folder``; the result has ``local`` set.

        Each GET is conditional on the listed ETag, so an object replaced after the listing
        fails the load instead of being cached under the old ETag.
        """
        folder.mkdir(parents=True, exist_ok=True)

        def one(item: tuple[int, ArchiveFile]) -> ArchiveFile:
            number, f = item
            dest = folder / f"{number:06d}{f.suffix}"
            self._get(f, dest)
            return ArchiveFile(name=f.name, size=f.size, stamp=f.stamp, local=dest)

        if not files:
            return []
        with ThreadPoolExecutor(min(FETCH_THREADS, len(files))) as pool:
            return list(pool.map(one, enumerate(files)))

    def _get(self, f: ArchiveFile, dest: Path) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = f.name[len(SCHEME) + len(self.location.bucket) + 1 :]
        args = {"Bucket": self.location.bucket, "Key": key}
        if f.stamp:
            args["IfMatch"] = f'"{f.stamp}"'
        try:
            body = self.client.get_object(**args)["Body"]
            with open(dest, "wb") as out:
                shutil.copyfileobj(body, out, CHUNK_BYTES)
        except (BotoCoreError, ClientError) as exc:
            raise _failure(exc, f"read {f.name}") from None
        log.debug("fetched %s (%d bytes)", f.name, f.size)
