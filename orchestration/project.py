"""The dbt project, as Dagster sees it.

Only the `DbtProject`: parsing it (`prepare_if_dev`) and putting dbt on PATH are the
entry points' job (environment.py), not an import's.
"""

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=PROJECT_ROOT,
)
