"""The Spark engine: `SparkWarehouse`, a SparkSession's catalog (embedded or remote)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from orchestration.warehouse.base import Warehouse, WriteMode, _split

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from orchestration.settings import Settings


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
