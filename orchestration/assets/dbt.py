"""The dbt project as Dagster assets; dbt tests become asset checks."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_args import dbt_build_args
from orchestration.project import dbt_project
from orchestration.translator import CdpDbtTranslator


class DbtBuildConfig(dg.Config):
    """Run configuration of the dbt step (the UI's launchpad, or `cdp run` flags)."""

    full_refresh: bool = False
    fail_fast: bool = False


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=CdpDbtTranslator(),
    name="cdp_dbt_models",
)
def cdp_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    from orchestration.settings import Settings

    # dbt's unit tests run against the contract's own raw schema (file ingestion, as in
    # CI); raw tables landed by an EL tool cannot host their fixtures (dbt_args.py).
    args = dbt_build_args(
        full_refresh=config.full_refresh,
        fail_fast=config.fail_fast,
        unit_tests=Settings.from_env().ingests_files,
    )
    yield from dbt.cli(args, context=context).stream()
