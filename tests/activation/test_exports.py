"""The activation assets in real Dagster runs on a copy of the demo warehouse: the dbt
payload models (with their blocking violation test as an asset check) -> one export
asset per destination, with files on disk and a webhook on a loopback HTTP server."""

import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

from orchestration.activation.destinations import load_destinations
from orchestration.activation.generated import audience_rule_rows
from orchestration.activation.segment_files import SEGMENTS_DIR, load_segment_definitions
from orchestration.activation.sync.store import LOG_TABLE, OUTBOX_TABLE, STATE_TABLE
from orchestration.assets.dbt import cdp_dbt_profiles
from orchestration.assets.exports import ExportsFolderResource, build_export_assets
from orchestration.assets.segments import ENFORCEMENT_CHECK, PAYLOADS_KEY
from orchestration.pipeline import summarise
from orchestration.project import dbt_project
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import SettingsResource, WarehouseResource
from orchestration.settings import PROJECT_ROOT, Settings
from tests.activation.fixture_warehouse import copy_warehouse
from tests.activation.loopback import loopback

EXPORTS = {"exports/google_ads", "exports/meta", "exports/file", "exports/webhook"}
CANDIDATES_KEY = dg.AssetKey(["intermediate", "int_audience_candidates"])


@pytest.fixture
def segments(dbt_manifest):  # type: ignore[no-untyped-def]
    return load_segment_definitions(SEGMENTS_DIR)


@pytest.fixture
def warehouse(demo_build, tmp_path, monkeypatch) -> Path:
    path = copy_warehouse(demo_build.warehouse, tmp_path)
    # The demo build already synced its members: start these syncs from nothing sent.
    with duckdb.connect(str(path)) as con:
        for table in (STATE_TABLE, OUTBOX_TABLE, LOG_TABLE):
            con.execute(f"drop table if exists {table}")
    monkeypatch.setenv("CDP_WAREHOUSE", str(path))  # what dbt's profile reads
    return path


def materialize(
    warehouse: Path, exports: Path, segments, run_config=None
) -> dg.ExecuteInProcessResult:  # type: ignore[no-untyped-def]
    """The payload models (rebuilt by dbt, with their tests) and every export asset."""
    export_assets = build_export_assets(segments, load_destinations())
    return dg.materialize(
        [cdp_dbt_profiles, *export_assets],
        selection=dg.AssetSelection.assets(CANDIDATES_KEY, PAYLOADS_KEY)
        | dg.AssetSelection.assets(*(asset.key for asset in export_assets)),
        resources={
            "dbt": DbtCliResource(project_dir=dbt_project, profiles_dir=str(PROJECT_ROOT)),
            "warehouse": WarehouseResource(path=str(warehouse)),
            "exports_folder": ExportsFolderResource(path=str(exports)),
            "settings": SettingsResource.from_settings(
                Settings.from_env().with_overrides(warehouse=warehouse)
            ),
        },
        run_config=run_config,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def enforcement(result: dg.ExecuteInProcessResult):  # type: ignore[no-untyped-def]
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == ENFORCEMENT_CHECK
    ]
    return evaluation


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): {
            name: getattr(value, "value", value)
            for name, value in event.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }


def files(exports: Path) -> list[str]:
    return sorted(str(p.relative_to(exports)) for p in exports.rglob("*") if p.is_file())


def test_the_demo_exports_to_every_destination_then_only_changes(
    warehouse, tmp_path, monkeypatch, segments
):
    exports = tmp_path / "exports"
    with loopback() as server:
        monkeypatch.setenv("CDP_WEBHOOK_URL", server.url)
        first = materialize(warehouse, exports, segments)
        assert first.success
        evaluation = enforcement(first)
        assert (evaluation.passed, evaluation.blocking) == (True, True)
        meta = materialized(first)
        assert set(meta) >= EXPORTS
        with duckdb.connect(str(warehouse), read_only=True) as con:
            expected = dict(
                con.execute(
                    "select destination, count(*) from activation.audience_payloads group by all"
                ).fetchall()
            )
        for destination in ("file", "webhook"):
            assert meta[f"exports/{destination}"]["adds"] == expected[destination] > 0
        for destination in ("google_ads", "meta"):
            added = meta[f"exports/{destination}"]
            # Unmatchable members (no email, no phone) are counted, not sent.
            assert added["adds"] + added["unmatchable"] == expected[destination] > 0
        # One folder per destination and run; the webhook got JSON batches.
        assert {Path(f).parts[0] for f in files(exports)} == {"google_ads", "meta", "file"}
        for destination in ("google_ads", "meta", "file"):
            (folder,) = {Path(f).parts[0] for f in files(exports / destination)}
            assert (exports / destination / folder / "manifest.json").exists()
        assert len(server.records("add")) == expected["webhook"]
        lines = summarise(first, Settings.from_env({}), 0).render()
        total = sum(expected.values())
        assert f"activation payloads: {total:,} rows for 10 (segment, destination) pairs" in lines
        assert f"export file: 2 segment(s), +{expected['file']:,} added" in lines

        before = files(exports)
        requests = len(server.requests)
        second = materialize(warehouse, exports, segments)
        assert second.success
        assert all(materialized(second)[key]["adds"] == 0 for key in EXPORTS)
        assert files(exports) == before
        assert len(server.requests) == requests

        # A full resync of one destination from run config re-sends its members.
        third = materialize(
            warehouse,
            exports,
            segments,
            {"ops": {"exports__file": {"config": {"full_resync": True}}}},
        )
    assert materialized(third)["exports/file"]["adds"] == expected["file"]
    assert materialized(third)["exports/file"]["full_resync"] is True
    assert materialized(third)["exports/google_ads"]["adds"] == 0


