"""The `cdp` command line: run the asset graph, generate demo data, start the UI."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orchestration.settings import Settings

if TYPE_CHECKING:
    import dagster as dg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Composable CDP: warehouse-native customer data platform (dbt + Dagster + DuckDB)."""


@main.command()
@click.option(
    "--raw-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of raw files in the contract [env CDP_RAW_DIR; default: seeds/].",
)
@click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    help="DuckDB file to build [env CDP_WAREHOUSE; default: warehouse/cdp.duckdb].",
)
@click.option(
    "--exports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where reverse-ETL export files go [env CDP_EXPORTS_DIR; default: exports/].",
)
@click.option(
    "--raw-schema",
    help="Read raw tables an EL tool landed in this schema instead of loading files "
    "[env CDP_RAW_SCHEMA; default: raw].",
)
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option(
    "--unit-tests",
    is_flag=True,
    help="Also run dbt's unit tests (the model code on fixed fixtures; the check runs them, "
    "a production run leaves them out).",
)
@click.option("--verbose", "-v", is_flag=True, help="Stream the Dagster event log (INFO).")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    help="Seconds to wait for another run writing the same warehouse before giving up "
    "[env CDP_LOCK_TIMEOUT; default: 600].",
)
@click.option(
    "--confirm-mass-change",
    "confirm_mass_change",
    multiple=True,
    metavar="SEGMENT",
    help="Sync SEGMENT even though its change is held as a mass change (more removed or "
    "added than CDP_MASS_CHANGE_* allow); repeat for several segments.",
)
@click.option(
    "--select",
    "select",
    metavar="SELECTION",
    help="Run only these assets (and their checks), in Dagster's asset selection syntax, "
    'e.g. \'key:"marts/fct_tickets" or key:"serving/cdp"\' [default: the whole graph].',
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the run summary as JSON to this file (for scripts and CI).",
)
def run(
    raw_dir: Path | None,
    warehouse: Path | None,
    exports_dir: Path | None,
    raw_schema: str | None,
    full_refresh: bool,
    unit_tests: bool,
    verbose: bool,
    summary_json: Path | None,
    lock_timeout: float | None,
    confirm_mass_change: tuple[str, ...],
    select: str | None,
) -> None:
    """Materialise the whole asset graph (ingestion -> dbt -> activation) in-process."""
    from orchestration.activation.segment_files import SegmentDefinitionError
    from orchestration.environment import export_settings
    from orchestration.pipeline import EmptySelectionError, run_pipeline
    from orchestration.run_lock import RunLockTimeout, run_lock

    settings = Settings.from_env().with_overrides(
        raw_dir=raw_dir,
        warehouse=warehouse,
        exports_dir=exports_dir,
        raw_schema=raw_schema,
        lock_timeout=lock_timeout,
    )
    selection = _parse_selection(select)
    try:
        # The lock first (run_lock.py): a run that has to wait, or give up, parses nothing.
        with run_lock(settings.warehouse, timeout=settings.lock_timeout):
            # The run's settings first: the segments' parse is then the run's parse
            # (environment.py skips a second one when nothing changed).
            export_settings(settings)
            _compile_segments(quiet=True)
            _check_segment_names(confirm_mass_change, "--confirm-mass-change")
            summary = run_pipeline(
                settings,
                full_refresh=full_refresh,
                log_level="INFO" if verbose else "WARNING",
                confirm_mass_change=confirm_mass_change,
                unit_tests=unit_tests,
                selection=selection,
            )
    except EmptySelectionError as error:
        raise click.BadParameter(str(error), param_hint="--select") from None
    except SegmentDefinitionError as error:
        # Checked before anything runs: nothing was loaded or built.
        click.echo(f"cdp run FAILED before running: invalid segment definitions\n{error}", err=True)
        sys.exit(1)
    except RunLockTimeout as error:
        # Nothing ran: the other run keeps the warehouse.
        click.echo(f"cdp run FAILED before running: {error}", err=True)
        sys.exit(3)
    except Exception as error:
        message = storage_failure_message(error, settings.warehouse)
        if message is None:
            raise
        click.echo(message, err=True)
        sys.exit(4)
    click.echo(summary.render())
    if not summary.success:
        message = _storage_failure_in_summary(summary, settings.warehouse)
        if message is not None:
            click.echo(message, err=True)
    if summary_json is not None:
        summary_json.parent.mkdir(parents=True, exist_ok=True)
        summary_json.write_text(summary.to_json() + "\n")
    if not summary.success:
        sys.exit(1)


def _parse_selection(select: str | None) -> dg.AssetSelection | None:
    """`--select` as a Dagster AssetSelection (None: the whole graph)."""
    if select is None:
        return None
    import dagster as dg

    try:
        return dg.AssetSelection.from_string(select)
    except Exception as error:  # Dagster's parser raises its own error types
        raise click.BadParameter(f"{select!r}: {error}", param_hint="--select") from None


