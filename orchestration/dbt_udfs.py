"""dbt-duckdb plugin: registers the Python UDFs the staging models call on DuckDB.

Listed under `plugins:` in profiles.yml. On Spark, orchestration/spark.py registers the
same function on the session (dbt_project/macros/normalisation/normalize_phone.sql).
"""

from __future__ import annotations

import contextlib

import duckdb
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.identifiers import normalize_phone


def _normalize_phone_batch(
    phones: pa.Array, countries: pa.Array, default_countries: pa.Array
) -> pa.Array:
    """Vectorised over an Arrow batch; `normalize_phone` caches repeated values."""
    results = [
        normalize_phone(phone, country, default or "US")
        for phone, country, default in zip(
            phones.to_pylist(), countries.to_pylist(), default_countries.to_pylist(), strict=True
        )
    ]
    return pa.array(results, type=pa.string())


def register_udfs(conn: duckdb.DuckDBPyConnection) -> None:
    """Register the UDFs on a DuckDB connection (also used by tests and benchmarks)."""
    with contextlib.suppress(duckdb.InvalidInputException):
        conn.remove_function("cdp_normalize_phone")
    conn.create_function(
        "cdp_normalize_phone",
        _normalize_phone_batch,
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_udfs(conn)
