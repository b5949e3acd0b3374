"""Run a suite with Great Expectations on a frame read through the Warehouse adapter,
keep the validation result for the Data Docs, and turn it into one outcome per
expectation.

GX validates the engine's own frame: a pandas frame read from DuckDB (GX's SQL
datasource does not work with DuckDB through duckdb_engine), a Spark DataFrame on Spark
(GX's Spark datasource, so the rows stay in Spark). The GX context is ephemeral, with
two stores on disk under the Data Docs folder (`gx_store/`): expectation suites
(re-written from the YAML on every run) and validation results (the last `KEEP_RUNS` per
suite), which the Data Docs render.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from orchestration.pii import mask_column_value
from orchestration.quality.frames import (
    Frame,
    add_band_columns,
    frame_pandas,
    ratio_column,
    read_frame,
    resolve_parameters,
    with_band_columns,
)
from orchestration.quality.results import (
    ResultRow,
    previous_observed,
    to_jsonable,
)
from orchestration.quality.suite_files import (
    ExpectationSpec,
    Suite,
    SuiteFileError,
    Target,
    parameter_references,
)
from orchestration.warehouse import Warehouse

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

SITE_NAME = "cdp"
# Validation results kept per GX suite (and so listed in the Data Docs); the full
# history is in quality.gx_validation_results.
KEEP_RUNS = 3
_SEVERITY = {"warn": "warning", "error": "critical"}
_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 10}
# GX result fields worth keeping beside the observed value.
_RESULT_FIELDS = (
    "element_count",
    "missing_count",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_percent_nonmissing",
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_missing_list",
)


# GX logs a Data Docs page it could not write with the whole Python traceback (its site
# builder catches the error and goes on). For a full or read-only disk one line says it:
# the index page then fails the step with the same error, which the summary and `cdp run`
# name (cli.storage_failure_message).
_GX_SITE_LOGGER = "great_expectations.render.renderer.site_builder"
_STORAGE_ERROR_TEXTS = ("No space left on device", "Read-only file system", "Disk quota exceeded")


class StorageErrorsWithoutTraceback(logging.Filter):
    """Shorten GX's log of a page not written for lack of storage to its error line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if 'Traceback: "' not in message or not any(
            text in message for text in _STORAGE_ERROR_TEXTS
        ):
            return True
        error = message.split("Detailed information follows:", 1)[-1]
        error = error.split('.  Traceback: "', 1)[0].strip()
        record.msg = f"GX Data Docs: a page was not written: {error}"
        record.args = ()
        return True


