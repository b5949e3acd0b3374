"""The operational state of diff syncs (schema `activation`): the tables `sync_state`,
`sync_outbox` and `sync_log` (their meaning: the package docstring), and the payloads read
from `audience_payloads`.

The state needs transactions (the outbox and the state advance together, or a killed run
could repeat or lose a batch), so it lives in a DuckDB database: the warehouse file itself
on DuckDB, and the DuckDB file at CDP_WAREHOUSE beside the Spark catalog on Spark, whose
Parquet tables have neither transactions nor deletes (docs/spark.md). The payloads are
read through the Warehouse adapter from whichever engine built them. All of the state's
SQL is here.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.activation.destinations.base import Batch, MatchKey, Member, Operation
from orchestration.activation.sync.plan import PlannedBatch, PlannedRow, StateRow
from orchestration.warehouse import Warehouse

SCHEMA = "activation"
PAYLOADS_TABLE = f"{SCHEMA}.audience_payloads"
STATE_TABLE = f"{SCHEMA}.sync_state"
OUTBOX_TABLE = f"{SCHEMA}.sync_outbox"
LOG_TABLE = f"{SCHEMA}.sync_log"
# The counts of a sync_log row, in column order.
LOG_COUNTS = (
    "members",
    "unmatchable",
    "adds",
    "updates",
    "removes",
    "failed",
    "batches_sent",
    "batches_resent",
    "batches_already_delivered",
    "batches_failed",
)

DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {STATE_TABLE} (
        segment_name varchar not null,
        destination varchar not null,
        person_id varchar not null,
        -- hash of the record the destination acknowledged; null = it may hold an
        -- unknown version (a batch that may have arrived), so the member is re-sent
        payload_hash varchar,
        -- JSON [[field, value], ...]: the person's keys at the destination (hashed for
        -- ad platforms): all a removal needs, nothing else
        match_keys varchar not null,
        synced_at timestamp not null,
        run_id varchar not null
    )""",
    f"""create table if not exists {OUTBOX_TABLE} (
        segment_name varchar not null,
        destination varchar not null,
        idempotency_key varchar not null,
        operation varchar not null,
        batch_number integer not null,
        planned_in_run varchar not null,
        position integer not null,
        person_id varchar,
        payload_hash varchar,
        record varchar not null,
        match_keys varchar not null,
        planned_at timestamp not null,
        attempts integer not null,
        last_error varchar
    )""",
    f"""create table if not exists {LOG_TABLE} (
        run_id varchar not null,
        destination varchar not null,
        segment_name varchar not null,
        synced_at timestamp not null,
        full_resync boolean not null,
        members integer not null,
        unmatchable integer not null,
        adds integer not null,
        updates integer not null,
        removes integer not null,
        failed integer not null,
        batches_sent integer not null,
        batches_resent integer not null,
        batches_already_delivered integer not null,
        batches_failed integer not null
    )""",
]


def ensure_sync_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


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


def read_state(
    con: duckdb.DuckDBPyConnection, segment: str, destination: str
) -> dict[str, StateRow]:
    rows = con.execute(
        f"select person_id, payload_hash, match_keys from {STATE_TABLE} "
        "where segment_name = ? and destination = ?",
        [segment, destination],
    ).fetchall()
    return {pid: StateRow(payload_hash, keys_from_json(keys)) for pid, payload_hash, keys in rows}


def read_pending(
    con: duckdb.DuckDBPyConnection, segment: str, destination: str
) -> list[PlannedBatch]:
    rows = con.execute(
        f"""select idempotency_key, operation, batch_number, planned_in_run, person_id,
            payload_hash, record, match_keys
        from {OUTBOX_TABLE}
        where segment_name = ? and destination = ?
        order by planned_at, planned_in_run, batch_number, operation, position""",
        [segment, destination],
    ).fetchall()
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
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: a run killed inside leaves the tables as they were."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def insert_outbox(
    con: duckdb.DuckDBPyConnection, planned: Sequence[PlannedBatch], now: datetime
) -> None:
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
    if not columns:
        return
    frame = pa.table(
        {name: pa.array(values, type=_OUTBOX_TYPES[name]) for name, values in columns.items()}
    )
    con.register("planned_outbox_rows", frame)
    try:
        con.execute(
            f"""insert into {OUTBOX_TABLE}
            select segment_name, destination, idempotency_key, operation, batch_number,
                planned_in_run, position, person_id, payload_hash, record, match_keys,
                ?::timestamp, 0, null
            from planned_outbox_rows""",
            [now.replace(tzinfo=None)],
        )
    finally:
        con.unregister("planned_outbox_rows")


_OUTBOX_TYPES = {
    "segment_name": pa.string(),
    "destination": pa.string(),
    "idempotency_key": pa.string(),
    "operation": pa.string(),
    "batch_number": pa.int32(),
    "planned_in_run": pa.string(),
    "position": pa.int32(),
    "person_id": pa.string(),
    "payload_hash": pa.string(),
    "record": pa.string(),
    "match_keys": pa.string(),
}


def write_state_rows(
    con: duckdb.DuckDBPyConnection,
    segment: str,
    destination: str,
    rows: Mapping[str, StateRow],
    run_id: str,
    now: datetime,
) -> None:
    """Replace the state rows of these persons (delete + insert, one statement each)."""
    if not rows:
        return
    frame = pa.table(
        {
            "person_id": pa.array(list(rows), type=pa.string()),
            "payload_hash": pa.array([r.payload_hash for r in rows.values()], type=pa.string()),
            "match_keys": pa.array([keys_to_json(r.keys) for r in rows.values()], type=pa.string()),
        }
    )
    con.register("new_state_rows", frame)
    try:
        con.execute(
            f"delete from {STATE_TABLE} where segment_name = ? and destination = ? "
            "and person_id in (select person_id from new_state_rows)",
            [segment, destination],
        )
        con.execute(
            f"""insert into {STATE_TABLE}
            select ?, ?, person_id, payload_hash, match_keys, ?::timestamp, ?
            from new_state_rows where match_keys <> '[]'""",
            [segment, destination, now.replace(tzinfo=None), run_id],
        )
    finally:
        con.unregister("new_state_rows")


def delete_state_rows(
    con: duckdb.DuckDBPyConnection, segment: str, destination: str, persons: Iterable[str]
) -> None:
    persons = list(persons)
    if not persons:
        return
    con.execute(
        f"delete from {STATE_TABLE} where segment_name = ? and destination = ? "
        "and list_contains(?, person_id)",
        [segment, destination, persons],
    )


def delete_outbox_batch(con: duckdb.DuckDBPyConnection, key: str) -> None:
    con.execute(f"delete from {OUTBOX_TABLE} where idempotency_key = ?", [key])


def record_failed_attempt(con: duckdb.DuckDBPyConnection, key: str, error: str) -> None:
    """The batch stays in the outbox for the next run, with what went wrong."""
    con.execute(
        f"update {OUTBOX_TABLE} set attempts = attempts + 1, last_error = ? "
        "where idempotency_key = ?",
        [error[:1000], key],
    )


def write_log(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    destination: str,
    segment: str,
    full_resync: bool,
    counts: Mapping[str, int],
) -> None:
    """One sync_log row for a (run, destination, segment)."""
    con.execute(
        f"insert into {LOG_TABLE} values (?, ?, ?, ?::timestamp, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            destination,
            segment,
            datetime.now(UTC).replace(tzinfo=None),
            full_resync,
            *(counts[name] for name in LOG_COUNTS),
        ],
    )
