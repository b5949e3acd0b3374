"""Segments in Dagster: one asset per file wired to what its rule reads, the hourly job's
selection, a real materialisation with its metadata, and the failures that name the file."""

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from orchestration.activation import segment_files
from orchestration.assets.segments import (
    HOURLY_TAG,
    payloads_report,
    segment_key,
    segment_report,
)
from orchestration.cli import main
from orchestration.jobs import hourly_segments_selection
from orchestration.reports import SUMMARY_KEY
from orchestration.settings import Settings
from orchestration.warehouse import DuckDBWarehouse

from .segment_warehouse import segment_yaml, write_segment

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
    from orchestration.code_location import defs

    return defs()


def parents(graph, name: str) -> set[str]:
    return {key.to_user_string() for key in graph.get(segment_key(name)).parent_keys}


def test_one_asset_per_segment_file_wired_to_what_its_rule_reads(definitions):
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"segments/{name}" for name in SHIPPED} <= keys
    # The generated models' refs: "now", the profiles, identity merges (exit reasons).
    base = {"marts/customer_profiles", "intermediate/int_as_of", "marts/person_merges"}
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
    assert node.tags[HOURLY_TAG] == ""  # the dbt tag from the YAML's refresh
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

    @dg.asset(key=["segments", "cart"], deps=[profiles], tags={HOURLY_TAG: ""})
    def cart() -> None: ...

    @dg.asset(key=["segments", "lapsed"], deps=[profiles], tags={"daily": ""})
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


def test_the_segment_reports_read_sizes_and_reasons_back(demo_db):
    warehouse = DuckDBWarehouse(demo_db, owned=False)
    metadata = segment_report(warehouse, "churn_risk")
    assert metadata is not None
    [(members,)] = demo_db.execute(
        "select count(*) from marts.segment_membership where segment_name = 'churn_risk'"
    ).fetchall()
    assert members > 0
    assert metadata[SUMMARY_KEY].value.startswith(f"segment churn_risk: {members} members")
    assert "rule.all[0]: churn_risk at least 0.7" in metadata["entered_because"].value
    assert segment_report(warehouse, "no_such_segment") is None
    payloads = payloads_report(warehouse)
    [(rows,)] = demo_db.execute("select count(*) from activation.audience_payloads").fetchall()
    assert payloads["rows"].value == rows > 0
    (pairs,) = demo_db.execute(
        "select count(*) from (select distinct segment_name, destination "
        "from intermediate.int_audience_rules)"
    ).fetchone()
    assert payloads[SUMMARY_KEY].value.startswith(f"activation payloads: {rows} rows for {pairs} ")
    # The table's counts add up: members = allowed + every held-back reason.
    for line in payloads["pairs"].value.splitlines()[2:]:
        _, _, members, *counts = [cell.strip() for cell in line.strip("|").split("|")]
        assert int(members) == sum(int(count) for count in counts)


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
