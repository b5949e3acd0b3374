"""Find a table's files in a raw folder and read them into string-typed Arrow chunks.

Reading is deliberately untyped: every value stays the text the source wrote, so that
typing (in DuckDB SQL: orchestration/warehouse/file_typing.py, driven by loader.py) can
quarantine exactly the values that fail, with the file and row number they came from.
CSV and JSON lines are read here in Python; Parquet through the typing connection
(`FileTyping`), whose errors become IngestionError here.

Text files are UTF-8 (a byte-order mark dropped), decoded record by record: a record
holding bytes that are not UTF-8 is rejected with the offset of the first one, the rest
of the file loads; only a CSV header that is not UTF-8 refuses the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import os
import re
import zlib
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


def _outside(path: Path, root: Path) -> bool:
    """Whether `path`, its symlinks followed, leaves `root` (itself resolved)."""
    try:
        return not path.resolve(strict=False).is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return True


def _refuse_unsafe(raw_dir: Path, table: str, candidates: list[Path]) -> None:
    """A table name or entry with `..`, or a symlink resolving outside the raw folder, is
    refused (never followed). Symlinks that stay inside the raw folder are allowed."""
    if table in ("", ".", "..") or "/" in table or "\\" in table or ".." in Path(table).parts:
        raise IngestionError(f"{raw_dir}: refusing table name {table!r} (a path, not a name)")
    root = raw_dir.resolve()
    unsafe = []
    for path in candidates:
        relative = path.relative_to(raw_dir)
        if ".." in relative.parts:
            unsafe.append(f"{relative.as_posix()} (a path with '..')")
        elif _outside(path, root):
            unsafe.append(f"{relative.as_posix()} -> {os.path.realpath(path)}")
    if unsafe:
        raise IngestionError(
            f"{raw_dir}: refusing entries of table {table} that lead outside the raw folder "
            f"(symlinks out of it are not followed): {', '.join(unsafe[:5])}"
        )


def discover_files(raw_dir: Path, table: str) -> list[Path]:
    """All files of one table: `<table>.<ext>` and/or every file under `<table>/`.

    A folder must hold one format (new files are new batches of the same feed); files
    load in path order so batch names that sort by time load oldest first. An entry
    that is (or lies under) a symlink resolving outside the raw folder, or a path with
    `..`, fails the table with an IngestionError naming it; nothing of it is read.
    """
    _refuse_unsafe(raw_dir, table, [])
    singles = [raw_dir / f"{table}{suffix}" for suffix in FORMATS]
    _refuse_unsafe(raw_dir, table, [path for path in singles if path.is_symlink()])
    found = [path for path in singles if path.is_file()]
    folder = raw_dir / table
    if folder.is_symlink():
        _refuse_unsafe(raw_dir, table, [folder])
    if folder.is_dir():
        entries = sorted(folder.rglob("*"))
        _refuse_unsafe(raw_dir, table, [path for path in entries if path.is_symlink()])
        batch_files = [path for path in entries if path.is_file() and not _is_hidden(path, folder)]
        _refuse_unsafe(raw_dir, table, batch_files)
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
    """Text of a (possibly gzipped) file. A UTF-8 byte-order mark is dropped; bytes that
    are not UTF-8 are read as lone surrogates (U+DC80..U+DCFF, `surrogateescape`), which
    no valid text holds, so that each record can be checked on its own (`utf8_error`)
    instead of one bad byte refusing the whole file."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise IngestionError(f"{path}: not a readable gzip file ({error})") from None


def _bom_bytes(path: Path) -> int:
    """3 when the (decompressed) file starts with a UTF-8 byte-order mark, else 0: the
    offset of the first character `_open_text` gives."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            return 3 if raw.read(3) == codecs.BOM_UTF8 else 0
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError):
        return 0  # the reader itself reports an unreadable file


# A byte that is not UTF-8, as `surrogateescape` decodes it.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _byte_length(text: str) -> int:
    """The length in bytes of text read by `_open_text` (ASCII: O(1) to tell)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


def utf8_error(text: str, offset: int, line: int) -> str | None:
    """Why `text` (a record read by `_open_text`, starting at byte `offset` and on line
    `line` of the file) is not UTF-8, or None when it is: the first bad byte's value,
    its offset in the file and its line."""
    if text.isascii():
        return None
    found = _ESCAPED_BYTE.search(text)
    if found is None:
        return None
    at = offset + _byte_length(text[: found.start()])
    line += text.count("\n", 0, found.start()) + text.count("\r", 0, found.start())
    line -= text.count("\r\n", 0, found.start())
    value = ord(found.group()) - 0xDC00
    return f"not valid UTF-8 at byte {at} (0x{value:02X}, line {line})"


