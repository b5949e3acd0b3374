"""The activation assets in real Dagster runs on a copy of the demo warehouse: segment
assets (stand-ins for the segment developer's, writing marts.segment_membership) ->
payloads -> blocking enforcement check -> one export asset per destination, with files
on disk and a webhook on a loopback HTTP server."""

import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.activation.destinations import load_destinations
from orchestration.activation.enforcement import audience_rules
from orchestration.activation.segment_files import SEGMENTS_DIR, load_segment_definitions
from orchestration.assets.exports import (
    ENFORCEMENT_CHECK,
    PAYLOADS_KEY,
    ExportsFolderResource,
    build_export_assets,
)
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.runner import summarise
from orchestration.settings import Settings
from tests.activation.demo_segments import SEGMENTS, copy_warehouse, write_membership
from tests.activation.loopback import loopback

EXPORTS = {"exports/google_ads", "exports/meta", "exports/file", "exports/webhook"}


def segment_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(key=["segments", name], group_name="segments")
    def membership(warehouse: WarehouseResource) -> None:
        with warehouse.connect() as con:
            write_membership(con, name)

    return membership


@pytest.fixture
def warehouse(demo_build, tmp_path) -> Path:
    return copy_warehouse(demo_build.warehouse, tmp_path)


def materialize(warehouse: Path, exports: Path, run_config=None) -> dg.ExecuteInProcessResult:  # type: ignore[no-untyped-def]
    return dg.materialize(
        [
            *(segment_asset(s.name) for s in SEGMENTS),
            *build_export_assets(SEGMENTS, load_destinations()),
        ],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "exports_folder": ExportsFolderResource(path=str(exports)),
        },
        run_config=run_config,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


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


def test_the_demo_exports_to_every_destination_then_only_changes(warehouse, tmp_path, monkeypatch):
    exports = tmp_path / "exports"
    with loopback() as server:
        monkeypatch.setenv("CDP_WEBHOOK_URL", server.url)
        first = materialize(warehouse, exports)
        assert first.success
        (evaluation,) = first.get_asset_check_evaluations()
        assert (evaluation.check_name, evaluation.passed, evaluation.blocking) == (
            ENFORCEMENT_CHECK,
            True,
            True,
        )
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
        newsletter = [b for b in server.applied.values() if b["segment"] == "newsletter"]
        assert all(
            r["attributes"]["discount_code"] == "NEWS10" for b in newsletter for r in b["records"]
        )
        lines = summarise(first, Settings.from_env({}), 0).render()
        assert "activation enforcement: 0 violations" in lines
        assert f"export file: 3 segment(s), +{expected['file']:,} added" in lines

        before = files(exports)
        requests = len(server.requests)
        second = materialize(warehouse, exports)
        assert second.success
        assert all(materialized(second)[key]["adds"] == 0 for key in EXPORTS)
        assert files(exports) == before
        assert len(server.requests) == requests

        # A full resync of one destination from run config re-sends its members.
        third = materialize(
            warehouse,
            exports,
            {"ops": {"exports__file": {"config": {"full_resync": True}}}},
        )
    assert materialized(third)["exports/file"]["adds"] == expected["file"]
    assert materialized(third)["exports/file"]["full_resync"] is True
    assert materialized(third)["exports/google_ads"]["adds"] == 0


def test_a_planted_violation_stops_every_export(warehouse, tmp_path, monkeypatch):
    with duckdb.connect(str(warehouse)) as con:
        # The profile says granted; the consent history says withdrawn.
        con.execute(
            """update marts.customer_profiles set consent_email_marketing = 'granted'
            where person_id in (
                select person_id from intermediate.int_consent_latest
                where purpose = 'email_marketing' and consent_status = 'withdrawn')"""
        )
    exports = tmp_path / "exports"
    with loopback() as server:
        monkeypatch.setenv("CDP_WEBHOOK_URL", server.url)
        result = materialize(warehouse, exports)
    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed is False
    assert evaluation.blocking
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
    assert metadata["violations"] > 0
    assert set(metadata["violations_by_kind"]) == {"consent_email_marketing_not_granted"}
    assert "VIOLATIONS" in metadata[SUMMARY_KEY]
    # The payloads were built; no export ran: no file written, no request sent.
    assert set(materialized(result)) & EXPORTS == set()
    assert PAYLOADS_KEY.to_user_string() in materialized(result)
    assert files(exports) == []
    assert server.requests == []
    summary = summarise(result, Settings.from_env({}), 0)
    assert summary.checks_blocking == [f"activation/audience_payloads:{ENFORCEMENT_CHECK}"]


def test_the_webhook_without_url_is_skipped_and_the_run_succeeds(warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv("CDP_WEBHOOK_URL", raising=False)
    result = materialize(warehouse, tmp_path / "exports")
    assert result.success
    webhook = materialized(result)["exports/webhook"]
    assert webhook["status"] == "skipped"
    assert "set CDP_WEBHOOK_URL" in webhook[SUMMARY_KEY]
    assert materialized(result)["exports/file"]["adds"] > 0


def test_no_segment_with_destinations_means_no_activation_assets():
    assert build_export_assets([], load_destinations()) == []


def test_the_shipped_segments_and_destinations_fit_together():
    segments = load_segment_definitions(SEGMENTS_DIR)
    items = build_export_assets(segments, load_destinations())
    keys = {key.to_user_string() for item in items for key in item.keys}
    used = {name for definition in segments for name in definition.destinations}
    assert keys == {"activation/audience_payloads"} | {f"exports/{name}" for name in used}
    rules = {(r.segment, r.destination): r for r in audience_rules(segments, load_destinations())}
    # Anonymous visitors may reach our own webhook, never an ad platform.
    assert rules["pricing_page_visitors_no_purchase", "webhook"].known_only is False
    assert all(r.known_only for r in rules.values() if r.destination in ("google_ads", "meta"))
    assert rules["abandoned_cart_sms", "webhook"].purposes == ("sms_marketing",)


def test_the_activation_definitions_wire_into_the_project(dbt_manifest, tmp_path, monkeypatch):
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
    segments = load_segment_definitions(SEGMENTS_DIR)
    merged = build_definitions(settings)
    graph = merged.resolve_asset_graph()
    parents = {key.to_user_string() for key in graph.get(PAYLOADS_KEY).parent_keys}
    assert {"marts/customer_profiles", "marts/suppression_list"} <= parents
    assert {f"segments/{s.name}" for s in segments} <= parents
    # Every input is an asset the project builds (no dangling key).
    executable = {key.to_user_string() for key in graph.executable_asset_keys}
    assert parents <= executable
    check = next(k for k in graph.asset_check_keys if k.name == ENFORCEMENT_CHECK)
    assert check.asset_key == PAYLOADS_KEY
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
