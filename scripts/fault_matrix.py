"""Crash anywhere, resume cleanly (issue 12): SIGKILL a real `cdp run` at a named kill
point (orchestration/faults.py), run again, and compare with an uninterrupted run.

    uv run python scripts/fault_matrix.py [--raw-dir DIR] [--points a,b:2,...] [--work DIR]

Prints `kill point -> outcome` and exits 1 if any point did not recover identically.
Compared: every table in the raw, intermediate, marts and activation schemas, minus the
columns that are run-specific by design (RUN_SPECIFIC below); the serving copy must open
and its parquet link must point at an existing version.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ("raw", "intermediate", "marts", "activation")
# Wall-clock and per-run identity: a resumed run has other values by construction.
RUN_SPECIFIC = {
    "_loaded_at",  # raw rows: when the file was loaded
    "loaded_at",  # raw._loaded_files: same
    "run_id",  # the run that built or synced a row
    "planned_in_run",  # the run that planned an outbox batch
    "built_at",  # activation.audience_payloads: wall clock of the build
    "synced_at",  # activation.sync_state: wall clock of the acknowledgement
    "planned_at",  # outbox: wall clock of planning
    "attempts",  # outbox: a re-sent batch has more
    "last_error",
    "measured_at",  # marts.identity_health: wall clock of the measurement
    "computed_at",  # marts.segment_sizes: same
    "changed_at",  # marts.seg_*: wall clock of the evaluation that saw the change
    "entered_at",  # segment membership: when an evaluation first saw the member
    "exited_at",
    "invocation_id",  # the dbt invocation that evaluated a segment
    "entered_invocation_id",
    "exited_invocation_id",
}
# A log with one row per run: a killed-and-resumed pair has two, counting the re-sends.
RUN_SPECIFIC_TABLES = {'"activation"."sync_log"'}
DEFAULT_POINTS = [
    "ingest.after_file:1",
    "ingest.after_file:3",
    "deliver.before_send:1",
    "deliver.after_send:1",
    "serving.before_swap:1",
    "serving.between_swaps:1",
]


def cdp_run(warehouse: Path, exports: Path, raw_dir: Path | None, kill: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    env["DAGSTER_HOME"] = str(warehouse.parent / "dagster")
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    if kill:
        env["CDP_FAULT_KILL"] = kill
    args = [
        sys.executable,
        "-m",
        "orchestration.cli",
        "run",
        "--warehouse",
        str(warehouse),
        "--exports-dir",
        str(exports),
    ]
    if raw_dir:
        args += ["--raw-dir", str(raw_dir)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return done.returncode


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() order by table_schema, table_name, "
        "ordinal_position"
    ).fetchall():
        name = f'"{schema}"."{table}"'
        if schema in SCHEMAS and name not in RUN_SPECIFIC_TABLES and column not in RUN_SPECIFIC:
            found.setdefault(name, []).append(f'"{column}"')
    return found


def compare(reference: Path, candidate: Path) -> list[str]:
    differences: list[str] = []
    con = duckdb.connect(str(candidate), read_only=True)
    con.execute(f"attach '{reference}' as ref (read_only)")
    mine = tables(con)
    con.execute("use ref")
    theirs = tables(con)
    con.execute(f'use "{candidate.stem}"')
    for name in sorted(set(mine) | set(theirs)):
        if name not in mine or name not in theirs:
            differences.append(f"{name}: only in one run")
            continue
        cols = ", ".join(c for c in mine[name] if c in theirs[name])
        (n,) = con.execute(
            f"select count(*) from ((select {cols} from {name} except all "
            f"select {cols} from ref.{name}) union all (select {cols} from ref.{name} "
            f"except all select {cols} from {name}))"
        ).fetchone()
        if n:
            differences.append(f"{name}: {n} rows differ")
    con.close()
    return differences


def serving_ok(warehouse: Path) -> list[str]:
    serving = warehouse.parent / "serving"
    problems = []
    link = serving / "parquet"
    if not link.resolve().is_dir():
        problems.append("serving parquet link dangles")
    try:
        duckdb.connect(str(serving / "cdp.duckdb"), read_only=True).close()
    except duckdb.Error as error:
        problems.append(f"serving copy does not open: {error}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw-dir", type=Path)
    parser.add_argument("--points", default=",".join(DEFAULT_POINTS))
    parser.add_argument("--work", type=Path, default=Path("/tmp/cdp-fault-matrix"))
    options = parser.parse_args()
    shutil.rmtree(options.work, ignore_errors=True)
    started = time.monotonic()
    ref = options.work / "reference" / "cdp.duckdb"
    ref.parent.mkdir(parents=True)
    if cdp_run(ref, ref.parent / "exports", options.raw_dir, None) != 0:
        print("reference run failed")
        return 1
    rows = []
    for point in options.points.split(","):
        wh = options.work / point.replace(":", "_").replace(".", "_") / "cdp.duckdb"
        wh.parent.mkdir(parents=True)
        killed = cdp_run(wh, wh.parent / "exports", options.raw_dir, point)
        again = cdp_run(wh, wh.parent / "exports", options.raw_dir, None)
        problems = []
        if killed != -9:
            problems.append(f"not killed (rc {killed})")
        if again != 0:
            problems.append(f"re-run rc {again}")
        else:
            problems += compare(ref, wh) + serving_ok(wh)
        rows.append((point, "recovered identical" if not problems else "; ".join(problems)))
        print(f"{point:32} -> {rows[-1][1]}", flush=True)
    print(
        f"\n{len(rows)} points, {sum(r[1] != 'recovered identical' for r in rows)} failed, "
        f"{time.monotonic() - started:.0f} s"
    )
    return int(any(r[1] != "recovered identical" for r in rows))


if __name__ == "__main__":
    sys.exit(main())
