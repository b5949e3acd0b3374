"""The sync's reads and writes in terms of its own types: the operational state (the
tables `sync_state`, `sync_outbox` and `sync_log`; their meaning: the package docstring)
and the payloads read from `audience_payloads`.

The state lives in a DuckDB database on every target because it needs transactions
(orchestration/warehouse/sync_state.py says why); `SyncStateStore` there owns that
connection and all of the state's SQL, and this module hands it plain values (ids,
hashes, JSON text). The payloads are read through the Warehouse adapter from whichever
engine built them.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from orchestration.activation.destinations.base import Batch, MatchKey, Member, Operation
from orchestration.activation.sync.plan import PlannedBatch, PlannedRow, StateRow
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync_state import LOG_COUNTS as LOG_COUNTS
from orchestration.warehouse.sync_state import LOG_TABLE as LOG_TABLE
from orchestration.warehouse.sync_state import OUTBOX_TABLE, SCHEMA, SyncStateStore
from orchestration.warehouse.sync_state import STATE_TABLE as STATE_TABLE

PAYLOADS_TABLE = f"{SCHEMA}.audience_payloads"


def ensure_sync_tables(state: SyncStateStore) -> None:
    state.ensure_tables()


# ---- reading --------------------------------------------------------------------------------


def member_attributes(static: Mapping[str, Any], raw: Any) -> dict[str, Any]:
    """The segment's static attributes overlaid with the member's own (JSON text, a JSON
    string holding JSON, or a dict, depending on how the membership mart stores them)."""
    value = raw
    for _ in range(2):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                break
    own = value if isinstance(value, dict) else {}
    return {**dict(static), **own}


MEMBER_COLUMNS = [
    "segment_name",
    "destination",
    "person_id",
    "is_known",
    "email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "postal_code",
    "country",
    "entered_at",
    "attributes",
]


def read_members(
    payloads: Warehouse,
    segment: str,
    destination: str,
    static_attributes: Mapping[str, Any] | None = None,
) -> list[Member]:
    """The members of `segment` allowed to go to `destination`, by person id, read from
    `audience_payloads` through the Warehouse adapter (whichever engine built it)."""
    table = payloads.read_arrow(
        PAYLOADS_TABLE, MEMBER_COLUMNS, where={"segment_name": segment, "destination": destination}
    )
    members = []
    for row in sorted(table.to_pylist(), key=lambda row: row["person_id"]):
        entered_at = row["entered_at"]
        if isinstance(entered_at, datetime) and entered_at.tzinfo is None:
            entered_at = entered_at.replace(tzinfo=UTC)
        members.append(
            Member(
                person_id=row["person_id"],
                is_known=bool(row["is_known"]),
                email=row["email"],
                phone=row["phone"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                city=row["city"],
                postal_code=row["postal_code"],
                country=row["country"],
                entered_at=entered_at,
                attributes=member_attributes(static_attributes or {}, row["attributes"]),
            )
        )
    return members


def keys_from_json(text: str) -> frozenset[MatchKey]:
    return frozenset((str(name), str(value)) for name, value in json.loads(text))


def keys_to_json(keys: Iterable[MatchKey]) -> str:
    return json.dumps(sorted([list(key) for key in keys]), separators=(",", ":"))


def read_state(state: SyncStateStore, segment: str, destination: str) -> dict[str, StateRow]:
    rows = state.state_rows(segment, destination)
    return {pid: StateRow(payload_hash, keys_from_json(keys)) for pid, payload_hash, keys in rows}


def read_pending(state: SyncStateStore, segment: str, destination: str) -> list[PlannedBatch]:
    rows = state.outbox_rows(segment, destination)
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    pending = []
    for key, batch_rows in grouped.items():
        _, operation, number, planned_in_run = batch_rows[0][:4]
        planned = [
            PlannedRow(pid, payload_hash, json.loads(record), keys_from_json(keys))
            for _, _, _, _, pid, payload_hash, record, keys in batch_rows
        ]
        batch = Batch(
            destination=destination,
            segment=segment,
            operation=Operation(operation),
            number=number,
            planned_in_run=planned_in_run,
            records=tuple(row.record for row in planned),
        )
        if batch.idempotency_key != key:
            raise RuntimeError(
                f"{OUTBOX_TABLE}: batch {key[:12]} of {segment} -> {destination} no longer "
                "hashes to its key (the outbox was edited by hand?)"
            )
        pending.append(PlannedBatch(batch, planned))
    return pending


# ---- writing --------------------------------------------------------------------------------


@contextlib.contextmanager
def transaction(state: SyncStateStore) -> Iterator[None]:
    """All or nothing: a run killed inside leaves the tables as they were."""
    with state.transaction():
        yield


def insert_outbox(state: SyncStateStore, planned: Sequence[PlannedBatch], now: datetime) -> None:
    columns: dict[str, list[Any]] = defaultdict(list)
    for item in planned:
        batch = item.batch
        key = batch.idempotency_key
        for position, row in enumerate(item.rows):
            columns["segment_name"].append(batch.segment)
            columns["destination"].append(batch.destination)
            columns["idempotency_key"].append(key)
            columns["operation"].append(str(batch.operation))
            columns["batch_number"].append(batch.number)
            columns["planned_in_run"].append(batch.planned_in_run)
            columns["position"].append(position)
            columns["person_id"].append(row.person_id)
            columns["payload_hash"].append(row.payload_hash)
            columns["record"].append(json.dumps(row.record, sort_keys=True, default=str))
            columns["match_keys"].append(keys_to_json(row.keys))
    state.insert_outbox(columns, now)


def write_state_rows(
    state: SyncStateStore,
    segment: str,
    destination: str,
    rows: Mapping[str, StateRow],
    run_id: str,
    now: datetime,
) -> None:
    """Replace the state rows of these persons (a person without keys keeps none)."""
    values = [(pid, row.payload_hash, keys_to_json(row.keys)) for pid, row in rows.items()]
    state.replace_state_rows(segment, destination, values, run_id, now)


def delete_state_rows(
    state: SyncStateStore, segment: str, destination: str, persons: Iterable[str]
) -> None:
    state.delete_state_rows(segment, destination, list(persons))


def delete_outbox_batch(state: SyncStateStore, key: str) -> None:
    state.delete_outbox_batch(key)


def record_failed_attempt(state: SyncStateStore, key: str, error: str) -> None:
    """The batch stays in the outbox for the next run, with what went wrong."""
    state.record_failed_attempt(key, error)


def write_log(
    state: SyncStateStore,
    run_id: str,
    destination: str,
    segment: str,
    full_resync: bool,
    counts: Mapping[str, int],
) -> None:
    """One sync_log row for a (run, destination, segment)."""
    state.write_log(run_id, destination, segment, datetime.now(UTC), full_resync, counts)
