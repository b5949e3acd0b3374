"""The marts suites on the demo warehouse: every check passes on the demo; each fault
planted in a mart fails exactly the check meant to catch it, that check is blocking,
and the assets downstream (the serving copy) do not run.

The faults are planted into a copy of the session's demo warehouse and only the marts
checks run (plus `serving/cdp`, downstream of every mart), through the project's own
Dagster definitions. The exploding identity cluster goes the whole way, raw orders to
the `cdp run` summary, in test_pipeline.py (the run with the raw and staging faults)."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.activation.segment_files import SEGMENTS_DIR, load_segment_definitions
from orchestration.assets.serving import SERVING_KEY
from orchestration.definitions import build_definitions
from orchestration.quality.results import RESULTS_TABLE
from orchestration.settings import Settings
from tests.conftest import SEEDS
from tests.quality.helpers import by_check, copy_warehouse, failed, run_suites

pytestmark = pytest.mark.slow

SEGMENT_CHECK = "segment_size_within_band_of_previous_run"
MARTS_SUITES = {
    "marts/consent_never_null",
    "marts/profile_completeness",
    "marts/revenue_not_negative",
    "marts/order_counts",
    "marts/identity_health",
}


@pytest.fixture
def restore_environ() -> Iterator[None]:
    """Building the definitions exports the settings to os.environ: put it back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def run_marts_checks(warehouse: Path, root: Path) -> dg.ExecuteInProcessResult:
    """Every GX check on a mart, and the serving copy, from the project's definitions on
    `warehouse` (nothing else is rebuilt)."""
    settings = Settings.from_env({}).with_overrides(
        raw_dir=SEEDS,
        warehouse=warehouse,
        exports_dir=root / "exports",
        serving_dir=root / "serving",
        data_docs_dir=root / "data_docs",
    )
    definitions = build_definitions(settings)
    checks = [
        key
        for checks in definitions.asset_checks
        if checks.node_def.name.startswith("gx_marts__")
        for key in checks.check_keys
    ]
    job = dg.define_asset_job(
        "marts_checks_and_serving",
        selection=dg.AssetSelection.checks(*checks) | dg.AssetSelection.assets(SERVING_KEY),
    )
    job_def = dg.Definitions.merge(definitions, dg.Definitions(jobs=[job])).resolve_job_def(
        job.name
    )
    return job_def.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e
        for e in result.get_asset_check_evaluations()
    }


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_on_the_demo_every_marts_check_passes_and_the_serving_copy_runs(
    demo_build, tmp_path, restore_environ
):
    warehouse = copy_warehouse(demo_build, tmp_path)
    result = run_marts_checks(warehouse, tmp_path)
    assert result.success
    checks = evaluations(result)
    assert set(checks) >= {
        "marts/customer_profiles:consent_fields_never_null",
        "marts/customer_profiles:consent_column_per_purpose",
        "marts/customer_profiles:known_profiles_with_email_or_phone",
        "marts/customer_profiles:revenue_not_negative",
        "marts/customer_profiles:order_count_matches_fct_orders",
        "marts/fct_orders:revenue_not_negative",
        "marts/identity_map:identity_health_within_bounds",
    }
    # Every shipped segment is guarded (the suite's key pattern segments/*).
    segments = {f"segments/{d.name}" for d in load_segment_definitions(SEGMENTS_DIR)}
    assert segments
    assert {name.split(":")[0] for name in checks if name.endswith(SEGMENT_CHECK)} == segments
    assert all(e.passed for e in checks.values())
    assert materialized(result) == {SERVING_KEY.to_user_string()}


# ---- faults planted in the marts: one run each ---------------------------------------

FIRST_PROFILES = "select person_id from marts.customer_profiles order by person_id limit 3"
PLANTED: dict[str, tuple[str, str]] = {
    "consent column with nulls": (
        "marts/customer_profiles:consent_fields_never_null",
        f"update marts.customer_profiles set consent_advertising = null "
        f"where person_id in ({FIRST_PROFILES})",
    ),
    "negative lifetime revenue": (
        "marts/customer_profiles:revenue_not_negative",
        "update marts.customer_profiles set lifetime_revenue_usd = -120.5 "
        "where person_id = (select max(person_id) from marts.customer_profiles "
        "where order_count > 0)",
    ),
    "negative order total": (
        "marts/fct_orders:revenue_not_negative",
        "update marts.fct_orders set total_usd = -42.0 "
        "where order_id = (select min(order_id) from marts.fct_orders where is_revenue)",
    ),
}


