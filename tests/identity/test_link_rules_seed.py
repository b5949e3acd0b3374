"""The identity link rules seed loads as the CSV says on DuckDB (on Spark: the parity
module, tests/spark/test_parity.py, reads it from the Spark demo build), and its data test
catches a rule that names a column its source does not have.

Why: on Spark, dbt-spark's session cursor rendered every empty cell of the seed as the
text 'None', so the rules' empty conditions named a column 'None' and most rules linked
nothing (827 persons on the demo instead of 417). The project's spark__load_csv_rows
(dbt_project/macros/portability/load_csv_rows.sql) loads an empty cell as null; the seed's
identity_rule_columns_exposed test fails the build if a rule ever names an unknown column.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_inprocess import invoke_dbt
from orchestration.settings import DBT_PROJECT_DIR

SEED_CSV = DBT_PROJECT_DIR / "seeds" / "identity" / "identity_link_rules.csv"
RULES = "intermediate.identity_link_rules"


def csv_rules() -> list[dict[str, object]]:
    """The seed as written: an empty cell is null, the tier an integer."""
    with SEED_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return sorted(
        (
            {
                column: (int(value) if column == "tier" else value or None)
                for column, value in row.items()
            }
            for row in rows
        ),
        key=lambda row: str(row["rule"]),
    )


def dbt_args(command: str, work_dir: Path) -> list[str]:
    return [
        command,
        "--select",
        "identity_link_rules",
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--quiet",
    ]


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Iterator[Path]:
    """A temp DuckDB file named through CDP_WAREHOUSE, as dbt reads it."""
    path = tmp_path / "warehouse.duckdb"
    previous = os.environ.get("CDP_WAREHOUSE")
    os.environ["CDP_WAREHOUSE"] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("CDP_WAREHOUSE", None)
        else:
            os.environ["CDP_WAREHOUSE"] = previous


def test_the_rules_seed_holds_the_csv_and_fails_its_test_on_a_rule_naming_none(
    duckdb_path: Path, tmp_path: Path
) -> None:
    assert invoke_dbt(dbt_args("build", tmp_path)).success
    with duckdb.connect(str(duckdb_path)) as con:
        cursor = con.execute(f"select * from {RULES}")
        columns = [column[0] for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        assert sorted(rows, key=lambda row: str(row["rule"])) == csv_rules()
        # What dbt-spark's session loader made of the empty cells.
        con.execute(
            f"update {RULES} set condition_column = coalesce(condition_column, 'None'),"
            " requires_null_column = coalesce(requires_null_column, 'None')"
        )
    result = invoke_dbt(dbt_args("test", tmp_path))
    assert not result.success
    failed = {
        node.node.name for node in result.result.results if str(node.status) in {"fail", "error"}
    }
    assert failed == {"identity_rule_columns_exposed_identity_link_rules_"}
