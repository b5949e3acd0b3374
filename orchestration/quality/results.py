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

import pyarrow as pa

from orchestration.warehouse import Warehouse

RESULTS_SCHEMA = "quality"
RESULTS_TABLE = f"{RESULTS_SCHEMA}.gx_validation_results"

# Written through the Warehouse adapter (DuckDB or Spark), so no NOT NULL constraints:
# every column but observed_value and details is always filled.
RESULTS_COLUMNS = pa.schema(
    [
        ("run_id", pa.string()),  # the Dagster run
        ("validated_at", pa.timestamp("us")),  # UTC
        ("suite", pa.string()),  # suite file id, e.g. raw/latest_load
        ("asset_key", pa.string()),  # the guarded asset, e.g. raw/events
        ("expectation", pa.string()),  # = the Dagster check name
        ("expectation_type", pa.string()),
        ("severity", pa.string()),  # warn | error
        ("blocking", pa.bool_()),
        ("success", pa.bool_()),
        ("observed_value", pa.string()),  # JSON
        ("details", pa.string()),  # JSON: kwargs, GX result, sample, error
    ]
)


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


def ensure_results_table(warehouse: Warehouse) -> None:
    warehouse.create_schema(RESULTS_SCHEMA)
    warehouse.create_table(RESULTS_TABLE, RESULTS_COLUMNS)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def write_results(warehouse: Warehouse, rows: Sequence[ResultRow]) -> None:
    """Append the rows (the table is created if missing)."""
    if not rows:
        return
    ensure_results_table(warehouse)
    table = pa.Table.from_pylist(
        [
            {
                "run_id": row.run_id,
                "validated_at": _naive_utc(row.validated_at),
                "suite": row.suite,
                "asset_key": row.asset_key,
                "expectation": row.expectation,
                "expectation_type": row.expectation_type,
                "severity": row.severity,
                "blocking": row.blocking,
                "success": row.success,
                "observed_value": dumps(row.observed_value),
                "details": dumps(row.details),
            }
            for row in rows
        ],
        schema=RESULTS_COLUMNS,
    )
    warehouse.write_arrow(RESULTS_TABLE, table, mode="append")


def previous_observed(
    warehouse: Warehouse,
    *,
    suite: str,
    asset_key: str,
    expectation: str,
    run_id: str,
    passing_only: bool,
) -> tuple[str, Any] | None:
    """(run_id, observed value) of the latest earlier validation of this check, or None
    on the first run (no table yet, or no row)."""
    if not warehouse.relation_exists(RESULTS_TABLE):
        return None
    # Filtered in the engine on the check, the rest here: a check's history is short.
    rows = warehouse.read_arrow(
        RESULTS_TABLE,
        ["run_id", "observed_value", "success", "validated_at"],
        where={"suite": suite, "asset_key": asset_key, "expectation": expectation},
    ).to_pylist()
    rows = [
        row
        for row in rows
        if row["run_id"] is not None
        and row["run_id"] != run_id
        and (row["success"] or not passing_only)
    ]
    if not rows:
        return None
    # The latest (SQL's `order by validated_at desc`, NULLs last).
    rows.sort(key=lambda row: (row["validated_at"] is not None, row["validated_at"] or 0))
    rows.reverse()
    observed = rows[0]["observed_value"]
    return rows[0]["run_id"], json.loads(observed) if observed is not None else None
