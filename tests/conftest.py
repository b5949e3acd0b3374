"""Session fixtures: the dbt manifest, and the demo project built once into a DuckDB file.

Tests assert on the contents of that warehouse through a read-only connection. Under
scripts/check.py the demo is the check's own `cdp run` build (CDP_CHECK_DEMO_BUILD names
its folder); run alone, pytest makes the same build once, through the same command. A
test that changes a warehouse takes a copy (`demo_warehouse_copy`), never rebuilds it.
"""

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cdp_dev.generate import generate_raw_folder
from orchestration.environment import prepare_dbt_manifest
from orchestration.pipeline import RunSummary, run_pipeline
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from tests.commands import cdp, check_script

# cpu_time: each test's CPU seconds in the summary; pytester: tests of that plugin.
pytest_plugins = ["tests.cpu_time", "pytester"]

SEEDS = PROJECT_ROOT / "seeds"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# What dbt writes into the project: not an input of the parse.
_DBT_OUTPUTS = {"target", "logs", "dbt_packages", "dbt_internal_packages"}


def dbt_inputs_changed_since(moment: float) -> list[Path]:
    """The dbt project files (models, macros, tests, YAML) and profiles.yml modified
    after `moment` (a manifest's mtime): what would make that manifest stale."""
    inputs = [PROJECT_ROOT / "profiles.yml"]
    inputs += [
        path
        for path in DBT_PROJECT_DIR.rglob("*")
        if path.is_file() and path.relative_to(DBT_PROJECT_DIR).parts[0] not in _DBT_OUTPUTS
    ]
    return [path for path in inputs if path.stat().st_mtime > moment]


def pytest_sessionstart(session: pytest.Session) -> None:
    """`dbt parse` at most once per session, before collection: test modules import the
    Dagster definitions, which are defined from the manifest. A manifest newer than every
    dbt input (as the check's `cdp run` step leaves it) is used as it is."""
    if not MANIFEST.exists() or dbt_inputs_changed_since(MANIFEST.stat().st_mtime):
        prepare_dbt_manifest()


# Parallel sessions (pytest-xdist; scripts/check.py runs `-n 2 --dist loadscope`). Each
# worker is its own process with its own session fixtures; loadscope hands out whole
# modules, so a module fixture (a fixture warehouse, the Spark parity build) is made once.
# (`--dist loadgroup` with xdist_group marks would group across modules, but xdist 3.8
# sets the group on `item._nodeid`, which pytest 9 no longer reads: the marks are ignored.)
SESSION_BUILD_FIXTURES = ("generated_build", "generated_predictions_build")


