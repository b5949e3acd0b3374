"""The GX suites as Dagster asset checks: one check per expectation per guarded asset.

Each suite file becomes one `dg.multi_asset_check` (one step: the data is read and
validated once per asset), or one per guarded asset when a failure may block
(`suite_steps`). A check's severity and blocking flag come from the suite
file; a failed blocking check fails its step and Dagster skips every asset downstream
of the guarded one in the run. Every outcome is appended to
`quality.gx_validation_results` and the GX Data Docs are rebuilt for the step's results.
"""

# No `from __future__ import annotations`: Dagster inspects the `context` annotation.

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.quality.results import RESULTS_TABLE, to_jsonable
from orchestration.quality.suite_files import (
    SUITES_DIR,
    Suite,
    Target,
    load_suites,
    resolve_guarded_assets,
)
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class QualityConfig:
    """What the checks need from Settings."""

    data_docs_dir: Path
    raw_schema: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "QualityConfig":
        return cls(data_docs_dir=settings.data_docs_dir, raw_schema=settings.raw_schema)


def _asset_key(path: Sequence[str]) -> dg.AssetKey:
    return dg.AssetKey(list(path))


def _display_path(path: Path) -> str:
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def check_specs(suite: Suite, targets: Sequence[Target] | None = None) -> list[dg.AssetCheckSpec]:
    deps = [dg.AssetKey.from_user_string(key) for key in suite.spec.additional_deps]
    return [
        dg.AssetCheckSpec(
            name=expectation.name,
            asset=_asset_key(target.asset_key),
            description=" ".join(expectation.description.split()),
            blocking=expectation.blocking,
            additional_deps=deps,
            metadata={
                "suite_file": dg.MetadataValue.path(_display_path(suite.path)),
                "severity": expectation.severity,
                "blocking": expectation.blocking,
                "gx_expectation": expectation.type or "band (previous run)",
            },
        )
        for target in (suite.targets if targets is None else targets)
        for expectation in suite.expectations
    ]


def _metadata(outcome: Any, page: Path | None, index: Path) -> dict[str, Any]:
    details = outcome.details
    result = details.get("result", {})
    metadata: dict[str, Any] = {
        "observed_value": dg.MetadataValue.json(outcome.observed_value)
        if isinstance(outcome.observed_value, (dict, list))
        else dg.MetadataValue.text(str(outcome.observed_value)),
        "expectation": dg.MetadataValue.json(
            {"type": outcome.gx_type, "kwargs": details.get("kwargs", {})}
        ),
        "severity": dg.MetadataValue.text(
            outcome.expectation.severity + (", blocking" if outcome.expectation.blocking else "")
        ),
        "suite_file": dg.MetadataValue.path(_display_path(outcome.suite.path)),
        "results_table": dg.MetadataValue.text(RESULTS_TABLE),
        SUMMARY_KEY: dg.MetadataValue.text(
            f"GX Data Docs: {index} (every outcome also in {RESULTS_TABLE})"
        ),
    }
    for name in ("element_count", "unexpected_count", "missing_count"):
        if result.get(name) is not None:
            metadata[name] = dg.MetadataValue.int(int(result[name]))
    if result.get("unexpected_percent") is not None:
        metadata["unexpected_percent"] = dg.MetadataValue.float(float(result["unexpected_percent"]))
    for name in ("partial_unexpected_list", "partial_missing_list"):
        if result.get(name):
            metadata[name] = dg.MetadataValue.json(to_jsonable(result[name]))
    if details.get("unexpected_rows"):
        metadata["unexpected_rows"] = dg.MetadataValue.json(details["unexpected_rows"])
    if "rows_validated" in details:
        metadata["rows_validated"] = dg.MetadataValue.int(details["rows_validated"])
        metadata["rows_total"] = dg.MetadataValue.int(details["rows_total"])
    for name in ("error", "note"):
        if details.get(name):
            metadata[name] = dg.MetadataValue.text(str(details[name]))
    if page is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(page))
    return metadata


def _description(outcome: Any) -> str:
    verdict = "passed" if outcome.success else "FAILED"
    if outcome.details.get("error"):
        return f"{verdict}: {outcome.details['error']}"
    if outcome.details.get("unexpected_rows"):
        return f"{verdict}; unexpected rows: {outcome.details['unexpected_rows']}"
    return f"{verdict}; observed: {to_jsonable(outcome.observed_value)}"


