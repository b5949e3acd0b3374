"""Diff syncs: send each (segment, destination) only what changed since the last
successful sync, and never lose or repeat a batch when a run dies half-way.

Tables (schema `activation`, in the warehouse):

* `sync_state`: what the destination holds, as far as it acknowledged: one row per
  (segment, destination, person) with the hash of the record sent and the person's *match
  keys* there (hashed email/phone for an ad platform, the person id for a first-party
  tool). Nothing else about the person is kept: the keys are exactly what a removal needs,
  so an erased person can still be taken back out.
* `sync_outbox`: batches planned and not yet acknowledged, with their idempotency key.
  Written before anything is sent; a batch's rows are deleted in the same transaction
  that advances the state once the destination acknowledged it.
* `sync_log`: one row per (run, destination, segment) with the counts.

A run, per (segment, destination):

1. Read the members allowed to leave (`audience_payloads`, cleared by enforcement.py) and
   prepare each for the destination (its record, payload hash and match keys).
2. Pending batches of earlier runs (a crash, a failed request) are re-sent first, as they
   were, with the same key, when every row in them is still wanted. A pending batch that
   is no longer right (the data changed meanwhile) is dropped, but since it may have
   arrived, its keys are recorded as possibly present: they are taken back or re-sent.
3. The diff against the state: match keys present and no longer wanted are removed (one
   removal row per key; removes go first), changed members are updated (or re-added
   where the destination has no update), new members added. `full_resync` re-sends
   every member and still removes what is no longer wanted.
4. The plan goes to the outbox (one transaction), then batch by batch: deliver, and on
   acknowledgement apply it to the state and delete it from the outbox (one
   transaction). A failed batch stays in the outbox for the next run.

So the state only advances after the destination acknowledged, a run killed at any point
is finished by the next one, and a batch that was delivered but not recorded is re-sent
with the same key (a file destination finds its file and does not write it again).
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.activation.destinations.base import (
    Batch,
    Delivery,
    DeliveryError,
    Destination,
    MatchKey,
    Member,
    Operation,
    Prepared,
    RunInfo,
    chunked,
)

SCHEMA = "activation"
PAYLOADS_TABLE = f"{SCHEMA}.audience_payloads"
STATE_TABLE = f"{SCHEMA}.sync_state"
OUTBOX_TABLE = f"{SCHEMA}.sync_outbox"
LOG_TABLE = f"{SCHEMA}.sync_log"
OPERATION_ORDER = {Operation.REMOVE: 0, Operation.UPDATE: 1, Operation.ADD: 2}
COUNTED_AS = {Operation.ADD: "adds", Operation.UPDATE: "updates", Operation.REMOVE: "removes"}

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


def read_members(
    con: duckdb.DuckDBPyConnection,
    segment: str,
    destination: str,
    static_attributes: Mapping[str, Any] | None = None,
) -> list[Member]:
    rows = con.execute(
        f"""select person_id, is_known, email, phone, first_name, last_name, city,
            postal_code, country, entered_at, attributes
        from {PAYLOADS_TABLE}
        where segment_name = ? and destination = ?
        order by person_id""",
        [segment, destination],
    ).fetchall()
    members = []
    for row in rows:
        entered_at = row[9]
        if isinstance(entered_at, datetime) and entered_at.tzinfo is None:
            entered_at = entered_at.replace(tzinfo=UTC)
        members.append(
            Member(
                person_id=row[0],
                is_known=bool(row[1]),
                email=row[2],
                phone=row[3],
                first_name=row[4],
                last_name=row[5],
                city=row[6],
                postal_code=row[7],
                country=row[8],
                entered_at=entered_at,
                attributes=member_attributes(static_attributes or {}, row[10]),
            )
        )
    return members


def _keys_from_json(text: str) -> frozenset[MatchKey]:
    return frozenset((str(name), str(value)) for name, value in json.loads(text))


def _keys_to_json(keys: Iterable[MatchKey]) -> str:
    return json.dumps(sorted([list(key) for key in keys]), separators=(",", ":"))


@dataclass
class StateRow:
    payload_hash: str | None
    keys: frozenset[MatchKey]


def read_state(
    con: duckdb.DuckDBPyConnection, segment: str, destination: str
) -> dict[str, StateRow]:
    rows = con.execute(
        f"select person_id, payload_hash, match_keys from {STATE_TABLE} "
        "where segment_name = ? and destination = ?",
        [segment, destination],
    ).fetchall()
    return {pid: StateRow(payload_hash, _keys_from_json(keys)) for pid, payload_hash, keys in rows}


@dataclass(frozen=True)
class PlannedRow:
    person_id: str | None
    payload_hash: str | None
    record: dict[str, Any]
    keys: frozenset[MatchKey]


@dataclass
class PlannedBatch:
    batch: Batch
    rows: list[PlannedRow]
    resent: bool = False


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
            PlannedRow(pid, payload_hash, json.loads(record), _keys_from_json(keys))
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
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: a run killed inside leaves the tables as they were."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _insert_outbox(
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
            columns["match_keys"].append(_keys_to_json(row.keys))
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


def _write_state_rows(
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
            "match_keys": pa.array(
                [_keys_to_json(r.keys) for r in rows.values()], type=pa.string()
            ),
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


def _delete_state_rows(
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


def _delete_outbox_batch(con: duckdb.DuckDBPyConnection, key: str) -> None:
    con.execute(f"delete from {OUTBOX_TABLE} where idempotency_key = ?", [key])


# ---- the sync -------------------------------------------------------------------------------


@dataclass
class SegmentSyncResult:
    segment: str
    destination: str
    members: int = 0
    unmatchable: int = 0
    adds: int = 0
    updates: int = 0
    removes: int = 0
    failed: int = 0
    batches_sent: int = 0
    batches_resent: int = 0
    batches_already_delivered: int = 0
    batches_failed: int = 0
    batches_superseded: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class DestinationSyncResult:
    destination: str
    segments: list[SegmentSyncResult]
    delivery: dict[str, Any]
    skipped: str | None = None

    def total(self, name: str) -> int:
        return sum(getattr(result, name) for result in self.segments)

    @property
    def errors(self) -> list[str]:
        return [error for result in self.segments for error in result.errors]


def _apply_ack(
    con: duckdb.DuckDBPyConnection,
    item: PlannedBatch,
    members: Mapping[str, Prepared],
    run: RunInfo,
) -> None:
    """The destination holds this batch: advance the state, drop it from the outbox."""
    batch = item.batch
    segment, destination = batch.segment, batch.destination
    now = datetime.now(UTC)
    with _transaction(con):
        state = read_state(con, segment, destination)
        if batch.operation == Operation.REMOVE:
            removed = frozenset().union(*(row.keys for row in item.rows))
            changed = {
                pid: StateRow(row.payload_hash, row.keys - removed)
                for pid, row in state.items()
                if row.keys & removed
            }
            _write_state_rows(con, segment, destination, changed, run.run_id, now)
        else:
            changed = {}
            for row in item.rows:
                assert row.person_id is not None
                previous = state.get(row.person_id)
                keys = row.keys | (previous.keys if previous else frozenset())
                changed[row.person_id] = StateRow(row.payload_hash, keys)
            _write_state_rows(con, segment, destination, changed, run.run_id, now)
        _forget_carried(con, segment, destination, members)
        _delete_outbox_batch(con, batch.idempotency_key)


def _forget_carried(
    con: duckdb.DuckDBPyConnection,
    segment: str,
    destination: str,
    members: Mapping[str, Prepared],
) -> None:
    """Drop state rows of persons who are no longer members when every key they hold is
    also held by a member's (acknowledged) row: nothing is left for them to take back
    (e.g. a person id that changed in a merge, same email)."""
    state = read_state(con, segment, destination)
    held_by_members = frozenset().union(*(row.keys for pid, row in state.items() if pid in members))
    _delete_state_rows(
        con,
        segment,
        destination,
        [pid for pid, row in state.items() if pid not in members and row.keys <= held_by_members],
    )


def _pending_still_right(
    item: PlannedBatch,
    members: Mapping[str, Prepared],
    state: Mapping[str, StateRow],
    present: frozenset[MatchKey],
    wanted: frozenset[MatchKey],
) -> bool:
    for row in item.rows:
        if item.batch.operation == Operation.REMOVE:
            if not (row.keys <= present and not row.keys & wanted):
                return False
        else:
            prepared = members.get(row.person_id or "")
            if prepared is None or prepared.payload_hash != row.payload_hash:
                return False
            if (
                current := state.get(row.person_id or "")
            ) and current.payload_hash == row.payload_hash:
                return False
    return True


def _supersede(con: duckdb.DuckDBPyConnection, item: PlannedBatch, run: RunInfo) -> None:
    """A pending batch that is no longer right is dropped; it may have arrived, so what
    it carried is recorded as possibly present (taken back or re-sent by the diff)."""
    batch = item.batch
    segment, destination = batch.segment, batch.destination
    now = datetime.now(UTC)
    with _transaction(con):
        state = read_state(con, segment, destination)
        changed: dict[str, StateRow] = {}
        if batch.operation == Operation.REMOVE:
            removed = frozenset().union(*(row.keys for row in item.rows))
            # Those keys may be gone at the destination: members holding them are re-sent.
            for pid, row in state.items():
                if row.keys & removed:
                    changed[pid] = StateRow(None, row.keys)
        else:
            for row in item.rows:
                assert row.person_id is not None
                previous = state.get(row.person_id)
                keys = row.keys | (previous.keys if previous else frozenset())
                changed[row.person_id] = StateRow(None, keys)
        _write_state_rows(con, segment, destination, changed, run.run_id, now)
        _delete_outbox_batch(con, batch.idempotency_key)


def plan_changes(
    destination: Destination,
    members: Mapping[str, Prepared],
    state: Mapping[str, StateRow],
    *,
    full_resync: bool = False,
    covered_persons: frozenset[str] = frozenset(),
    covered_keys: frozenset[MatchKey] = frozenset(),
) -> dict[Operation, list[PlannedRow]]:
    """The diff (pure): removals by key, updates and adds by person, each sorted."""
    wanted = frozenset().union(*(prepared.keys for prepared in members.values()))
    present = frozenset().union(*(row.keys for row in state.values()))
    removals = sorted(present - wanted - covered_keys)
    changes: dict[Operation, list[PlannedRow]] = {op: [] for op in Operation}
    for key in removals:
        changes[Operation.REMOVE].append(
            PlannedRow(None, None, destination.removal_record(key), frozenset({key}))
        )
    for pid in sorted(members):
        if pid in covered_persons:
            continue
        prepared = members[pid]
        current = state.get(pid)
        if (
            current is not None
            and current.payload_hash == prepared.payload_hash
            and not full_resync
        ):
            continue
        operation = (
            Operation.UPDATE
            if current is not None and destination.supports_updates and not full_resync
            else Operation.ADD
        )
        changes[operation].append(
            PlannedRow(pid, prepared.payload_hash, prepared.record, prepared.keys)
        )
    return changes


def sync_segment(
    con: duckdb.DuckDBPyConnection,
    destination: Destination,
    segment: str,
    delivery: Delivery,
    run: RunInfo,
    *,
    full_resync: bool = False,
    static_attributes: Mapping[str, Any] | None = None,
) -> SegmentSyncResult:
    """Bring one segment at one destination up to date (see the module docstring)."""
    ensure_sync_tables(con)
    result = SegmentSyncResult(segment=segment, destination=destination.name)
    members: dict[str, Prepared] = {}
    for member in read_members(con, segment, destination.name, static_attributes):
        prepared = destination.prepare(member)
        if prepared is None:
            result.unmatchable += 1
        else:
            members[member.person_id] = prepared
    result.members = len(members)
    wanted = frozenset().union(*(prepared.keys for prepared in members.values()))

    # 2. Pending batches of earlier runs: re-send as they were, or supersede.
    state = read_state(con, segment, destination.name)
    present = frozenset().union(*(row.keys for row in state.values()))
    resend: list[PlannedBatch] = []
    for item in read_pending(con, segment, destination.name):
        if not full_resync and _pending_still_right(item, members, state, present, wanted):
            item.resent = True
            resend.append(item)
        else:
            _supersede(con, item, run)
            result.batches_superseded += 1
    if result.batches_superseded:
        state = read_state(con, segment, destination.name)

    # 3. The diff, leaving out what the re-sent batches already carry.
    covered_persons = frozenset(
        row.person_id for item in resend for row in item.rows if row.person_id is not None
    )
    covered_keys = frozenset(
        key
        for item in resend
        if item.batch.operation == Operation.REMOVE
        for row in item.rows
        for key in row.keys
    )
    changes = plan_changes(
        destination,
        members,
        state,
        full_resync=full_resync,
        covered_persons=covered_persons,
        covered_keys=covered_keys,
    )
    planned: list[PlannedBatch] = []
    for operation in sorted(changes, key=OPERATION_ORDER.__getitem__):
        first = 1 + max(
            (item.batch.number for item in resend if item.batch.operation == operation),
            default=0,
        )
        for offset, rows in enumerate(chunked(changes[operation], destination.batch_size)):
            batch = Batch(
                destination=destination.name,
                segment=segment,
                operation=operation,
                number=first + offset,
                planned_in_run=run.run_id,
                records=tuple(row.record for row in rows),
            )
            planned.append(PlannedBatch(batch, list(rows)))
    with _transaction(con):
        _insert_outbox(con, planned, datetime.now(UTC))

    # 4. Deliver batch by batch; the state advances per acknowledged batch.
    work = sorted(
        [*resend, *planned],
        key=lambda item: (OPERATION_ORDER[item.batch.operation], item.resent is False),
    )
    for item in work:
        batch = item.batch
        try:
            if item.resent and delivery.already_delivered(batch):
                result.batches_already_delivered += 1
            else:
                delivery.send(batch)
                result.batches_sent += 1
                result.batches_resent += int(item.resent)
        except DeliveryError as error:
            result.batches_failed += 1
            result.failed += len(item.rows)
            result.errors.append(str(error))
            run.log.warning(str(error))
            con.execute(
                f"update {OUTBOX_TABLE} set attempts = attempts + 1, last_error = ? "
                "where idempotency_key = ?",
                [str(error)[:1000], batch.idempotency_key],
            )
            continue
        _apply_ack(con, item, members, run)
        name = COUNTED_AS[batch.operation]
        setattr(result, name, getattr(result, name) + len(item.rows))
    # Rows of non-members whose keys are all carried by members need no removal.
    with _transaction(con):
        _forget_carried(con, segment, destination.name, members)
    _log(con, result, run, full_resync)
    return result


def _log(
    con: duckdb.DuckDBPyConnection, result: SegmentSyncResult, run: RunInfo, full_resync: bool
) -> None:
    con.execute(
        f"insert into {LOG_TABLE} values (?, ?, ?, ?::timestamp, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run.run_id,
            result.destination,
            result.segment,
            datetime.now(UTC).replace(tzinfo=None),
            full_resync,
            result.members,
            result.unmatchable,
            result.adds,
            result.updates,
            result.removes,
            result.failed,
            result.batches_sent,
            result.batches_resent,
            result.batches_already_delivered,
            result.batches_failed,
        ],
    )


def sync_destination(
    con: duckdb.DuckDBPyConnection,
    destination: Destination,
    segments: Sequence[tuple[str, Mapping[str, Any]]],
    run: RunInfo,
    *,
    full_resync: bool = False,
) -> DestinationSyncResult:
    """Sync every (segment name, static attributes) to one destination in one run.

    A destination that cannot deliver here (a webhook without URL) is skipped: nothing
    is planned and the state stays as it is, so the next run with a URL sends it all.
    """
    reason = destination.unavailable_reason()
    if reason is not None:
        return DestinationSyncResult(destination.name, [], {}, skipped=reason)
    ensure_sync_tables(con)
    delivery = destination.open(run)
    results = []
    try:
        for name, static_attributes in segments:
            results.append(
                sync_segment(
                    con,
                    destination,
                    name,
                    delivery,
                    run,
                    full_resync=full_resync,
                    static_attributes=static_attributes,
                )
            )
    finally:
        summary = delivery.close()
    return DestinationSyncResult(destination.name, results, summary)
