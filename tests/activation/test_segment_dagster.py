"""Segments in Dagster: one asset per file wired to what its rule reads, the hourly job's
selection, a real materialisation with its metadata, and the failures that name the file."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from orchestration.activation import segment_files
from orchestration.activation.columns import WarehouseSchema
from orchestration.activation.segment_files import load_segment_definitions
from orchestration.assets.segments import REFRESH_TAG, build_segment_asset, segment_key
from orchestration.cli import main
from orchestration.jobs import hourly_segments_selection
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

from .segment_warehouse import AS_OF, build_warehouse, members, segment_yaml, write_segment

SHIPPED = {
    "abandoned_cart",
    "abandoned_cart_sms",
    "high_value_customers",
    "churn_risk",
    "pricing_page_visitors_no_purchase",
    "lapsed_customers",
    "engaged_b2b_accounts",
}


@pytest.fixture(scope="module")
def definitions(dbt_manifest: Path) -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def parents(graph, name: str) -> set[str]:
    return {key.to_user_string() for key in graph.get(segment_key(name)).parent_keys}


def test_one_asset_per_segment_file_wired_to_what_its_rule_reads(definitions):
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"segments/{name}" for name in SHIPPED} <= keys
    base = {"marts/customer_profiles", "intermediate/int_as_of"}
    assert parents(graph, "high_value_customers") == base
    assert parents(graph, "abandoned_cart") == base | {"marts/fct_events"}
    assert parents(graph, "abandoned_cart_sms") == base | {
        "marts/fct_events",
        "segments/abandoned_cart",
    }
    assert parents(graph, "engaged_b2b_accounts") == base | {"marts/account_profiles"}
    node = graph.get(segment_key("abandoned_cart"))
    assert node.group_name == "activation"
    assert node.owners == ["team:growth"]
    assert node.tags[REFRESH_TAG] == "hourly"
    # The serving copy for BI is published after the segments.
    serving = {
        key.to_user_string() for key in graph.get(dg.AssetKey(["serving", "cdp"])).parent_keys
    }
    assert {f"segments/{name}" for name in SHIPPED} <= serving


def test_the_hourly_job_refreshes_what_the_time_sensitive_segments_need(definitions):
    job = definitions.resolve_job_def("hourly_segments")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {
        "raw/events",
        "raw/shop_orders",
        "raw/consent",
        "staging/stg_tracking__events",
        "marts/identity_map",
        "marts/fct_events",
        "marts/customer_profiles",
        "intermediate/int_as_of",
        "segments/abandoned_cart",
        "segments/abandoned_cart_sms",
    } <= selected
    assert "marts/customer_predictions" not in selected  # the model is retrained daily
    daily = {f"segments/{name}" for name in SHIPPED} - {
        "segments/abandoned_cart",
        "segments/abandoned_cart_sms",
    }
    assert not daily & selected
    schedule = definitions.resolve_schedule_def("hourly_time_sensitive_segments")
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.job_name == "hourly_segments"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert definitions.resolve_schedule_def("daily_full_graph").job_name == "cdp_all"


def test_the_hourly_selection_takes_the_exports_downstream_and_skips_the_model():
    @dg.asset(key=["marts", "fct_events"])
    def events() -> None: ...

    @dg.asset(key=["marts", "customer_predictions"])
    def predictions() -> None: ...

    @dg.asset(key=["marts", "customer_profiles"], deps=[events, predictions])
    def profiles() -> None: ...

    @dg.asset(key=["segments", "cart"], deps=[profiles], tags={REFRESH_TAG: "hourly"})
    def cart() -> None: ...

    @dg.asset(key=["segments", "lapsed"], deps=[profiles], tags={REFRESH_TAG: "daily"})
    def lapsed() -> None: ...

    @dg.asset(key=["exports", "webhook"], deps=[cart])
    def webhook() -> None: ...

    graph = dg.Definitions(
        assets=[events, predictions, profiles, cart, lapsed, webhook]
    ).resolve_asset_graph()
    selected = {key.to_user_string() for key in hourly_segments_selection().resolve(graph)}
    assert selected == {
        "marts/fct_events",
        "marts/customer_profiles",
        "segments/cart",
        "exports/webhook",
    }


def test_a_segment_asset_materialises_with_sizes_in_its_metadata(tmp_path):
    warehouse = build_warehouse(
        tmp_path / "tiny.duckdb",
        profiles=[{"person_id": "a", "order_count": 2}, {"person_id": "b", "order_count": 0}],
    )
    write_segment(tmp_path / "segments", segment_yaml("buyers"))
    con = duckdb.connect(str(warehouse), read_only=True)
    schema = WarehouseSchema.from_connection(con)
    con.close()
    (definition,) = load_segment_definitions(tmp_path / "segments", schema=schema)
    result = dg.materialize(
        [build_segment_asset(definition)],
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = {name: value.value for name, value in event.materialization.metadata.items()}
    assert metadata["member_count"] == 1
    assert metadata["entered_count"] == 1
    assert metadata["exited_count"] == 0
    assert metadata["as_of"] == AS_OF.isoformat()
    assert metadata["cdp/summary"] == "segment buyers: 1 members (+1 entered, -0 exited)"
    assert "rule: order_count at least 1" in metadata["entered_because"]
    con = duckdb.connect(str(warehouse), read_only=True)
    assert members(con, "buyers") == {"a"}
    assert con.execute("select run_id from marts.segment_sizes").fetchall() == [(result.run_id,)]
    con.close()


def test_event_names_that_never_occur_are_flagged_in_the_metadata(tmp_path):
    warehouse = build_warehouse(
        tmp_path / "tiny.duckdb",
        profiles=[{"person_id": "a"}],
        events=[{"person_id": "a", "event_name": "Product Added", "event_at": AS_OF}],
    )
    rule = {
        "did": {
            "event": ["Product Added", "Prodcut Added"],
            "not_followed_by": {"event": "Order Completed"},
        }
    }
    write_segment(tmp_path / "segments", segment_yaml("typo", rule=rule))
    con = duckdb.connect(str(warehouse), read_only=True)
    schema = WarehouseSchema.from_connection(con)
    con.close()
    (definition,) = load_segment_definitions(tmp_path / "segments", schema=schema)
    result = dg.materialize(
        [build_segment_asset(definition)],
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
    )
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["event_names_never_seen"].value == "Order Completed, Prodcut Added"
    assert metadata["member_count"].value == 1


def test_the_asset_fails_naming_the_file_when_the_warehouse_lacks_a_rule_column(tmp_path):
    warehouse = build_warehouse(tmp_path / "tiny.duckdb", profiles=[{"person_id": "a"}])
    write_segment(
        tmp_path / "segments", segment_yaml("by_country", rule={"trait": "country", "equals": "US"})
    )
    con = duckdb.connect(str(warehouse))
    schema = WarehouseSchema.from_connection(con)
    (definition,) = load_segment_definitions(tmp_path / "segments", schema=schema)
    con.execute("alter table marts.customer_profiles drop column country")  # an older build
    con.close()
    result = dg.materialize(
        [build_segment_asset(definition)],
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert (
        "segments/by_country.yml: rule: column 'country' of customer_profiles is not in the "
        "warehouse" in failure.step_failure_data.error.message
    )


def test_cdp_run_stops_before_running_and_names_the_bad_segment_file(tmp_path, monkeypatch):
    bad = tmp_path / "segments"
    write_segment(
        bad, segment_yaml("lapsed", rule={"trait": "last_order_att", "older_than": "180 days"})
    )
    monkeypatch.setattr(segment_files, "SEGMENTS_DIR", bad)
    for name in Settings.from_env({}).as_env():  # run_pipeline exports the settings
        monkeypatch.delenv(name, raising=False)
    warehouse = tmp_path / "never" / "cdp.duckdb"
    result = CliRunner().invoke(main, ["run", "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "segments/lapsed.yml: rule.trait: column 'last_order_att' is not a column of " in (
        result.output
    )
    assert "did you mean 'last_order_at'?" in result.output
    assert not warehouse.exists()
