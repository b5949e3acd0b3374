"""Session fixtures: the dbt manifest, and the demo project built once into a temp DuckDB.

Tests assert on the contents of that warehouse through a read-only connection.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cdp_dev.generate import generate_raw_folder
from orchestration.environment import prepare_dbt_manifest
from orchestration.pipeline import RunSummary, run_pipeline
from orchestration.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """`dbt parse` once per session: the dbt assets are defined from the manifest."""
    prepare_dbt_manifest()
    return PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"


def build_warehouse(raw_dir: Path, target: Path, **overrides: object) -> RunSummary:
    """Run the whole Dagster job into `target` (an ephemeral Dagster instance)."""
    settings = Settings.from_env({}).with_overrides(
        raw_dir=raw_dir,
        warehouse=target / "cdp.duckdb",
        exports_dir=target / "exports",
        serving_dir=target / "serving",
        data_docs_dir=target / "data_docs",
        **overrides,
    )
    return run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    """The demo raw folder (seeds/) built once through the full asset graph."""
    summary = build_warehouse(SEEDS, tmp_path_factory.mktemp("demo"))
    assert summary.success, summary.render()
    return summary


@pytest.fixture(scope="session")
def demo_db(demo_build: RunSummary) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(demo_build.warehouse), read_only=True)
    yield con
    con.close()


# The options `cdp generate` made seeds/ with (a test in tests/generate/ holds seeds/
# equal to that output): regenerating gives the ground truth of the demo data.
DEMO_GENERATE_OPTIONS = {
    "persons": 300,
    "days": 90,
    "seed": 42,
    "fmt": "csv",
    "events_format": "jsonl",
}


@pytest.fixture(scope="session")
def demo_truth(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The generator's ground truth for seeds/: true persons, erasures and traps."""
    folder = tmp_path_factory.mktemp("truth")
    generate_raw_folder(
        folder / "raw", truth_path=folder / "truth.json", progress=False, **DEMO_GENERATE_OPTIONS
    )
    return json.loads((folder / "truth.json").read_text())


# One generated raw folder big enough for models and segments to mean something, built
# once per session through the whole job (a few minutes: only the slow tests use it).
GENERATED_OPTIONS = {
    "persons": 2000,
    "days": 120,
    "seed": 7,
    "fmt": "csv",
    "events_format": "jsonl",
}


@pytest.fixture(scope="session")
def generated_build(tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    base = tmp_path_factory.mktemp("generated")
    generate_raw_folder(
        base / "raw", truth_path=base / "truth.json", progress=False, **GENERATED_OPTIONS
    )
    summary = build_warehouse(base / "raw", base / "warehouse")
    assert summary.success, summary.render()
    return summary