_STORAGE_ERRNOS = {
    errno.ENOSPC: "the disk is full (no space left on device)",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
# DuckDB reports the same conditions as IOException text, not errno.
_STORAGE_TEXTS = {
    "no space left on device": "the disk is full (no space left on device)",
    "read-only file system": "the folder is on a read-only file system",
    "permission denied": "permission denied",
}


def _storage_reason(error: BaseException) -> str | None:
    """Why `error` (or an exception it wraps) is a storage failure, or None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _STORAGE_ERRNOS:
            return _STORAGE_ERRNOS[current.errno]
        reason = _storage_text(str(current))
        if reason is not None:
            return reason
        current = current.__cause__ or current.__context__
    return None


def _storage_text(text: str) -> str | None:
    """The storage failure DuckDB's error text (or a run summary) names, or None."""
    lowered = text.lower()
    for needle, reason in _STORAGE_TEXTS.items():
        if needle in lowered:
            return reason
    return None


def _storage_advice(reason: str, warehouse: Path) -> str:
    return (
        f"cdp run FAILED: {reason} (warehouse {warehouse}).\n"
        "What was committed before the failure stays; files not yet loaded load on the "
        "next run, and the serving copy is the previous one (it is swapped in only when "
        "complete). Free space or make the folder writable, then run `cdp run` again."
    )


def storage_failure_message(error: BaseException, warehouse: Path) -> str | None:
    """A short message for a full or read-only disk instead of a stack trace; None when
    `error` is something else (it is then re-raised as it is)."""
    reason = _storage_reason(error)
    return None if reason is None else _storage_advice(reason, warehouse)


def _storage_failure_in_summary(summary: object, warehouse: Path) -> str | None:
    """A failed step inside the asset graph is caught by Dagster and lands in the summary;
    name a storage cause once, at the end, so it is not buried in the step errors."""
    reason = _storage_text(summary.render())  # type: ignore[attr-defined]
    return None if reason is None else _storage_advice(reason, warehouse)


def _check_segment_names(names: tuple[str, ...], option: str) -> None:
    """A misspelt segment would confirm nothing, silently: name it instead."""
    if not names:
        return
    from orchestration.activation.segment_files import SEGMENTS_DIR, load_segment_definitions

    known = {segment.name for segment in load_segment_definitions(SEGMENTS_DIR)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise click.BadParameter(
            f"no segment named {', '.join(unknown)} (segments: {', '.join(sorted(known))})",
            param_hint=option,
        )


def _compile_segments(*, quiet: bool) -> list[Path]:
    """Regenerate the segment dbt models from the YAML when they differ (before dbt parses)."""
    from orchestration.activation.generated import expected_files, write_files
    from orchestration.environment import prepare_dbt_manifest

    prepare_dbt_manifest()  # the schema segment rules are checked against
    changed = write_files(expected_files())
    for path in changed:
        click.echo(f"segments: regenerated dbt_project/{path}", err=quiet)
    return changed


@main.group()
def segments() -> None:
    """Segment definitions (orchestration/activation/segments/*.yml)."""


@segments.command("compile")
@click.option("--check", is_flag=True, help="Only report out-of-date files (exit 1 if any).")
def compile_segments(check: bool) -> None:
    """Validate every segment YAML and write its generated dbt model (seg_<name>), the
    audience rules and the segment list; files no YAML produces are removed."""
    from orchestration.activation.generated import expected_files, files_out_of_date
    from orchestration.activation.segment_files import SegmentDefinitionError
    from orchestration.environment import prepare_dbt_manifest

    try:
        if check:
            prepare_dbt_manifest()
            stale = files_out_of_date(expected_files())
            for path in stale:
                click.echo(f"out of date: dbt_project/{path}")
            sys.exit(1 if stale else 0)
        changed = _compile_segments(quiet=False)
    except SegmentDefinitionError as error:
        click.echo(f"invalid segment definitions\n{error}", err=True)
        sys.exit(1)
    if not changed:
        click.echo("segments: generated dbt files are up to date")


@main.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster UI (webserver + daemon) for this project."""
    from orchestration.environment import prepare_process
    from orchestration.pipeline import ensure_dagster_home

    ensure_dagster_home()
    # Exported for the webserver and daemon too; the code location prepares itself.
    prepare_process(Settings.from_env())
    command = ["dagster", "dev", "-m", "orchestration.code_location", "-p", str(port)]
    os.execvp(command[0], command)


@main.command()
@click.argument("identifier")
@click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    help="DuckDB file to read [env CDP_WAREHOUSE; default: warehouse/cdp.duckdb]; with "
    "CDP_TARGET=spark the Spark catalog is read instead.",
)
def explain(identifier: str, warehouse: Path | None) -> None:
    """Show the person IDENTIFIER (<type>:<value>) resolves to and the links that did it.

    Example: cdp explain "email:Ann.Lee@example.com"
    """
    from orchestration.identity.explain import explain as explain_identifier
    from orchestration.identity.explain import parse_identifier, render
    from orchestration.warehouse import open_warehouse

    settings = Settings.from_env().with_overrides(warehouse=warehouse)
    if settings.engine == "duckdb" and not settings.warehouse.exists():
        raise click.UsageError(f"no warehouse at {settings.warehouse}: run `cdp run` first")
    try:
        asked = parse_identifier(identifier)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="IDENTIFIER") from None
    with open_warehouse(settings, read_only=True) as opened:
        if not opened.relation_exists("marts.identity_map"):
            raise click.UsageError(
                f"no identity map in the {settings.engine} warehouse: run `cdp run` first"
            )
        click.echo(render(explain_identifier(opened, asked)))


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--persons", default=300, show_default=True, help="Number of people to simulate.")
@click.option("--days", default=90, show_default=True, help="Days of history up to --end-date.")
@click.option(
    "--seed", default=42, show_default=True, help="Random seed: same options, same bytes."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "jsonl"]),
    default="csv",
    show_default=True,
    help="File format of every table.",
)
@click.option(
    "--events-format",
    type=click.Choice(["csv", "parquet", "jsonl"]),
    default=None,
    help="Override the format of `events` (jsonl writes Segment-spec camelCase messages).",
)
@click.option(
    "--end-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of simulated history, YYYY-MM-DD [default: 2026-11-01, a fixed date so "
    "that the output depends only on the options].",
)
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the ground truth (who is who, the traps) as JSON, for tests.",
)
@click.option(
    "--batch-persons",
    default=20_000,
    show_default=True,
    help="People simulated and written per batch (one part file each): bounds memory.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(
    out_dir: Path,
    persons: int,
    days: int,
    seed: int,
    fmt: str,
    events_format: str | None,
    end_date: object,
    truth: Path | None,
    batch_persons: int,
    quiet: bool,
) -> None:
    """Write a synthetic raw folder in the raw input contract to OUT_DIR.

    Tables, columns and layout follow orchestration/ingestion/contract.yml. Existing
    contract tables in OUT_DIR are replaced; other files are left alone.
    """
    try:
        # A development tool, not in the wheel (cdp_dev/): there only in a checkout.
        from cdp_dev.generate import generate_raw_folder
    except ModuleNotFoundError as error:
        if error.name not in {"cdp_dev", "cdp_dev.generate"}:
            raise
        raise click.ClickException(
            "`cdp generate` needs the development package cdp_dev, which the installed "
            "wheel does not ship: run it from a checkout of the project (`uv run cdp "
            "generate ...`)"
        ) from None

    try:
        summary = generate_raw_folder(
            out_dir,
            persons=persons,
            days=days,
            seed=seed,
            fmt=fmt,
            events_format=events_format,
            end_date=end_date.date() if end_date is not None else None,  # type: ignore[attr-defined]
            truth_path=truth,
            progress=not quiet,
            batch_persons=batch_persons,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(summary.render())


if __name__ == "__main__":
    main()


@main.command()
@click.option(
    "--serving-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The serving copy to read [env CDP_SERVING_DIR; default: serving/ beside the warehouse].",
)
@click.option("--port", default=8050, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. Anything but loopback exposes the customer data: only "
    "when you mean it.",
)
@click.option("--show-pii", is_flag=True, help="Show emails and phones unmasked.")
def studio(serving_dir: Path | None, port: int, host: str, show_pii: bool) -> None:
    """Start CDP Studio: people, audiences and the identity graph, read-only, in a browser.

    Reads the read-only serving copy, never the warehouse, so it never blocks a run.
    """
    import uvicorn

    from orchestration.studio.app import StudioConfig, create_app

    settings = Settings.from_env().with_overrides(serving_dir=serving_dir)
    if not (settings.serving_dir / "cdp.duckdb").is_file():
        raise click.UsageError(f"no serving copy in {settings.serving_dir}: run `cdp run` first")
    data_docs = settings.data_docs_dir
    if serving_dir is not None and settings.data_docs_dir_override is None:
        data_docs = settings.serving_dir.parent / "data_docs"  # beside the warehouse too
    app = create_app(
        StudioConfig(serving_dir=settings.serving_dir, show_pii=show_pii, data_docs_dir=data_docs)
    )
    click.echo(f"CDP Studio on http://{host}:{port}/ (serving copy {settings.serving_dir})")
    uvicorn.run(app, host=host, port=port, log_level="warning")
