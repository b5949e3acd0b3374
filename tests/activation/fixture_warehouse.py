"""A writable copy of the demo warehouse and `dbt build` of a few models on it.

The planted-fault tests change a table of the copy (a profile, the suppression list, a
membership row) and rebuild only what reads it, with the real dbt project in a
subprocess (dbt holds the DuckDB file while it runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

DBT = Path(sys.executable).parent / "dbt"
VIOLATIONS_TABLE = "activation.no_consent_or_erasure_violations"


def copy_warehouse(source: Path, target_dir: Path) -> Path:
    """A writable copy of the demo warehouse (never write the session's file)."""
    target = target_dir / "cdp.duckdb"
    shutil.copyfile(source, target)
    return target


@dataclass
class BuildResult:
    returncode: int
    statuses: dict[str, str]  # node name -> success / pass / fail / error / skipped
    failures: dict[str, int]
    log: str


def dbt_build(
    warehouse: Path, select: list[str], work: Path, env: dict[str, str] | None = None
) -> BuildResult:
    """`dbt build --select ...` against `warehouse` (unit tests left out: they are run by
    the dbt step of the demo build)."""
    target = work / "dbt_target"
    env = {**os.environ, "CDP_WAREHOUSE": str(warehouse), "CDP_TARGET": "dev", **(env or {})}
    completed = subprocess.run(
        [
            str(DBT),
            "build",
            "--select",
            *select,
            "--exclude-resource-type",
            "unit_test",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_ROOT),
            "--target-path",
            str(target),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    statuses, failures = {}, {}
    for result in results:
        name = result["unique_id"].split(".")[2]
        statuses[name] = result["status"]
        failures[name] = int(result.get("failures") or 0)
    return BuildResult(completed.returncode, statuses, failures, completed.stdout)


def violations(warehouse: Path) -> set[tuple[str, str, str, str]]:
    """(kind, segment, destination, person) rows the violation test stored."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"select kind, segment_name, destination, person_id from {VIOLATIONS_TABLE}"
        ).fetchall()
    return set(rows)
