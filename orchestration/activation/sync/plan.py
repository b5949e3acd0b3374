"""The plan of a diff sync, pure: what the destination holds (`StateRow`), the rows and
batches to send (`PlannedRow`, `PlannedBatch`), the diff of adds, updates and removes,
whether a pending batch is still right, and the state an acknowledged or superseded batch
leaves. No warehouse here: store.py reads and writes, deliver.py runs a sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.activation.destinations.base import (
    Batch,
    Destination,
    MatchKey,
    Operation,
    Prepared,
    chunked,
)

OPERATION_ORDER = {Operation.REMOVE: 0, Operation.UPDATE: 1, Operation.ADD: 2}


@dataclass
class StateRow:
    payload_hash: str | None
    keys: frozenset[MatchKey]


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


def pending_still_right(
    item: PlannedBatch,
    members: Mapping[str, Prepared],
    state: Mapping[str, StateRow],
    present: frozenset[MatchKey],
    wanted: frozenset[MatchKey],
) -> bool:
    """A pending batch may be re-sent as it was: every row in it is still wanted."""
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


def covered_by(resend: Iterable[PlannedBatch]) -> tuple[frozenset[str], frozenset[MatchKey]]:
    """The persons and the removal keys that batches being re-sent already carry: the
    diff leaves them out."""
    resend = list(resend)
    persons = frozenset(
        row.person_id for item in resend for row in item.rows if row.person_id is not None
    )
    keys = frozenset(
        key
        for item in resend
        if item.batch.operation == Operation.REMOVE
        for row in item.rows
        for key in row.keys
    )
    return persons, keys


def plan_batches(
    destination: Destination,
    segment: str,
    changes: Mapping[Operation, Sequence[PlannedRow]],
    resend: Sequence[PlannedBatch],
    run_id: str,
) -> list[PlannedBatch]:
    """The diff cut into the destination's batches, numbered after the re-sent ones."""
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
                planned_in_run=run_id,
                records=tuple(row.record for row in rows),
            )
            planned.append(PlannedBatch(batch, list(rows)))
    return planned


def delivery_order(items: Iterable[PlannedBatch]) -> list[PlannedBatch]:
    """Removes first, then updates, then adds; within each, re-sent batches first."""
    return sorted(
        items, key=lambda item: (OPERATION_ORDER[item.batch.operation], item.resent is False)
    )


def state_after_ack(item: PlannedBatch, state: Mapping[str, StateRow]) -> dict[str, StateRow]:
    """The state rows an acknowledged batch changes: a removal takes its keys out of
    every row holding them; an add or update records the payload and adds the keys."""
    batch = item.batch
    if batch.operation == Operation.REMOVE:
        removed = frozenset().union(*(row.keys for row in item.rows))
        return {
            pid: StateRow(row.payload_hash, row.keys - removed)
            for pid, row in state.items()
            if row.keys & removed
        }
    changed = {}
    for row in item.rows:
        assert row.person_id is not None
        previous = state.get(row.person_id)
        keys = row.keys | (previous.keys if previous else frozenset())
        changed[row.person_id] = StateRow(row.payload_hash, keys)
    return changed


def state_after_supersede(item: PlannedBatch, state: Mapping[str, StateRow]) -> dict[str, StateRow]:
    """A dropped pending batch may have arrived: what it carried is possibly present
    (payload unknown, so re-sent; keys kept, so taken back when no longer wanted)."""
    batch = item.batch
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
    return changed


def carried_persons(state: Mapping[str, StateRow], members: Mapping[str, Prepared]) -> list[str]:
    """Non-members whose every key is also held by a member's (acknowledged) row: nothing
    is left for them to take back (e.g. a person id that changed in a merge, same email)."""
    held_by_members = frozenset().union(*(row.keys for pid, row in state.items() if pid in members))
    return [pid for pid, row in state.items() if pid not in members and row.keys <= held_by_members]


@dataclass(frozen=True)
class MassChangePolicy:
    """When a sync is a mass change, held until someone confirms it (docs/operations.md).

    `max_remove_share`: the share of the destination's current audience one sync may take
    out (CDP_MASS_CHANGE_MAX_REMOVE_SHARE); `max_add_factor`: how many times the current
    audience it may add (CDP_MASS_CHANGE_MAX_ADD_FACTOR); `min_audience`: audiences smaller
    than this are not guarded (CDP_MASS_CHANGE_MIN_AUDIENCE): two of ten people leaving is
    ordinary churn, not a broken upstream model. A first sync (nothing at the destination)
    is never a mass change."""

    max_remove_share: float = 0.2
    max_add_factor: float = 10.0
    min_audience: int = 100


@dataclass(frozen=True)
class MassChange:
    """A planned sync the policy holds, with the numbers that made it one."""

    segment: str
    destination: str
    current: int
    removes: int
    adds: int
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"{self.segment} -> {self.destination} held as a mass change: "
            f"{'; '.join(self.reasons)}; nothing sent. If intended, re-run with "
            f"--confirm-mass-change {self.segment}"
        )


def mass_change(
    changes: Mapping[Operation, Sequence[PlannedRow]],
    state: Mapping[str, StateRow],
    policy: MassChangePolicy,
    *,
    segment: str,
    destination: str,
) -> MassChange | None:
    """The plan as a mass change, or None (pure).

    Counted in persons: the current audience is the persons the destination holds keys
    of; a removal is a person all of whose keys the plan takes out (a changed email, one
    key of two, is not); an add is a person the destination does not hold yet (a full
    resync's re-adds are not)."""
    holding = {pid: row.keys for pid, row in state.items() if row.keys}
    current = len(holding)
    if current == 0 or current < policy.min_audience:
        return None
    removed_keys = frozenset().union(*(row.keys for row in changes.get(Operation.REMOVE, ())))
    removes = sum(1 for keys in holding.values() if keys <= removed_keys)
    adds = sum(1 for row in changes.get(Operation.ADD, ()) if row.person_id not in holding)
    reasons = []
    if removes > policy.max_remove_share * current:
        reasons.append(
            f"would remove {removes:,} of {current:,} members ({removes / current:.0%}, "
            f"more than {policy.max_remove_share:.0%})"
        )
    if adds > policy.max_add_factor * current:
        reasons.append(
            f"would add {adds:,} to {current:,} members ({adds / current:.1f}x, "
            f"more than {policy.max_add_factor:g}x)"
        )
    if not reasons:
        return None
    return MassChange(segment, destination, current, removes, adds, tuple(reasons))
