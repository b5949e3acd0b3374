"""Run dbt in this Python process (dbtRunner), for benchmarks and tests.

dbt-duckdb keeps its DuckDB instance open after an invocation ends, so the same process
could not open the warehouse file again with other settings (a read-only connection, for
one). `invoke_dbt` closes it after every invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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
            [*args, "--project-dir", str(project_dir), "--profiles-dir", str(PROJECT_ROOT)]
        )
    finally:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None


@dataclass
class OperationRun:
    """What a `dbt run-operation` did: success, the lines its macros logged, its errors."""

    success: bool
    log_lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_operation(
    macro: str,
    arguments: Mapping[str, object],
    work_dir: Path,
    on_log_line: Callable[[str], None] | None = None,
) -> OperationRun:
    """`dbt run-operation <macro> --args <arguments>` on target `dev`, quietly.

    dbt's target/ and logs/ go to `work_dir`. `on_log_line` sees each line the macros log
    as it is fired (the benchmark times the macro's work between two of them).
    """
    run = OperationRun(success=False)

    def on_event(event: Any) -> None:
        if event.info.name == "JinjaLogInfo":
            run.log_lines.append(event.data.msg)
            if on_log_line is not None:
                on_log_line(event.data.msg)
        elif event.info.level == "error":
            run.errors.append(event.info.msg)

    result = invoke_dbt(
        [
            "run-operation",
            macro,
            "--args",
            yaml.safe_dump(dict(arguments), default_flow_style=True).strip(),
            "--target",
            "dev",
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            "--quiet",
        ],
        callbacks=[on_event],
    )
    run.success = result.success
    if result.exception is not None:
        run.errors.append(str(result.exception))
    return run
