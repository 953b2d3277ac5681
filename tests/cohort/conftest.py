"""Fixtures for the cohort tests: a real PostgreSQL database holding the sample warehouse, and
an archive cache of the session's own (never the developer's ~/.cache)."""

from __future__ import annotations

import importlib.util
import os
import secrets
from pathlib import Path

import pytest

DEFAULT_PG_URL = "postgresql+psycopg://onesig:onesig@127.0.0.1:5432/postgres"


def _suite_require():
    """``require`` from tests/conftest.py (tests/ is not a package, so load it by path)."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_onesig_suite_conftest_cohort", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.require


require = _suite_require()
PG_SCHEMA = "engage_spa_sample"
WAREHOUSE_TABLES = ("identifies", "users", "audience_entered", "audience_exited")


@pytest.fixture(scope="session")
def archive_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("archive-cache")


@pytest.fixture(autouse=True)
def _session_archive_cache(monkeypatch, archive_cache_dir):
    """Loads in these tests share one temporary archive cache (so cache hits are exercised)."""
    monkeypatch.setenv("ONESIG_NB_CACHE_DIR", str(archive_cache_dir))


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """URL of a reachable PostgreSQL server (skips on a laptop without one; fails under CI)."""
    url = os.environ.get("ONESIG_NB_TEST_PG_URL") or DEFAULT_PG_URL
    try:
        import psycopg  # noqa: F401
        from sqlalchemy import create_engine, text

        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as con:
            con.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        require(False, f"PostgreSQL not reachable at {url.split('@')[-1]}: {exc}")
    return url


@pytest.fixture(scope="session")
def pg_warehouse(pg_admin_url, sample_workspace) -> str:
    """A fresh database with the sample warehouse tables in an Engage-style schema."""
    import duckdb
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"onesig_test_{secrets.token_hex(4)}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        src = duckdb.connect(str(sample_workspace / "warehouse.duckdb"), read_only=True)
        with engine.begin() as con:
            con.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        for table in WAREHOUSE_TABLES:
            frame = src.sql(f"SELECT * FROM {table}").df()
            frame.to_sql(table, engine, schema=PG_SCHEMA, index=False, chunksize=5_000)
        src.close()
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
