"""Benchmark of the studio's pages (a script, not a test): p50/p95 per page.

    uv run python benchmarks/studio_pages.py --serving-dir warehouse/serving  # the demo

    # 1,000,000 persons, scaled up from a real serving copy (see --scale-to below):
    uv run cdp generate /tmp/raw50k --persons 50000 --quiet
    uv run cdp run --raw-dir /tmp/raw50k --warehouse /tmp/w50k/cdp.duckdb
    uv run python benchmarks/studio_pages.py --serving-dir /tmp/w50k/serving \
        --scale-to 1000000 --scaled-dir /tmp/w1m-scaled

Serves the app in this process (Starlette's test client: routing, queries and template
rendering are timed, the network is not) and requests every page `--requests` times
(cycling over `--people` persons, and their identifiers and names, picked at random from
the copy, seeded): the search page (by an email, a customer id, an anonymous id and a
misspelt name), the 360° page, the audiences page, each segment's page, identity health
and data quality. Prints the persons in the copy, the machine's load average (before and
after) and p50/p95/max per page. The target: every page under 300 ms at p95 on a
1,000,000-person copy.

`--scale-to N` builds (once; reused while its marker matches) a serving copy of about N
persons in `--scaled-dir` from the one in `--serving-dir`, because a full pipeline build
of 1,000,000 persons takes hours on a small machine: every table with a person id column
(`person_id`, `old_/new_person_id`, `left_/right_person_id`) is replicated
ceil(N / persons) times inside DuckDB (a join with `range(copies)`), copy 0 unchanged and
copy k > 0 with its person ids, identifier values (and the id columns that carry them:
customer, contact, anonymous, device, user, session, message, order and ticket ids),
emails (`ann7@example.com`), phones, identifier hashes and first/last names (a letter
suffix: "Ann" -> "Annh") made unique per copy, so a search stays as selective as on the
real copy. Tables without a person id are copied as they are, except that
`segment_sizes` counts are multiplied by the number of copies. Then the serving copy's
layout is applied as `orchestration.serving.publish_serving_copy` does it (the same
table names; every person-keyed table stored sorted by person_id) and the pre-aggregated
serving tables are rebuilt from the scaled tables. The benchmark then runs on the scaled
copy and, in the same process, on the unscaled one (the baseline), and prints the ratio
of p95s per page.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

import duckdb
from starlette.testclient import TestClient

from orchestration.serving import _build_serving_aggregates, _cluster_by_person
from orchestration.studio.app import StudioConfig, create_app

TARGET_MS = 300
PERSON_COLUMNS = (
    "person_id",
    "old_person_id",
    "new_person_id",
    "left_person_id",
    "right_person_id",
)
# Columns whose values are identifiers (or keys) that must stay unique per copy.
ID_COLUMNS = (
    "customer_id",
    "contact_id",
    "anonymous_id",
    "device_id",
    "user_id",
    "session_id",
    "message_id",
    "order_id",
    "ticket_id",
    "identifier_hash",
)
NAME_COLUMNS = ("first_name", "last_name")
# Identifier value columns and the column holding their type.
TYPED_VALUE_COLUMNS = {
    "identifier_value": "identifier_type",
    "left_value": "left_type",
    "right_value": "right_type",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _suffix(column: str) -> str:
    """SQL: `column` made unique for copy `k` (k = 0 keeps the value)."""
    return f"case when k = 0 then {column} else {column} || '-' || k end"


def _email(column: str) -> str:
    return f"case when k = 0 then {column} else regexp_replace({column}, '@', k || '@') end"


def _phone(column: str) -> str:
    return f"case when k = 0 then {column} else {column} || lpad(k::varchar, 2, '0') end"


def _name(column: str) -> str:
    # a letter suffix (a, b, ... z, aa ...): names stay names, without digits
    return (
        f"case when k = 0 then {column} else {column} || "
        "case when k <= 26 then chr(96 + k::int) "
        "else chr(96 + ((k - 1) // 26)::int) || chr(97 + ((k - 1) % 26)::int) end end"
    )


def _expression(column: str, columns: set[str]) -> str:
    quoted = _quote(column)
    if column in PERSON_COLUMNS or column in ID_COLUMNS:
        return _suffix(quoted)
    if column == "email":
        return _email(quoted)
    if column == "phone":
        return _phone(quoted)
    if column in NAME_COLUMNS:
        return _name(quoted)
    if column in TYPED_VALUE_COLUMNS and TYPED_VALUE_COLUMNS[column] in columns:
        kind = _quote(TYPED_VALUE_COLUMNS[column])
        return (
            f"case {kind} when 'email' then {_email(quoted)} "
            f"when 'phone' then {_phone(quoted)} else {_suffix(quoted)} end"
        )
    return quoted


def scale_serving_copy(source_dir: Path, target_dir: Path, persons: int) -> Path:
    """A serving copy of about `persons` persons in `target_dir`, from `source_dir`'s."""
    source = source_dir / "cdp.duckdb"
    target = target_dir / "cdp.duckdb"
    marker = target_dir / "scaled-from.txt"
    stamp = f"{source.resolve()} {source.stat().st_mtime_ns} {persons}\n"
    if target.is_file() and marker.is_file() and marker.read_text() == stamp:
        return target_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    temporary = target_dir / ".cdp.duckdb.tmp"
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary))
    con.execute("set enable_progress_bar = false")
    con.execute("set preserve_insertion_order = false")
    con.execute(f"attach '{source}' as source (read_only)")
    (base,) = con.execute("select count(*) from source.marts.customer_profiles").fetchone()
    copies = max(1, math.ceil(persons / base))
    started = time.perf_counter()
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'source' "
        "order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        columns = [
            row[0]
            for row in con.execute(
                "select column_name from duckdb_columns() where database_name = 'source' "
                "and schema_name = ? and table_name = ? order by column_index",
                [schema, table],
            ).fetchall()
        ]
        qualified = f"{_quote(schema)}.{_quote(table)}"
        con.execute(f"create schema if not exists {_quote(schema)}")
        names = set(columns)
        if names & set(PERSON_COLUMNS):
            select = ", ".join(f"{_expression(c, names)} as {_quote(c)}" for c in columns)
            con.execute(
                f"create table {qualified} as select {select} from source.{qualified} "
                f"cross join (select range as k from range({copies}))"
            )
        elif (schema, table) == ("marts", "segment_sizes"):
            counted = ("member_count", "entered_count", "exited_count")
            select = ", ".join(
                f"{_quote(c)} * {copies} as {_quote(c)}" if c in counted else _quote(c)
                for c in columns
            )
            con.execute(f"create table {qualified} as select {select} from source.{qualified}")
        else:
            con.execute(f"create table {qualified} as select * from source.{qualified}")
    con.execute("detach source")
    _cluster_by_person(con)
    _build_serving_aggregates(con)
    con.execute("checkpoint")
    con.close()
    temporary.replace(target)
    marker.write_text(stamp)
    print(
        f"scaled {source} x{copies} to {target} in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return target_dir


def _misspelt(name: str, rng: random.Random) -> str:
    if len(name) < 4:
        return name
    position = rng.randrange(1, len(name) - 2)
    return name[:position] + name[position + 1] + name[position] + name[position + 2 :]


def run_pages(serving_dir: Path, people: int, requests: int, seed: int) -> dict[str, dict]:
    """p50/p95/max per page on one serving copy; prints a table."""
    app = create_app(StudioConfig(serving_dir=serving_dir))
    reader = app.state.reader
    rng = random.Random(seed)
    (count,) = reader.query("select count(*) as n from marts.customer_profiles")
    print(f"\nserving copy {serving_dir}: {count['n']:,} persons")
    sample = reader.query(
        "select person_id, first_name, last_name, email, customer_id from "
        f"marts.customer_profiles using sample reservoir({int(people)} rows) "
        f"repeatable ({int(seed)})"
    )
    known = reader.query(
        "select email, customer_id, last_name from marts.customer_profiles where is_known "
        f"using sample reservoir({int(people)} rows) repeatable ({int(seed)})"
    )
    anonymous = reader.query(
        "select identifier_value from marts.identity_map where identifier_type = "
        f"'anonymous_id' using sample reservoir({int(people)} rows) "
        f"repeatable ({int(seed)})"
    )
    segments = [
        row["segment_name"]
        for row in reader.query("select distinct segment_name from marts.segment_sizes order by 1")
    ]
    urls: dict[str, list[str]] = defaultdict(list)
    for person in sample:
        urls["person 360"].append(f"/person/{person['person_id']}")
    for person in known:
        if person["email"]:
            urls["search: email"].append(f"/?q={person['email']}")
        if person["customer_id"]:
            urls["search: customer id"].append(f"/?q={person['customer_id']}")
        if person["last_name"]:
            urls["search: misspelt name"].append(f"/?q={_misspelt(person['last_name'], rng)}")
    for row in anonymous:
        urls["search: anonymous id"].append(f"/?q={row['identifier_value']}")
    urls["audiences"] = ["/audiences"]
    urls["segment"] = [f"/audiences/{name}" for name in segments]
    urls["identity health"] = ["/identity"]
    urls["data quality"] = ["/quality"]

    client = TestClient(app)
    client.get("/")  # warm: the first query opens the file
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'page':<24}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  target")
    results: dict[str, dict] = {}
    for page, paths in urls.items():
        timings = []
        for index in range(requests):
            path = paths[index % len(paths)]
            start = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        results[page] = {"p50": p50, "p95": p95, "max": timings[-1]}
        verdict = "ok" if p95 < TARGET_MS else "SLOW"
        print(f"{page:<24}{len(timings):>9}{p50:>9.1f}{p95:>9.1f}{timings[-1]:>9.1f}  {verdict}")
    worst = max(result["p95"] for result in results.values())
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"worst p95: {worst:.1f} ms (target < {TARGET_MS} ms)")
    reader.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving-dir", type=Path, required=True)
    parser.add_argument("--people", type=int, default=50, help="persons sampled")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale-to", type=int, help="persons in a scaled-up copy")
    parser.add_argument(
        "--scaled-dir", type=Path, help="where the scaled copy goes (default: <dir>-scaled)"
    )
    args = parser.parse_args()

    if not args.scale_to:
        run_pages(args.serving_dir, args.people, args.requests, args.seed)
        return
    scaled_dir = args.scaled_dir or args.serving_dir.with_name(
        f"{args.serving_dir.name}-scaled-{args.scale_to}"
    )
    scale_serving_copy(args.serving_dir, scaled_dir, args.scale_to)
    scaled = run_pages(scaled_dir, args.people, args.requests, args.seed)
    print("\nbaseline (the unscaled copy, same process):")
    baseline = run_pages(args.serving_dir, args.people, args.requests, args.seed)
    print(f"\n{'page':<24}{'p95 scaled':>11}{'p95 base':>10}{'ratio':>7}")
    for page, result in scaled.items():
        base = baseline.get(page)
        if base:
            ratio = result["p95"] / base["p95"]
            print(f"{page:<24}{result['p95']:>11.1f}{base['p95']:>10.1f}{ratio:>7.1f}")


if __name__ == "__main__":
    main()
