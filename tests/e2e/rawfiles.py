"""Read a raw folder with plain Python (csv, json, pyarrow), independently of the loader.

The end-to-end tests compute their expectations from the files with these helpers, so
an ingestion or staging bug cannot hide behind a test that reads the warehouse twice.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

SUFFIXES = (".csv", ".jsonl", ".parquet")


def table_files(raw_dir: Path, table: str) -> list[Path]:
    """`<table>.<ext>` and the files of `<table>/` in path order (hidden files skipped)."""
    files = [raw_dir / f"{table}{suffix}" for suffix in SUFFIXES]
    found = [path for path in files if path.is_file()]
    folder = raw_dir / table
    if folder.is_dir():
        found += sorted(
            path
            for path in folder.rglob("*")
            if path.is_file() and not path.name.startswith((".", "_"))
        )
    return found


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of one file as a dict; a JSON line that does not parse is {}."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row]
        header, body = rows[0], rows[1:]
        return [
            {name: (value or None) for name, value in zip(header, row, strict=False)}
            for row in body
        ]
    if path.suffix == ".jsonl":
        records = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                value = {}
            records.append(value if isinstance(value, dict) else {})
        return records
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    raise ValueError(f"not a raw data file: {path}")


def table_records(raw_dir: Path, table: str) -> list[tuple[Path, int, dict[str, Any]]]:
    """(file, 1-based record number, record) for every record of a table, in load order."""
    return [
        (path, number, record)
        for path in table_files(raw_dir, table)
        for number, record in enumerate(read_records(path), start=1)
    ]


def field(record: dict[str, Any], *names: str) -> Any:
    """The first of `names` present with a value (snake_case or Segment camelCase)."""
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def parse_utc(value: Any) -> datetime | None:
    """An ISO-8601 text as a naive UTC datetime (no offset = UTC); None if not ISO."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(UTC).replace(tzinfo=None)
