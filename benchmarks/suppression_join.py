"""The suppression check's join at 10k and 100k persons: the old nested-loop form
against the equi-join the dbt models use (issue 14, part 1).

The old check (activation/enforcement.py, before the dbt move) asked, per payload row,
`exists (select 1 from suppression where identifier_hash in (sha256(email), sha256(phone)))`:
an `in` list of two expressions in a correlated subquery, which DuckDB plans as a
nested-loop join. int_audience_candidates and the no_consent_or_erasure_violations
test unpivot the person's email and phone into ('<type>:<value>') hashes and equi-join
them to suppression_list.identifier_hash (a hash join). This script builds the same
shapes in a private in-memory DuckDB, checks that both forms flag the same persons and
prints their times.

    uv run python benchmarks/suppression_join.py 10000 100000
"""

from __future__ import annotations

import sys
import time

import duckdb

OLD = """
select count(*) from payload
where exists (
    select 1 from suppression
    where suppression.identifier_hash in (
        sha256(concat('email', ':', payload.email)),
        sha256(concat('phone', ':', payload.phone))
    )
)
"""

NEW = """
with payload_hashes as (
    select person_id, sha256(concat('email', ':', email)) as identifier_hash
    from payload where email is not null
    union all
    select person_id, sha256(concat('phone', ':', phone)) as identifier_hash
    from payload where phone is not null
)
select count(distinct payload_hashes.person_id)
from payload_hashes
inner join suppression on payload_hashes.identifier_hash = suppression.identifier_hash
"""


def build(con: duckdb.DuckDBPyConnection, persons: int) -> None:
    con.execute(f"""
        create or replace table payload as
        select
            'p_' || i as person_id,
            case when i % 7 != 0 then 'user' || i || '@example.com' end as email,
            case when i % 3 = 0 then '+4470000' || lpad(cast(i as varchar), 7, '0') end as phone
        from range({persons}) as t(i)
    """)
    # 2% of persons suppressed, half by email, half by phone (plus as many unrelated hashes).
    con.execute("""
        create or replace table suppression as
        select sha256(concat('email', ':', email)) as identifier_hash
        from payload where email is not null and hash(person_id) % 100 = 0
        union all
        select sha256(concat('phone', ':', phone))
        from payload where phone is not null and hash(person_id) % 100 = 1
        union all
        select sha256('other:' || i) from range((select count(*) from payload) // 50) as t(i)
    """)


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, float]:
    started = time.perf_counter()
    (count,) = con.execute(sql).fetchone()
    return count, time.perf_counter() - started


def main(sizes: list[int]) -> None:
    con = duckdb.connect(":memory:")
    con.execute("set threads = 2")
    for persons in sizes:
        build(con, persons)
        suppressed = con.execute("select count(*) from suppression").fetchone()[0]
        old_count, old_s = timed(con, OLD)
        new_count, new_s = timed(con, NEW)
        assert old_count == new_count, (old_count, new_count)
        print(
            f"{persons:>9} persons, {suppressed} hashes: exists/in {old_s:7.2f} s, "
            f"equi-join {new_s:6.2f} s, {new_count} suppressed persons (equal)"
        )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10_000, 100_000])
