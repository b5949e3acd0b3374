"""The instance `cdp` writes stores its event log with CdpSqliteEventLogStorage
(orchestration/dagster_storage.py): a real Dagster run's events and check results are all
there, each committed when stored (another connection sees it at once, as the UI's live
view needs), in the files Dagster's own SQLite storage reads."""

import sqlite3
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import (
    AssetMaterialization,
    DagsterEvent,
    DagsterEventType,
    StepMaterializationData,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.dagster_storage import CdpSqliteEventLogStorage
from orchestration.pipeline import ensure_dagster_home


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset_check(asset=numbers)
def three_numbers(numbers: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(numbers) == 3)


def test_a_run_on_the_cdp_instance_stores_every_event_where_dagster_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, CdpSqliteEventLogStorage)
        result = dg.materialize([numbers, three_numbers], instance=instance)
        assert result.success
        run_id = result.run_id
        stored = instance.all_logs(run_id)
        materialization = instance.get_latest_materialization_event(dg.AssetKey("numbers"))
        assert materialization is not None
        assert materialization.run_id == run_id
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "three_numbers")]
        )
        assert check[dg.AssetCheckKey(dg.AssetKey("numbers"), "three_numbers")].run_id == run_id

    # Dagster's own storage class, on the same folder, reads the same run.
    stock = SqliteEventLogStorage(str(home / "history" / "runs"))
    assert [entry.message for entry in stock.get_logs_for_run(run_id)] == [
        entry.message for entry in stored
    ]
    assert len(stored) > 10
    stock.dispose()


def test_each_stored_event_is_committed_before_the_next(tmp_path: Path) -> None:
    storage = CdpSqliteEventLogStorage(str(tmp_path))
    reader = None
    for number in range(1, 6):
        storage.store_event(
            EventLogEntry(
                error_info=None,
                level="debug",
                user_message="",
                run_id="run-a",
                timestamp=time.time(),
                step_key="step",
                job_name="job",
                dagster_event=DagsterEvent(
                    DagsterEventType.ASSET_MATERIALIZATION.value,
                    "job",
                    event_specific_data=StepMaterializationData(
                        AssetMaterialization(asset_key=f"asset_{number}")
                    ),
                ),
            )
        )
        reader = reader or sqlite3.connect(tmp_path / "run-a.db")
        assert reader.execute("select count(*) from event_logs").fetchone() == (number,)
        index = sqlite3.connect(tmp_path / "index.db")
        assert index.execute("select count(*) from event_logs").fetchone() == (number,)
        index.close()
    assert reader is not None
    reader.close()
    storage.dispose()
