"""Comparing relations of two warehouses: the same rows in any order, every column equal,
floating-point values within a relative tolerance."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa

RELATIVE_TOLERANCE = 1e-9

Row = dict[str, object]


@dataclass
class Rows:
    """A relation's rows with engine-neutral values, and which columns are approximate."""

    columns: list[str]
    approximate: set[str]
    rows: list[Row]


def normalise(table: pa.Table, ignore: set[str] = frozenset()) -> Rows:  # type: ignore[assignment]
    """Timestamps as naive UTC, integers as int64, decimals and floats as float (compared
    within the tolerance); columns in name order (engines may order `select *` apart)."""
    names = sorted(name for name in table.column_names if name not in ignore)
    approximate: set[str] = set()
    columns = {}
    for name in names:
        column = table.column(name)
        kind = column.type
        if pa.types.is_timestamp(kind):
            if kind.tz is not None:
                column = column.cast(pa.timestamp("us", tz="UTC"))
                column = pa.chunked_array(
                    [chunk.cast(pa.int64()) for chunk in column.chunks], pa.int64()
                ).cast(pa.timestamp("us"))
            else:
                column = column.cast(pa.timestamp("us"))
        elif pa.types.is_decimal(kind) or pa.types.is_floating(kind):
            column = column.cast(pa.float64())
            approximate.add(name)
        elif pa.types.is_integer(kind):
            column = column.cast(pa.int64())
        columns[name] = column.to_pylist()
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    return Rows(names, approximate, rows)


def _sort_key(value: object) -> tuple[int, str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (0, "")
    return (1, f"{value:.6g}" if isinstance(value, float) else repr(value))


def _equal(left: object, right: object) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    return left == right


@dataclass
class Difference:
    relation: str
    message: str
    pairs: list[tuple[Row, Row]]

    def __str__(self) -> str:
        shown = "\n".join(f"  duckdb: {left}\n  spark:  {right}" for left, right in self.pairs[:5])
        return f"{self.relation}: {self.message}\n{shown}"


def compare(relation: str, duckdb_rows: Rows, spark_rows: Rows) -> Difference | None:
    """None when both hold the same rows (any order), else the first differing rows."""
    if duckdb_rows.columns != spark_rows.columns:
        return Difference(
            relation,
            f"columns differ: duckdb {duckdb_rows.columns} vs spark {spark_rows.columns}",
            [],
        )
    if len(duckdb_rows.rows) != len(spark_rows.rows):
        return Difference(
            relation,
            f"{len(duckdb_rows.rows)} rows on DuckDB, {len(spark_rows.rows)} on Spark",
            [],
        )
    approximate = duckdb_rows.approximate | spark_rows.approximate
    # Exact columns first: float noise must not reorder otherwise equal rows.
    order = [c for c in duckdb_rows.columns if c not in approximate] + sorted(approximate)

    def ordered(rows: list[Row]) -> list[Row]:
        return sorted(rows, key=lambda row: [_sort_key(row[name]) for name in order])

    pairs = [
        (left, right)
        for left, right in zip(ordered(duckdb_rows.rows), ordered(spark_rows.rows), strict=True)
        if not all(_equal(left[name], right[name]) for name in order)
    ]
    if pairs:
        return Difference(relation, f"{len(pairs)} of {len(duckdb_rows.rows)} rows differ", pairs)
    return None
