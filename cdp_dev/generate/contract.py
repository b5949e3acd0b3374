"""The raw input contract as the generator sees it: table names, columns in order, types.

Read from `orchestration/ingestion/contract.yml` (the project's copy of the contract),
so the generator cannot drift from what ingestion expects: a column renamed there is a
column renamed here, and the writers refuse rows that do not match.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "orchestration" / "ingestion" / "contract.yml"


@dataclass(frozen=True)
class TableSpec:
    """One contract table: its columns in contract order and their logical types."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    jsonl_aliases: tuple[tuple[str, str], ...] = ()


@functools.cache
def load_contract(path: Path = CONTRACT_PATH) -> dict[str, TableSpec]:
    """Table name -> spec, in contract order (YAML mappings keep their order)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs: dict[str, TableSpec] = {}
    for name, table in raw["tables"].items():
        columns = table["columns"]
        specs[name] = TableSpec(
            name=name,
            columns=tuple(columns),
            types=tuple(columns.values()),
            jsonl_aliases=tuple((table.get("jsonl_aliases") or {}).items()),
        )
    return specs


TABLES: tuple[str, ...] = tuple(load_contract())