_site_logger = logging.getLogger(_GX_SITE_LOGGER)
if not any(isinstance(f, StorageErrorsWithoutTraceback) for f in _site_logger.filters):
    _site_logger.addFilter(StorageErrorsWithoutTraceback())


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation on one asset in one run."""

    suite: Suite
    target: Target
    expectation: ExpectationSpec
    gx_type: str
    success: bool
    observed_value: Any
    details: dict[str, Any]

    def result_row(self, run_id: str, validated_at: dt.datetime) -> ResultRow:
        return ResultRow(
            run_id=run_id,
            validated_at=validated_at,
            suite=self.suite.id,
            asset_key=self.target.asset_key_string,
            expectation=self.expectation.name,
            expectation_type=self.gx_type,
            severity=self.expectation.severity,
            blocking=self.expectation.blocking,
            success=self.success,
            observed_value=self.observed_value,
            details=self.details,
        )


@dataclass
class TargetRun:
    """One suite validated on one asset."""

    suite: Suite
    target: Target
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None  # the read failed: every outcome is a failure with it
    validation_id: Any = None  # GX ValidationResultIdentifier, for the Data Docs page
    suite_id: Any = None  # GX ExpectationSuiteIdentifier


def gx_type(expectation: ExpectationSpec) -> str:
    return expectation.type or "expect_column_values_to_be_between"


def build_gx_expectation(suite: Suite, expectation: ExpectationSpec) -> Any:
    """The GX expectation object for one suite entry (GX checks the kwargs here)."""
    from great_expectations.expectations.registry import get_expectation_impl

    meta = {
        "cdp_check": expectation.name,
        "severity": expectation.severity,
        "blocking": expectation.blocking,
        "suite_file": f"{suite.id}.yml",
    }
    kwargs = dict(expectation.kwargs)
    notes = expectation.description.strip()
    if expectation.band is not None:
        band = expectation.band
        kwargs = {
            "column": ratio_column(band),
            "min_value": band.min_ratio,
            "max_value": band.max_ratio,
        }
        meta["band"] = band.model_dump()
        notes += (
            f"\n\nBand: `{band.column}` divided by its value in the {band.baseline} "
            "(quality.gx_validation_results); no previous value = nothing to compare."
        )
    try:
        implementation = get_expectation_impl(gx_type(expectation))
        return implementation(
            **kwargs, meta=meta, notes=notes, severity=_SEVERITY[expectation.severity]
        )
    except (TypeError, ValueError) as error:  # GX's pydantic errors are ValueErrors
        raise SuiteFileError(
            f"{suite.path}: expectation {expectation.name}: GX rejects it: {error}"
        ) from error


def build_gx_suite(suite: Suite, target: Target, names: Collection[str] | None = None) -> Any:
    import great_expectations as gx

    return gx.ExpectationSuite(
        name=suite.gx_suite_name(target),
        expectations=[
            build_gx_expectation(suite, expectation)
            for expectation in suite.expectations
            if names is None or expectation.name in names
        ],
        meta={"suite_file": f"{suite.id}.yml", "asset_key": target.asset_key_string},
        notes=suite.spec.description.strip(),
    )


class DataDocs:
    """An ephemeral GX context whose suites, validation results and Data Docs site live
    under one folder (Settings.data_docs_dir). One per folder and process (`for_folder`):
    its site builder keeps the compiled page templates between steps of a run."""

    def __init__(self, directory: Path) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.render.renderer.site_builder import SiteBuilder

        self.directory = directory
        store = directory / "gx_store"
        defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
        stores = dict(defaults.stores)
        for name, folder in (
            (defaults.expectations_store_name, "expectations"),
            (defaults.validation_results_store_name, "validations"),
        ):
            stores[name] = {
                **stores[name],
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(store / folder),
                },
            }
        config = DataContextConfig(
            store_backend_defaults=defaults,
            stores=stores,
            data_docs_sites={},
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context: AbstractDataContext = gx.get_context(project_config=config, mode="ephemeral")
        self._datasources: dict[str, tuple[Any, Any]] = {}
        self._site = SiteBuilder(
            data_context=self.context,
            store_backend={
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(directory),
            },
            site_name=SITE_NAME,
            show_how_to_buttons=False,
        )

    @classmethod
    @functools.cache
    def for_folder(cls, directory: Path) -> DataDocs:
        return cls(directory)

    @property
    def index(self) -> Path:
        return self.directory / "index.html"

    def validate(
        self,
        gx_suite: Any,
        frame: Frame,
        parameters: Mapping[str, Any],
        run_id: str,
        run_time: dt.datetime,
    ) -> tuple[Any, Any, Any]:
        """Validate, store the result; returns (result, result id, suite id)."""
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        name = gx_suite.name
        datasource = self._datasource(frame)
        if name in datasource.get_asset_names():
            batch = datasource.get_asset(name).get_batch_definition("frame")
        else:
            asset = datasource.add_dataframe_asset(name=name)
            batch = asset.add_batch_definition_whole_dataframe("frame")
        stored_suite = self.context.suites.add_or_update(gx_suite)
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=stored_suite)
        )
        gx_run_id = RunIdentifier(run_name=run_id, run_time=run_time)
        result = definition.run(
            batch_parameters={"dataframe": frame.data},
            expectation_parameters=dict(parameters),
            result_format=_RESULT_FORMAT,
            run_id=gx_run_id,
        )
        suite_id = ExpectationSuiteIdentifier(name=name)
        validation_id = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id,
            run_id=gx_run_id,
            batch_identifier=result.batch_id,
        )
        # The Data Docs pages are rendered from the stored result: its sample values of
        # e-mails and phones masked, as everywhere else (orchestration/pii.py).
        for item in result.results:
            if item.result:
                column = item.expectation_config.kwargs.get("column")
                item.result.update(mask_samples(column, dict(item.result)))
        self.context.validation_results_store.set(validation_id, result)
        return result, validation_id, suite_id

    def _datasource(self, frame: Frame) -> Any:
        """GX's pandas datasource, or its Spark datasource for the frame's session: a
        datasource keeps the session it first ran on, and a run stops the session between
        steps (the dbt subprocess needs the metastore), so a new session gets a new one."""
        kind = "spark" if frame.is_spark else "pandas"
        session = frame.data.sparkSession if frame.is_spark else None
        known = self._datasources.get(kind)
        if known is not None and known[0] is session:
            return known[1]
        name = f"cdp_warehouse_{kind}"
        sources = self.context.data_sources
        if known is not None:
            sources.delete(name)
        if frame.is_spark:
            # The frame is cached already (frames.make_frame): GX need not persist it.
            datasource = sources.add_spark(name, persist=False)
        else:
            datasource = sources.add_pandas(name)
        self._datasources[kind] = (session, datasource)
        return datasource

    def build(self, identifiers: list[Any]) -> None:
        """Render the pages of these results and suites, prune old results and rebuild
        the index (which drops the pages of pruned results)."""
        self._prune()
        self._site.build(resource_identifiers=identifiers)

    def page(self, validation_id: Any) -> Path | None:
        url = self._site.get_resource_url(resource_identifier=validation_id)
        return Path(url.removeprefix("file://")) if url else None

    def _prune(self) -> None:
        store = self.context.validation_results_store
        by_suite: dict[str, list[Any]] = {}
        for key in store.list_keys():
            by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
        for keys in by_suite.values():
            runs = sorted({key.run_id.run_time for key in keys}, reverse=True)
            if len(runs) <= KEEP_RUNS:
                continue
            oldest_kept = runs[KEEP_RUNS - 1]
            for key in keys:
                if key.run_id.run_time < oldest_kept:
                    store.remove_key(key)


def _observed(expectation: ExpectationSpec, result: Mapping[str, Any], frame: Frame) -> Any:
    """What the check saw: GX's observed value; the expected values that are missing (set
    expectations); for a map expectation on a one-row metric frame, the value itself;
    otherwise the share of unexpected values."""
    if result.get("observed_value") is not None:
        return to_jsonable(result["observed_value"])
    if "partial_missing_list" in result:
        return {"missing": to_jsonable(result["partial_missing_list"])}
    column = expectation.kwargs.get("column")
    if isinstance(column, str) and column in frame.columns and frame.rows == 1:
        assert frame.preview is not None
        return to_jsonable(frame.preview[column].iloc[0])
    return {
        "element_count": result.get("element_count"),
        "missing_count": result.get("missing_count"),
        "unexpected_count": result.get("unexpected_count"),
        "unexpected_percent": to_jsonable(result.get("unexpected_percent")),
    }


# GX's fields that list values of the data (up to `partial_unexpected_count` of them).
_SAMPLE_FIELDS = ("partial_unexpected_list", "partial_unexpected_counts", "partial_missing_list")


def masked(column: Any, value: Any) -> Any:
    """Values of `column` (one, a list, GX's `{"value": v, "count": n}`) with e-mails and
    phones masked (orchestration/pii.py): they reach Dagster's event log, the check's
    description and `quality.gx_validation_results`."""
    name = column if isinstance(column, str) else None
    if isinstance(value, list):
        return [masked(name, item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"value", "count"}:
            return {"value": masked(name, value["value"]), "count": value["count"]}
        return value  # a metric (counts, shares): no values of the data
    return mask_column_value(name, value)


def mask_samples(column: Any, result: dict[str, Any]) -> dict[str, Any]:
    """GX's result with its sample values masked (`masked`)."""
    return {
        key: masked(column, value) if key in _SAMPLE_FIELDS else value
        for key, value in result.items()
    }


def _exception_message(exception_info: Any) -> str | None:
    """GX's error for an expectation that could not be computed (a missing column): flat,
    or keyed by the metric that failed."""
    if not isinstance(exception_info, Mapping):
        return None
    if exception_info.get("raised_exception"):
        return str(exception_info.get("exception_message"))
    for value in exception_info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _frame_details(frame: Frame) -> dict[str, Any]:
    details: dict[str, Any] = {"rows_validated": frame.rows, "rows_total": frame.total_rows}
    # A small metric frame (a query's aggregate: one row per column, bound, ...) is kept
    # whole: it is the evidence. `preview` holds it (at most METRIC_FRAME_ROWS).
    if frame.preview is not None:
        details["frame"] = to_jsonable(frame.preview.to_dict(orient="records"))
    return details


def _unexpected_rows(frame: Frame, result: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The rows of a metric frame GX found unexpected, whole: which consent column,
    which bound, which amount column (GX itself lists only the failing values)."""
    index = result.get("partial_unexpected_index_list")
    preview = frame.preview
    if not index or preview is None or frame.is_spark:
        # GX lists row labels for pandas frames only (Spark rows have no index).
        return None
    # Row labels of the frame (GX gives dicts instead when asked for id columns).
    labels = [label for label in index if isinstance(label, int) and label in preview.index]
    if not labels:
        return None
    return to_jsonable(preview.loc[labels].to_dict(orient="records"))


def validate_target(
    warehouse: Warehouse,
    docs: DataDocs,
    suite: Suite,
    target: Target,
    *,
    run_id: str,
    run_time: dt.datetime,
    raw_schema: str,
    names: Collection[str] | None = None,
) -> TargetRun:
    """Validate the suite's expectations (or only `names`) on one guarded asset.

    A read that fails (missing table, broken SQL) fails every selected expectation with
    the error; GX's own errors on an expectation (a missing column) fail that one.
    """
    selected = [e for e in suite.expectations if names is None or e.name in names]
    run = TargetRun(suite=suite, target=target)
    gx_suite = build_gx_suite(suite, target, {e.name for e in selected})
    try:
        parameters = resolve_parameters(warehouse, suite, target, raw_schema)
        frame = read_frame(warehouse, suite, parameters)
    except (*warehouse.query_errors, KeyError, ValueError, jinja2.TemplateError) as error:
        # Bad SQL, a missing table or column, a template value that is not an identifier.
        run.error = f"reading the data failed: {error}"
        run.outcomes = [
            Outcome(suite, target, e, gx_type(e), False, None, {"error": run.error})
            for e in selected
        ]
        return run

    band_notes: dict[str, dict[str, Any]] = {}
    band_errors: dict[str, str] = {}
    data = frame_pandas(frame) if any(e.band for e in selected) else None
    for expectation in selected:
        band = expectation.band
        if band is None:
            continue
        assert data is not None
        previous = previous_observed(
            warehouse,
            suite=suite.id,
            asset_key=target.asset_key_string,
            expectation=expectation.name,
            run_id=run_id,
            passing_only=band.baseline == "previous_passing_run",
        )
        previous_values = (
            previous[1].get("values")
            if previous and isinstance(previous[1], dict) and "values" in previous[1]
            else None
        )
        try:
            data, values, ratios = add_band_columns(data, band, previous_values)
        except (KeyError, ValueError) as error:
            band_errors[expectation.name] = str(error)
            continue
        band_notes[expectation.name] = {
            "values": values,
            "previous": previous_values,
            "previous_run_id": previous[0] if previous else None,
            "ratios": ratios,
        }
    if band_notes:
        frame = with_band_columns(warehouse, frame, data)

    referenced = set().union(*(parameter_references(e.kwargs) for e in selected))
    gx_parameters = {name: parameters[name] for name in referenced}
    result, run.validation_id, run.suite_id = docs.validate(
        gx_suite, frame, gx_parameters, run_id, run_time
    )
    by_name = {r.expectation_config.meta["cdp_check"]: r for r in result.results}
    for expectation in selected:
        gx_result = by_name[expectation.name]
        outcome_result = dict(gx_result.result or {})
        details: dict[str, Any] = {
            "gx_suite": gx_suite.name,
            "suite_file": f"{suite.id}.yml",
            "kwargs": to_jsonable(
                {
                    key: value
                    for key, value in gx_result.expectation_config.kwargs.items()
                    if key != "batch_id"
                }
            ),
            "result": mask_samples(
                expectation.kwargs.get("column"),
                to_jsonable(
                    {key: outcome_result[key] for key in _RESULT_FIELDS if key in outcome_result}
                ),
            ),
            **_frame_details(frame),
        }
        unexpected_rows = _unexpected_rows(frame, outcome_result)
        if unexpected_rows:
            details["unexpected_rows"] = unexpected_rows
        success = bool(gx_result.success)
        error = _exception_message(gx_result.exception_info)
        if error:
            details["error"] = error
            success = False
        observed = masked(
            expectation.kwargs.get("column"), _observed(expectation, outcome_result, frame)
        )
        if expectation.name in band_errors:
            details["error"] = band_errors[expectation.name]
            success = False
        elif expectation.name in band_notes:
            note = band_notes[expectation.name]
            details["band"] = note
            observed = {"values": note["values"], "ratios": note["ratios"]}
            band = expectation.band
            assert band is not None
            floor = band.min_previous
            small = sorted(
                key
                for key, before in (note["previous"] or {}).items()
                if floor is not None and before is not None and before < floor
                if key in note["values"]
            )
            if note["previous"] is None:
                details["note"] = "no previous run to compare with: nothing to validate yet"
            elif small:
                details["note"] = f"previous value below min_previous ({floor:g}), not judged" + (
                    "" if band.by is None else ": " + ", ".join(small)
                )
        run.outcomes.append(
            Outcome(suite, target, expectation, gx_type(expectation), success, observed, details)
        )
    return run
