"""Crash anywhere, resume cleanly (issue 12): SIGKILL a real `cdp run` at a named kill
point (orchestration/faults.py), run again, and compare with an uninterrupted run.

    uv run python scripts/fault_matrix.py [--raw-dir DIR] [--points a,b:2,...]
        [--random N --seed S] [--jobs J] [--work DIR]

Every run delivers to the shipped destinations: the export files and the webhook, which
here is a real HTTP server on loopback in this process (CDP_WEBHOOK_URL). Per point:

* marts: every table in the raw, intermediate, marts and activation schemas equals the
  reference run's (EXCEPT ALL both ways), minus the columns that are run-specific by
  design (RUN_SPECIFIC); per-run history tables (HISTORY) through their latest build;
* exactly once: the member changes the destinations applied (export files; webhook
  requests applied once per Idempotency-Key, as the receiver does) equal the reference
  run's, change for change, and a re-sent key carried the same batch;
* serving: the serving copy opens, its parquet link resolves, and each of its tables has
  as many rows as its parquet file (one version, not a mix).

`--random N --seed S` adds N points chosen from every (point, nth) the reference run
passed (it runs with `CDP_FAULT_KILL=count:<file>`). Prints `kill point -> outcome`
and exits 1 if any point did not recover.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

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
# Per-run histories (one row per build and key, appended): compared through the latest
# build of each key, without the per-build counts. A killed run that got past the model
# leaves a row of its own, and the build that evaluated a change (the killed one or the
# re-run) is the one that counts it, so the counts of entries and exits move between the
# two rows; what they count, the stays, is compared whole in segment_membership_history.
HISTORY = {
    '"marts"."segment_sizes"': (("segment_name",), "computed_at", {"entered_count", "exited_count"})
}
DEFAULT_POINTS = [
    # ingestion: between files, and inside a file's transaction
    "ingest.after_file:1",
    "ingest.after_file:3",
    "ingest.after_file:8",
    "ingest.before_commit:1",
    "ingest.before_commit:5",
    # inside dbt: staging, identity resolution, profiles, segment evaluation, payloads
    "dbt.after_model:1",
    "dbt.after.stg_shop__orders",
    "dbt.after.int_identity_edges",
    "dbt.after.int_identity_resolved",
    "dbt.after.identity_map",
    "dbt.after_test:20",
    "predictions.before_write",
    "predictions.between_writes",
    "dbt.after.customer_profiles",
    "dbt.after.seg_churn_risk",
    "dbt.after.segment_membership_history",
    "dbt.after.segment_sizes",
    "dbt.after.audience_payloads",
    # delivery: planned, per batch, acknowledged, an export file half-renamed
    "deliver.after_plan:1",
    "deliver.before_send:1",
    "deliver.after_send:1",
    "deliver.after_send:3",
    "deliver.after_ack:2",
    "file.before_rename:2",
    # the serving copy
    "serving.mid_copy:3",
    "serving.before_swap:1",
    "serving.between_swaps:1",
    "serving.after_swap:1",
]


# ---- the webhook: a real HTTP receiver on loopback ---------------------------------------


class Receiver:
    """Records every POST per path (one path per warehouse) and answers 200; with
    `keep_in`, also appends each to `<keep_in>/<path>/webhook.jsonl`."""

    def __init__(self, keep_in: Path | None = None) -> None:
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.keep_in = keep_in
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                request = {"key": self.headers.get("Idempotency-Key"), "body": body}
                with receiver.lock:
                    receiver.requests.setdefault(self.path, []).append(request)
                    if receiver.keep_in is not None:
                        kept = receiver.keep_in / self.path.strip("/") / "webhook.jsonl"
                        kept.parent.mkdir(parents=True, exist_ok=True)
                        with kept.open("a", encoding="utf-8") as out:
                            out.write(json.dumps(request) + "\n")
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path}"

    def received(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests.get(f"/{path}", []))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- runs -----------------------------------------------------------------------------


def cdp_run(
    warehouse: Path,
    exports: Path,
    raw_dir: Path | None,
    kill: str | None,
    webhook_url: str | None = None,
    timeout: float = 1800,
) -> int:
    """One `cdp run` in its own session (a kill point then kills dbt with it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    env["DAGSTER_HOME"] = str(warehouse.parent / "dagster")
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    if kill:
        env["CDP_FAULT_KILL"] = kill
    if webhook_url:
        env["CDP_WEBHOOK_URL"] = webhook_url
        env["CDP_WEBHOOK_TOKEN"] = "fault-matrix-token"
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
    log = warehouse.parent / f"run-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return process.wait(timeout=timeout)
        finally:
            # whatever of the session is left (nothing, after a kill point)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def visits(reference: Path, raw_dir: Path | None, webhook_url: str | None) -> list[str]:
    """The reference run, counting: every kill point it passed, in order."""
    log = reference.parent / "kill_points.txt"
    rc = cdp_run(reference, reference.parent / "exports", raw_dir, f"count:{log}", webhook_url)
    if rc != 0:
        raise SystemExit(f"reference run failed (rc {rc})")
    return log.read_text().split()


def random_points(seen: list[str], n: int, seed: int, exclude: set[str]) -> list[str]:
    """n distinct `point:nth`: a point drawn uniformly from those the reference run passed,
    then one of its visits uniformly (so the 345 dbt test results do not crowd out the
    one serving swap)."""
    rng = random.Random(seed)
    counts = Counter(seen)
    names = sorted(counts)
    excluded = {point if point.rpartition(":")[2].isdigit() else f"{point}:1" for point in exclude}
    pool = {f"{name}:{i}" for name in names for i in range(1, counts[name] + 1)} - excluded
    chosen: list[str] = []
    while len(chosen) < min(n, len(pool)):
        name = rng.choice(names)
        point = f"{name}:{rng.randint(1, counts[name])}"
        if point in pool and point not in chosen:
            chosen.append(point)
    return chosen


# ---- comparisons ----------------------------------------------------------------------


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


def _rows(name: str, cols: str, prefix: str = "") -> str:
    if name not in HISTORY:
        return f"select {cols} from {prefix}{name}"
    keys, order, _ = HISTORY[name]
    partition = ", ".join(f'"{k}"' for k in keys)
    return (
        f"select {cols} from {prefix}{name} "
        f'qualify row_number() over (partition by {partition} order by "{order}" desc) = 1'
    )


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
        dropped = {f'"{c}"' for c in HISTORY.get(name, ((), "", set()))[2]}
        cols = ", ".join(c for c in mine[name] if c in theirs[name] and c not in dropped)
        here, there = _rows(name, cols), _rows(name, cols, "ref.")
        (n,) = con.execute(
            f"select count(*) from (({here} except all {there}) union all "
            f"({there} except all {here}))"
        ).fetchone()
        if n:
            differences.append(f"{name}: {n} rows differ")
    con.close()
    return differences


def _strip(record: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in record.items() if k not in RUN_SPECIFIC))


