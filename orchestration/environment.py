"""Process set-up that an entry point does once, never a module at import: the `cdp` CLI
(`cdp run`, `cdp ui`) and the code location (code_location.py) call `prepare_process`.

dbt runs as a subprocess (or in-process, dbt_inprocess.py) that reads its settings from
the environment (`env_var('CDP_WAREHOUSE')` in profiles.yml), so the settings are
exported here; the dbt assets are made from `manifest.json`, so it is parsed here first,
unless nothing it is parsed from changed since the last parse (`manifest_inputs`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

# What dbt writes into the project folder: not an input of the parse.
DBT_OUTPUTS = frozenset({"target", "logs", "dbt_packages", "dbt_internal_packages"})
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


def manifest_inputs(environ: dict[str, str] | None = None) -> str:
    """A fingerprint of everything `dbt parse` reads: the project's files (path, size,
    modification time), profiles.yml, the CDP_* and DBT_* variables (profiles.yml and the
    models read them through `env_var`; dbt's partial parsing keys on the profile, whose
    DuckDB path is one of them) and the dbt version. Equal fingerprints, equal manifests."""
    environ = dict(os.environ if environ is None else environ)
    digest = hashlib.sha256()
    files = [PROJECT_ROOT / "profiles.yml"]
    files += sorted(
        path
        for path in DBT_PROJECT_DIR.rglob("*")
        if path.relative_to(DBT_PROJECT_DIR).parts[0] not in DBT_OUTPUTS and path.is_file()
    )
    for path in files:
        stat = path.stat()
        digest.update(
            f"{path.relative_to(PROJECT_ROOT)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    for name in sorted(environ):
        if name.startswith(("CDP_", "DBT_")):
            digest.update(f"{name}={environ[name]}\n".encode())
    digest.update(importlib.metadata.version("dbt-core").encode())
    return digest.hexdigest()


def prepare_dbt_manifest(*, only_in_dev: bool = False) -> None:
    """Parse the dbt project so the dbt assets load the current models (seconds: a dbt
    process, and a full parse when the profile changed), unless the manifest was parsed
    from the same inputs (`manifest_inputs`): a `cdp run` of an unchanged project starts
    without a `dbt parse`, and its `dbt build` steps parse partially from the same state.

    `only_in_dev`: as a code location, parse only under `dagster dev` / `cdp ui`; a
    deployed image builds the manifest once at build time
    (`dagster-dbt project prepare-and-package`).
    """
    put_dbt_on_path()
    from orchestration.project import dbt_project

    if only_in_dev:
        dbt_project.prepare_if_dev()
        return
    stamp = dbt_project.manifest_path.parent / MANIFEST_INPUTS_FILE
    inputs = manifest_inputs()
    if dbt_project.manifest_path.exists() and stamp.exists() and stamp.read_text() == inputs:
        return
    # The fingerprint of the inputs as they were before the parse: a file changed during
    # it makes the next call parse again.
    dbt_project.preparer.prepare(dbt_project)
    stamp.write_text(inputs)


def prepare_process(settings: Settings, *, only_in_dev: bool = False) -> None:
    """Everything an entry point does before it builds the definitions."""
    export_settings(settings)
    prepare_dbt_manifest(only_in_dev=only_in_dev)
