"""Sensors: a new batch file in the raw folder starts a run."""

import hashlib
import json

import dagster as dg

from orchestration.assets.ingestion import RAW_TABLES
from orchestration.ingestion.readers import IngestionError, discover_files
from orchestration.jobs import cdp_all_job
from orchestration.resources import RawFolderResource


def raw_folder_snapshot(raw_folder: RawFolderResource) -> dict[str, str]:
    """Every contract file with its size and modification time (cheap: no reading).

    Uses the ingestion's own discovery, so the sensor sees exactly the files a run loads.
    """
    raw_dir = raw_folder.directory
    snapshot: dict[str, str] = {}
    if not raw_dir.is_dir():
        return snapshot
    for table in RAW_TABLES:
        try:
            files = discover_files(raw_dir, table)
        except IngestionError:
            continue  # the run reports the bad folder; the sensor only notices change
        for path in files:
            stat = path.stat()
            snapshot[path.relative_to(raw_dir).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return snapshot


def changed_files(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    return sorted(path for path, signature in current.items() if previous.get(path) != signature)


@dg.sensor(
    name="raw_folder_sensor",
    job=cdp_all_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts the whole graph when a new or changed file lands in the raw folder.",
)
def raw_folder_sensor(
    context: dg.SensorEvaluationContext, raw_folder: RawFolderResource
) -> dg.SensorResult | dg.SkipReason:
    previous = json.loads(context.cursor) if context.cursor else {}
    current = raw_folder_snapshot(raw_folder)
    changed = changed_files(previous, current)
    if not changed:
        return dg.SkipReason("No new files in the raw folder.")
    run_key = hashlib.sha256("\n".join(f"{p}={current[p]}" for p in changed).encode()).hexdigest()
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key[:32],
                tags={"cdp/new_files": str(len(changed)), "cdp/first_new_file": changed[0]},
            )
        ],
        cursor=json.dumps(current, sort_keys=True),
    )
