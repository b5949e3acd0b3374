"""Dagster's SQLite event log: storing a run's events with Dagster's own
`SqliteEventLogStorage` (a new engine and connection per write) against
`CdpSqliteEventLogStorage` (orchestration/dagster_storage.py: one engine and open
connection per file), in the same process, on the same kind of events a `cdp run` stores
most: asset materialisations and asset check results, each written to the run's database
and mirrored in the cross-run index.

    uv run python benchmarks/event_log.py            # 500 events, each storage twice
    uv run python benchmarks/event_log.py 2600       # about one demo `cdp run`
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import dagster as dg
from dagster._core.events import (
    AssetMaterialization,
    DagsterEvent,
    DagsterEventType,
    StepMaterializationData,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.dagster_storage import CdpSqliteEventLogStorage


def _event(run_id: str, number: int) -> EventLogEntry:
    materialization = AssetMaterialization(asset_key=dg.AssetKey(f"asset_{number % 70}"))
    return EventLogEntry(
        error_info=None,
        level="debug",
        user_message="",
        run_id=run_id,
        timestamp=time.time(),
        step_key="cdp_dbt_models",
        job_name="cdp_all",
        dagster_event=DagsterEvent(
            DagsterEventType.ASSET_MATERIALIZATION.value,
            "cdp_all",
            event_specific_data=StepMaterializationData(materialization),
        ),
    )


def store(storage_class: type[SqliteEventLogStorage], events: int) -> tuple[float, float, int]:
    """CPU and wall seconds to store `events` events of one run, and how many read back."""
    base_dir = tempfile.mkdtemp(prefix="cdp-event-log-")
    storage = storage_class(base_dir)
    run_id = f"bench-{os.getpid()}-{storage_class.__name__}"
    cpu, wall = time.process_time(), time.perf_counter()
    for number in range(events):
        storage.store_event(_event(run_id, number))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stored = len(storage.get_records_for_run(run_id, limit=events + 1).records)
    storage.dispose()
    return cpu, wall, stored


def main(events: int) -> None:
    print(f"load average: {os.getloadavg()}")
    figures: dict[str, list[tuple[float, float]]] = {}
    for storage_class in (SqliteEventLogStorage, CdpSqliteEventLogStorage) * 2:
        cpu, wall, stored = store(storage_class, events)
        if stored != events:
            raise SystemExit(f"{storage_class.__name__} stored {stored} of {events} events")
        figures.setdefault(storage_class.__name__, []).append((cpu, wall))
        print(
            f"  {storage_class.__name__:<28} {events} events: {cpu:6.2f} s CPU, {wall:6.2f} s wall"
        )
    base = min(figures["SqliteEventLogStorage"])
    ours = min(figures["CdpSqliteEventLogStorage"])
    print(
        f"best of two: Dagster's {base[0]:.2f} s CPU / {base[1]:.2f} s wall, "
        f"ours {ours[0]:.2f} s / {ours[1]:.2f} s: "
        f"{base[0] / ours[0]:.1f}x less CPU, {base[1] / ours[1]:.1f}x less wall"
    )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
