"""`RunSummary` as JSON (`cdp run --summary-json`): scripts/check.py hands its demo build
to pytest that way, so what the CLI printed must come back whole."""

from pathlib import Path

from orchestration.pipeline import RunSummary, TableCounts


def a_failed_run() -> RunSummary:
    return RunSummary(
        success=False,
        seconds=12.25,
        warehouse=Path("/tmp/w/cdp.duckdb"),
        tables={
            "events": TableCounts(loaded=10, quarantined=2, files_loaded=1, files_skipped=3),
            "consent": TableCounts(),
            "fx_rates": TableCounts(files_loaded=1, files_empty=2),
        },
        models=4,
        checks_passed=7,
        checks_failed=["marts/identity_map:identity_health_within_bounds"],
        checks_warned=["raw/events:volume_within_band_of_previous_loads"],
        checks_blocking=["marts/identity_map:identity_health_within_bounds"],
        results=["segment churn_risk: 3 members (+3 entered, 0 exited)"],
        failures=["gx_marts__identity_health: too big\n  details"],
        log_file=Path("/tmp/w/logs/last_run.log"),
    )


def test_a_summary_read_back_from_json_is_equal_and_renders_the_same_text():
    summary = a_failed_run()
    read = RunSummary.from_json(summary.to_json())
    assert read == summary
    assert isinstance(read.warehouse, Path)
    assert isinstance(read.tables["events"], TableCounts)
    assert read.render() == summary.render()


def test_a_summary_without_a_log_file_keeps_none():
    summary = RunSummary(success=True, seconds=1.0, warehouse=Path("w.duckdb"))
    assert RunSummary.from_json(summary.to_json()) == summary
    assert RunSummary.from_json(summary.to_json()).log_file is None


def test_empty_files_are_counted_as_new_files_and_named_empty():
    line = next(line for line in a_failed_run().render().splitlines() if "fx_rates" in line)
    assert line.split()[1:] == ["0", "0", "3", "(2", "empty)"]
