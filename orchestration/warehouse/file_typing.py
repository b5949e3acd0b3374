"""Reading and typing raw files in DuckDB SQL, for ingestion (orchestration/ingestion).

Ingestion reads every value as text, then types each contract column here with DuckDB
SQL, so that exactly the values that fail are quarantined with a reason. That SQL is
DuckDB's on every target: on DuckDB it runs on the warehouse's own connection (inside
the file's transaction), on Spark on a private in-memory DuckDB; the typed Arrow rows
then go to the warehouse through the Warehouse adapter. Parquet files are read here too
(DuckDB reads them natively, values cast to text).

Source columns are named `c<i>` by position (CSV, Parquet) or are fields of the JSON
line `_line`; a chunk (an Arrow table) has `_row_number` and those columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from orchestration.warehouse.base import Warehouse
from orchestration.warehouse.duckdb_warehouse import (
    DUCKDB_ERRORS,
    DuckDBConnection,
    DuckDBWarehouse,
    memory_connection,
)

_TRUE = "('true', 't', 'yes', 'y', '1')"
_FALSE = "('false', 'f', 'no', 'n', '0')"
# ISO-8601 extended calendar dates and times only (offset Z, +hh, +hhmm or +hh:mm up to
# 18 hours, or ' UTC' as BigQuery's exports write it; fractions up to nanoseconds):
# DuckDB's cast alone also accepts words such as
# 'infinity', zone names and offsets of a day or more.
_ISO_DATE = (
    r"'^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
    r"\s*(Z|UTC|[+-](0\d|1[0-8])(:?[0-5]\d)?)?\s*$'"
)

# The expression rebuilding a JSON-lines record: the line itself.
JSONL_RECORD = "_line"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def typed_expression(source: str, kind: str) -> str:
    """SQL turning the text expression `source` into the contract type (NULL if it fails)."""
    value = f"nullif(trim({source}), '')"
    if kind == "string":
        return f"nullif({source}, '')"
    if kind == "integer":
        number = f"try_cast({value} as decimal(38, 10))"
        return f"case when {number} = trunc({number}) then try_cast({number} as bigint) end"
    if kind == "decimal":
        return f"try_cast({value} as decimal(38, 10))"
    if kind == "boolean":
        return (
            f"case when lower({value}) in {_TRUE} then true "
            f"when lower({value}) in {_FALSE} then false end"
        )
    if kind == "timestamp":
        return (
            f"case when regexp_matches({value}, {_ISO_DATE}) "
            f"then try_cast({value} as timestamptz) at time zone 'UTC' end"
        )
    if kind == "date":
        return (
            f"case when regexp_matches({value}, {_ISO_DATE}) then coalesce("
            f"try_cast({value} as date), "
            f"cast(try_cast({value} as timestamptz) at time zone 'UTC' as date)) end"
        )
    if kind == "json":
        return f"case when json_valid({value}) then {value} end"
    raise ValueError(f"unknown contract type {kind!r}")


_TYPE_NAMES = {
    "integer": "not an integer",
    "decimal": "not a number",
    "boolean": "not a boolean",
    "timestamp": "not an ISO-8601 timestamp",
    "date": "not an ISO-8601 date",
    "json": "malformed JSON",
}


def error_expression(column: str, source: str, kind: str, typed: str) -> str | None:
    """SQL yielding a reason when a present value fails to type, else NULL."""
    if kind == "string":
        return None
    value = f"nullif(trim({source}), '')"
    message = quote_literal(f"{column}: {_TYPE_NAMES[kind]} ")
    shown = f"'(' || left({value}, 60) || ')'"
    return f"case when {value} is not null and {typed} is null then {message} || {shown} end"


def positional_source(index: int) -> str:
    """The source expression of the file's column at `index` (CSV, Parquet)."""
    return f"c{index}"


def json_field(key: str) -> str:
    """The source expression of a top-level field of a JSON line (as text)."""
    return f"(_object ->> {quote_literal('$.' + quote_identifier(key))})"


def record_expression(names: Sequence[str]) -> str:
    """The expression rebuilding a CSV or Parquet record as JSON text, by source name."""
    return (
        "json_object("
        + ", ".join(
            f"{quote_literal(name)}, {positional_source(index)}" for index, name in enumerate(names)
        )
        + ")::varchar"
    )


def typing_query(
    columns: Mapping[str, str],
    key: Collection[str],
    sources: Mapping[str, list[str]],
    record_sql: str,
    jsonl: bool,
) -> str:
    """SELECT over `_chunk` giving the typed `columns` (name -> contract type), `_reason`
    and `_record`; `sources` are each column's source expressions by priority, `key` the
    columns that must be present."""
    inner = ["_row_number", f"{record_sql} as _record"]
    outer = ["_row_number", "_record"]
    reasons = []
    source_relation = "_chunk"
    if jsonl:
        # json_type() raises on invalid text, so the shape is settled once, guarded.
        # Fields are read from `_object`, which is always valid JSON, because DuckDB may
        # evaluate an extraction before the CASE that guards it.
        source_relation = (
            "(select *, case when _json_type = 'OBJECT' then _line else '{}' end as _object "
            "from (select *, case when json_valid(_line) then json_type(_line) end as _json_type "
            "from _chunk))"
        )
        inner.append(
            "case when _json_type is null then 'malformed JSON line' "
            "when _json_type <> 'OBJECT' then 'record is not a JSON object' "
            # DuckDB would read the first of two equal keys, Python's json the last.
            "when len(json_keys(_object)) <> len(list_distinct(json_keys(_object))) "
            "then 'duplicate key in JSON object' end as _shape"
        )

    for position, (column, kind) in enumerate(columns.items()):
        expressions = sources.get(column) or []
        if not expressions:
            source = "null::varchar"
        elif len(expressions) == 1:
            source = expressions[0]
        else:
            source = "coalesce(" + ", ".join(f"nullif({e}, '')" for e in expressions) + ")"
        alias = f"s{position}"
        inner.append(f"{source} as {alias}")
        typed = typed_expression(alias, kind)
        outer.append(f"{typed} as {quote_identifier(column)}")
        error = error_expression(column, alias, kind, typed)
        if error:
            reasons.append(error)
        if column in key:
            # An untypeable key already has its type error; this catches the absent ones.
            message = quote_literal("missing key: " + column)
            reasons.append(f"case when nullif(trim({alias}), '') is null then {message} end")
    reason_sql = "nullif(concat_ws('; ', " + ", ".join(reasons) + "), '')" if reasons else "null"
    if jsonl:
        # A line that is not a JSON object has no fields: its shape is the whole reason.
        reason_sql = f"coalesce(_shape, {reason_sql})"
    outer.append(f"{reason_sql} as _reason")
    return f"select {', '.join(outer)} from (select {', '.join(inner)} from {source_relation})"


