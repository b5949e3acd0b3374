"""The whole pipeline on a generated folder: per-step times, peak RSS, the floor (issue 14).

    uv run python benchmarks/pipeline.py --persons 10000               # generate, then run
    uv run python benchmarks/pipeline.py --raw-dir seeds                # the demo folder
    uv run python benchmarks/pipeline.py --persons 100000 --raw-dir /data/raw100k
    uv run python benchmarks/pipeline.py --persons 10000 --incremental  # + an incremental day

A folder is generated with `cdp generate --persons N --format F` unless `--raw-dir` names
one that holds files already (then it is reused as it is). The run is a `cdp run` of that
folder into a fresh warehouse under `--work` (default `/tmp/cdp-bench/<folder name>`), as
a subprocess with its own DAGSTER_HOME, timed from outside (start-up and dbt parse
included). Printed, and written to `<work>/pipeline.json`:

* wall time and CPU time (user + system, the process and its dbt subprocesses) of the run,
  and the load average before and after (the machine may be shared);
* the Dagster steps of the run (its step events), longest first, and dbt's slowest models
  (the run_results.json of each dbt step);
* peak RSS: of the process tree, sampled every 0.2 s (the run and its dbt processes
  together), and of the largest single process (the kernel's maxrss);
* the floor pass, measured after the run on its warehouse: one DuckDB pass that joins all
  staged events to the identity map and groups by person (best of three), and the ratio
  full wall / floor (how many such passes the whole run costs);
* ingestion against a plain read: the run's ingestion step (`raw_tables`: typing to the
  contract, quarantine, lineage columns) against `create table ... as select * from
  read_parquet(...)` (or read_csv / read_json) of the same files into a fresh DuckDB file;
* with `--incremental`: the same folder split in two batches (the newest ~1% of events by
  `timestamp` held back), a run of the first into a new warehouse, then a run after the
  batch is added; the batch run's time against the first run's and the full run's, and
  whether its marts equal the full run's (rows in one and not the other, per mart, with
  the columns that name a file, load or run left out).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestration.settings import DBT_PROJECT_DIR  # noqa: E402
from orchestration.warehouse.duckdb_warehouse import utc_connection  # noqa: E402

INGESTION_STEP = "raw_tables"
DBT_STEPS = ("cdp_dbt_models", "cdp_dbt_profiles")
# One pass over every staged event: join to the identity map, group by person.
FLOOR_SQL = """
    select count(*), sum(events) from (
        select identity_map.person_id, count(*) as events, max(events.event_at) as last_event_at
        from staging.stg_tracking__events as events
        inner join marts.identity_map as identity_map
            on identity_map.identifier_type = 'anonymous_id'
            and identity_map.identifier_value = events.anonymous_id
        group by identity_map.person_id
    )
