"""`CDP_TARGET=spark cdp run` builds the demo end to end on Spark through the same Dagster
job as on DuckDB (ingestion, the GX suites, both dbt steps, the predictions, segments,
payloads, export syncs and the serving copy) and gives what the DuckDB demo build gives:
the same run summary, every model of `marts` and `activation` row for row, and export
files with the same rows.

The DuckDB side is the check's shared demo build (`demo_run`), read-only; the Spark side is
one `cdp run` in a fresh shell environment, as a user types it. Nothing is computed once
and copied across: each engine fits its own predictions, from features in person order
with the same seed, so equal scores are part of what is proven.

Last, the segments are evaluated once more at a later "now" (`CDP_AS_OF`) on both (on a
copy of the DuckDB demo, in place on the Spark run's catalog), so that their append-only
change logs take the incremental path on both engines, with exits to compare.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from orchestration.pipeline import RunSummary
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from orchestration.warehouse import DuckDBWarehouse, SparkWarehouse, Warehouse
from tests.conftest import DemoRun, check_script, copy_demo_warehouse
from tests.identity.test_link_rules_seed import RULES, csv_rules
from tests.spark.parity import compare, normalise

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (docs/spark.md)"),
    pytest.mark.timeout(7200),
]

VENV_BIN = Path(sys.executable).parent
COMPARED_SCHEMAS = ("marts", "activation")
# Columns that say when, or in which run, a table was built; not what it computed (the
# pipeline's "now", int_as_of, is data: entered_at / changed_at compare).
RUN_COLUMNS = {
    "identity_health": {"measured_at"},
    "person_merges": {"changed_at"},
    "segment_sizes": {"computed_at"},
    "audience_payloads": {"built_at"},
}
RUN_COLUMN_PATTERN = re.compile(r"(^|_)(invocation_id|run_id)$")
# An export file: <segment>__<operation>__<batch>__<idempotency key>.csv; the key hashes
# the run id, so files compare by what comes before it.
EXPORT_FILE = re.compile(r"^(?P<batch>.+__\d+)__[0-9a-f]+\.csv$")
# The second evaluation of the segments, months after the demo data's "now". (Unit tests
# left out: they ran in the build, and int_as_of's expects no CDP_AS_OF.)
SEGMENTS_AGAIN = (
    "--select",
    "int_as_of",
    "path:models/marts/activation/segments+",
    "--exclude-resource-type",
    "unit_test",
)
LATER_AS_OF = "2027-03-01T00:00:00"


@pytest.fixture(scope="module")
def spark_run(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built by `CDP_TARGET=spark cdp run` (its build folder)."""
    check = check_script()
    base = tmp_path_factory.mktemp("spark_run")
    build_dir = base / "build"
    env = check.user_shell_env(os.environ, base / "dagster_home")
    env["CDP_TARGET"] = "spark"
    completed = subprocess.run(
        # --unit-tests: dbt's unit tests on Spark run here (on DuckDB: test_dbt_unit_tests.py).
        [str(VENV_BIN / "cdp"), *check.demo_run_args(build_dir), "--unit-tests"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    summary_file = build_dir / check.DEMO_SUMMARY
    output = completed.stdout[-8000:] + completed.stderr[-4000:]
    assert completed.returncode == 0, output
    assert summary_file.exists(), output
    return build_dir


def _spark_settings(build_dir: Path) -> Settings:
    warehouse = build_dir / check_script().DEMO_WAREHOUSE
    return Settings.from_env({"CDP_WAREHOUSE": str(warehouse), "CDP_TARGET": "spark"})


def _summary(build_dir: Path) -> RunSummary:
    return RunSummary.from_json((build_dir / check_script().DEMO_SUMMARY).read_text())


def test_the_spark_run_succeeds_with_the_duckdb_runs_summary(
    demo_run: DemoRun, spark_run: Path
) -> None:
    duck, spark = demo_run.summary, _summary(spark_run)
    assert spark.success, spark.render()
    assert (spark.models, spark.checks_passed) == (duck.models, duck.checks_passed)
    assert (spark.checks_failed, spark.checks_warned) == (duck.checks_failed, duck.checks_warned)
    assert spark.tables == duck.tables
    # The segment and export lines name the same sizes and counts (times and paths aside).
    assert _without_paths(spark.results) == _without_paths(duck.results)


def _without_paths(lines: list[str]) -> list[str]:
    return sorted(re.sub(r"(/|[A-Za-z]:\\)\S+", "<path>", line) for line in lines)


def _ignored(relation: str, table: pa.Table) -> set[str]:
    name = relation.split(".", 1)[1]
    found = {column for column in table.column_names if RUN_COLUMN_PATTERN.search(column)}
    return RUN_COLUMNS.get(name, set()) | found


def _read_compared(warehouse: Warehouse, relations: list[str] | None = None) -> dict:
    """Every relation of `marts` and `activation` but the syncs' operational state (DuckDB's
    on both engines, not a Spark table), by name."""
    if relations is None:
        relations = [
            f"{schema}.{name}"
            for schema in COMPARED_SCHEMAS
            for name in warehouse.list_relations(schema)
            if not name.startswith("sync_")
        ]
    return {relation: warehouse.read_arrow(relation) for relation in relations}


def _differences(duck: dict[str, pa.Table], spark: dict[str, pa.Table]) -> list[str]:
    found = []
    for relation, table in duck.items():
        ignore = _ignored(relation, table)
        difference = compare(relation, normalise(table, ignore), normalise(spark[relation], ignore))
        if difference is not None:
            found.append(str(difference))
    return found


def _compare_warehouses(duck_file: Path, spark_settings: Settings) -> dict[str, pa.Table]:
    """Assert the two warehouses hold the same compared relations; DuckDB's tables."""
    with DuckDBWarehouse.open(duck_file, read_only=True) as warehouse:
        duck = _read_compared(warehouse)
    with SparkWarehouse.open(spark_settings) as warehouse:
        spark_relations = {
            f"{schema}.{name}"
            for schema in COMPARED_SCHEMAS
            for name in warehouse.list_relations(schema)
        }
        missing = sorted(set(duck) - spark_relations)
        assert not missing, f"not built on Spark: {missing}"
        spark = _read_compared(warehouse, sorted(duck))
    assert {"marts.identity_map", "marts.customer_profiles", "activation.audience_payloads"} <= set(
        duck
    )
    differences = _differences(duck, spark)
    assert not differences, "\n\n".join(differences)
    return duck


def test_every_mart_and_activation_table_is_identical_on_spark(
    demo_run: DemoRun, spark_run: Path
) -> None:
    duck = _compare_warehouses(demo_run.warehouse, _spark_settings(spark_run))
    # Not vacuous: the demo resolves hundreds of persons and has segment members.
    assert duck["marts.identity_map"].num_rows > 500
    assert duck["marts.customer_profiles"].num_rows > 300
    assert duck["marts.segment_membership"].num_rows > 0
    assert duck["activation.audience_payloads"].num_rows > 0


def _export_rows(exports: Path) -> dict[str, list[dict[str, str]]]:
    files: dict[str, list[dict[str, str]]] = {}
    for path in sorted(exports.glob("*/*/*.csv")):
        match = EXPORT_FILE.match(path.name)
        assert match, f"unexpected export file name {path}"
        destination = path.parent.parent.name
        with path.open(newline="") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda row: json.dumps(row, sort_keys=True))
        files[f"{destination}/{match['batch']}"] = rows
    return files


def test_the_export_files_hold_the_same_rows(demo_run: DemoRun, spark_run: Path) -> None:
    duck = _export_rows(demo_run.build_dir / "exports")
    spark = _export_rows(spark_run / "exports")
    assert duck, "the demo build exported nothing: the comparison would be vacuous"
    assert sorted(spark) == sorted(duck)
    for name, rows in duck.items():
        assert spark[name] == rows, f"{name}: the Spark run's rows differ"


def test_the_link_rules_seed_holds_the_csv_on_spark(spark_run: Path) -> None:
    """dbt-spark's session loader once wrote every empty seed cell as the text 'None'
    (tests/identity/test_link_rules_seed.py has the story and the DuckDB side)."""
    with SparkWarehouse.open(_spark_settings(spark_run)) as warehouse:
        rows = warehouse.read_arrow(RULES).to_pylist()
    assert sorted(rows, key=lambda row: str(row["rule"])) == csv_rules()


@dataclass
class Evaluated:
    duck_file: Path
    spark_settings: Settings


def _dbt_build(dbt: str, settings: Settings, work_dir: Path, *selection: str) -> None:
    work_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(VENV_BIN / dbt),
        "build",
        *selection,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_ROOT),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    env = {**os.environ, **settings.as_env(), "CDP_AS_OF": LATER_AS_OF}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{dbt} build failed:\n" + "\n".join(
        line for line in done.stdout.splitlines() if "ERROR" in line or "FAIL" in line
    )


@pytest.fixture(scope="module")
def evaluated_again(
    demo_run: DemoRun, spark_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> Evaluated:
    """Both warehouses after a second segment evaluation at LATER_AS_OF. It changes the
    Spark run's catalog: only the module's last test asks for it."""
    base = tmp_path_factory.mktemp("evaluated_again")
    duck_file = copy_demo_warehouse(demo_run.summary, base / "duckdb")
    duck_settings = Settings.from_env({"CDP_WAREHOUSE": str(duck_file)})
    spark_settings = _spark_settings(spark_run)
    _dbt_build("dbt", duck_settings, base / "duckdb", *SEGMENTS_AGAIN)
    _dbt_build("cdp-dbt-spark", spark_settings, base / "spark", *SEGMENTS_AGAIN)
    return Evaluated(duck_file, spark_settings)


def test_a_later_segment_evaluation_is_identical_on_spark(evaluated_again: Evaluated) -> None:
    duck = _compare_warehouses(evaluated_again.duck_file, evaluated_again.spark_settings)
    # The later evaluation closed stays (exited rows) and kept or opened others.
    history = duck["marts.segment_membership_history"]
    open_stays = history.column("exited_at").null_count
    assert 0 < open_stays < history.num_rows
