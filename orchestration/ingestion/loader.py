"""Load a raw folder into `raw.<table>` of the warehouse: typed rows in, bad rows
quarantined.

Per file: read the records as text (readers.py), type every contract column in DuckDB SQL
(orchestration/warehouse/file_typing.py: in-process, on every target; on DuckDB the
warehouse's own connection, on Spark a private in-memory one), write the rows that type
cleanly to `raw.<table>` and the others to `raw.quarantine` with the reason through the
Warehouse adapter, and record the file in `raw._loaded_files`. This module keeps the
orchestration: the contract mapping, the batches, the file hashes, the quarantine
accounting. On DuckDB a file is one transaction; Spark's Parquet tables have none, so
the ledger row is written last: a file is only recorded once its rows are in. A file
already recorded with the same path and content hash is skipped, so loading is
idempotent and a new batch file adds only its own rows. Invariant: records in a file =
rows loaded + rows quarantined.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from orchestration.faults import kill_point
from orchestration.ingestion.contract import Contract, Table, load_contract
from orchestration.ingestion.readers import (
    Chunk,
    IngestionError,
    content_sha256,
    csv_header,
    discover_files,
    file_format,
    jsonl_keys,
    parquet_columns,
    parquet_row_count,
    read_csv_chunks,
    read_jsonl_chunks,
    read_parquet_chunks,
)
from orchestration.pii import mask_emails_in, mask_value
from orchestration.warehouse import (
    DUCKDB_ERRORS,
    DuckDBConnection,
    Warehouse,
    as_warehouse,
    utc_connection,
)
from orchestration.warehouse.file_typing import (
    JSONL_RECORD,
    FileTyping,
    json_field,
    positional_source,
    record_expression,
    typing_connection,
)
from orchestration.warehouse.file_typing import typing_query as _typing_query

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"


@dataclass
class ColumnMapping:
    """Which source column (or JSON key) feeds each contract column."""

    sources: dict[str, list[str]]  # contract column -> source expressions, by priority
    unknown: list[str]  # source columns no contract column takes
    missing: list[str]  # contract columns no source column feeds


def map_columns(table: Table, source_names: list[str]) -> ColumnMapping:
    """Match source names to contract columns: exact, then case-insensitive, then alias.

    Columns are addressed by position (`c<i>`), so repeated or odd header names are safe.
    """
    aliases = {alias.lower(): target for alias, target in table.aliases.items()}
    sources: dict[str, list[tuple[int, str]]] = {column: [] for column in table.columns}
    unknown: list[str] = []
    for index, name in enumerate(source_names):
        normalised = name.strip().lower()
        if normalised in sources:
            rank, target = (0 if name.strip() == normalised else 1), normalised
        elif normalised in aliases:
            rank, target = 2, aliases[normalised]
        else:
            # Reported in the log and the ledger: a data row taken for a header (a file
            # without one) must not put its e-mail or phone there.
            unknown.append(mask_value(name))
            continue
        sources[target].append((rank, positional_source(index)))
    return ColumnMapping(
        sources={column: [expr for _, expr in sorted(found)] for column, found in sources.items()},
        unknown=unknown,
        missing=[column for column, found in sources.items() if not found],
    )


def jsonl_mapping(table: Table) -> dict[str, list[str]]:
    """For JSON lines every contract column reads its key, then its aliases (camelCase)."""
    by_target: dict[str, list[str]] = {column: [column] for column in table.columns}
    for alias, target in table.aliases.items():
        by_target[target].append(alias)
    return {column: [json_field(key) for key in keys] for column, keys in by_target.items()}


def typing_query(table: Table, sources: dict[str, list[str]], record_sql: str, jsonl: bool) -> str:
    """SELECT over `_chunk` giving typed contract columns, `_reason` and `_record`."""
    return _typing_query(table.columns, table.key, sources, record_sql, jsonl)


@dataclass
class FileLoad:
    path: str
    status: str  # loaded | skipped | empty (no rows: 0 bytes, blank, or a header only)
    rows_loaded: int = 0
    rows_quarantined: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)


@dataclass
class TableLoad:
    table: str
    files: list[FileLoad] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(file.rows_loaded for file in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(file.rows_quarantined for file in self.files)

    @property
    def files_loaded(self) -> int:
        return sum(file.status == "loaded" for file in self.files)

    @property
    def files_skipped(self) -> int:
        return sum(file.status == "skipped" for file in self.files)

    @property
    def files_empty(self) -> int:
        return sum(file.status == "empty" for file in self.files)

    @property
    def unknown_columns(self) -> list[str]:
        return sorted({name for file in self.files for name in file.unknown_columns})

    @property
    def missing_columns(self) -> list[str]:
        return sorted({name for file in self.files for name in file.missing_columns})


QUARANTINE_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("_file", pa.string()),
        ("_row_number", pa.int64()),
        ("record", pa.string()),
        ("reason", pa.string()),
        ("_loaded_at", pa.timestamp("us")),
    ]
)
LOADED_FILES_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("file_path", pa.string()),
        ("content_sha256", pa.string()),
        ("file_format", pa.string()),
        ("rows_loaded", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("unknown_columns", pa.list_(pa.string())),
        ("missing_columns", pa.list_(pa.string())),
        ("loaded_at", pa.timestamp("us")),
    ]
)


def ensure_raw_schema(
    target: Warehouse | DuckDBConnection, contract: Contract | None = None
) -> None:
    """Create `raw`, every contract table (empty when its source is missing) and the logs.
    A table created before the contract gained a column gets it (NULL in its old rows), so
    the next load, which writes every contract column, still appends."""
    warehouse = as_warehouse(target)
    contract = contract or load_contract()
    warehouse.create_schema(RAW_SCHEMA)
    for table in contract.tables.values():
        relation = f"{RAW_SCHEMA}.{table.name}"
        schema = table.arrow_schema()
        warehouse.create_table(relation, schema)
        existing = {name.lower() for name in warehouse.columns(relation)}
        missing = [column for column in schema if column.name.lower() not in existing]
        if missing:
            warehouse.add_columns(relation, pa.schema(missing))
    warehouse.create_table(f"{RAW_SCHEMA}.quarantine", QUARANTINE_SCHEMA)
    warehouse.create_table(f"{RAW_SCHEMA}._loaded_files", LOADED_FILES_SCHEMA)


def loaded_file_hashes(warehouse: Warehouse, table: str) -> set[tuple[str, str]]:
    """(path, content hash) of every file of `table` already loaded."""
    ledger = warehouse.read_arrow(
        f"{RAW_SCHEMA}._loaded_files", ["table_name", "file_path", "content_sha256"]
    ).to_pylist()
    return {
        (row["file_path"], row["content_sha256"]) for row in ledger if row["table_name"] == table
    }


def _chunks_and_mapping(
    typing: FileTyping, table: Table, path: Path, fmt: str
) -> tuple[Iterator[Chunk], dict[str, list[str]], str, list[str], list[str]]:
    """The file's chunks with the column mapping and the SQL that rebuilds a raw record."""
    if fmt == "jsonl":
        return read_jsonl_chunks(path), jsonl_mapping(table), JSONL_RECORD, [], []
    if fmt == "csv":
        names = csv_header(path)
        chunks: Iterator[Chunk] = read_csv_chunks(path)
    else:
        names = [name for name, _ in parquet_columns(typing, path)]
        chunks = read_parquet_chunks(typing, path)
    mapping = map_columns(table, names)
    if len(mapping.missing) == len(table.columns):
        raise IngestionError(
            f"{path}: none of the columns of table {table.name} found "
            f"(columns in the file: {', '.join(map(mask_value, names[:12])) or 'none'})"
        )
    absent_keys = [column for column in table.key if column in mapping.missing]
    if absent_keys:
        raise IngestionError(
            f"{path}: key column(s) {', '.join(absent_keys)} missing from the file"
        )
    return chunks, mapping.sources, record_expression(names), mapping.unknown, mapping.missing


