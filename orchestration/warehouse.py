"""The warehouse as Python sees it: read and write Arrow tables by relation name.

One small interface with two engines, so the Python steps (file ingestion, model
scores, tests) do not care where the tables live: `DuckDBWarehouse` (a DuckDB file, the
default) and `SparkWarehouse` (the embedded or a remote SparkSession). Relations are
`schema.name` strings, as dbt names them. Types travel as Arrow types; each engine maps
them to its own SQL types here and nowhere else.
"""

from __future__ import annotations

import abc
import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from orchestration.settings import Settings

WriteMode = Literal["replace", "append"]

# DuckDB allows one writing process per file; a BI tool or a second run holding the
# file is the usual cause of a lock error, so the message says so.
_LOCK_RETRIES = 5


class WarehouseLockedError(RuntimeError):
    """The DuckDB file is held by another process."""


def _split(relation: str) -> tuple[str, str]:
    schema, _, name = relation.rpartition(".")
    if not schema or not name:
        raise ValueError(f"relation {relation!r} is not 'schema.name'")
    return schema, name


class Warehouse(abc.ABC):
    """What Python needs from the warehouse; SQL stays inside the implementations."""

    engine: str

    @abc.abstractmethod
    def read_arrow(
        self,
        relation: str,
        columns: Sequence[str] | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pa.Table:
        """The rows of a relation (all columns, or `columns` in that order), optionally
        only those whose columns equal the values of `where` (a list or tuple value means
        "one of": SQL `in`; an empty one matches nothing). The filter runs in the engine."""

    @abc.abstractmethod
    def write_arrow(self, relation: str, table: pa.Table, mode: WriteMode = "replace") -> None:
        """Replace the relation by `table`, or append its rows (columns matched by name,
        cast to the relation's types)."""

    @abc.abstractmethod
    def relation_exists(self, relation: str) -> bool: ...

    @abc.abstractmethod
    def columns(self, relation: str) -> dict[str, str]:
        """Column name -> the engine's type name (lower case), in table order."""

    @abc.abstractmethod
    def row_count(self, relation: str) -> int: ...

    @abc.abstractmethod
    def create_schema(self, schema: str) -> None:
        """Create the schema if it does not exist."""

    @abc.abstractmethod
    def create_table(self, relation: str, schema: pa.Schema) -> None:
        """Create an empty table with these Arrow-typed columns, unless it exists."""

    @abc.abstractmethod
    def add_columns(self, relation: str, schema: pa.Schema) -> None:
        """Append these Arrow-typed columns (NULL in existing rows) to an existing table:
        a raw table created before the contract gained them."""

    @abc.abstractmethod
    def read_query(self, sql: str) -> pa.Table:
        """The rows of a SELECT in the engine's SQL (the GX suites' reads: portable SQL)."""

    @abc.abstractmethod
    def dataframe(self, sql: str):  # type: ignore[no-untyped-def]
        """The rows of a SELECT as the frame GX validates on this engine: a pandas
        DataFrame on DuckDB, a (lazy) Spark DataFrame on Spark."""

    @abc.abstractmethod
    def list_relations(self, schema: str) -> list[str]:
        """The names (no schema) of the tables and views in `schema`, sorted; [] when the
        schema does not exist."""

    @abc.abstractmethod
    def create_temp_view(self, name: str, sql: str) -> str:
        """A view of the SELECT that lives as long as this session; returns the relation
        to read it by (`temp.name` on DuckDB, `global_temp.name` on Spark)."""

    @abc.abstractmethod
    def quote(self, identifier: str) -> str:
        """An identifier quoted for the engine's SQL."""

    @property
    @abc.abstractmethod
    def query_errors(self) -> tuple[type[BaseException], ...]:
        """What a query that cannot run raises (bad SQL, a missing table or column)."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing where the engine has transactions (DuckDB); else a plain block,
        so writers put their commit marker (a ledger row) last."""
        yield

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine (the file lock, the JVM)."""

    def checkpoint(self) -> None:  # noqa: B027 - optional hook
        """Make what was written durable in the warehouse's own files (DuckDB: out of
        the write-ahead log into the database file, so a copy of the file alone holds
        every table). Nothing to do on Spark, whose tables are their files."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------- DuckDB


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

    def __init__(self, connection: duckdb.DuckDBPyConnection, owned: bool = True) -> None:
        self.connection = connection
        self._owned = owned
        connection.execute("set TimeZone = 'UTC'")

    @classmethod
    def open(cls, path: Path, read_only: bool = False) -> DuckDBWarehouse:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        return cls(connect_duckdb(path, read_only))

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
        return (duckdb.Error,)

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


