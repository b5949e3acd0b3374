"""Find a table's files in a raw folder and read them into string-typed Arrow chunks.

Reading is deliberately untyped: every value stays the text the source wrote, so that
typing (in DuckDB SQL: orchestration/warehouse/file_typing.py, driven by loader.py) can
quarantine exactly the values that fail, with the file and row number they came from.
CSV and JSON lines are read here in Python; Parquet through the typing connection
(`FileTyping`), whose errors become IngestionError here.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

from orchestration.warehouse.file_typing import FileTyping

CHUNK_ROWS = 100_000

# File suffix -> format. Gzipped text files are read transparently.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
}


class IngestionError(Exception):
    """A file or folder that cannot be read at all; the message names it."""


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    return None


def _is_hidden(path: Path, root: Path) -> bool:
    """Marker and hidden files (`_SUCCESS`, `.DS_Store`) are not data."""
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def discover_files(raw_dir: Path, table: str) -> list[Path]:
    """All files of one table: `<table>.<ext>` and/or every file under `<table>/`.

    A folder must hold one format (new files are new batches of the same feed); files
    load in path order so batch names that sort by time load oldest first.
    """
    found = [
        raw_dir / f"{table}{suffix}"
        for suffix in FORMATS
        if (raw_dir / f"{table}{suffix}").is_file()
    ]
    folder = raw_dir / table
    if folder.is_dir():
        batch_files = sorted(
            path for path in folder.rglob("*") if path.is_file() and not _is_hidden(path, folder)
        )
        unreadable = [path for path in batch_files if file_format(path) is None]
        if unreadable:
            names = ", ".join(str(path.relative_to(raw_dir)) for path in unreadable[:5])
            raise IngestionError(
                f"{folder}: files of an unknown format (expected .csv, .jsonl or .parquet): {names}"
            )
        formats = {file_format(path) for path in batch_files}
        if len(formats) > 1:
            raise IngestionError(
                f"{folder}: a table folder must hold files of one format, found {sorted(formats)}"
            )
        found.extend(batch_files)
    return found


def _suffix_of(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix


def unknown_entries(raw_dir: Path, tables: list[str]) -> list[str]:
    """Top-level entries of the raw folder that belong to no contract table."""
    known = set(tables)
    unknown = []
    for entry in sorted(raw_dir.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        name = entry.name if entry.is_dir() else entry.name[: -len(_suffix_of(entry))]
        if name not in known:
            unknown.append(entry.name)
    return unknown


def content_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Reject:
    """A record that could not even be split into fields (e.g. wrong field count)."""

    row_number: int
    record: str
    reason: str


@dataclass
class Chunk:
    """Up to CHUNK_ROWS records of one file, all values as text.

    `data` has `_row_number` (1-based record number in the file) and either the source
    columns by their source names (csv, parquet) or one `_line` column (jsonl).
    """

    data: pa.Table
    rejects: list[Reject]


@contextlib.contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    """Text of a (possibly gzipped) file; a decoding error names the file and byte."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            # utf-8-sig drops a byte-order mark; anything not UTF-8 fails the file loudly.
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
    except UnicodeDecodeError as error:
        raise IngestionError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None


def csv_header(path: Path) -> list[str]:
    try:
        with _open_text(path) as handle:
            return next(csv.reader(handle), [])
    except csv.Error as error:
        raise IngestionError(f"{path}: cannot parse the CSV header: {error}") from None


def read_csv_chunks(path: Path) -> Iterator[Chunk]:
    """RFC 4180 CSV with a header; empty fields are NULL; ragged rows are rejected."""
    try:
        with _open_text(path) as handle:
            yield from _csv_records(csv.reader(handle))
    except csv.Error as error:
        raise IngestionError(f"{path}: malformed CSV: {error}") from None


def _csv_records(reader: Iterator[list[str]]) -> Iterator[Chunk]:
    header = next(reader, None)
    if header is None:
        return
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    rejects: list[Reject] = []
    row_number = 0
    for fields in reader:
        if not fields:
            continue  # a blank line is not a record
        row_number += 1
        if len(fields) != width:
            reason = f"expected {width} fields, found {len(fields)}"
            rejects.append(Reject(row_number, _csv_line(fields), reason))
        else:
            row_numbers.append(row_number)
            for index, value in enumerate(fields):
                columns[index].append(value if value != "" else None)
        if len(row_numbers) + len(rejects) >= CHUNK_ROWS:
            yield _csv_chunk(header, columns, row_numbers, rejects)
            columns = [[] for _ in range(width)]
            row_numbers, rejects = [], []
    if row_numbers or rejects:
        yield _csv_chunk(header, columns, row_numbers, rejects)


def _csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(fields)
    return buffer.getvalue().rstrip("\r\n")


def _csv_chunk(
    header: list[str],
    columns: list[list[str | None]],
    row_numbers: list[int],
    rejects: list[Reject],
) -> Chunk:
    arrays = [pa.array(row_numbers, type=pa.int64())]
    arrays += [pa.array(values, type=pa.string()) for values in columns]
    # Positional names: headers may repeat or be empty; loader.py maps them by position.
    names = ["_row_number"] + [f"c{index}" for index in range(len(header))]
    return Chunk(pa.Table.from_arrays(arrays, names=names), rejects)


def read_jsonl_chunks(path: Path) -> Iterator[Chunk]:
    """One JSON document per line; the text goes to DuckDB, which parses it vectorised."""
    with _open_text(path) as handle:
        row_numbers: list[int] = []
        lines: list[str] = []
        row_number = 0
        for line in handle:
            stripped = line.strip()
            if not stripped:
                continue  # a blank line is not a record
            row_number += 1
            row_numbers.append(row_number)
            lines.append(stripped)
            if len(lines) >= CHUNK_ROWS:
                yield _jsonl_chunk(row_numbers, lines)
                row_numbers, lines = [], []
        if lines:
            yield _jsonl_chunk(row_numbers, lines)


def _jsonl_chunk(row_numbers: list[int], lines: list[str]) -> Chunk:
    data = pa.table(
        {
            "_row_number": pa.array(row_numbers, type=pa.int64()),
            "_line": pa.array(lines, type=pa.string()),
        }
    )
    return Chunk(data, [])


def parquet_columns(typing: FileTyping, path: Path) -> list[tuple[str, str]]:
    try:
        return typing.parquet_columns(path)
    except typing.errors as error:
        raise IngestionError(f"{path}: not a readable Parquet file: {error}") from None


def parquet_row_count(typing: FileTyping, path: Path) -> int:
    """Rows the file's own metadata declares (to prove every row was read)."""
    try:
        return typing.parquet_row_count(path)
    except typing.errors as error:
        raise IngestionError(f"{path}: not a readable Parquet file: {error}") from None


def read_parquet_chunks(typing: FileTyping, path: Path) -> Iterator[Chunk]:
    """Parquet columns cast to text in DuckDB; nested values become JSON text."""
    columns = parquet_columns(typing, path)
    try:
        for data in typing.parquet_chunks(path, columns, CHUNK_ROWS):
            yield Chunk(data, [])
    except typing.errors as error:
        raise IngestionError(f"{path}: cannot read Parquet: {error}") from None


def jsonl_keys(typing: FileTyping, chunk: pa.Table) -> set[str]:
    """Top-level keys seen in a chunk of JSON lines (for column reporting)."""
    return typing.jsonl_keys(chunk)
