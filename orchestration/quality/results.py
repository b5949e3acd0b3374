"""`quality.gx_validation_results`: one row per expectation per validation, appended, so
BI can chart data quality over time and band checks can read the previous run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

RESULTS_SCHEMA = "quality"
RESULTS_TABLE = f"{RESULTS_SCHEMA}.gx_validation_results"

_DDL = f"""
create table if not exists {RESULTS_TABLE} (
    run_id varchar not null,          -- the Dagster run
    validated_at timestamp not null,  -- UTC
    suite varchar not null,           -- suite file id, e.g. raw/latest_load
    asset_key varchar not null,       -- the guarded asset, e.g. raw/events
    expectation varchar not null,     -- = the Dagster check name
    expectation_type varchar not null,
    severity varchar not null,        -- warn | error
    blocking boolean not null,
    success boolean not null,
    observed_value varchar,           -- JSON
    details varchar                   -- JSON: kwargs, GX result, sample, error
)
"""


@dataclass(frozen=True)
class ResultRow:
    run_id: str
    validated_at: dt.datetime
    suite: str
    asset_key: str
    expectation: str
    expectation_type: str
    severity: str
    blocking: bool
    success: bool
    observed_value: Any
    details: dict[str, Any]


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from what GX, pandas and DuckDB hand back (NaN -> null)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, decimal.Decimal):
        return to_jsonable(float(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(item) for item in value), key=str)
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        try:
            return to_jsonable(value.item())
        except (TypeError, ValueError):
            pass
    if hasattr(value, "tolist"):
        return to_jsonable(value.tolist())
    if hasattr(value, "to_json_dict"):
        return to_jsonable(value.to_json_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True)


def ensure_results_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RESULTS_SCHEMA}")
    con.execute(_DDL)


def write_results(con: duckdb.DuckDBPyConnection, rows: Sequence[ResultRow]) -> None:
    """Append the rows in one transaction (created if missing)."""
    if not rows:
        return
    ensure_results_table(con)
    con.executemany(
        f"insert into {RESULTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                row.run_id,
                row.validated_at.astimezone(dt.UTC).replace(tzinfo=None)
                if row.validated_at.tzinfo
                else row.validated_at,
                row.suite,
                row.asset_key,
                row.expectation,
                row.expectation_type,
                row.severity,
                row.blocking,
                row.success,
                dumps(row.observed_value),
                dumps(row.details),
            ]
            for row in rows
        ],
    )


def previous_observed(
    con: duckdb.DuckDBPyConnection,
    *,
    suite: str,
    asset_key: str,
    expectation: str,
    run_id: str,
    passing_only: bool,
) -> tuple[str, Any] | None:
    """(run_id, observed value) of the latest earlier validation of this check, or None
    on the first run (no table yet, or no row)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = 'gx_validation_results'",
        [RESULTS_SCHEMA],
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = con.execute(
        f"""select run_id, observed_value from {RESULTS_TABLE}
            where suite = ? and asset_key = ? and expectation = ? and run_id <> ?
              and (success or not ?)
            order by validated_at desc
            limit 1""",
        [suite, asset_key, expectation, run_id, passing_only],
    ).fetchall()
    if not rows:
        return None
    return rows[0][0], json.loads(rows[0][1]) if rows[0][1] is not None else None