@pytest.mark.parametrize("fault", sorted(PLANTED))
def test_a_fault_planted_in_a_mart_fails_its_check_which_blocks_the_serving_copy(
    demo_build, tmp_path, restore_environ, fault
):
    check, plant = PLANTED[fault]
    warehouse = copy_warehouse(demo_build, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(plant)

    result = run_marts_checks(warehouse, tmp_path)

    assert not result.success
    checks = evaluations(result)
    assert {name for name, e in checks.items() if not e.passed} == {check}
    assert checks[check].blocking
    assert checks[check].severity == dg.AssetCheckSeverity.ERROR
    # Downstream of every mart: skipped because of the failed blocking check.
    assert SERVING_KEY.to_user_string() not in materialized(result)
    assert not (tmp_path / "serving").exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # The demo build passed it; this run failed it.
        history = con.execute(
            f"select success, details from {RESULTS_TABLE} "
            "where asset_key || ':' || expectation = ? order by validated_at",
            [check],
        ).fetchall()
    assert [row[0] for row in history] == [True, False]
    assert json.loads(history[-1][1])["unexpected_rows"]


def test_a_segment_collapsing_to_zero_after_a_normal_run_blocks_the_serving_copy(
    demo_build, tmp_path, restore_environ
):
    warehouse = copy_warehouse(demo_build, tmp_path)
    check = f"segments/churn_risk:{SEGMENT_CHECK}"

    def evaluation(member_count: int) -> dg.ExecuteInProcessResult:
        """A new evaluation of churn_risk lands in segment_sizes, then the checks run."""
        with duckdb.connect(str(warehouse)) as con:
            con.execute(
                "insert into marts.segment_sizes "
                "values ('churn_risk', now()::timestamp, ?, 0, 0, 'planted')",
                [member_count],
            )
        return run_marts_checks(warehouse, tmp_path)

    normal = evaluation(120)
    assert normal.success
    assert evaluations(normal)[check].passed
    assert SERVING_KEY.to_user_string() in materialized(normal)

    collapsed = evaluation(0)
    assert not collapsed.success
    checks = evaluations(collapsed)
    assert {name for name, e in checks.items() if not e.passed} == {check}
    assert checks[check].blocking
    assert SERVING_KEY.to_user_string() not in materialized(collapsed)
    (row,) = checks[check].metadata["unexpected_rows"].value
    assert (row["member_count"], row["member_count_ratio_to_previous"]) == (0, 0.0)


def test_order_counts_that_disagree_with_fct_orders_fail_with_the_persons(demo_build, tmp_path):
    """The same through the validation layer only (the Dagster path is proven above)."""
    warehouse = copy_warehouse(demo_build, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        (buyers,) = con.execute(
            "select list(person_id order by person_id)[1:2] from marts.customer_profiles "
            "where order_count > 0"
        ).fetchone()
        con.execute(
            "update marts.customer_profiles set order_count = order_count + 1 "
            "where list_contains(?, person_id)",
            [buyers],
        )
    outcomes = run_suites(warehouse, tmp_path / "docs", "run-1", MARTS_SUITES)
    assert failed(outcomes) == {"marts/customer_profiles:order_count_matches_fct_orders"}
    outcome = by_check(outcomes)["marts/customer_profiles:order_count_matches_fct_orders"]
    assert outcome.observed_value == 2
    (frame,) = outcome.details["frame"]
    assert frame["inconsistent_examples"] == sorted(buyers)


def test_known_profiles_losing_their_emails_and_phones_is_only_a_warning(demo_build, tmp_path):
    warehouse = copy_warehouse(demo_build, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        # A source stops sending contact details: a fifth of known persons lose them.
        con.execute(
            "update marts.customer_profiles set email = null, phone = null "
            "where is_known and hash(person_id) % 5 = 0"
        )
    outcomes = run_suites(warehouse, tmp_path / "docs", "run-1", MARTS_SUITES)
    name = "marts/customer_profiles:known_profiles_with_email_or_phone"
    assert failed(outcomes) == {name}
    outcome = by_check(outcomes)[name]
    assert outcome.expectation.severity == "warn"
    assert not outcome.expectation.blocking
    assert 0.6 < outcome.observed_value < 0.9
