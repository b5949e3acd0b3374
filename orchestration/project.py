"""The dbt project, as Dagster sees it."""

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=PROJECT_ROOT,
)
# In `dagster dev` / `cdp ui` the manifest is (re)built on load; in a deployed image it
# is built once at build time (`dagster-dbt project prepare-and-package`).
dbt_project.prepare_if_dev()
