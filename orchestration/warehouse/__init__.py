"""The warehouse as Python sees it: the one place Python touches DuckDB or Spark.

One small interface with two engines, so the Python steps (file ingestion, model
scores, the sync, the quality suites) do not care where the tables live: `Warehouse`
(base.py) read and written as Arrow tables by relation name, with `DuckDBWarehouse` (a
DuckDB file, the default; duckdb_warehouse.py) and `SparkWarehouse` (the embedded or a
remote SparkSession; spark_warehouse.py). Relations are `schema.name` strings, as dbt
names them. Types travel as Arrow types; each engine maps them to its own SQL types there
and nowhere else.

Two DuckDB-only helpers live here too, because they are SQL on a DuckDB connection
whatever the target:

* sync_state.py: `SyncStateStore`, the diff sync's operational state (sync_state,
  sync_outbox, sync_log), which needs transactions and so always lives in a DuckDB file.
* file_typing.py: `FileTyping`, the private (or the warehouse's own) DuckDB connection
  that reads raw files and types their values for ingestion.

Outside this package only orchestration/dbt_udfs.py (the UDF plugin) and
orchestration/serving.py (the serving copy) import duckdb; tests/orchestration/
test_adapter_boundary.py enforces it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestration.warehouse.base import Warehouse, WriteMode
from orchestration.warehouse.duckdb_warehouse import (
    DUCKDB_ERRORS,
    DuckDBConnection,
    DuckDBWarehouse,
    WarehouseLockedError,
    connect_duckdb,
    duckdb_type,
    memory_connection,
    utc_connection,
)
from orchestration.warehouse.spark_warehouse import SparkWarehouse, spark_type

if TYPE_CHECKING:
    from orchestration.settings import Settings

__all__ = [
    "DUCKDB_ERRORS",
    "DuckDBConnection",
    "DuckDBWarehouse",
    "SparkWarehouse",
    "Warehouse",
    "WarehouseLockedError",
    "WriteMode",
    "as_warehouse",
    "connect_duckdb",
    "duckdb_type",
    "memory_connection",
    "open_warehouse",
    "spark_type",
    "utc_connection",
]


def open_warehouse(settings: Settings, read_only: bool = False) -> Warehouse:
    """The warehouse the settings name: CDP_TARGET=spark* is Spark, else the DuckDB file
    (`read_only`: a reader beside a BI tool; Spark's catalog has no such mode)."""
    if settings.engine == "spark":
        return SparkWarehouse.open(settings)
    return DuckDBWarehouse.open(settings.warehouse, read_only=read_only)


def as_warehouse(target: Warehouse | DuckDBConnection) -> Warehouse:
    """A Warehouse; a bare DuckDB connection (tests, older callers) is wrapped, not owned."""
    if isinstance(target, Warehouse):
        return target
    return DuckDBWarehouse(target, owned=False)
