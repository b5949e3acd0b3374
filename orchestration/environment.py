"""Process set-up that an entry point does once, never a module at import: the `cdp` CLI
(`cdp run`, `cdp ui`) and the code location (code_location.py) call `prepare_process`.

dbt runs in this process (dbt_inprocess.py) and reads its settings from the environment
(`env_var('CDP_WAREHOUSE')` in profiles.yml), so the settings are exported here; the dbt
assets are made from `manifest.json`, so it is parsed here first, unless nothing it is
parsed from changed since the last parse (`manifest_inputs`).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from orchestration.settings import Settings

# Beside the manifest: the fingerprint of the inputs it was parsed from.
MANIFEST_INPUTS_FILE = "manifest.inputs"


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
    """Parse the dbt project so the dbt assets load the current models (seconds, and a
    full parse when the profile changed), unless the manifest was parsed
    from the same inputs (`manifest_inputs`): a `cdp run` of an unchanged project starts
    without a `dbt parse`, and its `dbt build` steps parse partially from the same state.

    `only_in_dev`: as a code location, parse only under `dagster dev` / `cdp ui`; a
    deployed image builds the manifest once at build time
    (`dagster-dbt project prepare-and-package`).
    """
    put_dbt_on_path()
    from orchestration.dbt_inprocess import PARTIAL_PARSE_FILE, manifest_inputs, parsed_manifest
    from orchestration.project import dbt_project

    if only_in_dev:
        dbt_project.prepare_if_dev()
        return
    stamp = dbt_project.manifest_path.parent / MANIFEST_INPUTS_FILE
    inputs = manifest_inputs()
    if dbt_project.manifest_path.exists() and stamp.exists() and stamp.read_text() == inputs:
        return
    # In this process: the dbt steps of the run reuse the Manifest (dbt_inprocess.py).
    # Parsed into a folder of its own, then moved into place whole (os.replace): another
    # run or a test worker reading target/manifest.json meanwhile never sees a file dbt
    # is half-way through writing, and of two runs parsing at once the last one wins
    # (Path.replace is os.replace: atomic on one file system).
    # The fingerprint of the inputs as they were before the parse: a file changed during
    # it makes the next call parse again.
    target = dbt_project.manifest_path.parent
    scratch = target / f".parse-{os.getpid()}"
    try:
        parsed_manifest(Path(dbt_project.project_dir), scratch)
        for name in (PARTIAL_PARSE_FILE, dbt_project.manifest_path.name):
            if (scratch / name).exists():
                (scratch / name).replace(target / name)
        stamp_scratch = scratch / MANIFEST_INPUTS_FILE
        stamp_scratch.write_text(inputs)
        stamp_scratch.replace(stamp)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def prepare_process(settings: Settings, *, only_in_dev: bool = False) -> None:
    """Everything an entry point does before it builds the definitions."""
    export_settings(settings)
    prepare_dbt_manifest(only_in_dev=only_in_dev)
