"""Every dbt unit test passes, run once per check on (a copy of) the session's demo build.

dbt's unit tests check the model code on fixed fixtures and give the same result on any
data, so `cdp run` leaves them out (orchestration/dbt_args.py); this is where they run on
DuckDB. dbt builds each fixture from the columns of the real input tables, which the demo
build has. (On Spark they run in the parity test's `cdp run --unit-tests`.)
"""

import json
from pathlib import Path

import pytest

from orchestration.dbt_inprocess import invoke_dbt


def test_every_dbt_unit_test_passes_on_the_demo_build(
    demo_warehouse_copy: Path,
    dbt_manifest: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDP_WAREHOUSE", str(demo_warehouse_copy))
    monkeypatch.setenv("CDP_TARGET", "dev")
    result = invoke_dbt(
        [
            "test",
            "--select",
            "test_type:unit",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--quiet",
        ]
    )
    assert result.exception is None, result.exception
    statuses = {node.node.unique_id: str(node.status) for node in result.result.results}
    failed = {unique_id: status for unique_id, status in statuses.items() if status != "pass"}
    assert not failed, failed
    expected = set(json.loads(dbt_manifest.read_text())["unit_tests"])
    assert set(statuses) == expected
    assert result.success
