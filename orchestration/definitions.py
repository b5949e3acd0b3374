"""The one `dg.Definitions` of the project: what the UI shows and `cdp run` executes.

Built purely from a `Settings`: no environment is read or written here. The entry points
(code_location.py for Dagster's tools, pipeline.py for `cdp run`) prepare the process first.
"""

import dagster as dg

from orchestration.activation import segment_files
from orchestration.activation.model import Refresh
from orchestration.assets.dbt import cdp_dbt_models, cdp_dbt_profiles
from orchestration.assets.exports import build_activation_definitions
from orchestration.assets.ingestion import raw_tables
from orchestration.assets.predictions import customer_predictions
from orchestration.assets.segments import segment_key
from orchestration.assets.serving import ServingFolderResource, build_serving_asset, served_keys
from orchestration.checks.quality import with_quality_checks
from orchestration.dbt_inprocess import InProcessDbtResource
from orchestration.executor import locked_in_process_executor
from orchestration.jobs import cdp_all_job, hourly_segments_job
from orchestration.project import dbt_project
from orchestration.resources import RawFolderResource, SettingsResource, WarehouseResource
from orchestration.schedules import daily_full_graph, hourly_time_sensitive_segments
from orchestration.sensors import raw_folder_sensor
from orchestration.settings import PROJECT_ROOT, Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    """Definitions wired to one warehouse and raw folder.

    dbt reads the same settings from the environment (profiles.yml: `env_var`): the
    entry point exports them (environment.prepare_process) before a run.
    """
    # With raw tables landed by an EL tool (CDP_RAW_SCHEMA), the dbt sources stand for
    # external assets and no file is ingested.
    ingestion = [raw_tables] if settings.ingests_files else []
    # segments/*.yml, validated (a bad file stops here, naming it). Each is a generated
    # dbt model (asset segments/<name>) in the dbt step after the profiles.
    segments = segment_files.load_segment_definitions(segment_files.SEGMENTS_DIR)
    hourly = any(segment.refresh == Refresh.HOURLY for segment in segments)
    assets = [*ingestion, cdp_dbt_models, customer_predictions, cdp_dbt_profiles]
    # Last: the read-only copy for BI, once every mart of the run (segments too) is built.
    segment_keys = [segment_key(segment.name) for segment in segments]
    assets.append(build_serving_asset([*served_keys(assets), *segment_keys]))
    definitions = dg.Definitions(
        assets=assets,
        jobs=[cdp_all_job, *([hourly_segments_job] if hourly else [])],
        schedules=[daily_full_graph, *([hourly_time_sensitive_segments] if hourly else [])],
        sensors=[raw_folder_sensor],
        resources={
            "warehouse": WarehouseResource(
                path=str(settings.warehouse),
                target=settings.target,
                spark_dir=str(settings.spark_dir),
            ),
            "raw_folder": RawFolderResource(path=str(settings.raw_dir)),
            "serving_folder": ServingFolderResource(path=str(settings.serving_dir)),
            "settings": SettingsResource.from_settings(settings),
            # dbt runs in the run's process (dbt_inprocess.py): on the manifest parsed
            # once, and on Spark in the run's session with the phone UDF registered.
            "dbt": InProcessDbtResource(project_dir=dbt_project, profiles_dir=str(PROJECT_ROOT)),
        },
        # DuckDB takes one writer at a time: steps run one after another in one process,
        # and the run holds the warehouse's run lock (executor.py, docs/operations.md).
        executor=locked_in_process_executor(settings.warehouse, settings.lock_timeout),
    )
    # Activation: the payloads that may leave (consent and erasure enforced, with a
    # blocking check) and one export asset per destination (docs/activation.md).
    definitions = dg.Definitions.merge(
        definitions, build_activation_definitions(segments, settings)
    )
    # Data quality: the GX suites in orchestration/quality/suites/ as asset checks on
    # the assets above (docs/data-quality.md).
    return with_quality_checks(definitions, settings)
