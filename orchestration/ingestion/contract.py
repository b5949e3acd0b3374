"""The raw input contract as Python objects, read from the project's copy (contract.yml).

Ingestion, the generator and the tests all take table and column names from here, so
the contract is written down once in the code base.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import yaml

CONTRACT_PATH = Path(__file__).with_name("contract.yml")

# Contract type -> DuckDB type of the column in `raw.<table>`. Money and rates keep ten
# decimal places so that USD conversion is exact to far below a cent.
DUCKDB_TYPES: dict[str, str] = {
    "string": "varchar",
    "integer": "bigint",
    "decimal": "decimal(38, 10)",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
    "json": "varchar",
}

# The same types as Arrow types: how raw tables are declared to any warehouse engine
# (orchestration/warehouse/ maps them to each engine's SQL types).
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "decimal": pa.decimal128(38, 10),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "json": pa.string(),
}
LINEAGE_ARROW_TYPES: dict[str, pa.DataType] = {
    "_file": pa.string(),
    "_row_number": pa.int64(),
    "_loaded_at": pa.timestamp("us"),
}

# Columns every raw table carries besides the contract's: lineage for quarantine,
# de-duplication tie-breaks and source freshness.
LINEAGE_COLUMNS: dict[str, str] = {
    "_file": "varchar",
    "_row_number": "bigint",
    "_loaded_at": "timestamp",
}


@dataclass(frozen=True)
class Table:
    """One table of the raw contract."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...] = ()
    version_column: str | None = None
    # Alternative source names (e.g. Segment camelCase) -> contract column.
    aliases: dict[str, str] = field(default_factory=dict)
    # JSON Lines keys known to carry nothing the project reads (Segment's `integrations`,
    # `channel`, ...): dropped without an "unknown columns" warning.
    ignored: frozenset[str] = frozenset()

    def arrow_schema(self) -> pa.Schema:
        """`raw.<table>` as Arrow types: contract columns, then lineage."""
        typed = [(name, ARROW_TYPES[kind]) for name, kind in self.columns.items()]
        return pa.schema(typed + list(LINEAGE_ARROW_TYPES.items()))

    def ddl_columns(self) -> list[tuple[str, str]]:
        """(name, DuckDB type) of `raw.<table>`: contract columns, then lineage."""
        typed = [(name, DUCKDB_TYPES[kind]) for name, kind in self.columns.items()]
        return typed + list(LINEAGE_COLUMNS.items())


@dataclass(frozen=True)
class Contract:
    tables: dict[str, Table]
    identifier_types: tuple[str, ...]
    consent_purposes: tuple[str, ...]

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            known = ", ".join(sorted(self.tables))
            raise KeyError(f"unknown raw table {name!r}; the contract has: {known}") from None


@functools.cache
def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    """Parse contract.yml; unknown column types fail loudly."""
    document = yaml.safe_load(path.read_text())
    tables: dict[str, Table] = {}
    for name, spec in document["tables"].items():
        columns = dict(spec["columns"])
        unknown = {kind for kind in columns.values() if kind not in DUCKDB_TYPES}
        if unknown:
            raise ValueError(f"contract table {name}: unknown column types {sorted(unknown)}")
        tables[name] = Table(
            name=name,
            columns=columns,
            key=tuple(spec.get("key", ())),
            version_column=spec.get("version_column"),
            aliases=dict(spec.get("jsonl_aliases", {})),
            ignored=frozenset(spec.get("jsonl_ignored", ())),
        )
    return Contract(
        tables=tables,
        identifier_types=tuple(document["identifier_types"]),
        consent_purposes=tuple(document["consent_purposes"]),
    )