BLANK_CHECK_BYTES = 1 << 16


def is_blank(path: Path) -> bool:
    """0 bytes, or only whitespace (compressed files: once decompressed). Only small files
    are read to decide: a file of rows is never blank."""
    if path.stat().st_size == 0:
        return True
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(BLANK_CHECK_BYTES + 1)
    except (OSError, EOFError):
        return False  # an unreadable file: its reader reports why
    return len(head) <= BLANK_CHECK_BYTES and not head.strip()


def _record_file(
    warehouse: Warehouse,
    table: Table,
    rel_path: str,
    sha: str,
    fmt: str,
    result: FileLoad,
    loaded_at: datetime,
) -> None:
    """The ledger row that marks a file as loaded (written after its rows)."""
    ledger = pa.table(
        {
            "table_name": [table.name],
            "file_path": [rel_path],
            "content_sha256": [sha],
            "file_format": [fmt],
            "rows_loaded": [result.rows_loaded],
            "rows_quarantined": [result.rows_quarantined],
            "unknown_columns": [result.unknown_columns],
            "missing_columns": [result.missing_columns],
            "loaded_at": [loaded_at],
        },
        schema=LOADED_FILES_SCHEMA,
    )
    warehouse.write_arrow(f"{RAW_SCHEMA}._loaded_files", ledger, mode="append")


