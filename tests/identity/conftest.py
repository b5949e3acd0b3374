"""Fixtures for the identity macros: a temp DuckDB warehouse and dbt run in-process."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.dbt_inprocess import invoke_dbt

PASSES_LINE = re.compile(r"after (\d+) passes and (\d+) fallback passes")


@dataclass
class OperationResult:
    """A run-operation's outcome and the lines its macros logged."""

    success: bool
    lines: list[str]
    error: str

    @property
    def passes(self) -> tuple[int, int]:
        """(passes, fallback passes) from connected_components' closing log line."""
        for line in self.lines:
            if match := PASSES_LINE.search(line):
                return int(match[1]), int(match[2])
        raise AssertionError(f"no passes line in {self.lines}")


class Warehouse:
    """A DuckDB file named by CDP_WAREHOUSE, and run-operation against it."""

    def __init__(self, path: Path, work_dir: Path) -> None:
        self.path = path
        self.work_dir = work_dir

    def execute(self, sql: str, parameters: object = None) -> list[tuple]:
        with duckdb.connect(str(self.path)) as con:
            return con.execute(sql, parameters).fetchall()

    def load(self, table: str, columns: str, rows: list[tuple]) -> None:
        """Replace `table` with `rows` (in the given order)."""
        with duckdb.connect(str(self.path)) as con:
            con.execute(f"create or replace table {table} ({columns})")
            if rows:
                placeholders = ", ".join("?" * len(rows[0]))
                con.executemany(f"insert into {table} values ({placeholders})", rows)

    def run_operation(self, macro: str, **arguments: object) -> OperationResult:
        lines: list[str] = []
        errors: list[str] = []

        def on_event(event) -> None:  # dbt's EventMsg
            if event.info.name == "JinjaLogInfo":
                lines.append(event.data.msg)
            elif event.info.level == "error":
                errors.append(event.info.msg)

        result = invoke_dbt(
            [
                "run-operation",
                macro,
                "--args",
                yaml.safe_dump(arguments, default_flow_style=True).strip(),
                "--target",
                "dev",
                "--target-path",
                str(self.work_dir / "target"),
                "--log-path",
                str(self.work_dir / "logs"),
                "--quiet",
            ],
            callbacks=[on_event],
        )
        errors.append(str(result.exception or ""))
        return OperationResult(result.success, lines, "\n".join(errors))


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
