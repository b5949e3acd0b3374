"""The marts suites on hand-made data: the consent columns they expect, and segment sizes
banded against the previous passing run in a real Dagster run, with the repo's own
suite file guarding two segment assets that have an export each."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from orchestration.activation.model import CONSENT_PURPOSES
from orchestration.checks.quality import build_quality_checks
from orchestration.quality.results import RESULTS_TABLE
from orchestration.quality.suite_files import SUITES_DIR, load_suite
from orchestration.resources import WarehouseResource
from orchestration.settings import PROJECT_ROOT, Settings

SEGMENT_SIZES = SUITES_DIR / "marts" / "segment_sizes.yml"
SEGMENT_CHECK = "segment_size_within_band_of_previous_run"


def test_the_consent_suite_expects_one_column_per_activation_purpose():
    suite = load_suite(SUITES_DIR / "marts" / "consent_never_null.yml")
    expected = [f"consent_{purpose}" for purpose in CONSENT_PURPOSES]
    assert suite.targets[0].parameters["consent_columns"] == expected
    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert tuple(dbt_vars["vars"]["cdp_consent_purposes"]) == CONSENT_PURPOSES


# ---- segment sizes: a real Dagster run per evaluation ---------------------------------


class SizesConfig(dg.Config):
    """This evaluation's size of each segment (what a segment asset would compute)."""

    vip: int
    churn_risk: int


def _segment_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(key=["segments", name])
    def segment(
        context: dg.AssetExecutionContext, config: SizesConfig, warehouse: WarehouseResource
    ) -> None:
        with warehouse.connect() as con:
            con.execute("create schema if not exists marts")
            con.execute(
                "create table if not exists marts.segment_sizes (segment_name varchar, "
                "computed_at timestamp, member_count bigint, entered_count bigint, "
                "exited_count bigint, run_id varchar)"
            )
            con.execute(
                "insert into marts.segment_sizes values (?, now()::timestamp, ?, 0, 0, ?)",
                [name, getattr(config, name), context.run.run_id],
            )

    return segment


def _export_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(key=["exports", name], deps=[dg.AssetKey(["segments", name])])
    def export(warehouse: WarehouseResource) -> None:
        with warehouse.connect() as con:
            con.execute("create table if not exists main.exported (segment_name varchar)")
            con.execute("insert into main.exported values (?)", [name])

    return export


SEGMENTS = ("vip", "churn_risk")
ASSETS = [_segment_asset(name) for name in SEGMENTS] + [_export_asset(n) for n in SEGMENTS]


@pytest.fixture
def evaluate(tmp_path: Path):
    """One run of both segments and their exports, guarded by the repo's suite file."""
    suites_dir = tmp_path / "suites"
    (suites_dir / "marts").mkdir(parents=True)
    shutil.copyfile(SEGMENT_SIZES, suites_dir / "marts" / "segment_sizes.yml")
    settings = Settings.from_env({}).with_overrides(data_docs_dir=tmp_path / "docs")
    keys = {key.to_user_string() for asset in ASSETS for key in asset.keys}
    checks = build_quality_checks(settings, keys, suites_dir)
    warehouse = tmp_path / "cdp.duckdb"

    def run(vip: int, churn_risk: int) -> dg.ExecuteInProcessResult:
        config = {"config": {"vip": vip, "churn_risk": churn_risk}}
        return dg.materialize(
            [*ASSETS, *checks],
            resources={"warehouse": WarehouseResource(path=str(warehouse))},
            run_config={"ops": {f"segments__{name}": config for name in SEGMENTS}},
            raise_on_error=False,
        )

    return run


def exported(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        event.asset_key.path[-1]
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[0] == "exports"
    }


def verdicts(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        evaluation.asset_key.to_user_string(): evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == SEGMENT_CHECK
    }


def test_a_segment_collapsing_to_zero_stops_its_export_until_it_recovers(evaluate, tmp_path):
    # A normal run: no previous size, nothing to compare with, both exports run.
    first = evaluate(vip=120, churn_risk=80)
    assert first.success
    assert verdicts(first) == {"segments/vip": True, "segments/churn_risk": True}
    assert exported(first) == {"vip", "churn_risk"}

    # vip collapses to 0 after a normal run: its check fails, is blocking, and only its
    # export is skipped; churn_risk (80 -> 60) is inside the band and exports.
    collapsed = evaluate(vip=0, churn_risk=60)
    assert not collapsed.success
    assert verdicts(collapsed) == {"segments/vip": False, "segments/churn_risk": True}
    (evaluation,) = [
        e
        for e in collapsed.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "segments/vip"
    ]
    assert evaluation.blocking
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert exported(collapsed) == {"churn_risk"}

    # Still 0: the baseline is the last passing run (120), not the collapse.
    assert verdicts(evaluate(vip=0, churn_risk=60))["segments/vip"] is False
    # Back to 100 of 120: inside the band, the export runs again.
    recovered = evaluate(vip=100, churn_risk=60)
    assert recovered.success
    assert exported(recovered) == {"vip", "churn_risk"}

    with duckdb.connect(str(tmp_path / "cdp.duckdb"), read_only=True) as con:
        history = con.execute(
            f"select success from {RESULTS_TABLE} "
            "where asset_key = 'segments/vip' order by validated_at"
        ).fetchall()
        exports = con.execute(
            "select count(*) from main.exported where segment_name = 'vip'"
        ).fetchall()
    assert [row[0] for row in history] == [True, False, False, True]
    assert exports == [(2,)]


def test_a_segment_that_explodes_is_stopped_and_a_small_one_is_not_judged(evaluate):
    assert evaluate(vip=120, churn_risk=10).success
    # vip 120 -> 1,500 (more than ten times); churn_risk had fewer than 20 members, so
    # 10 -> 0 is not judged.
    exploded = evaluate(vip=1500, churn_risk=0)
    assert verdicts(exploded) == {"segments/vip": False, "segments/churn_risk": True}
    assert exported(exploded) == {"churn_risk"}
    (evaluation,) = [
        e
        for e in exploded.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "segments/churn_risk"
    ]
    assert evaluation.metadata["note"].value == (
        "previous value below min_previous (20), not judged"
    )