def connect_duckdb(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
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


# ----------------------------------------------------------------------------- Spark


def spark_type(arrow_type: pa.DataType) -> str:
    """Spark's SQL type for an Arrow type used by the project's tables."""
    if pa.types.is_list(arrow_type):
        return f"array<{spark_type(arrow_type.value_type)}>"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        # Spark's `timestamp` is an instant shown in the session zone (UTC here).
        return "timestamp"
    simple = {
        pa.string(): "string",
        pa.large_string(): "string",
        pa.int64(): "bigint",
        pa.int32(): "int",
        pa.float64(): "double",
        pa.bool_(): "boolean",
        pa.date32(): "date",
    }
    if arrow_type in simple:
        return simple[arrow_type]
    raise TypeError(f"no Spark type for Arrow type {arrow_type}")


def _spark_relation(relation: str) -> str:
    return ".".join("`" + part.replace("`", "``") + "`" for part in _split(relation))


class SparkWarehouse(Warehouse):
    """A SparkSession's catalog (Hive metastore). Tables are Parquet, no transactions."""

    engine = "spark"

    def __init__(self, session: SparkSession, owned: bool = False) -> None:
        self.session = session
        self._owned = owned

    @classmethod
    def open(cls, settings: Settings | None = None) -> SparkWarehouse:
        """The process's embedded session (orchestration/spark.py), stopped on close so
        that the next JVM (a dbt subprocess) can open the Derby metastore."""
        from orchestration.spark import get_session

        return cls(get_session(settings), owned=True)

    def _frame(self, table: pa.Table, types: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        """A DataFrame of the Arrow rows, cast to `types` (name -> Spark type) or to
        the Spark types of the Arrow schema (timestamps become zone-aware)."""
        from pyspark.sql import functions as F

        wanted = types or {field.name: spark_type(field.type) for field in table.schema}
        frame = self.session.createDataFrame(table)
        return frame.select(
            *[
                (F.col(f"`{name}`") if name in table.column_names else F.lit(None))
                .cast(kind)
                .alias(name)
                for name, kind in wanted.items()
            ]
        )

    def read_arrow(
        self,
        relation: str,
        columns: Sequence[str] | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pa.Table:
        from pyspark.sql import functions as F

        frame = self.session.table(_spark_relation(relation))
        for column, value in (where or {}).items():
            if isinstance(value, list | tuple):
                frame = frame.filter(F.col(f"`{column}`").isin(list(value)))
            else:
                frame = frame.filter(F.col(f"`{column}`") == F.lit(value))
        if columns:
            frame = frame.select(*[f"`{c}`" for c in columns])
        return frame.toArrow()

    def write_arrow(self, relation: str, table: pa.Table, mode: WriteMode = "replace") -> None:
        target = _spark_relation(relation)
        if mode == "append" and self.relation_exists(relation):
            if table.num_rows:
                frame = self._frame(table, self.columns(relation))
                frame.write.insertInto(target)
            return
        self.create_schema(_split(relation)[0])
        self._frame(table).write.mode("overwrite").format("parquet").saveAsTable(target)

    def relation_exists(self, relation: str) -> bool:
        schema, name = _split(relation)
        return bool(self.session.catalog.tableExists(f"{schema}.{name}"))

    def columns(self, relation: str) -> dict[str, str]:
        schema = self.session.table(_spark_relation(relation)).schema
        return {field.name: field.dataType.simpleString().lower() for field in schema}

    def row_count(self, relation: str) -> int:
        return int(self.session.table(_spark_relation(relation)).count())

    def create_schema(self, schema: str) -> None:
        self.session.sql(f"create schema if not exists `{schema}`")

    def create_table(self, relation: str, schema: pa.Schema) -> None:
        columns = ", ".join(f"`{f.name}` {spark_type(f.type)}" for f in schema)
        self.session.sql(
            f"create table if not exists {_spark_relation(relation)} ({columns}) using parquet"
        )

    def add_columns(self, relation: str, schema: pa.Schema) -> None:
        columns = ", ".join(f"`{f.name}` {spark_type(f.type)}" for f in schema)
        self.session.sql(f"alter table {_spark_relation(relation)} add columns ({columns})")

    def read_query(self, sql: str) -> pa.Table:
        return self.session.sql(sql).toArrow()

    def dataframe(self, sql: str):  # type: ignore[no-untyped-def]
        return self.session.sql(sql)

    def to_dataframe(self, table: pa.Table):  # type: ignore[no-untyped-def]
        """A Spark DataFrame of Arrow rows (NULLs stay NULL), typed by the Arrow schema."""
        return self._frame(table)

    def list_relations(self, schema: str) -> list[str]:
        if not self.session.catalog.databaseExists(schema):
            return []
        return sorted(
            table.name for table in self.session.catalog.listTables(schema) if not table.isTemporary
        )

    def create_temp_view(self, name: str, sql: str) -> str:
        # Global: other sessions of the application (a GX batch) see it too.
        self.session.sql(sql).createOrReplaceGlobalTempView(name)
        return f"global_temp.{name}"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    @property
    def query_errors(self) -> tuple[type[BaseException], ...]:
        from py4j.protocol import Py4JJavaError
        from pyspark.errors import PySparkException

        return (PySparkException, Py4JJavaError)

    def close(self) -> None:
        if self._owned:
            from orchestration.spark import stop_session

            stop_session()


def open_warehouse(settings: Settings, read_only: bool = False) -> Warehouse:
    """The warehouse the settings name: CDP_TARGET=spark* is Spark, else the DuckDB file
    (`read_only`: a reader beside a BI tool; Spark's catalog has no such mode)."""
    if settings.engine == "spark":
        return SparkWarehouse.open(settings)
    return DuckDBWarehouse.open(settings.warehouse, read_only=read_only)
