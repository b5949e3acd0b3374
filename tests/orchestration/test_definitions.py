"""The Dagster definitions load, wire ingestion into dbt, and the sensor reacts to files."""

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.assets.ingestion import RAW_TABLES, raw_tables
from orchestration.resources import RawFolderResource, WarehouseResource
from orchestration.sensors import changed_files, raw_folder_sensor
from orchestration.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def definitions(dbt_manifest: Path) -> dg.Definitions:
    from orchestration.code_location import defs

    return defs()


def test_definitions_load_with_one_asset_per_raw_table_and_the_dbt_models(definitions):
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"raw/{table}" for table in RAW_TABLES} <= keys
    assert {"staging/stg_shop__orders", "quality/row_accounting"} <= keys
    # dbt sources key onto the ingestion assets, so staging depends on ingestion.
    parents = {
        key.to_user_string()
        for key in graph.get(dg.AssetKey(["staging", "base_shop__orders"])).parent_keys
    }
    assert parents == {"raw/shop_orders"}


def test_dbt_tests_are_asset_checks(definitions):
    checks = {key.name for key in definitions.resolve_asset_graph().asset_check_keys}
    assert any(name.startswith("expression_is_true") for name in checks)


def test_job_schedule_and_sensor_are_registered(definitions):
    assert definitions.resolve_job_def("cdp_all") is not None
    assert definitions.resolve_schedule_def("daily_full_graph").cron_schedule == "0 2 * * *"
    assert definitions.resolve_sensor_def("raw_folder_sensor") is not None


def test_dagster_cli_validates_the_code_location(dbt_manifest):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "orchestration.code_location",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_an_unreadable_file_fails_the_ingestion_step_naming_it_after_loading_the_rest(tmp_path):
    raw_dir = tmp_path / "raw"
    (raw_dir / "events").mkdir(parents=True)
    (raw_dir / "events" / "ok.jsonl").write_text(
        json.dumps({"messageId": "m1", "type": "page"}) + "\n"
    )
    (raw_dir / "shop_orders.csv").write_bytes(b"\xff\xfe binary \x00")
    result = dg.materialize(
        [raw_tables],
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            "raw_folder": RawFolderResource(path=str(raw_dir)),
        },
        raise_on_error=False,
    )
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert (
        "shop_orders.csv: the CSV header is not valid UTF-8"
        in failure.step_failure_data.error.message
    )
    materialized = {event.asset_key.path[-1] for event in result.get_asset_materialization_events()}
    assert materialized == set(RAW_TABLES)  # every table, incl. the good events file, landed
    events = next(
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[-1] == "events"
    )
    assert events["rows_loaded"].value == 1


def test_changed_files_are_new_or_modified_paths_only():
    assert changed_files({"a": "1:1", "b": "2:2"}, {"a": "1:1", "b": "2:3", "c": "5:5"}) == [
        "b",
        "c",
    ]
    assert changed_files({"a": "1:1"}, {"a": "1:1"}) == []


def test_sensor_requests_a_run_when_a_batch_file_lands_and_skips_otherwise(tmp_path):
    raw_dir = tmp_path / "raw"
    (raw_dir / "events").mkdir(parents=True)
    (raw_dir / "events" / "b1.jsonl").write_text('{"messageId": "1"}\n')
    resources = {"raw_folder": RawFolderResource(path=str(raw_dir))}

    first = raw_folder_sensor(dg.build_sensor_context(resources=resources))
    assert len(first.run_requests) == 1
    unchanged = raw_folder_sensor(dg.build_sensor_context(cursor=first.cursor, resources=resources))
    assert isinstance(unchanged, dg.SkipReason)

    (raw_dir / "events" / "b2.jsonl").write_text('{"messageId": "2"}\n')
    (raw_dir / "notes.txt").write_text("not a contract table")
    second = raw_folder_sensor(dg.build_sensor_context(cursor=first.cursor, resources=resources))
    assert len(second.run_requests) == 1
    assert second.run_requests[0].tags["cdp/first_new_file"] == "events/b2.jsonl"