def load_file(
    warehouse: Warehouse,
    typing: FileTyping,
    table: Table,
    path: Path,
    rel_path: str,
    loaded_at: datetime,
    loaded: set[tuple[str, str]] | None = None,
) -> FileLoad:
    """Load one file (skipped if this path+content was loaded before). `typing` types
    the rows (DuckDB SQL); `warehouse` receives them; `loaded` is the ledger, read once."""
    sha = content_sha256(path)
    if loaded is None:
        loaded = loaded_file_hashes(warehouse, table.name)
    if (rel_path, sha) in loaded:
        return FileLoad(rel_path, "skipped")
    fmt = file_format(path)
    assert fmt is not None
    if is_blank(path):
        # An empty batch (a 0-byte or whitespace-only file: an export with nothing new),
        # not an error: recorded in the ledger like any file, so it is not read again.
        empty = FileLoad(rel_path, "empty")
        _record_file(warehouse, table, rel_path, sha, fmt, empty, loaded_at)
        loaded.add((rel_path, sha))
        return empty
    result = FileLoad(rel_path, "loaded")
    target = f"{RAW_SCHEMA}.{table.name}"
    with warehouse.transaction():
        chunks, sources, record_sql, unknown, missing = _chunks_and_mapping(
            typing, table, path, fmt
        )
        query = typing_query(table, sources, record_sql, jsonl=fmt == "jsonl")
        unknown_keys: set[str] = set()
        for chunk in chunks:
            if fmt == "jsonl":
                unknown_keys |= jsonl_keys(typing, chunk.data)
            rows, quarantined = typing.type_chunk(
                chunk.data, query, list(table.columns), table.name, rel_path, loaded_at
            )
            if chunk.rejects:
                rejects = pa.table(
                    {
                        "table_name": [table.name] * len(chunk.rejects),
                        "_file": [rel_path] * len(chunk.rejects),
                        "_row_number": [reject.row_number for reject in chunk.rejects],
                        "record": [reject.record for reject in chunk.rejects],
                        "reason": [reject.reason for reject in chunk.rejects],
                        "_loaded_at": [loaded_at] * len(chunk.rejects),
                    },
                    schema=QUARANTINE_SCHEMA,
                )
                quarantined = pa.concat_tables([quarantined.cast(QUARANTINE_SCHEMA), rejects])
            warehouse.write_arrow(target, rows, mode="append")
            warehouse.write_arrow(f"{RAW_SCHEMA}.quarantine", quarantined, mode="append")
            result.rows_loaded += rows.num_rows
            result.rows_quarantined += quarantined.num_rows
        if fmt == "parquet":
            declared = parquet_row_count(typing, path)
            accounted = result.rows_loaded + result.rows_quarantined
            if declared != accounted:
                raise IngestionError(f"{path}: read {accounted} of its {declared} rows")
        if fmt == "jsonl":
            known = set(table.columns) | set(table.aliases) | table.ignored
            unknown = sorted({mask_value(key) for key in unknown_keys - known})
            missing = []
        result.unknown_columns, result.missing_columns = unknown, missing
        if result.rows_loaded + result.rows_quarantined == 0:
            result.status = "empty"  # a header only, or a Parquet file without rows
        # Last: the file counts as loaded only once its rows are in (no transaction on Spark).
        _record_file(warehouse, table, rel_path, sha, fmt, result, loaded_at)
        kill_point("ingest.before_commit")
    loaded.add((rel_path, sha))
    return result


def load_table(
    target: Warehouse | DuckDBConnection,
    raw_dir: Path,
    table_name: str,
    loaded_at: datetime | None = None,
) -> TableLoad:
    """Load every not-yet-loaded file of one table. File errors are collected, not fatal
    to the other files: each good file commits on its own; the caller decides to fail."""
    warehouse = as_warehouse(target)
    table = load_contract().table(table_name)
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    report = TableLoad(table_name)
    try:
        files = discover_files(raw_dir, table_name)
    except IngestionError as error:
        report.errors.append(str(error))
        return report
    loaded = loaded_file_hashes(warehouse, table_name)
    with typing_connection(warehouse) as typing:
        for path in files:
            rel_path = path.relative_to(raw_dir).as_posix()
            try:
                file_load = load_file(warehouse, typing, table, path, rel_path, loaded_at, loaded)
            # The errors reach the log, the summary and Dagster's event log: an engine's
            # message may quote a value of the file (an e-mail), masked here.
            except IngestionError as error:
                report.errors.append(mask_emails_in(str(error)))
                continue
            except DUCKDB_ERRORS as error:
                report.errors.append(mask_emails_in(f"{path}: {error}"))
                continue
            report.files.append(file_load)
            kill_point("ingest.after_file")
            if file_load.unknown_columns:
                log.warning(
                    "%s: unknown columns ignored: %s", path, ", ".join(file_load.unknown_columns)
                )
    return report


def connect(warehouse: Path) -> DuckDBConnection:
    """A connection with the session settings every loader query relies on (UTC)."""
    return utc_connection(warehouse, retry=False)
