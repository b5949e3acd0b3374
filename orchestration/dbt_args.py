"""Pure construction of the dbt command line the dbt assets run (tested on its own)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def dbt_build_args(
    *,
    full_refresh: bool = False,
    dbt_vars: Mapping[str, Any] | None = None,
    fail_fast: bool = False,
    unit_tests: bool = False,
) -> list[str]:
    """`dbt build` with the options a run asked for.

    Selection is not added here: dagster-dbt appends `--select` for the assets of the
    run (a subset in the UI, everything in `cdp run`).

    dbt's unit tests are left out unless `unit_tests` asks for them. They check the model
    code on fixed fixtures and give the same result on any data, so they belong to the
    check (tests/test_dbt_unit_tests.py runs every one on the demo build), not to each
    production run, where they took about half of the dbt steps' time on the demo
    (docs/performance.md). They also cannot compile against raw tables an EL tool landed
    without the lineage columns (`_file`, `_row_number`, `_loaded_at`) the fixtures use.
    """
    args = ["build"]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    if fail_fast:
        args.append("--fail-fast")
    if dbt_vars:
        # Sorted keys: the same run config always yields the same command line.
        args += ["--vars", json.dumps(dict(dbt_vars), sort_keys=True)]
    return args
