"""Peak RSS of a sessionization-shaped query under CDP_DUCKDB_MEMORY_LIMIT (issue 14).

20M events of 100k persons, `lag(ts) over (partition by person_id order by ts)`, on a
connection from `utc_connection` (which applies the limit) to a fresh file warehouse.

    uv run python benchmarks/memory_limit.py                        # default, 50% of RAM
    CDP_DUCKDB_MEMORY_LIMIT=1GB uv run python benchmarks/memory_limit.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from orchestration.warehouse.duckdb_warehouse import utc_connection


def main(events: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        con = utc_connection(Path(folder) / "cdp.duckdb")
        con.execute("set threads = 2")
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
        started = time.perf_counter()
        con.execute(f"""
            create table events as
            select (i % 100000) as person_id, (i * 7919) % 100000000 as ts,
                repeat('x', 40) || i as payload
            from range({events}) as t(i)
        """)
        con.execute("""
            create table sessionized as
            select *, ts - lag(ts) over (partition by person_id order by ts) as gap
            from events
        """)
        elapsed = time.perf_counter() - started
        con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{events} events, memory_limit {limit}: {elapsed:.1f} s, peak RSS {peak} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000_000)
