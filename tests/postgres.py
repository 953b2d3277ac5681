"""A scratch PostgreSQL database holding tables of the sample warehouse, for the tests that
read Segment data from PostgreSQL (cohorts and experiment results).

The server is ``ONESIG_NB_TEST_PG_URL`` or the local default; without one a test skips on a
laptop and fails under CI (:func:`tests.conftest.require`), where ``.ci/run`` starts it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.conftest import require

#: The server ``.ci/run`` starts (user, password and database of its docker-compose service).
DEFAULT_PG_URL = "postgresql+psycopg://onesig:onesig@127.0.0.1:5432/postgres"


def server_url() -> str:
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


@contextlib.contextmanager
def scratch_database(
    server: str, warehouse: Path, *, schema: str, tables: Iterable[str], prefix: str
) -> Iterator[str]:
    """A new database on ``server`` whose ``schema`` holds ``tables`` copied from the DuckDB
    ``warehouse``; yields its URL and drops it afterwards, whatever happened."""
    import duckdb
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        src = duckdb.connect(str(warehouse), read_only=True)
        with engine.begin() as con:
            con.execute(text(f'CREATE SCHEMA "{schema}"'))
        for table in tables:
            frame = src.sql(f"SELECT * FROM {table}").df()
            frame.to_sql(table, engine, schema=schema, index=False, chunksize=5_000)
        src.close()
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