def visible(text: str) -> str:
    """A record as it can be stored and shown: bytes that are not UTF-8 as `\\xNN`."""
    if text.isascii() or _ESCAPED_BYTE.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def csv_header(path: Path) -> list[str]:
    """The header's names. A header that is not UTF-8 refuses the file: without its
    names no column can be mapped (the file is in another encoding: re-encode it)."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    try:
        with _open_text(path) as handle:
            lines = _Lines(handle, _bom_bytes(path))
            header = next(csv.reader(lines, strict=True), [])
            bad = utf8_error(*lines.take())
    except csv.Error as error:
        raise IngestionError(f"{path}: cannot parse the CSV header: {error}") from None
    if bad is not None:
        raise IngestionError(
            f"{path}: the CSV header is {bad}: re-encode the file as UTF-8 "
            "(`iconv -f latin1 -t utf-8` for a Latin-1 export)"
        )
    return header


# The csv module's default limit (128 KiB a field) would refuse a whole file for one long
# field (a pasted document, a base64 blob); a field is bounded by memory, not by this.
FIELD_SIZE_LIMIT = 1 << 28
# What csv raises in strict mode when the file ends inside a quoted field.
_UNTERMINATED = "unexpected end of data"


class _Lines:
    """The physical lines csv reads, kept per record: the raw text of a broken record,
    and where in the file it starts (byte offset, line number)."""

    def __init__(self, handle: IO[str], offset: int = 0) -> None:
        self.handle = handle
        self.pending: list[str] = []
        self.consumed = 0  # lines of the records already taken
        self.offset = offset  # bytes of the records already taken (and the BOM)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        self.pending.append(line)
        return line

    def take(self) -> tuple[str, int, int]:
        """The pending record's text, its first byte's offset and its first line."""
        text = "".join(self.pending)
        start, line = self.offset, self.consumed + 1
        self.consumed += len(self.pending)
        self.offset += _byte_length(text)
        self.pending = []
        return text, start, line


def read_csv_chunks(path: Path) -> Iterator[Chunk]:
    """RFC 4180 CSV with a header; empty fields are NULL. A record with bytes that are
    not UTF-8, a wrong field count, broken quoting (text after a closing quote: the
    record ends with its line) or a NUL byte is rejected with its reason; a quote never
    closed (the rest of the file would be one field) fails the file."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    try:
        with _open_text(path) as handle:
            yield from _csv_records(path, _Lines(handle, _bom_bytes(path)))
    except csv.Error as error:
        raise IngestionError(f"{path}: malformed CSV: {error}") from None


def _csv_records(path: Path, lines: _Lines) -> Iterator[Chunk]:
    reader = csv.reader(lines, strict=True)
    header = next(reader, None)
    lines.take()
    if header is None:
        return
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    rejects: list[Reject] = []
    row_number = 0
    while True:
        start_line = lines.consumed + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            text, offset, line = lines.take()
            if str(error) == _UNTERMINATED:
                raise IngestionError(
                    f"{path}: a quoted field opened in record {row_number + 1} (line "
                    f"{start_line}) is never closed; the rest of the file cannot be split "
                    "into records"
                ) from None
            row_number += 1
            reason = utf8_error(text, offset, line) or f"broken CSV quoting: {error}"
            rejects.append(Reject(row_number, visible(text.rstrip("\r\n")), reason))
        else:
            text, offset, line = lines.take()
            if not fields:
                continue  # a blank line is not a record
            row_number += 1
            not_utf8 = utf8_error(text, offset, line)
            if not_utf8 is not None:
                rejects.append(Reject(row_number, visible(_csv_line(fields)), not_utf8))
            elif "\x00" in text:
                rejects.append(Reject(row_number, _csv_line(fields), "NUL byte in a field"))
            elif len(fields) != width:
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
    """One JSON document per line; the text goes to DuckDB, which parses it vectorised.
    A line with bytes that are not UTF-8 is rejected with its reason."""
    with _open_text(path) as handle:
        row_numbers: list[int] = []
        lines: list[str] = []
        rejects: list[Reject] = []
        row_number = 0
        offset, line_number = _bom_bytes(path), 0
        for line in handle:
            start, line_number = offset, line_number + 1
            offset += _byte_length(line)
            stripped = line.strip()
            if not stripped:
                continue  # a blank line is not a record
            row_number += 1
            not_utf8 = utf8_error(line, start, line_number)
            if not_utf8 is not None:
                rejects.append(Reject(row_number, visible(stripped), not_utf8))
            else:
                row_numbers.append(row_number)
                lines.append(stripped)
            if len(lines) + len(rejects) >= CHUNK_ROWS:
                yield _jsonl_chunk(row_numbers, lines, rejects)
                row_numbers, lines, rejects = [], [], []
        if lines or rejects:
            yield _jsonl_chunk(row_numbers, lines, rejects)


def _jsonl_chunk(row_numbers: list[int], lines: list[str], rejects: list[Reject]) -> Chunk:
    data = pa.table(
        {
            "_row_number": pa.array(row_numbers, type=pa.int64()),
            "_line": pa.array(lines, type=pa.string()),
        }
    )
    return Chunk(data, rejects)


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
