"""Fixtures for the identity macros: a temp DuckDB warehouse and dbt run in-process."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.dbt_inprocess import OperationRun, run_operation

# The input tables of the resolve_identity macros, as the property tests build them:
# node ids are BLOCK apart per generated graph, every node first seen from T0 on.
TYPES = ["customer_id", "contact_id", "email", "phone", "anonymous_id", "device_id"]
NODE_SCHEMA = pa.schema(
    [
        ("node_id", pa.int64()),
        ("identifier_type", pa.string()),
        ("identifier_value", pa.string()),
        ("first_seen_at", pa.timestamp("us")),
    ]
)
EDGE_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64()), ("tier", pa.int64())])
BLOCK = 1_000
T0 = datetime(2026, 1, 1)

PASSES_LINE = re.compile(r"after (\d+) passes and (\d+) fallback passes")


def passes_of(run: OperationRun) -> tuple[int, int]:
    """(passes, fallback passes) from connected_components' closing log line."""
    for line in run.log_lines:
        if match := PASSES_LINE.search(line):
            return int(match[1]), int(match[2])
    raise AssertionError(f"no passes line in {run.log_lines}")


class Warehouse:
    """A DuckDB file named by CDP_WAREHOUSE, and run-operation against it."""

    def __init__(self, path: Path, work_dir: Path) -> None:
        self.path = path
        self.work_dir = work_dir

    def execute(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path)) as con:
            return con.execute(sql).fetchall()

    def load(self, table: str, schema: pa.Schema, rows: list[tuple]) -> None:
        """Replace `table` with `rows` (in the given order), typed by `schema`."""
        columns = [[row[index] for row in rows] for index in range(len(schema))]
        data = pa.Table.from_arrays(columns, schema=schema)
        with duckdb.connect(str(self.path)) as con:
            con.register("loaded_rows", data)
            con.execute(f"create or replace table {table} as select * from loaded_rows")

    def run_operation(self, macro: str, **arguments: object) -> OperationRun:
        return run_operation(macro, arguments, self.work_dir)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One temp DuckDB file per test module, named through CDP_WAREHOUSE as dbt reads it."""
    work_dir = tmp_path_factory.mktemp("identity")
    path = work_dir / "warehouse.duckdb"
    previous = os.environ.get("CDP_WAREHOUSE")
    os.environ["CDP_WAREHOUSE"] = str(path)
    try:
        yield Warehouse(path, work_dir)
    finally:
        if previous is None:
            os.environ.pop("CDP_WAREHOUSE", None)
        else:
            os.environ["CDP_WAREHOUSE"] = previous
