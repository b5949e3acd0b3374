"""The one `dg.Definitions` of the project: what the UI shows and `cdp run` executes."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import cdp_dbt_models, cdp_dbt_profiles
from orchestration.assets.ingestion import raw_tables
from orchestration.assets.predictions import customer_predictions
from orchestration.assets.serving import ServingFolderResource, build_serving_asset, served_keys
from orchestration.checks.quality import with_quality_checks
from orchestration.jobs import cdp_all_job
from orchestration.project import dbt_project
from orchestration.resources import RawFolderResource, WarehouseResource
from orchestration.schedules import daily_full_graph
from orchestration.sensors import raw_folder_sensor
from orchestration.settings import PROJECT_ROOT, Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions wired to one warehouse and raw folder.

    The settings are also exported to the environment: profiles.yml reads
    CDP_WAREHOUSE through `env_var`, and the dbt subprocess inherits our environment.
    """
    os.environ.update(settings.as_env())
    # With raw tables landed by an EL tool (CDP_RAW_SCHEMA), the dbt sources stand for
    # external assets and no file is ingested.
    ingestion = [raw_tables] if settings.ingests_files else []
    assets = [*ingestion, cdp_dbt_models, customer_predictions, cdp_dbt_profiles]
    # Last: the read-only copy for BI, once every mart of the run is built.
    assets.append(build_serving_asset(served_keys(assets)))
    definitions = dg.Definitions(
        assets=assets,
        jobs=[cdp_all_job],
        schedules=[daily_full_graph],
        sensors=[raw_folder_sensor],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse)),
            "raw_folder": RawFolderResource(path=str(settings.raw_dir)),
            "serving_folder": ServingFolderResource(path=str(settings.serving_dir)),
            "dbt": DbtCliResource(project_dir=dbt_project, profiles_dir=str(PROJECT_ROOT)),
        },
        # DuckDB takes one writer at a time: steps run one after another in one process.
        executor=dg.in_process_executor,
    )
    # Data quality: the GX suites in orchestration/quality/suites/ as asset checks on
    # the assets above (docs/data-quality.md).
    return with_quality_checks(definitions, settings)


defs = build_definitions(Settings.from_env())
