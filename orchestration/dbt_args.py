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
    unit_tests: bool = True,
) -> list[str]:
    """`dbt build` with the options a run asked for.

    Selection is not added here: dagster-dbt appends `--select` for the assets of the
    run (a subset in the UI, everything in `cdp run`).

    `unit_tests=False` leaves dbt's unit tests out. They check the model code on fixed
    fixtures, but dbt builds each fixture from the columns of the real input table, so
    they cannot compile against raw tables an EL tool landed without the lineage
    columns (`_file`, `_row_number`, `_loaded_at`) the fixtures use.
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