def run_order(item: pytest.Item) -> int:
    """0 for a Spark test, 1 for a test of a session build, 2 for the rest."""
    if item.get_closest_marker("spark"):
        return 0
    if any(name in getattr(item, "fixturenames", ()) for name in SESSION_BUILD_FIXTURES):
        return 1
    return 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first (Spark, then the session builds; a stable sort, so every
    module stays together): under xdist the workers start on them and take the short
    modules after, the longest-first order that keeps two workers evenly busy."""
    items.sort(key=run_order)


def shared_by_workers(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]
) -> Path:
    """A folder made once per test run and shared by every xdist worker: the first worker
    to get here calls `make(folder)` under a file lock, the others wait and reuse it.
    Without xdist it is a plain session folder."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = tmp_path_factory.mktemp(name)
        make(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent
    folder, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


TARGET_VARIABLES = ("CDP_TARGET", "CDP_WAREHOUSE")


@pytest.fixture(autouse=True)
def no_leaked_target() -> Iterator[None]:
    """A test that points CDP_TARGET or CDP_WAREHOUSE elsewhere in os.environ (and does
    not put it back) would send every later in-process dbt call to that warehouse: a
    leaked CDP_TARGET=spark once made `dbt docs generate` read the Spark catalog. Put
    them back after each test."""
    saved = {name: os.environ.get(name) for name in TARGET_VARIABLES}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The manifest the session parsed (or found current) at its start; parsed again
    only if a dbt file changed since."""
    if not MANIFEST.exists() or dbt_inputs_changed_since(MANIFEST.stat().st_mtime):
        prepare_dbt_manifest()
    return MANIFEST


def build_warehouse(
    raw_dir: Path,
    target: Path,
    *,
    selection: dg.AssetSelection | None = None,
    unit_tests: bool = False,
    **overrides: object,
) -> RunSummary:
    """Run the Dagster job into `target` (an ephemeral Dagster instance): the whole graph,
    or only the assets of `selection` (with their checks).

    dbt's unit tests check the model code on fixed fixtures and give the same result on
    any data: tests/test_dbt_unit_tests.py runs them on the demo build, and they are left
    out of these builds (as out of `cdp run`) unless `unit_tests` asks for them. Every
    data test still runs."""
    settings = Settings.from_env({}).with_overrides(
        raw_dir=raw_dir,
        warehouse=target / "cdp.duckdb",
        exports_dir=target / "exports",
        serving_dir=target / "serving",
        data_docs_dir=target / "data_docs",
        **overrides,
    )
    return run_pipeline(
        settings,
        instance=dg.DagsterInstance.ephemeral(),
        selection=selection,
        unit_tests=unit_tests,
    )


# Subsets of the job for tests that assert on the early layers only (build_warehouse's
# `selection`): what they leave out (facts, profiles, predictions, segments, exports, the
# serving copy) is asserted on the session's demo build.
INGESTION = dg.AssetSelection.groups("ingestion") | dg.AssetSelection.assets("raw/quarantine")
THROUGH_STAGING = dg.AssetSelection.groups("staging").upstream()
# The quality marts read the identity solve (erasures) and the converted orders.
THROUGH_QUALITY = dg.AssetSelection.groups("staging", "quality").upstream()
# identity_map's GX check also reads identity_health (an additional dependency).
THROUGH_PREDICTIONS = dg.AssetSelection.assets(
    "marts/customer_predictions", "marts/identity_health"
).upstream()
# The identity marts and the profiles (segments, payloads, exports, serving left out).
THROUGH_PROFILES = dg.AssetSelection.assets(
    "marts/customer_profiles", "marts/identity_health", "marts/person_merges"
).upstream()


@dataclass(frozen=True)
class DemoRun:
    """`cdp run` of seeds/ as a user types it: what it printed and what it built."""

    build_dir: Path
    returncode: int
    stdout: str
    stderr: str
    summary: RunSummary
    # True when scripts/check.py made the build (its step printed to the terminal and kept
    # both streams in the build folder).
    handed_over: bool

    @property
    def warehouse(self) -> Path:
        return self.build_dir / check_script().DEMO_WAREHOUSE


def read_demo_run(build_dir: Path, *, returncode: int, stderr: str, handed_over: bool) -> DemoRun:
    check = check_script()
    summary_file = build_dir / check.DEMO_SUMMARY
    stdout_file = build_dir / check.DEMO_STDOUT
    stdout = stdout_file.read_text() if stdout_file.exists() else ""
    if not summary_file.exists():
        pytest.fail(f"no {summary_file}: the demo build did not finish\n{stdout}{stderr[-5000:]}")
    return DemoRun(
        build_dir=build_dir,
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        summary=RunSummary.from_json(summary_file.read_text()),
        handed_over=handed_over,
    )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo raw folder (seeds/) built once through the full asset graph by `cdp run`:
    the check's build step when scripts/check.py hands it over, else made here."""
    check = check_script()
    handed = os.environ.get(check.DEMO_BUILD_ENV)
    if handed:
        build_dir = Path(handed)
        if not (build_dir / check.DEMO_WAREHOUSE).is_file():
            pytest.fail(f"{check.DEMO_BUILD_ENV}={handed}: no demo warehouse there")
        stderr_file = build_dir / check.DEMO_STDERR
        stderr = stderr_file.read_text() if stderr_file.exists() else ""
        return read_demo_run(build_dir, returncode=0, stderr=stderr, handed_over=True)

    def build(base: Path) -> None:
        # A folder that does not exist yet: `cdp run` makes the warehouse's parents.
        build_dir = base / "build"
        completed = cdp(*check.demo_run_args(build_dir), dagster_home=base / "dagster_home")
        build_dir.mkdir(parents=True, exist_ok=True)
        (build_dir / check.DEMO_STDOUT).write_text(completed.stdout)
        (base / "stderr").write_text(completed.stderr)
        (base / "returncode").write_text(str(completed.returncode))

    base = shared_by_workers(tmp_path_factory, "demo", build)
    return read_demo_run(
        base / "build",
        returncode=int((base / "returncode").read_text()),
        stderr=(base / "stderr").read_text(),
        handed_over=False,
    )


@pytest.fixture(scope="session")
def demo_build(demo_run: DemoRun) -> RunSummary:
    """The summary of the session's demo build (`cdp run` of seeds/, whole graph)."""
    summary = demo_run.summary
    assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr[-5000:]
    assert summary.success, summary.render()
    assert summary.warehouse.resolve() == demo_run.warehouse.resolve()
    return summary


@pytest.fixture(scope="session")
def demo_db(demo_build: RunSummary) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(demo_build.warehouse), read_only=True)
    yield con
    con.close()


def copy_demo_warehouse(demo_build: RunSummary, target_dir: Path) -> Path:
    """A private copy of the demo warehouse file (the session's stays untouched)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "cdp.duckdb"
    # The run checkpoints at its end: the file holds every table, without a WAL.
    shutil.copyfile(demo_build.warehouse, target)
    return target


@pytest.fixture
def demo_warehouse_copy(demo_build: RunSummary, tmp_path: Path) -> Path:
    """A writable copy of the demo warehouse in tmp_path (`tmp_path/demo/cdp.duckdb`),
    for a test that changes a built warehouse instead of building one."""
    return copy_demo_warehouse(demo_build, tmp_path / "demo")


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


@pytest.fixture(scope="session")
def generated_predictions_build(tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    """The same generated folder built through `marts/customer_predictions` (ingestion,
    staging, identity, facts and the models' fit), without what comes after it."""
    base = tmp_path_factory.mktemp("generated_predictions")
    generate_raw_folder(
        base / "raw", truth_path=base / "truth.json", progress=False, **GENERATED_OPTIONS
    )
    summary = build_warehouse(base / "raw", base / "warehouse", selection=THROUGH_PREDICTIONS)
    assert summary.success, summary.render()
    return summary
