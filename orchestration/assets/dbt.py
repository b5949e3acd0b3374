"""The dbt project as Dagster assets; dbt tests become asset checks.

Two dbt steps, because a Python asset sits in the middle of the graph: the models up to
the facts, then `marts/customer_predictions` (scikit-learn, assets/predictions.py), then
the models that read it (`source:ml+`: customer_profiles and what follows, the segment
models, the audience payloads and their blocking violation test among them).
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration import faults
from orchestration.assets.segments import activation_reports
from orchestration.dbt_args import dbt_build_args
from orchestration.project import dbt_project
from orchestration.reports import model_reports
from orchestration.resources import SettingsResource, WarehouseResource
from orchestration.translator import CdpDbtTranslator

AFTER_PYTHON_ASSETS = "source:ml+"


class DbtBuildConfig(dg.Config):
    """Run configuration of a dbt step (the UI's launchpad, or `cdp run` flags)."""

    full_refresh: bool = False
    fail_fast: bool = False
    # dbt's unit tests test the model code, not the data: the check runs them
    # (dbt_args.py); a run from the launchpad may ask for them too.
    unit_tests: bool = False


def _node_name(event: Any) -> str:
    """The dbt node's name of a model result (`model.cdp.seg_x` -> `seg_x`)."""
    unique_id = getattr(event, "metadata", {}).get("unique_id")
    text = getattr(unique_id, "value", unique_id)
    return str(text).rsplit(".", 1)[-1] if text else str(getattr(event, "output_name", ""))


def _killable(events: Iterator[Any]) -> Iterator[Any]:
    """dbt's events with the kill points `dbt.after_model`, `dbt.after_test` and
    `dbt.after.<model>` after each (orchestration/faults.py); used only when armed."""
    for event in events:
        yield event
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            faults.kill_point("dbt.after_model")
            faults.kill_point(f"dbt.after.{_node_name(event)}")
        elif isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
            faults.kill_point("dbt.after_test")


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    # dbt's unit tests run only when asked, and only against the contract's own raw schema
    # (file ingestion): raw tables landed by an EL tool cannot host their fixtures
    # (dbt_args.py).
    args = dbt_build_args(
        full_refresh=config.full_refresh,
        fail_fast=config.fail_fast,
        unit_tests=config.unit_tests and settings.settings.ingests_files,
    )
    # dbt runs in this process (dbt_inprocess.py); on Spark, in this process's session.
    warehouse.prepare_dbt()
    events = dbt.cli(args, context=context).stream()
    yield from (_killable(events) if faults.armed() else events)
    # dbt has returned and closed its DuckDB connection: read back what people should
    # see, through the Warehouse adapter.
    selected = set(context.selected_asset_keys)
    yield from model_reports(selected, lambda: warehouse.open(read_only=True))
    yield from activation_reports(selected, lambda: warehouse.open(read_only=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=CdpDbtTranslator(),
    name="cdp_dbt_models",
    exclude=AFTER_PYTHON_ASSETS,
)
def cdp_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    yield from _build(context, dbt, warehouse, settings, config)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=CdpDbtTranslator(),
    name="cdp_dbt_profiles",
    select=AFTER_PYTHON_ASSETS,
)
def cdp_dbt_profiles(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: SettingsResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    yield from _build(context, dbt, warehouse, settings, config)


DBT_STEPS = ("cdp_dbt_models", "cdp_dbt_profiles")