class FileTyping:
    """A DuckDB connection that reads Parquet files and types chunks of text values."""

    # What its statements raise on bad data or an unreadable file.
    errors: tuple[type[BaseException], ...] = DUCKDB_ERRORS

    def __init__(self, connection: DuckDBConnection) -> None:
        self.connection = connection

    def parquet_columns(self, path: Path) -> list[tuple[str, str]]:
        """(name, DuckDB type) of the file's columns; raises `errors` when unreadable."""
        rows = self.connection.execute(
            "describe select * from read_parquet(?)", [str(path)]
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def parquet_row_count(self, path: Path) -> int:
        """Rows the file's own metadata declares (to prove every row was read)."""
        rows = self.connection.execute(
            "select coalesce(sum(num_rows), 0) from parquet_file_metadata(?)", [str(path)]
        ).fetchall()
        return int(rows[0][0])

    def parquet_chunks(
        self, path: Path, columns: Sequence[tuple[str, str]], chunk_rows: int
    ) -> Iterator[pa.Table]:
        """The file's rows in chunks: `_row_number` (1-based) and `c<i>` for each of its
        `columns` (parquet_columns), cast to text (nested values as JSON text, empty text
        as NULL)."""
        selects = ["file_row_number + 1 as _row_number"]
        for index, (name, kind) in enumerate(columns):
            quoted = quote_identifier(name)
            nested = kind.startswith(("STRUCT", "MAP")) or kind.endswith("]") or kind == "JSON"
            text = f"to_json({quoted})::varchar" if nested else f"{quoted}::varchar"
            selects.append(f"nullif({text}, '') as {positional_source(index)}")
        query = f"select {', '.join(selects)} from read_parquet(?, file_row_number = true)"
        # Its own cursor: the loader writes on the connection between chunks, which would
        # end a result still streaming on the same connection.
        cursor = self.connection.cursor()
        try:
            reader = cursor.sql(query, params=[str(path)]).to_arrow_reader(chunk_rows)
            for batch in reader:
                yield pa.Table.from_batches([batch])
        finally:
            cursor.close()

    def jsonl_keys(self, chunk: pa.Table) -> set[str]:
        """Top-level keys seen in a chunk of JSON lines (`_line`), for column reporting."""
        con = self.connection
        con.register("_keys_chunk", chunk)
        try:
            rows = con.execute(
                "select distinct unnest(json_keys(_line)) from _keys_chunk "
                "where case when json_valid(_line) then json_type(_line) = 'OBJECT' end"
            ).fetchall()
        finally:
            con.unregister("_keys_chunk")
        return {row[0] for row in rows}

    def type_chunk(
        self,
        chunk: pa.Table,
        query: str,
        columns: Sequence[str],
        table_name: str,
        file: str,
        loaded_at: datetime,
    ) -> tuple[pa.Table, pa.Table]:
        """Run `typing_query` over the chunk: (the rows that typed cleanly: `columns`,
        `_file`, `_row_number`, `_loaded_at`; the others as quarantine rows: table_name,
        `_file`, `_row_number`, record, reason, `_loaded_at`), both by row number."""
        con = self.connection
        con.register("_chunk", chunk)
        con.execute(f"create or replace temp table _typed as {query}")
        con.unregister("_chunk")
        selected = ", ".join(quote_identifier(name) for name in columns)
        rows = con.sql(
            f"select {selected}, ?::varchar as _file, _row_number, ?::timestamp as _loaded_at "
            "from _typed where _reason is null order by _row_number",
            params=[file, loaded_at],
        ).to_arrow_table()
        quarantined = con.sql(
            "select ?::varchar as table_name, ?::varchar as _file, _row_number, "
            "_record as record, _reason as reason, ?::timestamp as _loaded_at "
            "from _typed where _reason is not null order by _row_number",
            params=[table_name, file, loaded_at],
        ).to_arrow_table()
        return rows, quarantined


@contextlib.contextmanager
def typing_connection(warehouse: Warehouse) -> Iterator[FileTyping]:
    """Where the typing SQL runs: the DuckDB warehouse's own connection, else a private
    in-memory DuckDB (UTC), since that SQL is DuckDB's on every target."""
    if isinstance(warehouse, DuckDBWarehouse):
        yield FileTyping(warehouse.connection)
        return
    con = memory_connection()
    try:
        yield FileTyping(con)
    finally:
        con.close()
