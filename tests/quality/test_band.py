"""Bands against the previous run: the baseline is read back from
quality.gx_validation_results (the mechanism the marts' segment-size checks will use)."""

import datetime as dt
from pathlib import Path
from textwrap import dedent

import duckdb
import pytest

from orchestration.quality.results import write_results
from orchestration.quality.suite_files import load_suite
from orchestration.quality.validation import DataDocs, Outcome, validate_target
from orchestration.warehouse import DuckDBWarehouse
from tests.quality.helpers import by_check, run_suites

SEGMENT_SUITE = """\
description: Segment sizes against the last run that passed.
asset: marts/segment_membership
read:
  sample_rows: null
  query: |
    select segment_name, count(*) as members
    from marts.segment_membership
    group by segment_name
expectations:
  - name: segment_sizes_within_band_of_previous_run
    description: Each segment keeps between half and twice its members.
    band:
      column: members
      by: segment_name
      min_ratio: 0.5
      max_ratio: 2.0
      baseline: previous_passing_run
    severity: error
    blocking: true
"""


def execute(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)


def test_staged_rows_band_compares_with_the_previous_run_and_a_first_run_passes(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    execute(
        warehouse,
        "create schema staging",
        "create table staging.stg_shop__orders as select range as order_id from range(100)",
    )

    def run(run_id: str) -> Outcome:
        outcomes = run_suites(
            warehouse,
            tmp_path / "docs",
            run_id,
            {"staging/staged_row_counts"},
            {"staging/stg_shop__orders"},
        )
        return by_check(outcomes)[
            "staging/stg_shop__orders:staged_rows_within_band_of_previous_run"
        ]

    first = run("run-1")
    assert first.success
    assert first.details["note"].startswith("no previous run")
    assert first.observed_value == {"values": {"_": 100.0}, "ratios": {"_": None}}

    assert run("run-2").observed_value["ratios"] == {"_": 1.0}

    execute(warehouse, "delete from staging.stg_shop__orders where order_id >= 50")
    shrunk = run("run-3")
    assert not shrunk.success
    assert shrunk.observed_value["ratios"] == {"_": 0.5}
    assert shrunk.details["band"]["previous_run_id"] == "run-2"

    # baseline previous_run: the shrunk run is the new baseline, so the next passes.
    assert run("run-4").success


def test_a_band_by_key_against_the_last_passing_run_keeps_failing_until_it_recovers(tmp_path):
    suites_dir = tmp_path / "suites"
    (suites_dir / "marts").mkdir(parents=True)
    (suites_dir / "marts" / "segment_sizes.yml").write_text(dedent(SEGMENT_SUITE))
    suite = load_suite(suites_dir / "marts" / "segment_sizes.yml", suites_dir)
    warehouse = tmp_path / "cdp.duckdb"
    execute(warehouse, "create schema marts")
    docs = DataDocs.for_folder(tmp_path / "docs")

    def run(run_id: str, sizes: dict[str, int]) -> Outcome:
        rows = " union all ".join(
            f"select '{name}' as segment_name, range as person_id from range({size})"
            for name, size in sizes.items()
        )
        now = dt.datetime.now(dt.UTC)
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"create or replace table marts.segment_membership as {rows}")
            result = validate_target(
                DuckDBWarehouse(con, owned=False),
                docs,
                suite,
                suite.targets[0],
                run_id=run_id,
                run_time=now,
                raw_schema="raw",
            )
            write_results(
                DuckDBWarehouse(con, owned=False),
                [o.result_row(run_id, now) for o in result.outcomes],
            )
        (outcome,) = result.outcomes
        return outcome

    assert run("run-1", {"vip": 100, "churn_risk": 100}).success
    collapsed = run("run-2", {"vip": 40, "churn_risk": 100, "new_segment": 10})
    assert not collapsed.success
    assert collapsed.observed_value["ratios"] == {
        "vip": pytest.approx(0.4),
        "churn_risk": pytest.approx(1.0),
        "new_segment": None,  # no baseline yet: not judged
    }
    assert collapsed.expectation.blocking
    # Still measured against run-1 (the last that passed), not against the collapse.
    assert not run("run-3", {"vip": 40, "churn_risk": 100, "new_segment": 10}).success
    recovered = run("run-4", {"vip": 90, "churn_risk": 100, "new_segment": 10})
    assert recovered.success
    assert recovered.details["band"]["previous_run_id"] == "run-1"


def test_a_band_column_missing_from_the_frame_fails_the_check_with_the_reason(tmp_path):
    suites_dir = tmp_path / "suites"
    (suites_dir / "marts").mkdir(parents=True)
    text = dedent(SEGMENT_SUITE).replace("column: members", "column: member_count")
    (suites_dir / "marts" / "segment_sizes.yml").write_text(text)
    suite = load_suite(suites_dir / "marts" / "segment_sizes.yml", suites_dir)
    warehouse = tmp_path / "cdp.duckdb"
    execute(
        warehouse,
        "create schema marts",
        "create table marts.segment_membership as select 'vip' as segment_name, 1 as person_id",
    )
    with duckdb.connect(str(warehouse)) as con:
        result = validate_target(
            DuckDBWarehouse(con, owned=False),
            DataDocs.for_folder(tmp_path / "docs"),
            suite,
            suite.targets[0],
            run_id="run-1",
            run_time=dt.datetime.now(dt.UTC),
            raw_schema="raw",
        )
    (outcome,) = result.outcomes
    assert not outcome.success
    assert "band column 'member_count' is not in the frame" in outcome.details["error"]


def test_a_previous_value_below_min_previous_is_not_judged_and_says_so(tmp_path):
    suites_dir = tmp_path / "suites"
    (suites_dir / "marts").mkdir(parents=True)
    text = dedent(SEGMENT_SUITE).replace(
        "      baseline: previous_passing_run\n",
        "      baseline: previous_passing_run\n      min_previous: 20\n",
    )
    (suites_dir / "marts" / "segment_sizes.yml").write_text(text)
    suite = load_suite(suites_dir / "marts" / "segment_sizes.yml", suites_dir)
    assert suite.expectations[0].band.min_previous == 20
    warehouse = tmp_path / "cdp.duckdb"
    execute(warehouse, "create schema marts")
    docs = DataDocs.for_folder(tmp_path / "docs")

    def run(run_id: str, sizes: dict[str, int]) -> Outcome:
        rows = " union all ".join(
            f"select '{name}' as segment_name, range as person_id from range({size})"
            for name, size in sizes.items()
        )
        now = dt.datetime.now(dt.UTC)
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"create or replace table marts.segment_membership as {rows}")
            result = validate_target(
                DuckDBWarehouse(con, owned=False),
                docs,
                suite,
                suite.targets[0],
                run_id=run_id,
                run_time=now,
                raw_schema="raw",
            )
            write_results(
                DuckDBWarehouse(con, owned=False),
                [o.result_row(run_id, now) for o in result.outcomes],
            )
        (outcome,) = result.outcomes
        return outcome

    assert run("run-1", {"night_owls": 5, "vip": 100}).success
    # 5 -> 1 is a fifth, but 5 members are too few to call it a collapse; vip is judged.
    small = run("run-2", {"night_owls": 1, "vip": 100})
    assert small.success
    assert small.observed_value["ratios"] == {"night_owls": None, "vip": 1.0}
    assert small.details["note"] == "previous value below min_previous (20), not judged: night_owls"
    collapsed = run("run-3", {"night_owls": 1, "vip": 10})
    assert not collapsed.success
    assert collapsed.observed_value["ratios"]["vip"] == pytest.approx(0.1)
