"""Read what a suite validates, through the Warehouse adapter (DuckDB or Spark):
parameters, the SQL of the read, the frame, and the columns a `band` expectation
compares with the previous run. No engine connection here: SQL goes to the adapter, and
what differs between the engines' SQL is in `sql_helpers` (the template helpers)."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from orchestration.quality.suite_files import BandSpec, Sql, Suite, Target, render_template
from orchestration.warehouse import Warehouse

# Lineage columns of file ingestion, with a type both engines' SQL knows.
LINEAGE_COLUMNS = {"_file": "string", "_row_number": "bigint", "_loaded_at": "timestamp"}
# The sample key column added (and dropped again) when a read is sampled.
SAMPLE_KEY = "_cdp_sample_key"
# The row hash a sample is ordered by: the same rows give the same sample, run after run.
_ROW_HASH = {"duckdb": "hash(_read)", "spark": "xxhash64(*)"}


def sql_helpers(warehouse: Warehouse) -> dict[str, Callable[..., Any]]:
    """The functions the suites' SQL templates call (suite_files.TEMPLATE_HELPERS), in the
    SQL of this warehouse's engine."""

    def columns(
        relation: str, matching: str | None = None, exclude: Sequence[str] = ()
    ) -> list[str]:
        """The relation's column names in table order (those whose name matches the
        regex `matching`, less `exclude`): discovery through the adapter, so templates
        need neither DuckDB's `columns(...)` nor information_schema."""
        return [
            name
            for name in warehouse.columns(relation)
            if (matching is None or re.search(matching, name)) and name not in exclude
        ]

    def ident(name: str) -> Sql:
        return Sql(warehouse.quote(name))

    def hours_between(start: str, end: str) -> Sql:
        """Hours from the timestamp `start` to `end` (SQL expressions), fractional."""
        if warehouse.engine == "spark":
            return Sql(f"timestampdiff(SECOND, {start}, {end}) / 3600.0")
        return Sql(f"date_diff('second', {start}, {end}) / 3600.0")

    def array_head(array: str, count: int) -> Sql:
        """The first `count` elements of an array (a SQL expression)."""
        function = "slice" if warehouse.engine == "spark" else "array_slice"
        return Sql(f"{function}({array}, 1, {int(count)})")

    return {
        "columns": columns,
        "ident": ident,
        "hours_between": hours_between,
        "array_head": array_head,
    }


def raw_schema_with_lineage(warehouse: Warehouse, raw_schema: str) -> str:
    """The schema suites read raw tables from: `raw_schema` itself when its tables carry
    the lineage columns (file ingestion), else the session's temporary schema (`temp` on
    DuckDB, `global_temp` on Spark), holding one view per raw table with the missing
    lineage columns as NULLs (tables an EL tool landed). A suite joining raw rows to
    staged rows by lineage then finds no partner instead of failing to bind."""
    tables = warehouse.list_relations(raw_schema)
    missing = {
        table: [
            column
            for column in LINEAGE_COLUMNS
            if column not in {name.lower() for name in warehouse.columns(f"{raw_schema}.{table}")}
        ]
        for table in tables
    }
    if not any(missing.values()):
        return raw_schema
    view = "temp"
    for table, columns in missing.items():
        added = "".join(
            f", cast(null as {LINEAGE_COLUMNS[c]}) as {warehouse.quote(c)}" for c in columns
        )
        source = f"{warehouse.quote(raw_schema)}.{warehouse.quote(table)}"
        view = warehouse.create_temp_view(table, f"select *{added} from {source}")
    return view.rpartition(".")[0]


def resolve_parameters(
    warehouse: Warehouse, suite: Suite, target: Target, raw_schema: str
) -> dict[str, Any]:
    """The suite's parameters for one asset: declared values, the built-ins and the
    values of `parameter_queries` (first column, as a list)."""
    values: dict[str, Any] = {
        **target.parameters,
        "schema": target.asset_key[0],
        "name": target.asset_key[-1],
        "raw_schema": raw_schema_with_lineage(warehouse, raw_schema),
    }
    helpers = sql_helpers(warehouse)
    for name, query in suite.spec.parameter_queries.items():
        table = warehouse.read_query(render_template(query, values, helpers))
        values[name] = table.column(0).to_pylist() if table.num_columns else []
    return values


