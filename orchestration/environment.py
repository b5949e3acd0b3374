"""Process set-up that an entry point does once, never a module at import: the `cdp` CLI
(`cdp run`, `cdp ui`) and the code location (code_location.py) call `prepare_process`.

dbt runs as a subprocess (or in-process, dbt_inprocess.py) that reads its settings from
the environment (`env_var('CDP_WAREHOUSE')` in profiles.yml), so the settings are
exported here; the dbt assets are made from `manifest.json`, so it is parsed here first.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from orchestration.settings import Settings


def put_dbt_on_path() -> None:
    """dagster-dbt runs the `dbt` found on PATH. `uv run` puts the environment's bin/ on
    PATH; calling `.venv/bin/cdp` (or its Python) directly does not, so add it here."""
    bin_dir = Path(sys.executable).parent
    if shutil.which("dbt") is None and (bin_dir / "dbt").exists():
        os.environ["PATH"] = os.pathsep.join(filter(None, [str(bin_dir), os.environ.get("PATH")]))


def export_settings(settings: Settings) -> None:
    """Make dbt (and anything else reading CDP_*) see these settings."""
    os.environ.update(settings.as_env())


def prepare_dbt_manifest(*, only_in_dev: bool = False) -> None:
    """Parse the dbt project so the dbt assets load the current models (a few seconds).

    `only_in_dev`: as a code location, parse only under `dagster dev` / `cdp ui`; a
    deployed image builds the manifest once at build time
    (`dagster-dbt project prepare-and-package`).
    """
    put_dbt_on_path()
    from orchestration.project import dbt_project

    if only_in_dev:
        dbt_project.prepare_if_dev()
    else:
        dbt_project.preparer.prepare(dbt_project)


def prepare_process(settings: Settings, *, only_in_dev: bool = False) -> None:
    """Everything an entry point does before it builds the definitions."""
    export_settings(settings)
    prepare_dbt_manifest(only_in_dev=only_in_dev)