@dataclass
class Deliveries:
    """Member changes as the destinations applied them: (destination, segment, operation,
    record) with their count, and what the receivers saw twice."""

    applied: Counter = field(default_factory=Counter)
    resent: int = 0  # requests carrying a key already applied (deduplicated by the receiver)
    problems: list[str] = field(default_factory=list)


def deliveries(exports: Path, requests: list[dict[str, Any]]) -> Deliveries:
    found = Deliveries()
    seen_files: dict[tuple[str, str], str] = {}
    for path in sorted(exports.glob("*/*/*")) if exports.exists() else []:
        if path.name == "manifest.json" or path.name.startswith("."):
            continue
        destination = path.parent.parent.name
        segment, operation, _, key = path.stem.split("__")
        if (destination, key) in seen_files:
            found.problems.append(
                f"{destination}: batch {key} written twice ({seen_files[destination, key]}, "
                f"{path.parent.name})"
            )
        seen_files[destination, key] = path.parent.name
        if path.suffix == ".parquet":
            rows = pq.read_table(path).to_pylist()
        else:
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        for row in rows:
            found.applied[(destination, segment, operation, _strip(row))] += 1
    bodies: dict[str, Any] = {}
    for request in requests:
        key, body = request["key"], request["body"]
        if key in bodies:
            found.resent += 1
            if bodies[key] != body:
                found.problems.append(f"webhook: key {key[:12]} re-sent with another batch")
            continue
        bodies[key] = body
        for record in body["records"]:
            found.applied[("webhook", body["segment"], body["operation"], _strip(record))] += 1
    return found


