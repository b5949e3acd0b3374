"""Helpers for the data-quality tests: copies of a built warehouse, planted raw files,
and running suites directly (without Dagster) against a DuckDB file through the adapter."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from orchestration.pipeline import RunSummary
from orchestration.quality.results import write_results
from orchestration.quality.suite_files import Suite, load_suites, resolve_guarded_assets
from orchestration.quality.validation import DataDocs, Outcome, validate_target
from orchestration.warehouse import DuckDBWarehouse, Warehouse


def copy_warehouse(summary: RunSummary, target_dir: Path) -> Path:
    """A private copy of a built warehouse (the original stays untouched for others)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "cdp.duckdb"
    shutil.copyfile(summary.warehouse, target)
    wal = summary.warehouse.with_name(summary.warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def rewrite_csv(
    path: Path,
    change: Callable[[int, dict[str, str]], dict[str, str] | None],
    drop_columns: tuple[str, ...] = (),
) -> None:
    """Rewrite a raw CSV file in place: `change(index, row)` returns the new row (None
    drops it). A rewritten file is a new delivery for the loader (new content hash)."""
    header, rows = read_csv(path)
    changed = [new for index, row in enumerate(rows) if (new := change(index, dict(row)))]
    write_csv(path, [column for column in header if column not in drop_columns], changed)


def run_suites(
    warehouse: Path,
    docs_dir: Path,
    run_id: str,
    suite_ids: set[str],
    assets: set[str] | None = None,
) -> list[Outcome]:
    """Validate suites on a DuckDB file like the checks do, keeping the results
    (`run_suites_on` with the file's adapter)."""
    with DuckDBWarehouse.open(warehouse) as adapter:
        return run_suites_on(adapter, docs_dir, run_id, suite_ids, assets)


def run_suites_on(
    adapter: Warehouse,
    docs_dir: Path,
    run_id: str,
    suite_ids: set[str],
    assets: set[str] | None = None,
    raw_schema: str = "raw",
) -> list[Outcome]:
    """Validate suites through a Warehouse adapter (DuckDB or Spark) like the checks do,
    keeping the results.

    `assets` picks the guarded assets (and stands for the Dagster definitions a key
    pattern such as `segments/*` is matched against); None = every named asset."""
    docs = DataDocs.for_folder(docs_dir)
    now = dt.datetime.now(dt.UTC)
    outcomes: list[Outcome] = []
    suites = [suite for suite in load_suites() if suite.id in suite_ids]
    named = {t.asset_key_string for s in suites for t in s.targets if not t.is_pattern}
    known = (
        named | (assets or set()) | {dep for suite in suites for dep in suite.spec.additional_deps}
    )
    for suite in resolve_guarded_assets(suites, known):
        for target in suite.targets:
            if assets is not None and target.asset_key_string not in assets:
                continue
            run = validate_target(
                adapter, docs, suite, target, run_id=run_id, run_time=now, raw_schema=raw_schema
            )
            write_results(adapter, [outcome.result_row(run_id, now) for outcome in run.outcomes])
            outcomes.extend(run.outcomes)
    return outcomes


def failed(outcomes: list[Outcome]) -> set[str]:
    return {f"{o.target.asset_key_string}:{o.expectation.name}" for o in outcomes if not o.success}


def by_check(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {f"{o.target.asset_key_string}:{o.expectation.name}": o for o in outcomes}


def resolved_suites() -> list[Suite]:
    """The repo's suites with their targets in the project's definitions (key patterns
    such as `segments/*` resolved against the assets there are)."""
    from orchestration.code_location import defs

    keys = {key.to_user_string() for key in defs().resolve_asset_graph().get_all_asset_keys()}
    return resolve_guarded_assets(load_suites(), keys)


def gx_check_names() -> set[str]:
    """`asset:check` of every GX check in the project's definitions (key patterns such as
    `segments/*` resolved against the assets there are)."""
    from orchestration.code_location import defs

    return {
        key.to_user_string()
        for checks in defs().asset_checks or []
        if checks.node_def.name.startswith("gx_")
        for key in checks.check_keys
    }