"""
READERS = {
    ".parquet": "read_parquet({files}, union_by_name = true)",
    ".csv": "read_csv({files}, union_by_name = true)",
    ".jsonl": "read_json({files}, format = 'newline_delimited', union_by_name = true)",
    ".json": "read_json({files}, format = 'newline_delimited', union_by_name = true)",
}


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def has_files(folder: Path) -> bool:
    return folder.is_dir() and any(path.is_file() for path in folder.rglob("*"))


def generate(raw_dir: Path, persons: int, fmt: str) -> float:
    """`cdp generate` into raw_dir; returns its wall time."""
    started = time.perf_counter()
    subprocess.run(
        [
            *(sys.executable, "-m", "orchestration.cli", "generate", str(raw_dir)),
            *("--persons", str(persons), "--format", fmt, "--quiet"),
        ],
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - started


class TreeSampler:
    """Peak RSS of a process and its descendants, summed, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            try:
                for process in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += process.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_cdp(raw_dir: Path, work: Path, *, fresh: bool = True) -> dict[str, Any]:
    """`cdp run` of raw_dir into the warehouse in `work` (a fresh one unless `fresh` is
    False: then the run is incremental on what the previous one built), from a clean
    environment."""
    if fresh:
        for name in ("cdp.duckdb", "cdp.duckdb.wal", "cdp.duckdb.tmp", "exports", "serving"):
            path = work / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        shutil.rmtree(work / "dagster_home", ignore_errors=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith("CDP_")}
    env["DAGSTER_HOME"] = str(work / "dagster_home")
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "orchestration.cli", "run"]
    command += ["--raw-dir", str(raw_dir), "--warehouse", str(work / "cdp.duckdb")]
    command += ["--exports-dir", str(work / "exports")]
    command += ["--summary-json", str(work / "summary.json")]
    before = load_average()
    started = time.perf_counter()
    with (work / "cdp_run.stdout").open("w") as stdout:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stdout)
        sampler = TreeSampler(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    sampler.stop()
    if process.returncode != 0:
        sys.exit(f"cdp run failed ({process.returncode}): see {work / 'cdp_run.stdout'}")
    return {
        "wall_s": wall,
        # wait4: the run and the children it waited for (the dbt subprocesses).
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_tree_mib": sampler.peak / 2**20,
        "peak_rss_process_mib": usage.ru_maxrss / 1024,
        "load_before": before,
        "load_after": load_average(),
    }


def dagster_steps(work: Path) -> tuple[str, list[tuple[str, float]]]:
    """The run's id and its steps with their durations (Dagster's step events)."""
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
    steps = [
        (stat.step_key, (stat.end_time or 0) - (stat.start_time or 0))
        for stat in stats
        if stat.start_time is not None
    ]
    return run.run_id, sorted(steps, key=lambda step: -step[1])


def dbt_models(run_id: str) -> list[tuple[str, float]]:
    """dbt's per-node execution times in this run's dbt steps (run_results.json)."""
    nodes: list[tuple[str, float]] = []
    for step in DBT_STEPS:
        for folder in (DBT_PROJECT_DIR / "target").glob(f"{step}-{run_id[:7]}-*"):
            results = folder / "run_results.json"
            if results.exists():
                for result in json.loads(results.read_text())["results"]:
                    nodes.append((result["unique_id"], result["execution_time"]))
    return sorted(nodes, key=lambda node: -node[1])


def floor_pass(warehouse: Path) -> tuple[float, int]:
    """Best of three of FLOOR_SQL on the run's warehouse; returns (seconds, events)."""
    con = utc_connection(warehouse, read_only=True)
    try:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            _persons, events = con.execute(FLOOR_SQL).fetchone()
            times.append(time.perf_counter() - started)
    finally:
        con.close()
    return min(times), int(events or 0)


def table_files(raw_dir: Path) -> Iterator[tuple[str, list[Path]]]:
    """Each raw table's files: `<table>.<ext>` or every file under `<table>/`."""
    for entry in sorted(raw_dir.iterdir()):
        if entry.is_dir():
            files = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix in READERS)
            if files:
                yield entry.name, files
        elif entry.suffix in READERS:
            yield entry.stem, [entry]


def plain_read(raw_dir: Path, work: Path) -> float:
    """`create table as select * from read_<format>(files)` for every raw table, into a
    fresh DuckDB file: what loading the same bytes costs without the contract."""
    target = work / "plain.duckdb"
    target.unlink(missing_ok=True)
    con = utc_connection(target)
    try:
        started = time.perf_counter()
        for table, files in table_files(raw_dir):
            by_suffix: dict[str, list[str]] = {}
            for path in files:
                by_suffix.setdefault(path.suffix, []).append(str(path))
            for number, (suffix, names) in enumerate(sorted(by_suffix.items())):
                reader = READERS[suffix].format(files=names)
                con.execute(f'create table "{table}_{number}" as select * from {reader}')
        elapsed = time.perf_counter() - started
    finally:
        con.close()
        target.unlink(missing_ok=True)
    return elapsed


# Columns that name a file, a load or a run: they differ between an incremental build and
# a full one of the same rows by construction.
RUN_COLUMNS = re.compile(r"(^_|_loaded_at$|invocation_id|run_id|^loaded_at$|_file$)")
# The share of events held back as "the new day" by --incremental.
NEW_BATCH_SHARE = 0.01