def run_suite(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    suite: Suite,
    config: QualityConfig,
) -> Iterator[dg.AssetCheckResult]:
    """Validate the selected checks of one suite, keep the results, rebuild the docs."""
    # GX takes seconds to import: only when a check actually runs.
    from orchestration.quality.results import write_results
    from orchestration.quality.validation import DataDocs, validate_target

    selected = context.selected_asset_check_keys
    run_id = context.run.run_id
    run_time = dt.datetime.now(dt.UTC)
    docs = DataDocs.for_folder(config.data_docs_dir)
    runs = []
    with warehouse.open() as adapter:
        for target in suite.targets:
            key = _asset_key(target.asset_key)
            names = {check.name for check in selected if check.asset_key == key}
            if not names:
                continue
            run = validate_target(
                adapter,
                docs,
                suite,
                target,
                run_id=run_id,
                run_time=run_time,
                raw_schema=config.raw_schema,
                names=names,
            )
            write_results(adapter, [o.result_row(run_id, run_time) for o in run.outcomes])
            runs.append(run)
    identifiers = [i for run in runs for i in (run.validation_id, run.suite_id) if i is not None]
    if identifiers:
        docs.build(identifiers)
    for run in runs:
        page = docs.page(run.validation_id) if run.validation_id is not None else None
        for outcome in run.outcomes:
            severity = (
                dg.AssetCheckSeverity.ERROR
                if outcome.expectation.severity == "error"
                else dg.AssetCheckSeverity.WARN
            )
            yield dg.AssetCheckResult(
                asset_key=_asset_key(run.target.asset_key),
                check_name=outcome.expectation.name,
                passed=outcome.success,
                severity=severity,
                description=_description(outcome),
                metadata=_metadata(outcome, page, docs.index),
            )
    errors = [f"{run.target.asset_key_string}: {run.error}" for run in runs if run.error]
    if errors:
        # The suite itself is broken (bad SQL, a table that is not there): fail loudly.
        raise dg.Failure(
            description=f"Suite {_display_path(suite.path)} could not read its data:\n"
            + "\n".join(errors)
        )


def suite_steps(suite: Suite) -> list[tuple[str, tuple[Target, ...]]]:
    """The Dagster steps (op name, guarded assets) of a suite: one per suite file, or one
    per guarded asset when the suite has a blocking expectation. A failed blocking check
    fails its whole step, and Dagster then skips what is downstream of every asset the
    step checks: one step per asset holds back only what depends on the failing one (one
    segment's exports, not every segment's)."""
    if len(suite.targets) > 1 and any(e.blocking for e in suite.expectations):
        return [(f"{suite.op_name}__{'__'.join(t.asset_key)}", (t,)) for t in suite.targets]
    return [(suite.op_name, suite.targets)]


def suite_checks(suite: Suite, config: QualityConfig) -> list[dg.AssetChecksDefinition]:
    definitions = []
    for op_name, targets in suite_steps(suite):

        @dg.multi_asset_check(
            name=op_name,
            specs=check_specs(suite, targets),
            can_subset=True,
            description=" ".join(suite.spec.description.split()),
            compute_kind="great_expectations",
        )
        def _checks(
            context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
        ) -> Iterator[dg.AssetCheckResult]:
            yield from run_suite(context, warehouse, suite, config)

        definitions.append(_checks)
    return definitions


def _asset_keys(definitions: dg.Definitions) -> set[str]:
    keys: set[str] = set()
    for item in definitions.assets or []:
        if isinstance(item, dg.AssetsDefinition):
            keys |= {key.to_user_string() for key in item.keys}
        elif isinstance(item, (dg.AssetSpec, dg.SourceAsset)):
            keys.add(item.key.to_user_string())
    return keys


def build_quality_checks(
    settings: Settings,
    asset_keys: set[str],
    suites_dir: Path = SUITES_DIR,
) -> list[dg.AssetChecksDefinition]:
    """One multi-asset check per suite file. Raw suites read the ingestion log, so they
    exist only when files are ingested (not with CDP_RAW_SCHEMA). A suite guarding a key
    pattern (`segments/*`) that matches no asset yet has no check."""
    suites = [
        suite for suite in load_suites(suites_dir) if settings.ingests_files or suite.layer != "raw"
    ]
    suites = resolve_guarded_assets(suites, asset_keys)
    config = QualityConfig.from_settings(settings)
    return [checks for suite in suites for checks in suite_checks(suite, config)]


def with_quality_checks(
    definitions: dg.Definitions, settings: Settings, suites_dir: Path = SUITES_DIR
) -> dg.Definitions:
    """`definitions` plus the GX checks on its assets (a suite naming an asset that is
    not there is an error naming the suite file)."""
    checks = build_quality_checks(settings, _asset_keys(definitions), suites_dir)
    return dg.Definitions.merge(definitions, dg.Definitions(asset_checks=checks))
