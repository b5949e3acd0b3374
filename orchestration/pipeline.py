"""`cdp run`: execute the Dagster job in-process and summarise what happened.

No second code path: the job, assets, checks and resources are those of
`orchestration.definitions`, the ones the UI shows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dagster as dg

from orchestration.environment import prepare_process
from orchestration.pii import mask_emails_in
from orchestration.reports import SUMMARY_KEY
from orchestration.run_lock import run_lock
from orchestration.settings import PROJECT_ROOT, Settings

DAGSTER_YAML = """\
# Written by `cdp`: the instance shared by `cdp run` and `cdp ui`.
telemetry:
  enabled: false
concurrency:
  runs:
    # DuckDB takes one writer at a time: queue runs instead of failing on the file lock.
    max_concurrent_runs: 1
# Dagster's SQLite event log with one open connection per file instead of a new engine
# per event (orchestration/dagster_storage.py); the same files, in history/runs/.
event_log_storage:
  module: orchestration.dagster_storage
  class: CdpSqliteEventLogStorage
"""


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default `.dagster_home/` in the project) so CLI runs show in the UI."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@dataclass
class TableCounts:
    loaded: int = 0
    quarantined: int = 0
    files_loaded: int = 0
    files_skipped: int = 0
    # New files without rows (0 bytes, blank, a header only): empty batches, not errors.
    files_empty: int = 0


@dataclass
class RunSummary:
    success: bool
    seconds: float
    warehouse: Path
    tables: dict[str, TableCounts] = field(default_factory=dict)
    models: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    # Failed blocking checks: the assets downstream of theirs did not run.
    checks_blocking: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    log_file: Path | None = None

    def to_json(self) -> str:
        """The summary as JSON (`cdp run --summary-json`): scripts and CI read the same
        figures the CLI prints without parsing the text."""
        data = dataclasses.asdict(self)
        data["warehouse"] = str(self.warehouse)
        data["log_file"] = str(self.log_file) if self.log_file else None
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunSummary:
        """The summary `to_json` wrote, whole: `from_json(s.to_json()) == s`."""
        data = json.loads(text)
        data["warehouse"] = Path(data["warehouse"])
        data["log_file"] = Path(data["log_file"]) if data["log_file"] else None
        data["tables"] = {name: TableCounts(**counts) for name, counts in data["tables"].items()}
        return cls(**data)

    def render(self) -> str:
        lines = [
            f"cdp run {'succeeded' if self.success else 'FAILED'} in {self.seconds:.1f}s "
            f"(warehouse: {self.warehouse})"
        ]
        if self.tables:
            lines.append("")
            lines.append(
                f"  {'raw table':<20} {'loaded':>10} {'quarantined':>12} {'new files':>10}"
            )
            for table, counts in sorted(self.tables.items()):
                empty = f" ({counts.files_empty} empty)" if counts.files_empty else ""
                lines.append(
                    f"  {table:<20} {counts.loaded:>10,} {counts.quarantined:>12,} "
                    f"{counts.files_loaded + counts.files_empty:>10}{empty}"
                )
        lines.append("")
        lines.append(
            f"  models materialised: {self.models}; checks passed: {self.checks_passed}, "
            f"warned: {len(self.checks_warned)}, failed: {len(self.checks_failed)}"
        )
        lines.extend(f"  {line}" for line in self.results)
        for check in self.checks_warned:
            lines.append(f"  warning: check {check}")
        for check in self.checks_failed:
            lines.append(f"  FAILED CHECK {check}")
        for check in self.checks_blocking:
            lines.append(
                f"  STOPPED BY BLOCKING CHECK {check}: assets downstream of it did not run"
            )
        for failure in self.failures:
            first, *rest = failure.splitlines()
            lines.append(f"  FAILED STEP {first}")
            lines.extend(f"      {line}" for line in rest)
        if self.log_file:
            lines.append(f"  full log (dbt output): {self.log_file}")
        return "\n".join(lines)


# Lines of a failed step's error shown in the summary (the full text is in the log).
FAILURE_LINES = 12
_ERROR_CLASS = re.compile(r"^(?:\w+\.)*\w*(?:Error|Failure|Exception)\w*: ")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failure_text(step_key: str, message: str | None) -> str:
    """A failed step and what its error says: the class name dropped, blank lines and
    colour codes removed, at most FAILURE_LINES lines (a bad file's path among them)."""
    lines = [_ANSI.sub("", line).rstrip() for line in (message or "unknown error").splitlines()]
    lines = [line for line in lines if line.strip()] or ["unknown error"]
    lines[0] = _ERROR_CLASS.sub("", lines[0], count=1)
    if len(lines) > FAILURE_LINES:
        hidden = len(lines) - FAILURE_LINES
        lines = [*lines[:FAILURE_LINES], f"... {hidden} more line(s) in the log"]
    return f"{step_key}: " + "\n".join(lines)


def error_message(error: Any) -> str | None:
    """A step error's message; when it is Dagster's wrapper around the op's own exception
    (`Error occurred while executing op ...:`), the wrapped exception's first line too, so
    the summary says what failed (a full disk: `OSError: [Errno 28] No space left on
    device`, which `cdp run` then names once, last)."""
    if error is None:
        return None
    message = error.message
    cause = getattr(error, "cause", None)
    if cause is not None and "Error occurred while executing" in message:
        first = next((line for line in (cause.message or "").splitlines() if line.strip()), "")
        if first:
            message = f"{message.rstrip()}\n{first.strip()}"
    return message


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def summarise(result: dg.ExecuteInProcessResult, settings: Settings, seconds: float) -> RunSummary:
    summary = RunSummary(success=result.success, seconds=seconds, warehouse=settings.warehouse)
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        key = materialization.asset_key
        metadata = {
            name: _metadata_value(value) for name, value in materialization.metadata.items()
        }
        if key.path[0] == "raw" and "rows_loaded" in metadata:
            summary.tables[key.path[-1]] = TableCounts(
                loaded=int(metadata["rows_loaded"]),
                quarantined=int(metadata["rows_quarantined"]),
                files_loaded=int(metadata["files_loaded"]),
                files_skipped=int(metadata["files_skipped"]),
                files_empty=int(metadata.get("files_empty", 0)),
            )
        elif str(metadata.get("dagster_dbt/unique_id", metadata.get("unique_id"))).startswith(
            "model."
        ):
            # dbt models only: a dbt seed (the identity link rules) materialises too.
            summary.models += 1
        if SUMMARY_KEY in metadata:
            summary.results.append(str(metadata[SUMMARY_KEY]))
    for event in result.all_events:
        if event.is_asset_observation:
            metadata = event.asset_observation_data.asset_observation.metadata
            if SUMMARY_KEY in metadata:
                summary.results.append(str(_metadata_value(metadata[SUMMARY_KEY])))
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if evaluation.passed:
            summary.checks_passed += 1
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            summary.checks_warned.append(name)
        else:
            summary.checks_failed.append(name)
            if evaluation.blocking:
                summary.checks_blocking.append(name)
        # Checks may report a line too (many report the same one: keep it once).
        line = _metadata_value(evaluation.metadata.get(SUMMARY_KEY))
        if line is not None and str(line) not in summary.results:
            summary.results.append(str(line))
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            summary.failures.append(failure_text(event.step_key, error_message(error)))
    return summary


class EmptySelectionError(ValueError):
    """A `selection` that names no asset the job can materialise."""


def run_pipeline(
    settings: Settings,
    *,
    full_refresh: bool = False,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    selection: dg.AssetSelection | None = None,
    confirm_mass_change: Sequence[str] = (),
    unit_tests: bool = False,
) -> RunSummary:
    """Materialise the whole graph into `settings.warehouse` and summarise the run.

    `selection` runs only those assets (and their checks) of the same job, as "Materialize
    selected" in the UI does: the tests build what they assert on, nothing more.
    `confirm_mass_change`: segments whose held mass change the exports may sync (the
    export assets' run config, `cdp run --confirm-mass-change`).
    `unit_tests`: the dbt steps run dbt's unit tests too (`cdp run --unit-tests`); they
    test the model code, not the data, so a production run leaves them to the check."""
    prepare_process(settings)
    from orchestration.definitions import build_definitions

    definitions = build_definitions(settings)
    job = definitions.resolve_job_def("cdp_all")
    from orchestration.assets.dbt import DBT_STEPS

    steps = DBT_STEPS
    subset: dict[str, Any] = {}
    graph = definitions.resolve_asset_graph()
    exports = [key for key in graph.get_all_asset_keys() if key.path[0] == "exports"]
    if selection is not None:
        # External assets (raw tables an EL tool landed) are read, never materialised.
        keys = {key for key in selection.resolve(graph) if graph.get(key).is_materializable}
        if not keys:
            raise EmptySelectionError("the selection names no asset of the job")
        subset["asset_selection"] = sorted(keys)
        # Run configuration only for the dbt steps the subset keeps.
        ops = {graph.get(key).assets_def.op.name for key in keys}
        steps = tuple(step for step in DBT_STEPS if step in ops)
        exports = [key for key in exports if key in keys]
    run_config: dict[str, Any] = {
        "ops": {
            step: {"config": {"full_refresh": full_refresh, "unit_tests": unit_tests}}
            for step in steps
        },
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    if confirm_mass_change:
        for key in exports:
            op = graph.get(key).assets_def.op.name
            run_config["ops"][op] = {"config": {"confirm_mass_change": list(confirm_mass_change)}}
    started = time.monotonic()
    if instance is None:
        ensure_dagster_home()
        instance = dg.DagsterInstance.get()

    took_over: list[str] = []
    not_released: list[str] = []

    def execute() -> dg.ExecuteInProcessResult:
        # One writer at a time (run_lock.py): held from the first step to the checkpoint.
        # `execute_in_process` replaces the job's executor, which takes the same lock for
        # the runs Dagster launches (executor.py). RunLockTimeout names the holder.
        with run_lock(settings.warehouse, timeout=settings.lock_timeout) as acquired:
            if acquired.took_over is not None:
                took_over.append(
                    f"run lock: took over {acquired.path} from a holder that died "
                    f"({acquired.took_over.describe()})"
                )
            try:
                with _tests_of_built_models_only(selection is not None):
                    return job.execute_in_process(
                        run_config=run_config, instance=instance, raise_on_error=False, **subset
                    )
            finally:
                failure = _release(settings)
                if failure is not None:
                    not_released.append(failure)

    if log_level == "INFO":
        summary = summarise(execute(), settings, time.monotonic() - started)
        summary.results[:0] = took_over
        _add_release_failures(summary, not_released)
        return summary
    # dagster-dbt echoes dbt's whole log to stdout; keep it in a file beside the warehouse.
    log_file = settings.warehouse.parent / "logs" / "last_run.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as log, contextlib.redirect_stdout(MaskedLog(log)):
        result = execute()
    summary = summarise(result, settings, time.monotonic() - started)
    summary.results[:0] = took_over
    _add_release_failures(summary, not_released)
    summary.log_file = log_file
    return summary


class MaskedLog:
    """A text stream that writes to `target` with every e-mail address masked: dbt's
    output (an engine error quoting a value, a test's failing rows) goes to the run's log
    file through it (docs/operations.md, "Secrets and PII hygiene")."""

    def __init__(self, target: IO[str]) -> None:
        self.target = target

    def write(self, text: str) -> int:
        self.target.write(mask_emails_in(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


def _add_release_failures(summary: RunSummary, failures: list[str]) -> None:
    """A checkpoint that failed after the steps (a full disk) fails the run, in its summary."""
    if failures:
        summary.success = False
        summary.failures.extend(failure_text("checkpoint", failure) for failure in failures)


def _release(settings: Settings) -> str | None:
    """Leave the warehouse whole and free at the end of a run. Spark: the run's Python
    steps share one JVM (resources.py); stop it, so that what comes next (a dbt process,
    another run) can open the metastore. DuckDB: checkpoint, so the database file holds
    every table without its write-ahead log (a copy of the file alone is complete).

    Returns why the checkpoint failed (a full disk), or None: what the run committed is
    then still in the write-ahead log, which DuckDB replays when the file is next opened."""
    if settings.engine == "spark":
        from orchestration.spark import stop_session

        stop_session()
        return None
    if not settings.warehouse.exists():
        return None
    from orchestration.warehouse import DUCKDB_ERRORS, DuckDBWarehouse, WarehouseLockedError

    try:
        with DuckDBWarehouse.open(settings.warehouse) as warehouse:
            warehouse.checkpoint()
    except WarehouseLockedError:
        # Another process holds the file (a BI tool): it checkpoints when it closes.
        pass
    except DUCKDB_ERRORS as error:
        return f"{error} (the run's writes stay in {settings.warehouse.name}.wal)"
    return None


@contextlib.contextmanager
def _tests_of_built_models_only(subset: bool) -> Iterator[None]:
    """In a subset run, dbt runs a test only if the run builds its models or their
    ancestors (`buildable`), not one that also reads a model left out (dbt's `eager`
    default would, and fail on a fresh warehouse). A user's own setting wins."""
    name = "DBT_INDIRECT_SELECTION"
    if not subset or name in os.environ:
        yield
        return
    os.environ[name] = "buildable"
    try:
        yield
    finally:
        os.environ.pop(name, None)
