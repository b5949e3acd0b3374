"""Running a diff sync: per (segment, destination), re-send or supersede the pending
batches, plan the diff (plan.py), put it in the outbox, then deliver batch by batch and on
each acknowledgement advance the state (store.py) in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestration.activation.destinations.base import (
    Delivery,
    DeliveryError,
    Destination,
    Operation,
    Prepared,
    RunInfo,
)
from orchestration.activation.sync import store
from orchestration.activation.sync.plan import (
    MassChange,
    MassChangePolicy,
    PlannedBatch,
    carried_persons,
    covered_by,
    delivery_order,
    mass_change,
    pending_still_right,
    plan_batches,
    plan_changes,
    state_after_ack,
    state_after_supersede,
)
from orchestration.faults import kill_point
from orchestration.warehouse import DuckDBConnection, Warehouse
from orchestration.warehouse.sync_state import SyncStateStore

COUNTED_AS = {Operation.ADD: "adds", Operation.UPDATE: "updates", Operation.REMOVE: "removes"}


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
    # A mass change the guard held (plan.mass_change): nothing was sent.
    held: MassChange | None = None


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

    @property
    def held(self) -> list[MassChange]:
        return [result.held for result in self.segments if result.held is not None]


def _apply_ack(
    sync_store: SyncStateStore,
    item: PlannedBatch,
    members: Mapping[str, Prepared],
    run: RunInfo,
) -> None:
    """The destination holds this batch: advance the state, drop it from the outbox."""
    segment, destination = item.batch.segment, item.batch.destination
    with store.transaction(sync_store):
        state = store.read_state(sync_store, segment, destination)
        changed = state_after_ack(item, state)
        store.write_state_rows(
            sync_store, segment, destination, changed, run.run_id, datetime.now(UTC)
        )
        _forget_carried(sync_store, segment, destination, members)
        store.delete_outbox_batch(sync_store, item.batch.idempotency_key)


def _forget_carried(
    sync_store: SyncStateStore,
    segment: str,
    destination: str,
    members: Mapping[str, Prepared],
) -> None:
    """Drop the state rows of non-members that have nothing left to take back."""
    state = store.read_state(sync_store, segment, destination)
    store.delete_state_rows(sync_store, segment, destination, carried_persons(state, members))


def _supersede(sync_store: SyncStateStore, item: PlannedBatch, run: RunInfo) -> None:
    """A pending batch that is no longer right is dropped; it may have arrived, so what
    it carried is recorded as possibly present (taken back or re-sent by the diff)."""
    segment, destination = item.batch.segment, item.batch.destination
    with store.transaction(sync_store):
        state = store.read_state(sync_store, segment, destination)
        changed = state_after_supersede(item, state)
        store.write_state_rows(
            sync_store, segment, destination, changed, run.run_id, datetime.now(UTC)
        )
        store.delete_outbox_batch(sync_store, item.batch.idempotency_key)


def sync_segment(
    sync_store: SyncStateStore | DuckDBConnection,
    destination: Destination,
    segment: str,
    delivery: Delivery,
    run: RunInfo,
    *,
    full_resync: bool = False,
    static_attributes: Mapping[str, Any] | None = None,
    payloads: Warehouse | None = None,
    guard: MassChangePolicy | None = None,
    confirmed: bool = False,
) -> SegmentSyncResult:
    """Bring one segment at one destination up to date (see the package docstring).

    `sync_store` holds the sync's state (a bare DuckDB connection is wrapped);
    `payloads` is the warehouse the members are read from (default: the same DuckDB
    database). With a `guard`, a plan that is a mass change is held unless `confirmed`:
    nothing is sent or planned, pending batches stay."""
    sync_store = SyncStateStore.of(sync_store)
    store.ensure_sync_tables(sync_store)
    result = SegmentSyncResult(segment=segment, destination=destination.name)
    members: dict[str, Prepared] = {}
    source = payloads if payloads is not None else sync_store.payloads()
    for member in store.read_members(source, segment, destination.name, static_attributes):
        prepared = destination.prepare(member)
        if prepared is None:
            result.unmatchable += 1
        else:
            members[member.person_id] = prepared
    result.members = len(members)
    wanted = frozenset().union(*(prepared.keys for prepared in members.values()))

    # 2. Pending batches of earlier runs: re-send as they were, or supersede.
    state = store.read_state(sync_store, segment, destination.name)
    present = frozenset().union(*(row.keys for row in state.values()))
    resend: list[PlannedBatch] = []
    for item in store.read_pending(sync_store, segment, destination.name):
        if not full_resync and pending_still_right(item, members, state, present, wanted):
            item.resent = True
            resend.append(item)
        else:
            _supersede(sync_store, item, run)
            result.batches_superseded += 1
    if result.batches_superseded:
        state = store.read_state(sync_store, segment, destination.name)

    # 3. The diff, leaving out what the re-sent batches already carry.
    covered_persons, covered_keys = covered_by(resend)
    changes = plan_changes(
        destination,
        members,
        state,
        full_resync=full_resync,
        covered_persons=covered_persons,
        covered_keys=covered_keys,
    )
    if guard is not None and not confirmed:
        held = mass_change(changes, state, guard, segment=segment, destination=destination.name)
        if held is not None:
            result.held = held
            run.log.warning(held.describe())
            store.write_log(
                sync_store, run.run_id, destination.name, segment, full_resync, asdict(result)
            )
            return result
    planned = plan_batches(destination, segment, changes, resend, run.run_id)
    with store.transaction(sync_store):
        store.insert_outbox(sync_store, planned, datetime.now(UTC))
    kill_point("deliver.after_plan")

    # 4. Deliver batch by batch; the state advances per acknowledged batch.
    work = delivery_order([*resend, *planned])
    for item in work:
        batch = item.batch
        try:
            if item.resent and delivery.already_delivered(batch):
                result.batches_already_delivered += 1
            else:
                kill_point("deliver.before_send")
                delivery.send(batch)
                kill_point("deliver.after_send")
                result.batches_sent += 1
                result.batches_resent += int(item.resent)
        except DeliveryError as error:
            result.batches_failed += 1
            result.failed += len(item.rows)
            result.errors.append(str(error))
            run.log.warning(str(error))
            store.record_failed_attempt(sync_store, batch.idempotency_key, str(error))
            continue
        _apply_ack(sync_store, item, members, run)
        kill_point("deliver.after_ack")
        name = COUNTED_AS[batch.operation]
        setattr(result, name, getattr(result, name) + len(item.rows))
    # Rows of non-members whose keys are all carried by members need no removal.
    with store.transaction(sync_store):
        _forget_carried(sync_store, segment, destination.name, members)
    counts = asdict(result)
    store.write_log(sync_store, run.run_id, destination.name, segment, full_resync, counts)
    return result


def sync_destination(
    sync_store: SyncStateStore | DuckDBConnection,
    destination: Destination,
    segments: Sequence[tuple[str, Mapping[str, Any]]],
    run: RunInfo,
    *,
    full_resync: bool = False,
    payloads: Warehouse | None = None,
    guard: MassChangePolicy | None = None,
    confirmed: frozenset[str] = frozenset(),
) -> DestinationSyncResult:
    """Sync every (segment name, static attributes) to one destination in one run.

    `sync_store` holds the sync's state (a bare DuckDB connection is wrapped);
    `payloads` is the warehouse the members are read from (default: the same DuckDB
    database).

    A destination that cannot deliver here (a webhook without URL) is skipped: nothing
    is planned and the state stays as it is, so the next run with a URL sends it all.

    `guard`: hold a segment whose plan is a mass change, unless its name is `confirmed`.
    """
    reason = destination.unavailable_reason()
    if reason is not None:
        return DestinationSyncResult(destination.name, [], {}, skipped=reason)
    sync_store = SyncStateStore.of(sync_store)
    store.ensure_sync_tables(sync_store)
    delivery = destination.open(run)
    results = []
    try:
        for name, static_attributes in segments:
            results.append(
                sync_segment(
                    sync_store,
                    destination,
                    name,
                    delivery,
                    run,
                    full_resync=full_resync,
                    static_attributes=static_attributes,
                    payloads=payloads,
                    guard=guard,
                    confirmed=name in confirmed,
                )
            )
    finally:
        summary = delivery.close()
    return DestinationSyncResult(destination.name, results, summary)
