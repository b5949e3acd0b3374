"""File writers for the raw folder layout: CSV, Parquet and JSON Lines.

CSV and Parquet go through pyarrow (all columns as strings: ids keep their leading
zeros, and ingestion does the typing). JSONL is assembled as text: `events` become
Segment-spec messages with camelCase keys, other tables keep their snake_case columns.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from cdp_dev.generate.contract import TABLES, TableSpec, load_contract

EXTENSIONS = ("csv", "parquet", "jsonl")
_INTEGER = re.compile(r"-?\d+\Z")


def to_arrow(cols: dict[str, np.ndarray], spec: TableSpec) -> pa.Table:
    """Exactly the contract's columns, in contract order, as strings."""
    missing = [c for c in spec.columns if c not in cols]
    extra = [c for c in cols if c not in spec.columns]
    if missing or extra:
        raise ValueError(f"{spec.name}: missing {missing}, unexpected {extra}")
    arrays = [pa.array(cols[c], type=pa.string()) for c in spec.columns]
    return pa.Table.from_arrays(arrays, names=list(spec.columns))


def _q(value: str | None) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _json_value(value: str | None, kind: str) -> str:
    """Integers and booleans as JSON scalars when clean; everything else as strings.

    Decimals stay strings (as shop APIs send money: exact, no float rounding).
    """
    if value is None:
        return "null"
    if kind == "integer" and _INTEGER.match(value):
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value
    return json.dumps(value, ensure_ascii=False)


def table_lines(cols: dict[str, np.ndarray], spec: TableSpec) -> Iterator[str]:
    """JSONL rows of a non-event table (snake_case keys, contract order)."""
    keys = ['"' + c + '":' for c in spec.columns]
    kinds = spec.types
    columns = [cols[c] for c in spec.columns]
    for row in zip(*columns, strict=True):
        yield (
            "{"
            + ",".join(
                k + _json_value(v, kind) for k, v, kind in zip(keys, row, kinds, strict=True)
            )
            + "}"
        )


def event_lines(
    cols: dict[str, np.ndarray], rudder: np.ndarray, integrations: np.ndarray
) -> Iterator[str]:
    """Segment-spec messages: camelCase keys, nested JSON, keys omitted where Segment omits
    them; RudderStack-style messages use `originalTimestamp` and carry a `channel`."""
    names = (
        "message_id",
        "type",
        "event",
        "anonymous_id",
        "user_id",
        "previous_id",
        "group_id",
        "name",
        "category",
        "source",
        "context",
        "properties",
        "traits",
        "timestamp",
        "sent_at",
        "received_at",
    )
    for (
        mid,
        typ,
        event,
        anon,
        user,
        prev,
        group,
        name,
        category,
        source,
        ctx,
        props,
        traits,
        ts,
        sent,
        received,
        is_rudder,
        with_integrations,
    ) in zip(*(cols[n] for n in names), rudder, integrations, strict=True):
        parts = ['{"messageId":', _q(mid), ',"type":"', typ, '"']
        if event is not None:
            parts += [',"event":', _q(event)]
        parts += [',"anonymousId":', _q(anon), ',"userId":', _q(user)]
        if prev is not None:
            parts += [',"previousId":', _q(prev)]
        if group is not None:
            parts += [',"groupId":', _q(group)]
        if name is not None:
            parts += [',"name":', _q(name)]
        if category is not None:
            parts += [',"category":', _q(category)]
        if source == "email" or is_rudder:
            parts += [',"source":', _q(source)]
        if ctx is not None:
            parts += [',"context":', ctx]
        if props is not None:
            parts += [',"properties":', props]
        if traits is not None:
            parts += [',"traits":', traits]
        parts += [
            ',"originalTimestamp":' if is_rudder else ',"timestamp":',
            _q(ts),
            ',"sentAt":',
            _q(sent),
            ',"receivedAt":',
            _q(received),
        ]
        if is_rudder:
            parts.append(',"channel":"web"' if source == "web" else ',"channel":"mobile"')
        elif with_integrations:
            parts.append(',"integrations":{}')
        parts.append("}")
        yield "".join(parts)


def write_file(
    path: Path,
    table: str,
    cols: dict[str, np.ndarray],
    fmt: str,
    extras: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """One file of one table in one format."""
    spec = load_contract()[table]
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        if table == "events":
            assert extras is not None
            lines = event_lines(cols, *extras)
        else:
            lines = table_lines(cols, spec)
        with path.open("w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line)
                f.write("\n")
        return
    arrow = to_arrow(cols, spec)
    if fmt == "csv":
        pa_csv.write_csv(
            arrow, path, pa_csv.WriteOptions(include_header=True, quoting_style="needed")
        )
    elif fmt == "parquet":
        pq.write_table(arrow, path, compression="zstd")
    else:
        raise ValueError(f"unknown format {fmt!r}")


def clear_tables(out_dir: Path) -> None:
    """Remove earlier output of the contract tables (and only those) from a raw folder."""
    for table in TABLES:
        for ext in EXTENSIONS:
            (out_dir / f"{table}.{ext}").unlink(missing_ok=True)
        folder = out_dir / table
        if folder.is_dir():
            for ext in EXTENSIONS:
                for part in folder.glob(f"part-*.{ext}"):
                    part.unlink()
            if not any(folder.iterdir()):
                shutil.rmtree(folder)


@dataclass
class TableStats:
    fmt: str
    layout: str  # "folder" or "file"
    rows: int = 0
    files: int = 0


@dataclass
class RawFolderWriter:
    """Knows each table's format and layout; counts rows and files as it writes."""

    out_dir: Path
    formats: dict[str, str]
    folder_tables: frozenset[str]
    stats: dict[str, TableStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for table in TABLES:
            layout = "folder" if table in self.folder_tables else "file"
            self.stats[table] = TableStats(self.formats[table], layout)

    def write(
        self,
        table: str,
        cols: dict[str, np.ndarray],
        part: int,
        extras: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Part `part` (1-based) of a folder table, or the single file of a file table."""
        n = len(next(iter(cols.values()))) if cols else 0
        fmt = self.formats[table]
        stats = self.stats[table]
        if table in self.folder_tables:
            if n == 0:
                return  # no empty batch files: a batch with no rows simply did not arrive
            path = self.out_dir / table / f"part-{part:05d}.{fmt}"
        else:
            path = self.out_dir / f"{table}.{fmt}"
        write_file(path, table, cols, fmt, extras)
        stats.rows += n
        stats.files += 1
