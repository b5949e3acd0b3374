"""Export files: the generic CSV / Parquet destination, and the file delivery that the
ad platform destinations (Google Customer Match, Meta) write their upload files with.

Layout (one folder per destination and run, docs/activation.md):

    <exports_dir>/<destination>/<YYYYmmddTHHMMSSZ>_<run id 8>/
        <segment>__<operation>__<nnn>__<key 12>.<csv|parquet>   one file per batch
        manifest.json                                           written last

Every file is written to a temporary name and renamed into place, so a reader never sees
half a file, and the rename is the acknowledgement: a batch re-sent after a crash whose
file is already there (its idempotency key is in the name) is not written twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from orchestration.activation.destinations.base import (
    Batch,
    Delivery,
    DeliveryError,
    Destination,
    DestinationKind,
    Member,
    Prepared,
    RunInfo,
    StrictOptions,
    register,
)
from orchestration.faults import kill_point

FileFormat = Literal["csv", "parquet"]
KEY_CHARS = 12  # of the idempotency key, in file names
MANIFEST = "manifest.json"


# Export files hold personal data (or its hashes): readable by their owner only.
FILE_MODE = 0o600


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename (same folder), with
    owner-only permissions (FILE_MODE) from its creation on, whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)  # an older temporary file kept its mode
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # A full disk: the half-written file would only hold on to the space left.
        temporary.unlink(missing_ok=True)
        raise
    kill_point("file.before_rename")
    temporary.replace(path)


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def csv_bytes(columns: Sequence[str], records: Sequence[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record.get(c) is None else _cell(record.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8")


def parquet_bytes(columns: Sequence[str], records: Sequence[dict[str, Any]]) -> bytes:
    table = pa.table(
        {
            column: pa.array(
                [None if r.get(column) is None else str(_cell(r.get(column))) for r in records],
                type=pa.string(),
            )
            for column in columns
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


class FileDelivery(Delivery):
    """Writes each batch as one file in the run's folder of the destination."""

    def __init__(
        self,
        destination: Destination,
        run: RunInfo,
        *,
        file_format: FileFormat,
        columns: Sequence[str],
        removal_columns: Sequence[str],
    ) -> None:
        self.destination = destination
        self.run = run
        self.file_format = file_format
        self.columns = list(columns)
        self.removal_columns = list(removal_columns)
        self.root = run.exports_dir / destination.name
        self.folder = self.root / run.folder_name
        self.written: list[dict[str, Any]] = []

    def file_name(self, batch: Batch) -> str:
        return (
            f"{batch.segment}__{batch.operation}__{batch.number:03d}__"
            f"{batch.idempotency_key[:KEY_CHARS]}.{self.file_format}"
        )

    def _existing(self, batch: Batch) -> list[Path]:
        pattern = f"{batch.segment}__{batch.operation}__*__{batch.idempotency_key[:KEY_CHARS]}.*"
        return sorted(self.root.glob(f"*/{pattern}")) if self.root.exists() else []

    def already_delivered(self, batch: Batch) -> bool:
        return bool(self._existing(batch))

    def send(self, batch: Batch) -> None:
        columns = self.removal_columns if batch.operation == "remove" else self.columns
        encode = csv_bytes if self.file_format == "csv" else parquet_bytes
        path = self.folder / self.file_name(batch)
        try:
            write_atomically(path, encode(columns, batch.records))
        except OSError as error:
            raise DeliveryError(f"{self.destination.name}: cannot write {path}: {error}") from None
        self.written.append(
            {
                "file": path.name,
                "segment": batch.segment,
                "operation": str(batch.operation),
                "rows": len(batch.records),
                "idempotency_key": batch.idempotency_key,
            }
        )

    def close(self) -> dict[str, Any]:
        if not self.written:
            return {"files": 0}
        manifest = {
            "destination": self.destination.name,
            "type": self.destination.type_name,
            "run_id": self.run.run_id,
            "started_at": self.run.started_at.isoformat(),
            "format": self.file_format,
            "columns": self.columns,
            "removal_columns": self.removal_columns,
            "files": self.written,
        }
        write_atomically(
            self.folder / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8") + b"\n"
        )
        return {"files": len(self.written), "folder": str(self.folder)}


# ---- the generic file destination -------------------------------------------------------

MEMBER_COLUMNS = (
    "person_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "postal_code",
    "country",
    "entered_at",
    "attributes",
)


class FileOptions(StrictOptions):
    format: FileFormat = "csv"
    # The member columns written (data minimisation: list only what the tool needs).
    columns: list[Literal[MEMBER_COLUMNS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(MEMBER_COLUMNS)
    )
    batch_size: int | None = None


def first_party_record(member: Member, columns: Sequence[str]) -> dict[str, Any]:
    """The member's own values (warehouse normal forms), for tools we run ourselves."""
    values: dict[str, Any] = {
        "person_id": member.person_id,
        "email": member.email,
        "phone": member.phone,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "city": member.city,
        "postal_code": member.postal_code,
        "country": member.country,
        "entered_at": member.entered_at.isoformat() if member.entered_at else None,
        "attributes": dict(member.attributes),
    }
    return {column: values[column] for column in columns}


@register
class FileDestination(Destination):
    """Plain CSV or Parquet files of the members (first party: our own tools read them).

    Adds, updates and removes are separate files; a remove file lists person ids only.
    """

    type_name: ClassVar[str] = "file"
    kind: ClassVar[DestinationKind] = DestinationKind.FIRST_PARTY
    supports_updates: ClassVar[bool] = True
    removal_fields: ClassVar[tuple[str, ...]] = ("person_id",)
    Options = FileOptions

    @property
    def columns(self) -> list[str]:
        columns = list(self.options.columns)
        # The key of every row: a remove file names the person ids to take out.
        return columns if "person_id" in columns else ["person_id", *columns]

    def prepare(self, member: Member) -> Prepared:
        return Prepared(
            record=first_party_record(member, self.columns),
            keys=frozenset({("person_id", member.person_id)}),
        )

    def open(self, run: RunInfo) -> FileDelivery:
        return FileDelivery(
            self,
            run,
            file_format=self.options.format,
            columns=self.columns,
            removal_columns=self.removal_fields,
        )
