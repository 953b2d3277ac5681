"""The membership SQL in other warehouses' dialects, translated by sqlglot.

The rule is written once, in portable SQL (:mod:`onesig_nb.segment.membership`) that runs as
is on DuckDB and PostgreSQL. Snowflake, BigQuery, Redshift, Databricks and Spark differ in
quoting (BigQuery and Databricks quote identifiers with backticks and read ``"x"`` as a
string), type names (``STRING`` for ``VARCHAR``) and bind parameters, so for those the text is
translated with sqlglot (tests/scale/test_sql_portability.py proves that it compiles for each
and that the translation, read back, still gives the manifest's members on DuckDB).

Bind parameters (``:name``) are inlined as literals first: each dialect spells parameters
differently (``@name`` in BigQuery, ``?`` in Spark), and the values here are audience keys and
an ISO instant, quoted with :func:`~onesig_nb.segment.membership.quote_literal`.
"""

from __future__ import annotations

import re
from typing import Any

from onesig_nb.errors import SourceError
from onesig_nb.segment.membership import quote_literal

__all__ = ["PORTABLE_DIALECT", "TRANSLATED_DIALECTS", "inline_params", "to_dialect"]

#: The dialect the portable SQL is written in, as sqlglot names it.
PORTABLE_DIALECT = "postgres"
#: SQLAlchemy dialect names (or engines) whose SQL is translated, -> sqlglot's dialect name.
TRANSLATED_DIALECTS = {
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
    "databricks": "databricks",
    "spark": "spark",
}

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return quote_literal(str(value))


def inline_params(sql: str, params: dict[str, Any] | None) -> str:
    """``sql`` with every ``:name`` replaced by the literal of ``params[name]``."""
    params = params or {}

    def sub(match: re.Match) -> str:
        name = match.group(1)
        if name not in params:
            raise SourceError(f"The query needs a value for :{name}.")
        return _literal(params[name])

    return _PARAM.sub(sub, sql)


def to_dialect(sql: str, dialect: str, params: dict[str, Any] | None = None) -> str:
    """The portable ``sql`` (parameters inlined) in ``dialect`` (a sqlglot dialect name)."""
    try:
        import sqlglot
    except ImportError:
        raise SourceError(
            f"Running the cohort query on {dialect} needs sqlglot to translate it: "
            "pip install sqlglot"
        ) from None
    target = TRANSLATED_DIALECTS.get(dialect, dialect)
    return sqlglot.transpile(
        inline_params(sql, params),
        read=PORTABLE_DIALECT,
        write=target,
        unsupported_level=sqlglot.ErrorLevel.RAISE,
    )[0]
