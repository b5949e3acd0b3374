"""Blocking in a real Dagster run: a small graph (customers -> export) guarded by a suite
file, materialised with `dg.materialize` into a DuckDB file."""

from pathlib import Path
from textwrap import dedent

import dagster as dg
import duckdb

from orchestration.checks.quality import build_quality_checks
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

SUITE = """\
description: Customers fit to be exported.
asset: test/customers
read:
  table: main.customers
  sample_rows: null
expectations:
  - name: consent_never_null
    description: Exporting someone whose consent is unknown is not allowed.
    type: expect_column_values_to_not_be_null
    kwargs: {column: has_consent}
    severity: error
    blocking: {blocking}
  - name: emails_mostly_present
    description: A warning only.
    type: expect_column_values_to_not_be_null
    kwargs: {column: email, mostly: 0.9}
"""


class CustomersConfig(dg.Config):
    consent_missing: bool = False


@dg.asset(key=["test", "customers"])
def customers(config: CustomersConfig, warehouse: WarehouseResource) -> None:
    consent = "null" if config.consent_missing else "true"
    with warehouse.connect() as con:
        con.execute(
            "create or replace table main.customers as "
            f"select range as customer_id, 'a@b.co' as email, {consent} as has_consent "
            "from range(10)"
        )


@dg.asset(key=["test", "export"], deps=[customers])
def export(warehouse: WarehouseResource) -> None:
    with warehouse.connect() as con:
        con.execute("create or replace table main.exported as select * from main.customers")


def materialize(
    tmp_path: Path, *, blocking: bool, consent_missing: bool
) -> dg.ExecuteInProcessResult:
    suites_dir = tmp_path / "suites"
    (suites_dir / "test").mkdir(parents=True, exist_ok=True)
    (suites_dir / "test" / "customers.yml").write_text(
        dedent(SUITE).replace("{blocking}", str(blocking).lower())
    )
    settings = Settings.from_env({}).with_overrides(data_docs_dir=tmp_path / "docs")
    checks = build_quality_checks(settings, {"test/customers", "test/export"}, suites_dir)
    return dg.materialize(
        [customers, export, *checks],
        resources={"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"))},
        run_config={"ops": {"test__customers": {"config": {"consent_missing": consent_missing}}}},
        raise_on_error=False,
    )


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_with_good_data_the_checks_pass_and_the_export_runs(tmp_path):
    result = materialize(tmp_path, blocking=True, consent_missing=False)
    assert result.success
    assert evaluations(result) == {"consent_never_null": True, "emails_mostly_present": True}
    assert materialized(result) == {"test/customers", "test/export"}


def test_a_failed_blocking_check_stops_the_downstream_export(tmp_path):
    result = materialize(tmp_path, blocking=True, consent_missing=True)
    assert not result.success
    assert evaluations(result) == {"consent_never_null": False, "emails_mostly_present": True}
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "consent_never_null"
    ]
    assert evaluation.blocking
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert materialized(result) == {"test/customers"}
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        tables = {row[0] for row in con.execute("show tables").fetchall()}
        failed = con.execute(
            "select expectation from quality.gx_validation_results where not success"
        ).fetchall()
    assert "exported" not in tables
    assert failed == [("consent_never_null",)]


def test_the_same_failure_without_blocking_lets_the_export_run(tmp_path):
    result = materialize(tmp_path, blocking=False, consent_missing=True)
    assert evaluations(result)["consent_never_null"] is False
    assert materialized(result) == {"test/customers", "test/export"}
