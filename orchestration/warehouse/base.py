"""The engine-neutral interface: what Python needs from the warehouse.

Relations are `schema.name` strings, as dbt names them. Types travel as Arrow types; each
engine (duckdb_warehouse.py, spark_warehouse.py) maps them to its own SQL types.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal

import pyarrow as pa

WriteMode = Literal["replace", "append"]


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

    def splink_db_api(self):  # type: ignore[no-untyped-def]
        """A Splink database API running its pair generation and scoring on this
        engine (probabilistic identity matching, issue 10)."""
        raise NotImplementedError(f"probabilistic matching is not built for {self.engine}")

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
