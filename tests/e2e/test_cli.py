"""`cdp run` as a user runs it (README command 1): a subprocess, its summary, its exit code."""

import shutil

import duckdb
import pytest

from orchestration.ingestion.contract import load_contract
from tests.conftest import SEEDS
from tests.e2e.conftest import cdp, manifest_counts, parse_summary
from tests.e2e.rawfiles import table_files, table_records


def test_cdp_run_builds_the_demo_warehouse_and_prints_the_summary(demo_run):
    """The session's demo build is this command (scripts/check.py's build step, or the
    `cdp run` the session made in a fresh shell): its exit code, what it printed."""
    completed, warehouse = demo_run, demo_run.warehouse

    assert completed.returncode == 0, completed.stdout + completed.stderr[-5000:]
    printed = parse_summary(completed.stdout)
    assert printed.headline.startswith("cdp run succeeded")
    assert printed.failed_steps == []
    assert warehouse.is_file()
    # Checkpointed at the end of the run: the file alone holds every table (a copy of
    # it, as a user backs it up or a test takes it, is complete).
    assert not warehouse.with_name(warehouse.name + ".wal").exists()

    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in sorted(load_contract().tables):
            loaded, quarantined = con.execute(
                f"select (select count(*) from raw.{table}), "
                "(select count(*) from raw.quarantine where table_name = ?)",
                [table],
            ).fetchone()
            in_files = len(table_records(SEEDS, table))
            # Printed = what landed = what the files hold (counted from the files).
            assert printed.tables[table] == (loaded, quarantined, len(table_files(SEEDS, table)))
            assert loaded + quarantined == in_files, table
        staged = con.execute("select count(*) from staging.stg_shop__orders").fetchone()[0]
    assert set(printed.tables) == set(load_contract().tables)
    assert staged > 0

    models, checks = manifest_counts()
    assert printed.models == models
    assert printed.checks == (checks, 0, 0)
    # dbt's own log goes beside the warehouse, not onto the terminal.
    assert (warehouse.parent / "logs" / "last_run.log").is_file()
    assert "PASS" not in completed.stdout
    # --summary-json holds the summary the command printed, whole.
    assert demo_run.summary.render() in completed.stdout


@pytest.mark.slow
def test_a_failing_run_exits_non_zero_and_names_the_step_and_the_file(tmp_path):
    raw_dir = tmp_path / "raw"
    shutil.copytree(SEEDS, raw_dir)
    bad_file = raw_dir / "shop_orders" / "part-00003.csv"
    bad_file.write_bytes(b"\xff\xfe not a CSV \x00\x01")

    completed = cdp(
        "run",
        "--raw-dir",
        raw_dir,
        "--warehouse",
        tmp_path / "cdp.duckdb",
        dagster_home=tmp_path / "dagster_home",
    )

    assert completed.returncode != 0
    printed = parse_summary(completed.stdout)
    assert printed.headline.startswith("cdp run FAILED")
    assert [step.split(":")[0] for step in printed.failed_steps] == ["raw_tables"]
    # The summary itself (stdout, not the Dagster log on stderr) names the file.
    assert f"{bad_file}: the CSV header is not valid UTF-8" in completed.stdout
    # The good files were loaded; nothing downstream ran on the partial picture.
    assert printed.tables["events"][0] > 0
    assert printed.models == 0
