"""The DuckDB engine: `DuckDBWarehouse` (a DuckDB file, or an open connection to one) and
the connections every DuckDB user of the project opens (UTC, lock retries).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.settings import duckdb_memory_limit
from orchestration.warehouse.base import Warehouse, WriteMode, _split

# An open DuckDB connection, for callers that hand one around without importing duckdb.
DuckDBConnection = duckdb.DuckDBPyConnection

# DuckDB allows one writing process per file; a BI tool or a second run holding the
# file is the usual cause of a lock error, so the message says so.
_LOCK_RETRIES = 5


class WarehouseLockedError(RuntimeError):
    """The DuckDB file is held by another process."""


def duckdb_type(arrow_type: pa.DataType) -> str:
    """DuckDB's SQL type for an Arrow type used by the project's tables."""
    if pa.types.is_list(arrow_type):
        return duckdb_type(arrow_type.value_type) + "[]"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    simple = {
        pa.string(): "varchar",
        pa.large_string(): "varchar",
        pa.int64(): "bigint",
        pa.int32(): "integer",
        pa.float64(): "double",
        pa.bool_(): "boolean",
        pa.date32(): "date",
    }
    if arrow_type in simple:
        return simple[arrow_type]
    raise TypeError(f"no DuckDB type for Arrow type {arrow_type}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_relation(relation: str) -> str:
    return ".".join(_quote(part) for part in _split(relation))


class DuckDBWarehouse(Warehouse):
    """A DuckDB file (or an open connection to one), session time zone UTC."""

    engine = "duckdb"

    def __init__(self, connection: DuckDBConnection, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned
        connection.execute("set TimeZone = 'UTC'")

    @classmethod
    def open(cls, path: Path, read_only: bool = False) -> DuckDBWarehouse:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        return cls(connect_duckdb(path, read_only))

    def splink_db_api(self):  # type: ignore[no-untyped-def]
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.connection)

    def read_arrow(
        self,
        relation: str,
        columns: Sequence[str] | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pa.Table:
        selected = ", ".join(_quote(c) for c in columns) if columns else "*"
        conditions, parameters = [], []
        for column, value in (where or {}).items():
            if isinstance(value, list | tuple):
                marks = ", ".join("?" for _ in value)
                conditions.append(f"{_quote(column)} in ({marks})" if value else "false")
                parameters.extend(value)
            else:
                conditions.append(f"{_quote(column)} = ?")
                parameters.append(value)
        sql = f"select {selected} from {_duckdb_relation(relation)}"
        if conditions:
            sql += " where " + " and ".join(conditions)
        return self.connection.sql(sql, params=parameters).to_arrow_table()

    def write_arrow(self, relation: str, table: pa.Table, mode: WriteMode = "replace") -> None:
        target = _duckdb_relation(relation)
        self.connection.register("_cdp_arrow", table)
        try:
            if mode == "append":
                if table.num_rows:
                    self.connection.execute(
                        f"insert into {target} by name select * from _cdp_arrow"
                    )
            else:
                self.create_schema(_split(relation)[0])
                self.connection.execute(
                    f"create or replace table {target} as select * from _cdp_arrow"
                )
        finally:
            self.connection.unregister("_cdp_arrow")

    def relation_exists(self, relation: str) -> bool:
        schema, name = _split(relation)
        rows = self.connection.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()
        views = self.connection.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
            [schema, name],
        ).fetchall()
        return rows[0][0] + views[0][0] > 0

    def columns(self, relation: str) -> dict[str, str]:
        rows = self.connection.execute(
            f"describe select * from {_duckdb_relation(relation)}"
        ).fetchall()
        return {row[0]: str(row[1]).lower() for row in rows}

    def row_count(self, relation: str) -> int:
        rows = self.connection.execute(
            f"select count(*) from {_duckdb_relation(relation)}"
        ).fetchall()
        return int(rows[0][0])

    def create_schema(self, schema: str) -> None:
        self.connection.execute(f"create schema if not exists {_quote(schema)}")

    def create_table(self, relation: str, schema: pa.Schema) -> None:
        columns = ", ".join(f"{_quote(f.name)} {duckdb_type(f.type)}" for f in schema)
        self.connection.execute(
            f"create table if not exists {_duckdb_relation(relation)} ({columns})"
        )

    def add_columns(self, relation: str, schema: pa.Schema) -> None:
        for f in schema:
            self.connection.execute(
                f"alter table {_duckdb_relation(relation)} "
                f"add column if not exists {_quote(f.name)} {duckdb_type(f.type)}"
            )

    def read_query(self, sql: str) -> pa.Table:
        return self.connection.sql(sql).to_arrow_table()

    def dataframe(self, sql: str):  # type: ignore[no-untyped-def]
        # DuckDB's own conversion (decimals as floats), as GX's pandas engine expects.
        return self.connection.execute(sql).df()

    def list_relations(self, schema: str) -> list[str]:
        rows = self.connection.execute(
            "select table_name from duckdb_tables() where schema_name = ? "
            "and database_name = current_database() "
            "union select view_name from duckdb_views() where schema_name = ? "
            "and database_name = current_database() and not internal "
            "order by 1",
            [schema, schema],
        ).fetchall()
        return [row[0] for row in rows]

    def create_temp_view(self, name: str, sql: str) -> str:
        self.connection.execute(f"create or replace temp view {_quote(name)} as {sql}")
        return f"temp.{name}"

    def quote(self, identifier: str) -> str:
        return _quote(identifier)

    @property
    def query_errors(self) -> tuple[type[BaseException], ...]:
        return DUCKDB_ERRORS

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.connection.execute("begin transaction")
        try:
            yield
        except BaseException:
            self.connection.execute("rollback")
            raise
        self.connection.execute("commit")

    def checkpoint(self) -> None:
        self.connection.execute("checkpoint")

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def connect_duckdb(path: Path, read_only: bool = False) -> DuckDBConnection:
    """Open the file, retrying while another process holds its lock."""
    for attempt in range(_LOCK_RETRIES):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or attempt == _LOCK_RETRIES - 1:
                raise WarehouseLockedError(
                    f"Cannot open the warehouse {path}: {error}. Another process (a BI "
                    "tool, the DuckDB CLI or another run) holds it; close it or read the "
                    "serving copy instead."
                ) from error
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def utc_connection(path: Path, read_only: bool = False, *, retry: bool = True) -> DuckDBConnection:
    """A connection to the file with the session settings the project relies on: a
    timestamp without an offset is UTC (contract), never the machine's zone. The folder is
    created unless `read_only`; `retry`: wait for another process's lock (connect_duckdb)."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = (
        connect_duckdb(path, read_only) if retry else duckdb.connect(str(path), read_only=read_only)
    )
    try:
        con.execute("set TimeZone = 'UTC'")
        _bound_memory(con)
    except BaseException:
        con.close()
        raise
    return con


def memory_connection() -> DuckDBConnection:
    """A private in-memory DuckDB, session time zone UTC, memory bounded."""
    con = duckdb.connect(":memory:")
    con.execute("set TimeZone = 'UTC'")
    _bound_memory(con)
    return con


def _bound_memory(con: DuckDBConnection) -> None:
    """The memory limit dbt's profile sets (CDP_DUCKDB_MEMORY_LIMIT, settings.py), as a
    SET: a different `config=` at connect would clash with dbt's connection to the same
    file in this process. Spilling goes to DuckDB's default temp folder, `<file>.tmp`
    beside the warehouse (in-memory databases: `.tmp` in the working directory)."""
    con.execute("set memory_limit = ?", [duckdb_memory_limit()])


# What DuckDB raises when a statement cannot run (bad SQL or data, an unreadable file).
DUCKDB_ERRORS: tuple[type[BaseException], ...] = (duckdb.Error,)
