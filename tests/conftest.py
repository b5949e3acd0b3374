"""Session fixtures: the dbt manifest, and the demo project built once into a temp DuckDB.

Tests assert on the contents of that warehouse through a read-only connection.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.runner import RunSummary, prepare_dbt_manifest, run_pipeline
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