def test_a_planted_violation_stops_every_export(warehouse, tmp_path, monkeypatch, segments):
    with duckdb.connect(str(warehouse)) as con:
        # The profile says granted; the consent history says withdrawn.
        con.execute(
            """update marts.customer_profiles set consent_email_marketing = 'granted'
            where person_id in (
                select person_id from intermediate.int_consent_latest
                where purpose = 'email_marketing' and consent_status = 'withdrawn')"""
        )
        con.execute(
            """insert into marts.segment_membership
            select 'churn_risk', person_id, timestamp '2026-11-01', null
            from intermediate.int_consent_latest
            where purpose = 'email_marketing' and consent_status = 'withdrawn'"""
        )
    exports = tmp_path / "exports"
    with loopback() as server:
        monkeypatch.setenv("CDP_WEBHOOK_URL", server.url)
        result = materialize(warehouse, exports, segments)
    assert not result.success
    evaluation = enforcement(result)
    assert evaluation.passed is False
    assert evaluation.blocking
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    # The payloads were built; no export ran: no file written, no request sent.
    assert set(materialized(result)) & EXPORTS == set()
    assert PAYLOADS_KEY.to_user_string() in materialized(result)
    assert files(exports) == []
    assert server.requests == []
    summary = summarise(result, Settings.from_env({}), 0)
    assert f"activation/audience_payloads:{ENFORCEMENT_CHECK}" in summary.checks_blocking
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kinds = con.execute(
            "select distinct kind from activation.no_consent_or_erasure_violations"
        ).fetchall()
    assert kinds == [("consent_email_marketing_not_granted",)]


def test_the_webhook_without_url_is_skipped_and_the_run_succeeds(
    warehouse, tmp_path, monkeypatch, segments
):
    monkeypatch.delenv("CDP_WEBHOOK_URL", raising=False)
    result = materialize(warehouse, tmp_path / "exports", segments)
    assert result.success
    webhook = materialized(result)["exports/webhook"]
    assert webhook["status"] == "skipped"
    assert "set CDP_WEBHOOK_URL" in webhook[SUMMARY_KEY]
    assert materialized(result)["exports/file"]["adds"] > 0


def test_no_segment_with_destinations_means_no_export_assets():
    assert build_export_assets([], load_destinations()) == []


def test_the_shipped_segments_and_destinations_fit_together(segments):
    items = build_export_assets(segments, load_destinations())
    keys = {key.to_user_string() for item in items for key in item.keys}
    used = {name for definition in segments for name in definition.destinations}
    assert keys == {f"exports/{name}" for name in used}
    rows = audience_rule_rows(segments, load_destinations())
    assert {(r["segment_name"], r["destination"]) for r in rows} == {
        (d.name, name) for d in segments for name in d.destinations
    }


def test_the_activation_definitions_wire_into_the_project(tmp_path, monkeypatch, segments):
    from orchestration.definitions import build_definitions

    settings = Settings.from_env({}).with_overrides(
        warehouse=tmp_path / "cdp.duckdb", exports_dir=tmp_path / "exports"
    )
    # build_definitions exports the settings to the environment: restore it afterwards.
    for name in settings.as_env():
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    merged = build_definitions(settings)
    graph = merged.resolve_asset_graph()
    parents = {key.to_user_string() for key in graph.get(PAYLOADS_KEY).parent_keys}
    assert parents == {"intermediate/int_audience_candidates"}
    candidates = {key.to_user_string() for key in graph.get(CANDIDATES_KEY).parent_keys}
    assert {"marts/customer_profiles", "marts/suppression_list"} <= candidates
    membership = graph.get(dg.AssetKey(["marts", "segment_membership"])).parent_keys
    assert {f"segments/{s.name}" for s in segments} <= {k.to_user_string() for k in membership}
    # Every input is an asset the project builds (no dangling key).
    executable = {key.to_user_string() for key in graph.executable_asset_keys}
    assert parents <= executable
    check = next(k for k in graph.asset_check_keys if k.name == ENFORCEMENT_CHECK)
    assert check.asset_key == PAYLOADS_KEY
    assert graph.get_check_spec(check).blocking
    for destination in ("google_ads", "meta", "file", "webhook"):
        node = graph.get(dg.AssetKey(["exports", destination]))
        assert PAYLOADS_KEY in node.parent_keys
        assert node.group_name == "activation"
    assert Path(merged.resources["exports_folder"].path) == tmp_path / "exports"
    # The hourly job delivers what the hourly segments feed: the webhook export.
    hourly = merged.resolve_job_def("hourly_segments")
    selected = {key.to_user_string() for key in hourly.asset_layer.selected_asset_keys}
    assert {
        "segments/abandoned_cart",
        "activation/audience_payloads",
        "exports/webhook",
    } <= selected
