"""The columns a segment rule may name, with their types: the schema rules are checked against.

Read from the dbt manifest: the marts have enforced contracts (dbt_project.yml), so the
documented columns and `data_type`s of `customer_profiles`, `fct_events` and
`account_profiles` are exactly the columns of the tables dbt builds, and they are known
before anything runs (`cdp run` and the Dagster code location refuse a bad segment at
load time). `from_warehouse` reads the same through the Warehouse adapter (tests use it
on small hand-made files).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import Warehouse

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
MARTS_SCHEMA = "marts"

# The relations rules read, by the name a rule uses for them.
PROFILES = "customer_profiles"
EVENTS = "fct_events"
ACCOUNTS = "account_profiles"
RULE_TABLES = (PROFILES, EVENTS, ACCOUNTS)


class ColumnType(StrEnum):
    """What a rule may do with a column: the operators and values it accepts."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    DATE = "date"
    OTHER = "other"  # lists, structs, blobs: not comparable in a rule


_TYPE_PATTERNS: tuple[tuple[str, ColumnType], ...] = (
    (r"(varchar|text|string|char)(\(\d+\))?", ColumnType.TEXT),
    (r"bool(ean)?", ColumnType.BOOLEAN),
    (r"timestamp(tz| with time zone|_ns|_ms|_s)?", ColumnType.TIMESTAMP),
    (r"date", ColumnType.DATE),
    (
        r"(tinyint|smallint|integer|int|bigint|hugeint|int\d|u?bigint|float|double|real"
        r"|(decimal|numeric)(\(\d+, ?\d+\))?)",
        ColumnType.NUMBER,
    ),
)


def column_type(data_type: str) -> ColumnType:
    """Map a SQL data type (dbt `data_type` or DuckDB DESCRIBE) to what rules can do."""
    normal = " ".join(data_type.strip().lower().split())
    for pattern, kind in _TYPE_PATTERNS:
        if re.fullmatch(pattern, normal):
            return kind
    return ColumnType.OTHER


@dataclass(frozen=True)
class Column:
    """A column of a rule table. `name` comes from the schema, never from a YAML file."""

    table: str
    name: str
    data_type: str

    @property
    def kind(self) -> ColumnType:
        return column_type(self.data_type)

    @property
    def sql(self) -> str:
        """The quoted identifier (the schema's own spelling, quotes doubled)."""
        return '"' + self.name.replace('"', '""') + '"'


@dataclass(frozen=True)
class WarehouseSchema:
    """Columns per rule table (`customer_profiles`, `fct_events`, `account_profiles`)."""

    tables: Mapping[str, Mapping[str, Column]]
    source: str  # where it was read, for messages

    def has_table(self, table: str) -> bool:
        return table in self.tables

    def columns(self, table: str) -> Mapping[str, Column]:
        return self.tables.get(table, {})

    def column(self, table: str, name: str) -> Column | None:
        return self.columns(table).get(name)

    @classmethod
    def from_columns(cls, rows: Iterable[tuple[str, str, str]], source: str) -> WarehouseSchema:
        """From (table, column, data_type) rows."""
        tables: dict[str, dict[str, Column]] = {}
        for table, name, data_type in rows:
            tables.setdefault(table, {})[name] = Column(table, name, data_type)
        return cls(tables=tables, source=source)

    @classmethod
    def from_manifest(cls, manifest_path: Path = MANIFEST_PATH) -> WarehouseSchema:
        """The documented (contract-enforced) columns of the rule tables in `manifest.json`."""
        if not manifest_path.exists():
            raise FileNotFoundError(
                f"{manifest_path} does not exist: segment rules are checked against the dbt "
                "manifest; run `cdp run` (or `dbt parse` in dbt_project/) first"
            )
        manifest = json.loads(manifest_path.read_text())
        rows: list[tuple[str, str, str]] = []
        for node in manifest.get("nodes", {}).values():
            if node.get("resource_type") != "model" or node.get("name") not in RULE_TABLES:
                continue
            if node.get("config", {}).get("schema") != MARTS_SCHEMA:
                continue
            for name, column in node.get("columns", {}).items():
                rows.append((node["name"], name, column.get("data_type") or ""))
        return cls.from_columns(rows, source=str(manifest_path))

    @classmethod
    def from_warehouse(cls, warehouse: Warehouse) -> WarehouseSchema:
        """The rule tables as they are in a warehouse (schema `marts`, any engine)."""
        rows = [
            (table, name, data_type)
            for table in RULE_TABLES
            if warehouse.relation_exists(f"{MARTS_SCHEMA}.{table}")
            for name, data_type in warehouse.columns(f"{MARTS_SCHEMA}.{table}").items()
        ]
        return cls.from_columns(rows, source="the warehouse")
