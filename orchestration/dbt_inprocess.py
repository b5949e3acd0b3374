"""Run dbt in this Python process (dbtRunner), for benchmarks and tests.

dbt-duckdb keeps its DuckDB instance open after an invocation ends, so the same process
could not open the warehouse file again with other settings (a read-only connection, for
one). `invoke_dbt` closes it after every invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def invoke_dbt(
    args: Sequence[str],
    callbacks: Sequence[Callable[[Any], None]] = (),
    project_dir: Path = DBT_PROJECT_DIR,
) -> Any:
    """`dbt <args>` against the project (this one by default) and profiles.yml.

    Returns dbt's dbtRunnerResult.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    try:
        return dbtRunner(callbacks=list(callbacks)).invoke(
            [
                *args,
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(PROJECT_ROOT),
            ]
        )
    finally:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None
