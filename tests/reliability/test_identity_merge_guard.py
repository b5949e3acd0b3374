"""Guarded mass merges: the dbt test assert_identity_run_merges_within_share fails an
identity run that merged more than cdp_identity_max_merge_share of the persons.

The real dbt test runs (`dbt test`) against a DuckDB file holding an identity_health
table with planted numbers: the test reads only that mart, so no graph is built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

DBT = Path(sys.executable).parent / "dbt"
TEST = "assert_identity_run_merges_within_share"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warehouse path and dbt target for every case: dbt parses once (its partial
    parsing keys on the profile, the DuckDB path included)."""
    return tmp_path_factory.mktemp("merge_guard")


def plant_health(warehouse: Path, persons: int, merged: int) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.identity_health (metric varchar, dimension "
            "varchar, metric_value double, measured_at timestamp)"
        )
        con.execute(
            "insert into marts.identity_health values "
            "('persons', 'all', ?, now()), ('persons', 'known', ?, now()), "
            "('person_id_changes_this_run', 'merged', ?, now()), "
            "('person_id_changes_this_run', 'renamed', 999, now())",
            [persons, persons, merged],
        )


def dbt_test(warehouse: Path, work: Path, variables: dict | None = None) -> tuple[str, int]:
    target = work / "dbt_target"
    command = [
        str(DBT),
        "test",
        "--select",
        TEST,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_ROOT),
        "--target-path",
        str(target),
    ]
    if variables:
        command += ["--vars", json.dumps(variables)]
    env = {**os.environ, "CDP_WAREHOUSE": str(warehouse), "CDP_TARGET": "dev"}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    (result,) = json.loads((target / "run_results.json").read_text())["results"]
    assert result["unique_id"].split(".")[2] == TEST, completed.stdout
    return result["status"], int(result.get("failures") or 0)


@pytest.mark.parametrize(
    ("persons", "merged", "variables", "expected"),
    [
        pytest.param(1000, 201, None, ("fail", 1), id="over-the-share-fails"),
        pytest.param(1000, 200, None, ("pass", 0), id="at-the-share-passes"),
        pytest.param(99, 90, None, ("pass", 0), id="below-the-minimum-is-not-guarded"),
        pytest.param(
            1000,
            201,
            {"cdp_identity_max_merge_share": 0.5},
            ("pass", 0),
            id="the-share-is-a-var",
        ),
    ],
)
def test_an_identity_run_merging_too_many_persons_fails(work, persons, merged, variables, expected):
    warehouse = work / "cdp.duckdb"
    plant_health(warehouse, persons, merged)
    assert dbt_test(warehouse, work, variables) == expected