def base_sql(suite: Suite, values: Mapping[str, Any], warehouse: Warehouse) -> str:
    """The suite's read as one SELECT, placeholders filled, before any sampling."""
    read = suite.spec.read
    helpers = sql_helpers(warehouse)
    if read.query is not None:
        return render_template(read.query, values, helpers)
    assert read.table is not None
    columns = ", ".join(warehouse.quote(c) for c in read.columns) if read.columns else "*"
    sql = f"select {columns} from {render_template(read.table, values, helpers)}"
    if read.where:
        sql += f" where {render_template(read.where, values, helpers)}"
    return sql


def read_sql(suite: Suite, values: Mapping[str, Any], warehouse: Warehouse) -> str:
    """The SELECT producing the frame, with a sample when `sample_rows` is set: the rows
    with the smallest hash of the whole row (repeatable: the same data gives the same
    sample; the engines' hashes differ, so DuckDB and Spark sample different rows). The
    sample has an extra column, SAMPLE_KEY, which `read_frame` drops."""
    sql = base_sql(suite, values, warehouse)
    sample_rows = suite.spec.read.sample_rows
    if sample_rows is None:
        return sql
    return (
        f"select * from (select *, {_ROW_HASH[warehouse.engine]} as {SAMPLE_KEY} "
        f"from ({sql}) as _read) as _sampled order by {SAMPLE_KEY} limit {int(sample_rows)}"
    )


@dataclass(frozen=True)
class Frame:
    """What GX validates: `data` is the engine's frame (pandas on DuckDB, a Spark
    DataFrame on Spark); `preview` the same rows in pandas when there are few (a metric
    frame: kept whole as evidence), else None."""

    data: Any
    sql: str
    # Rows validated, and rows of the relation before sampling.
    rows: int
    total_rows: int
    columns: tuple[str, ...]
    preview: pd.DataFrame | None

    @property
    def sampled(self) -> bool:
        return self.total_rows > self.rows

    @property
    def is_spark(self) -> bool:
        return not isinstance(self.data, pd.DataFrame)


# Frames up to this many rows and columns are aggregates: kept whole in the details.
METRIC_FRAME_ROWS = 20


def make_frame(data: Any, sql: str, total_rows: int | None = None) -> Frame:
    """A Frame of an engine frame (pandas or Spark), counted and previewed once."""
    if isinstance(data, pd.DataFrame):
        rows, columns = len(data), tuple(data.columns)
        preview = data if rows <= METRIC_FRAME_ROWS else None
    else:
        data = data.cache()
        rows, columns = int(data.count()), tuple(data.columns)
        preview = data.toPandas() if rows <= METRIC_FRAME_ROWS else None
    if len(columns) > METRIC_FRAME_ROWS:
        preview = None
    return Frame(
        data=data,
        sql=sql,
        rows=rows,
        total_rows=rows if total_rows is None else total_rows,
        columns=columns,
        preview=preview,
    )


def read_frame(warehouse: Warehouse, suite: Suite, values: Mapping[str, Any]) -> Frame:
    sql = read_sql(suite, values, warehouse)
    data = warehouse.dataframe(sql)
    sample_rows = suite.spec.read.sample_rows
    if sample_rows is not None:
        if isinstance(data, pd.DataFrame):
            data = data.drop(columns=[SAMPLE_KEY])
        else:
            data = data.drop(SAMPLE_KEY)
    frame = make_frame(data, sql)
    if sample_rows is not None and frame.rows >= sample_rows:
        counted = f"select count(*) as n from ({base_sql(suite, values, warehouse)}) as _read"
        total = warehouse.read_query(counted).column(0)[0].as_py()
        frame = dataclasses.replace(frame, total_rows=int(total))
    return frame


def with_band_columns(warehouse: Warehouse, frame: Frame, data: pd.DataFrame) -> Frame:
    """`frame` with its rows replaced by `data` (pandas: a band added its ratio columns),
    as an engine frame of the same kind again."""
    if not frame.is_spark:
        return make_frame(data, frame.sql, frame.total_rows)
    import pyarrow as pa

    to_dataframe = getattr(warehouse, "to_dataframe")  # noqa: B009 - Spark only
    # from_pandas turns NaN into NULL: Spark compares NaN as larger than any number.
    spark_frame = to_dataframe(pa.Table.from_pandas(data, preserve_index=False))
    return make_frame(spark_frame, frame.sql, frame.total_rows)


def frame_pandas(frame: Frame) -> pd.DataFrame:
    """The frame's rows in pandas (bands read their few rows this way)."""
    if frame.preview is not None:
        return frame.preview
    return frame.data if not frame.is_spark else frame.data.toPandas()


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
