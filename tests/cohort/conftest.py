"""Fixtures for the cohort tests: a real PostgreSQL database holding the sample warehouse.

(The archive cache of the whole run lives in its temporary folder: see tests/conftest.py.)"""

from __future__ import annotations

import pytest

from tests.postgres import scratch_database, server_url

PG_SCHEMA = "engage_spa_sample"
WAREHOUSE_TABLES = ("identifies", "users", "audience_entered", "audience_exited")


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """URL of a reachable PostgreSQL server (skips on a laptop without one; fails under CI)."""
    return server_url()


@pytest.fixture(scope="session")
def pg_warehouse(pg_admin_url, sample_workspace) -> str:
    """A fresh database with the sample warehouse tables in an Engage-style schema."""
    with scratch_database(
        pg_admin_url,
        sample_workspace / "warehouse.duckdb",
        schema=PG_SCHEMA,
        tables=WAREHOUSE_TABLES,
        prefix="onesig_test_",
    ) as url:
        yield url
