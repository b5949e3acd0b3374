"""The diff sync's operational state in DuckDB: the tables `sync_state`, `sync_outbox` and
`sync_log` of schema `activation` (their meaning: orchestration/activation/sync).

The state needs transactions (the outbox and the state advance together, or a killed run
could repeat or lose a batch), so it lives in a DuckDB database on every target: the
warehouse file itself on DuckDB, and the DuckDB file at CDP_WAREHOUSE beside the Spark
catalog on Spark, whose Parquet tables have neither transactions nor deletes
(docs/spark.md). `SyncStateStore` owns the connection and all of the state's SQL; the
sync (activation/sync/store.py, deliver.py) hands it plain Python values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from orchestration.warehouse.duckdb_warehouse import DuckDBConnection, DuckDBWarehouse

SCHEMA = "activation"
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

# The planned columns of an outbox row (the rest: planned_at, attempts, last_error).
OUTBOX_TYPES = {
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

# One state row: (person_id, payload_hash, match_keys JSON).
StateValues = tuple[str, str | None, str]
# One outbox row as read back, in this order.
PENDING_COLUMNS = (
    "idempotency_key",
    "operation",
    "batch_number",
    "planned_in_run",
    "person_id",
    "payload_hash",
    "record",
    "match_keys",
)


def _naive(moment: datetime) -> datetime:
    """The columns are `timestamp` (UTC, no zone)."""
    return moment.replace(tzinfo=None)


class SyncStateStore:
    """The three tables on one DuckDB connection (not closed here: its opener owns it)."""

    def __init__(self, connection: DuckDBConnection) -> None:
        self.connection = connection

    @classmethod
    def of(cls, target: SyncStateStore | DuckDBConnection) -> SyncStateStore:
        """A store; a bare DuckDB connection (tests, older callers) is wrapped."""
        return target if isinstance(target, SyncStateStore) else cls(target)

    def payloads(self) -> DuckDBWarehouse:
        """The same database as a Warehouse (where the payloads are on DuckDB)."""
        return DuckDBWarehouse(self.connection, owned=False)

    def ensure_tables(self) -> None:
        for statement in DDL:
            self.connection.execute(statement)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a run killed inside leaves the tables as they were."""
        con = self.connection
        con.begin()
        try:
            yield
        except BaseException:
            con.rollback()
            raise
        con.commit()

    # ---- reading ----------------------------------------------------------------------------

    def state_rows(self, segment: str, destination: str) -> list[StateValues]:
        """(person_id, payload_hash, match_keys JSON) of every state row of the pair."""
        rows = self.connection.execute(
            f"select person_id, payload_hash, match_keys from {STATE_TABLE} "
            "where segment_name = ? and destination = ?",
            [segment, destination],
        ).fetchall()
        return [(pid, payload_hash, keys) for pid, payload_hash, keys in rows]

    def outbox_rows(self, segment: str, destination: str) -> list[tuple[Any, ...]]:
        """The pair's outbox rows (PENDING_COLUMNS), in planning and batch order."""
        return self.connection.execute(
            f"""select {", ".join(PENDING_COLUMNS)}
            from {OUTBOX_TABLE}
            where segment_name = ? and destination = ?
            order by planned_at, planned_in_run, batch_number, operation, position""",
            [segment, destination],
        ).fetchall()

    # ---- writing ----------------------------------------------------------------------------

    def insert_outbox(self, columns: Mapping[str, Sequence[Any]], planned_at: datetime) -> None:
        """Append outbox rows given column by column (OUTBOX_TYPES), none attempted yet."""
        if not columns:
            return
        frame = pa.table(
            {name: pa.array(values, type=OUTBOX_TYPES[name]) for name, values in columns.items()}
        )
        con = self.connection
        con.register("planned_outbox_rows", frame)
        try:
            con.execute(
                f"""insert into {OUTBOX_TABLE}
                select segment_name, destination, idempotency_key, operation, batch_number,
                    planned_in_run, position, person_id, payload_hash, record, match_keys,
                    ?::timestamp, 0, null
                from planned_outbox_rows""",
                [_naive(planned_at)],
            )
        finally:
            con.unregister("planned_outbox_rows")

    def replace_state_rows(
        self,
        segment: str,
        destination: str,
        rows: Sequence[StateValues],
        run_id: str,
        synced_at: datetime,
    ) -> None:
        """Replace the state rows of these persons (delete + insert, one statement each);
        a person whose match keys are `[]` keeps no row."""
        if not rows:
            return
        frame = pa.table(
            {
                "person_id": pa.array([row[0] for row in rows], type=pa.string()),
                "payload_hash": pa.array([row[1] for row in rows], type=pa.string()),
                "match_keys": pa.array([row[2] for row in rows], type=pa.string()),
            }
        )
        con = self.connection
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
                [segment, destination, _naive(synced_at), run_id],
            )
        finally:
            con.unregister("new_state_rows")

    def delete_state_rows(self, segment: str, destination: str, persons: Sequence[str]) -> None:
        if not persons:
            return
        self.connection.execute(
            f"delete from {STATE_TABLE} where segment_name = ? and destination = ? "
            "and list_contains(?, person_id)",
            [segment, destination, list(persons)],
        )

    def delete_outbox_batch(self, key: str) -> None:
        self.connection.execute(f"delete from {OUTBOX_TABLE} where idempotency_key = ?", [key])

    def record_failed_attempt(self, key: str, error: str) -> None:
        """The batch stays in the outbox for the next run, with what went wrong."""
        self.connection.execute(
            f"update {OUTBOX_TABLE} set attempts = attempts + 1, last_error = ? "
            "where idempotency_key = ?",
            [error[:1000], key],
        )

    def write_log(
        self,
        run_id: str,
        destination: str,
        segment: str,
        synced_at: datetime,
        full_resync: bool,
        counts: Mapping[str, int],
    ) -> None:
        """One sync_log row for a (run, destination, segment); `counts` by LOG_COUNTS."""
        self.connection.execute(
            f"insert into {LOG_TABLE} values "
            "(?, ?, ?, ?::timestamp, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                destination,
                segment,
                _naive(synced_at),
                full_resync,
                *(counts[name] for name in LOG_COUNTS),
            ],
        )
