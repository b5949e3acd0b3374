"""The dbt project, as Dagster sees it."""

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def _put_dbt_on_path() -> None:
    """dagster-dbt runs the `dbt` found on PATH. `uv run` puts the environment's bin/ on
    PATH; calling `.venv/bin/cdp` (or its Python) directly does not, so add it here."""
    bin_dir = Path(sys.executable).parent
    if shutil.which("dbt") is None and (bin_dir / "dbt").exists():
        os.environ["PATH"] = os.pathsep.join(filter(None, [str(bin_dir), os.environ.get("PATH")]))


_put_dbt_on_path()

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=PROJECT_ROOT,
)
# In `dagster dev` / `cdp ui` the manifest is (re)built on load; in a deployed image it
# is built once at build time (`dagster-dbt project prepare-and-package`).
dbt_project.prepare_if_dev()
