"""Read what a suite validates from DuckDB: parameters, the SQL of the read, the frame,
and the columns a `band` expectation compares with the previous run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from orchestration.quality.suite_files import BandSpec, Suite, Target, render_template

SAMPLE_SEED = 42


LINEAGE_COLUMNS = {"_file": "varchar", "_row_number": "bigint", "_loaded_at": "timestamp"}


def raw_schema_with_lineage(con: duckdb.DuckDBPyConnection, raw_schema: str) -> str:
    """The schema suites read raw tables from: `raw_schema` itself when its tables carry
    the lineage columns (file ingestion), else `temp`, holding one view per raw table with
    the missing lineage columns as NULLs (tables an EL tool landed). A suite joining raw
    rows to staged rows by lineage then finds no partner instead of failing to bind."""
    rows = con.execute(
        "select table_name, list(lower(column_name)) from information_schema.columns "
        "where table_schema = ? and table_catalog = current_database() group by table_name",
        [raw_schema],
    ).fetchall()
    missing = {table: [c for c in LINEAGE_COLUMNS if c not in columns] for table, columns in rows}
    if not any(missing.values()):
        return raw_schema
    for table, columns in missing.items():
        added = "".join(f", cast(null as {LINEAGE_COLUMNS[c]}) as {c}" for c in columns)
        con.execute(
            f"create or replace temp view {_quote(table)} as "
            f"select *{added} from {_quote(raw_schema)}.{_quote(table)}"
        )
    return "temp"


def resolve_parameters(
    con: duckdb.DuckDBPyConnection, suite: Suite, target: Target, raw_schema: str
) -> dict[str, Any]:
    """The suite's parameters for one asset: declared values, the built-ins and the
    values of `parameter_queries` (first column, as a list)."""
    values: dict[str, Any] = {
        **target.parameters,
        "schema": target.asset_key[0],
        "name": target.asset_key[-1],
        "raw_schema": raw_schema_with_lineage(con, raw_schema),
    }
    for name, query in suite.spec.parameter_queries.items():
        rows = con.execute(render_template(query, values)).fetchall()
        values[name] = [row[0] for row in rows]
    return values


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def base_sql(suite: Suite, values: Mapping[str, Any]) -> str:
    """The suite's read as one SELECT, placeholders filled, before any sampling."""
    read = suite.spec.read
    if read.query is not None:
        return render_template(read.query, values)
    assert read.table is not None
    columns = ", ".join(_quote(c) for c in read.columns) if read.columns else "*"
    sql = f"select {columns} from {render_template(read.table, values)}"
    if read.where:
        sql += f" where {render_template(read.where, values)}"
    return sql


def read_sql(suite: Suite, values: Mapping[str, Any]) -> str:
    """The SELECT producing the frame, with a reservoir sample when `sample_rows` is set
    (repeatable: the same data gives the same sample)."""
    sql = base_sql(suite, values)
    sample_rows = suite.spec.read.sample_rows
    if sample_rows is None:
        return sql
    return (
        f"select * from ({sql}) as _read "
        f"using sample reservoir({sample_rows} rows) repeatable ({SAMPLE_SEED})"
    )


@dataclass(frozen=True)
class Frame:
    data: pd.DataFrame
    sql: str
    # Rows of the relation before sampling (counted only when the sample filled up).
    total_rows: int

    @property
    def sampled(self) -> bool:
        return self.total_rows > len(self.data)


def read_frame(con: duckdb.DuckDBPyConnection, suite: Suite, values: Mapping[str, Any]) -> Frame:
    sql = read_sql(suite, values)
    data = con.execute(sql).df()
    total = len(data)
    sample_rows = suite.spec.read.sample_rows
    if sample_rows is not None and total >= sample_rows:
        counted = f"select count(*) from ({base_sql(suite, values)}) as _read"
        total = con.execute(counted).fetchall()[0][0]
    return Frame(data=data, sql=sql, total_rows=int(total))


def ratio_column(band: BandSpec) -> str:
    return f"{band.column}_ratio_to_previous"


def _band_keys(frame: pd.DataFrame, band: BandSpec) -> list[str]:
    if band.column not in frame.columns:
        raise KeyError(f"band column {band.column!r} is not in the frame")
    if band.by is None:
        if len(frame) > 1:
            raise ValueError(
                f"band on {band.column!r} without `by` needs a one-row frame, got {len(frame)}"
            )
        return ["_"] * len(frame)
    if band.by not in frame.columns:
        raise KeyError(f"band key column {band.by!r} is not in the frame")
    keys = [str(key) for key in frame[band.by]]
    if len(set(keys)) != len(keys):
        raise ValueError(f"band key column {band.by!r} repeats a value")
    return keys


def add_band_columns(
    frame: pd.DataFrame, band: BandSpec, previous: Mapping[str, float | None] | None
) -> tuple[pd.DataFrame, dict[str, float | None], dict[str, float | None]]:
    """Add `<column>_ratio_to_previous`: this run's value over the previous run's for the
    same key; empty (so not validated) when there is no previous value, it was 0, or it
    was below the band's `min_previous`.

    Returns the frame, this run's values by key ("_" without `by`: what the next run
    reads back as the baseline) and the ratios by key.
    """
    keys = _band_keys(frame, band)
    values = {key: _number(value) for key, value in zip(keys, frame[band.column], strict=True)}
    ratios: dict[str, float | None] = {}
    for key, value in values.items():
        before = (previous or {}).get(key)
        if band.min_previous is not None and before is not None and before < band.min_previous:
            before = None
        ratios[key] = value / before if value is not None and before else None
    frame = frame.copy()
    frame[ratio_column(band)] = [math.nan if ratios[key] is None else ratios[key] for key in keys]
    return frame, values, ratios


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)
