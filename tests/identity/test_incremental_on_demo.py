"""On the demo data split into two batches, the second (late identifies included) run
incrementally gives the same identity map and the same customer profiles as building
both batches at once, and as a --full-refresh of the same warehouse. The three builds run
the graph through the profiles only (THROUGH_PROFILES): what comes after them reads the
same marts and is asserted on the demo build."""

import csv
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.pipeline import run_pipeline
from orchestration.settings import Settings
from tests.conftest import SEEDS, THROUGH_PROFILES, build_warehouse

pytestmark = pytest.mark.slow


def split_seeds(first: Path, second: Path) -> None:
    """Every table in two batch files; all identify calls arrive in the second batch."""
    for source in sorted(SEEDS.iterdir()):
        table = source.name.split(".")[0]
        files = sorted(source.iterdir()) if source.is_dir() else [source]
        for target in (first / table, second / table):
            target.mkdir(parents=True)
        for number, path in enumerate(files):
            if path.suffix == ".jsonl":
                lines = path.read_text().splitlines()
                late = [line for line in lines if json.loads(line).get("type") == "identify"]
                early = [line for line in lines if line not in set(late)]
                half = len(early) // 2
                (first / table / f"b1-{number}.jsonl").write_text("\n".join(early[:half]) + "\n")
                (second / table / f"b2-{number}.jsonl").write_text(
                    "\n".join(early[half:] + late) + "\n"
                )
            else:
                with path.open(newline="") as handle:
                    rows = list(csv.reader(handle))
                header, body = rows[0], rows[1:]
                half = len(body) // 2
                for folder, part in ((first, body[:half]), (second, body[half:])):
                    with (folder / table / f"part-{number}-{folder.name}.csv").open(
                        "w", newline=""
                    ) as handle:
                        csv.writer(handle).writerows([header, *part])


def identity_map(warehouse: Path) -> set[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return set(
            con.execute(
                "select identifier_type, identifier_value, person_id, is_hub "
                "from marts.identity_map"
            ).fetchall()
        )


def customer_profiles(warehouse: Path) -> set[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return set(con.execute("select * from marts.customer_profiles").fetchall())


def test_incremental_second_batch_equals_full_build_and_full_refresh(tmp_path, demo_build):
    batch_one, batch_two = tmp_path / "b1", tmp_path / "b2"
    split_seeds(batch_one, batch_two)
    incremental_raw = tmp_path / "incremental_raw"
    shutil.copytree(batch_one, incremental_raw)
    first = build_warehouse(incremental_raw, tmp_path / "incremental", selection=THROUGH_PROFILES)
    assert first.success, first.render()
    for table in batch_two.iterdir():
        for path in table.iterdir():
            shutil.copy(path, incremental_raw / table.name / path.name)
    second = build_warehouse(incremental_raw, tmp_path / "incremental", selection=THROUGH_PROFILES)
    assert second.success, second.render()

    # The same rows built in one go: the session's demo build of seeds/.
    incremental_map = identity_map(second.warehouse)
    assert incremental_map == identity_map(demo_build.warehouse)
    # ... and the same profiles, down to every trait (person ids included).
    incremental_profiles = customer_profiles(second.warehouse)
    assert incremental_profiles == customer_profiles(demo_build.warehouse)

    # The late identifies joined persons seen apart in the first batch: syncs are told.
    with duckdb.connect(str(second.warehouse), read_only=True) as con:
        changes = dict(
            con.execute(
                "select change_reason, count(*) from marts.person_merges group by 1"
            ).fetchall()
        )
    assert changes.get("merged", 0) > 0
    # Only the components the second batch touched were solved again.
    solved = re.search(
        r"incremental run, re-solved (\d+) of (\d+) identifiers", second.log_file.read_text()
    )
    assert solved is not None
    assert 0 < int(solved[1]) < int(solved[2])

    settings = Settings.from_env({}).with_overrides(
        raw_dir=incremental_raw, warehouse=second.warehouse
    )
    refreshed = run_pipeline(
        settings,
        full_refresh=True,
        instance=dg.DagsterInstance.ephemeral(),
        selection=THROUGH_PROFILES,
    )
    assert refreshed.success, refreshed.render()
    assert identity_map(second.warehouse) == incremental_map
    assert customer_profiles(second.warehouse) == incremental_profiles