def exactly_once(reference: Deliveries, candidate: Deliveries) -> list[str]:
    problems = list(candidate.problems)
    twice = sum((candidate.applied - reference.applied).values())
    missing = sum((reference.applied - candidate.applied).values())
    if twice:
        problems.append(f"{twice} member changes applied more often than in the reference")
    if missing:
        problems.append(f"{missing} member changes never applied")
    return problems


def serving_ok(warehouse: Path) -> list[str]:
    serving = warehouse.parent / "serving"
    problems = []
    link = serving / "parquet"
    if not link.resolve().is_dir():
        return ["serving parquet link dangles"]
    try:
        con = duckdb.connect(str(serving / "cdp.duckdb"), read_only=True)
    except duckdb.Error as error:
        return [f"serving copy does not open: {error}"]
    with con:
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall():
            (rows,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            parquet = link / schema / f"{table}.parquet"
            if not parquet.exists():
                problems.append(f"serving: {schema}.{table} has no parquet file")
            elif pq.ParquetFile(parquet).metadata.num_rows != rows:
                problems.append(f"serving: {schema}.{table} differs from its parquet file")
    return problems


# ---- the matrix -----------------------------------------------------------------------


@dataclass
class Outcome:
    point: str
    killed: bool
    marts: list[str]
    delivery: list[str]
    serving: list[str]
    resent: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.killed and not (self.marts or self.delivery or self.serving)

    def row(self) -> str:
        def mark(problems: list[str]) -> str:
            return "yes" if not problems else "NO: " + "; ".join(problems)

        once = mark(self.delivery)
        if self.resent:
            once += f" ({self.resent} re-sent, deduplicated)"
        return (
            f"| `{self.point}` | {'yes' if self.killed else 'NO'} | {mark(self.marts)} | "
            f"{once} | {mark(self.serving)} | {self.seconds:.0f} |"
        )


HEADER = (
    "| kill point | killed | identical marts | exactly-once delivery | serving ok | s |\n"
    "|---|---|---|---|---|---|"
)


def run_point(
    point: str,
    work: Path,
    reference: Path,
    expected: Deliveries,
    raw_dir: Path | None,
    receiver: Receiver | None,
) -> Outcome:
    started = time.monotonic()
    slug = point.replace(":", "_").replace(".", "_").replace("/", "_")
    wh = work / slug / "cdp.duckdb"
    shutil.rmtree(wh.parent, ignore_errors=True)
    wh.parent.mkdir(parents=True)
    url = receiver.url(slug) if receiver else None
    killed = cdp_run(wh, wh.parent / "exports", raw_dir, point, url)
    again = cdp_run(wh, wh.parent / "exports", raw_dir, None, url)
    seconds = time.monotonic() - started
    rcs = {"point": point, "killed": killed, "again": again, "s": seconds}
    (wh.parent / "rc.json").write_text(json.dumps(rcs))
    return judge(point, wh, reference, expected)


def judge(point: str, wh: Path, reference: Path, expected: Deliveries) -> Outcome:
    """The outcome of a point from what its runs left in `wh.parent` (rc.json, the
    warehouse, the exports, webhook.jsonl): also `--recheck` of an earlier matrix."""
    rcs = json.loads((wh.parent / "rc.json").read_text())
    killed, again = rcs["killed"], rcs["again"]
    marts: list[str] = [] if again == 0 else [f"re-run rc {again}"]
    delivery: list[str] = []
    serving: list[str] = []
    resent = 0
    if again == 0:
        marts = compare(reference, wh)
        got = deliveries(wh.parent / "exports", kept_requests(wh.parent))
        delivery, resent = exactly_once(expected, got), got.resent
        serving = serving_ok(wh)
    return Outcome(
        point,
        killed == -signal.SIGKILL,
        marts if killed == -signal.SIGKILL else [f"not killed (rc {killed})", *marts],
        delivery,
        serving,
        resent,
        rcs["s"],
    )


def kept_requests(folder: Path) -> list[dict[str, Any]]:
    kept = folder / "webhook.jsonl"
    return [json.loads(line) for line in kept.read_text().splitlines()] if kept.exists() else []


def recheck(work: Path) -> list[Outcome]:
    """Judge again every point an earlier matrix left in `work` (after changing a rule)."""
    reference = work / "reference" / "cdp.duckdb"
    expected = deliveries(reference.parent / "exports", kept_requests(reference.parent))
    outcomes = []
    for rc in sorted(work.glob("*/rc.json")):
        point = json.loads(rc.read_text()).get("point", rc.parent.name)
        outcomes.append(judge(point, rc.parent / "cdp.duckdb", reference, expected))
        print(outcomes[-1].row(), flush=True)
    return outcomes


def matrix(
    points: list[str],
    work: Path,
    raw_dir: Path | None = None,
    random_n: int = 0,
    seed: int = 0,
    jobs: int = 1,
    reference: Path | None = None,
    echo: bool = True,
    webhook: bool = True,
) -> list[Outcome]:
    """The reference run (unless given, e.g. the session's demo build: then `webhook`
    says whether it was made with one) and the points, `jobs` at a time."""
    receiver = Receiver(keep_in=work) if webhook else None
    try:
        if reference is None:
            reference = work / "reference" / "cdp.duckdb"
            shutil.rmtree(reference.parent, ignore_errors=True)
            reference.parent.mkdir(parents=True)
            seen = visits(reference, raw_dir, receiver.url("reference") if receiver else None)
            if random_n:
                points = points + random_points(seen, random_n, seed, set(points))
        expected = deliveries(reference.parent / "exports", kept_requests(reference.parent))
        if echo:
            print(f"reference: {sum(expected.applied.values())} member changes delivered")
            print(HEADER, flush=True)

        def one(point: str) -> Outcome:
            outcome = run_point(point, work, reference, expected, raw_dir, receiver)
            if echo:
                print(outcome.row(), flush=True)
            return outcome

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(one, points))
    finally:
        if receiver:
            receiver.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw-dir", type=Path)
    parser.add_argument("--points", default=",".join(DEFAULT_POINTS))
    parser.add_argument("--random", type=int, default=0, help="random kill points to add")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=1, help="points run at once")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cdp-fault-matrix"))
    parser.add_argument("--recheck", action="store_true", help="judge --work's runs again")
    parser.add_argument(
        "--reference", type=Path, help="an earlier matrix's reference/cdp.duckdb to reuse"
    )
    options = parser.parse_args()
    if options.recheck:
        print(HEADER)
        return int(not all(o.ok for o in recheck(options.work)))
    shutil.rmtree(options.work, ignore_errors=True)
    started = time.monotonic()
    points = [p for p in options.points.split(",") if p]
    outcomes = matrix(
        points,
        options.work,
        options.raw_dir,
        options.random,
        options.seed,
        options.jobs,
        reference=options.reference,
    )
    failed = [o for o in outcomes if not o.ok]
    print(
        f"\n{len(outcomes)} points, {len(outcomes) - len(failed)} recovered identically "
        f"(marts, exactly-once delivery, serving), {len(failed)} failed, "
        f"{time.monotonic() - started:.0f} s"
    )
    return int(bool(failed))


if __name__ == "__main__":
    sys.exit(main())