def split_events(raw_dir: Path, into: Path, day: Path) -> tuple[int, int]:
    """A copy of raw_dir in `into` whose events lack the newest ~1% (by
    `timestamp`), which go to `day` (one file, added to `into/events/` later). Returns
    (events kept, events held back). Parquet and JSONL event files."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.rmtree(day, ignore_errors=True)
    into.mkdir(parents=True)
    day.mkdir(parents=True)
    # Copies: ingestion refuses symlinks that lead out of the raw folder.
    for entry in raw_dir.iterdir():
        if entry.is_dir() and entry.name != "events":
            shutil.copytree(entry, into / entry.name)
        elif entry.is_file():
            shutil.copy2(entry, into / entry.name)
    files = sorted(path for path in (raw_dir / "events").rglob("*") if path.is_file())
    (into / "events").mkdir()
    suffixes = {path.suffix for path in files}
    if suffixes == {".parquet"}:
        con = duckdb.connect()
        con.execute(f"create table events as select * from read_parquet({[str(f) for f in files]})")
        ts = "try_cast(timestamp as timestamp)"
        (cutoff,) = con.execute(
            f"select quantile_disc({ts}, {1 - NEW_BATCH_SHARE}) from events"
        ).fetchone()
        newer = f"{ts} >= timestamp '{cutoff}'"
        con.execute(
            f"copy (select * from events where not coalesce({newer}, false)) "
            f"to '{into / 'events' / 'part-base.parquet'}' (format parquet)"
        )
        con.execute(
            f"copy (select * from events where {newer}) "
            f"to '{day / 'part-zday.parquet'}' (format parquet)"
        )
        kept, held = con.execute(
            f"select count(*) filter (not coalesce({newer}, false)), "
            f"count(*) filter ({newer}) from events"
        ).fetchone()
        con.close()
        return kept, held
    if suffixes == {".jsonl"}:
        lines = [line for path in files for line in path.read_text().splitlines() if line]

        def stamp(line: str) -> dt.datetime | None:
            try:
                value = json.loads(line).get("timestamp")
                parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except (ValueError, AttributeError, TypeError):
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

        stamps = [stamp(line) for line in lines]
        known = sorted(value for value in stamps if value is not None)
        cutoff = known[int(len(known) * (1 - NEW_BATCH_SHARE))]
        base = [line for line, at in zip(lines, stamps, strict=True) if at is None or at < cutoff]
        new = [
            line for line, at in zip(lines, stamps, strict=True) if at is not None and at >= cutoff
        ]
        (into / "events" / "part-base.jsonl").write_text("\n".join(base) + "\n")
        (day / "part-zday.jsonl").write_text("\n".join(new) + "\n")
        return len(base), len(new)
    sys.exit(f"--incremental splits Parquet or JSONL events, not {sorted(suffixes)}")


def compare_marts(built: Path, reference: Path) -> dict[str, int]:
    """Rows of each mart in one warehouse and not the other (both ways, multiset), run
    columns (RUN_COLUMNS) left out: an empty result means equal."""
    con = duckdb.connect()
    con.execute(f"attach '{built}' as built (read_only)")
    con.execute(f"attach '{reference}' as reference (read_only)")
    tables = con.execute(
        "select schema_name, table_name, list(column_name order by column_index) "
        "from duckdb_columns() where database_name = 'built' and schema_name = 'marts' "
        "group by all order by all"
    ).fetchall()
    differences = {}
    for schema, table, columns in tables:
        keep = ", ".join(f'"{column}"' for column in columns if not RUN_COLUMNS.search(column))
        name = f'"{schema}"."{table}"'
        try:
            (count,) = con.execute(
                f"select (select count(*) from (select {keep} from built.{name} except all "
                f"select {keep} from reference.{name})) + (select count(*) from (select {keep} "
                f"from reference.{name} except all select {keep} from built.{name}))"
            ).fetchone()
        except duckdb.Error as error:
            differences[f"{schema}.{table}"] = -1
            print(f"  {schema}.{table}: not compared ({error})")
            continue
        if count:
            differences[f"{schema}.{table}"] = int(count)
    con.close()
    return differences


def incremental(raw_dir: Path, work: Path, full: dict[str, Any]) -> dict[str, Any]:
    """A full run without the newest ~1% of events, then a run with them added; the
    second run's time against the first's, and its marts against the full run's."""
    inc_raw, day = work / "incremental" / "raw", work / "incremental" / "day"
    inc_work = work / "incremental" / "run"
    kept, held = split_events(raw_dir, inc_raw, day)
    print(f"\nincremental: {kept:,} events first, then a batch of {held:,} ...")
    first = run_cdp(inc_raw, inc_work)
    for path in day.iterdir():
        shutil.move(path, inc_raw / "events" / path.name)
    second = run_cdp(inc_raw, inc_work, fresh=False)
    print(f"  first run {first['wall_s']:.1f} s, the batch's run {second['wall_s']:.1f} s")
    differences = compare_marts(inc_work / "cdp.duckdb", work / "cdp.duckdb")
    result = {
        "events_first": kept,
        "events_batch": held,
        "first_wall_s": first["wall_s"],
        "batch_wall_s": second["wall_s"],
        "batch_over_first": second["wall_s"] / first["wall_s"],
        "batch_over_full": second["wall_s"] / full["wall_s"],
        "marts_differing_from_full_run": differences,
        "load_after": second["load_after"],
    }
    print(
        f"  first run {first['wall_s']:.1f} s, the batch's run {second['wall_s']:.1f} s: "
        f"{result['batch_over_first']:.2f}x the first, {result['batch_over_full']:.2f}x "
        "the full run"
    )
    if differences:
        print(f"  NOT equal to the full run: rows differing per mart {differences}")
    else:
        print("  every mart equals the full run's (run columns aside)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=300)
    parser.add_argument("--raw-dir", type=Path, help="reuse (or generate into) this folder")
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv", "jsonl"])
    parser.add_argument("--work", type=Path, help="warehouse and results [/tmp/cdp-bench/...]")
    parser.add_argument("--top", type=int, default=12, help="steps and models to list")
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="also: a run without the newest ~1%% of events, then one with them added",
    )
    args = parser.parse_args()

    raw_dir = (args.raw_dir or Path(f"/tmp/cdp-bench/raw-{args.persons}-{args.format}")).resolve()
    work = (args.work or Path("/tmp/cdp-bench") / f"run-{raw_dir.name}").resolve()
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"raw_dir": str(raw_dir), "work": str(work)}
    if has_files(raw_dir):
        print(f"raw folder: {raw_dir} (reused)")
    else:
        print(f"raw folder: generating {args.persons:,} persons ({args.format}) in {raw_dir}")
        figures["generate_s"] = generate(raw_dir, args.persons, args.format)
        print(f"  generated in {figures['generate_s']:.1f} s")

    print(f"cdp run (load average {load_average()}) ...")
    figures.update(run_cdp(raw_dir, work))
    summary = json.loads((work / "summary.json").read_text())
    figures["run_own_s"] = summary["seconds"]
    figures["rows_loaded"] = {t: c["loaded"] for t, c in summary["tables"].items()}
    run_id, steps = dagster_steps(work)
    figures["steps"] = dict(steps)
    models = dbt_models(run_id)
    figures["dbt_nodes"] = dict(models)
    figures["floor_s"], figures["floor_events"] = floor_pass(work / "cdp.duckdb")
    figures["plain_read_s"] = plain_read(raw_dir, work)
    ingestion = figures["steps"].get(INGESTION_STEP)
    figures["wall_over_floor"] = figures["wall_s"] / figures["floor_s"]
    figures["ingestion_over_plain"] = ingestion / figures["plain_read_s"] if ingestion else None
    (work / "pipeline.json").write_text(json.dumps(figures, indent=2) + "\n")

    events = figures["rows_loaded"].get("events", 0)
    print(
        f"\nfull run: {figures['wall_s']:.1f} s wall (the run's own timer "
        f"{figures['run_own_s']:.1f} s; start-up and dbt parse the rest), "
        f"{figures['cpu_s']:.1f} s CPU; {events:,} events loaded"
    )
    print(f"  load average: {figures['load_before']} before, {figures['load_after']} after")
    print(
        f"  peak RSS: {figures['peak_rss_tree_mib']:,.0f} MiB (process tree, sampled), "
        f"{figures['peak_rss_process_mib']:,.0f} MiB (largest process)"
    )
    print(f"\nDagster steps ({len(steps)}), longest first:")
    for key, seconds in steps[: args.top]:
        print(f"  {seconds:8.2f} s  {key}")
    by_type: dict[str, float] = {}
    for unique_id, seconds in models:
        by_type[unique_id.split(".")[0]] = by_type.get(unique_id.split(".")[0], 0.0) + seconds
    totals = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in sorted(by_type.items()))
    print(f"\ndbt nodes ({len(models)}; summed thread time: {totals}), slowest first:")
    for unique_id, seconds in models[: args.top]:
        print(f"  {seconds:8.2f} s  {unique_id}")
    print(
        f"\nfloor pass: {figures['floor_s']:.3f} s ({figures['floor_events']:,} staged events "
        "joined to the identity map, grouped by person)"
    )
    print(f"  full wall / floor: {figures['wall_over_floor']:.0f} single-pass equivalents")
    if ingestion:
        print(
            f"ingestion: {ingestion:.2f} s ({INGESTION_STEP}) vs plain read "
            f"{figures['plain_read_s']:.2f} s: {figures['ingestion_over_plain']:.2f}x"
        )
    if args.incremental:
        figures["incremental"] = incremental(raw_dir, work, figures)
        (work / "pipeline.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nfigures: {work / 'pipeline.json'}")


if __name__ == "__main__":
    main()
