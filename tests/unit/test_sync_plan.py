"""The pure state transitions of a diff sync (orchestration/activation/sync/plan.py)."""

from orchestration.activation.destinations.base import Batch, Operation, Prepared
from orchestration.activation.sync.plan import (
    PlannedBatch,
    PlannedRow,
    StateRow,
    carried_persons,
    delivery_order,
    state_after_ack,
    state_after_supersede,
)

EMAIL_A = ("email_sha256", "a")
EMAIL_B = ("email_sha256", "b")


def batch(operation: Operation, rows: list[PlannedRow], resent: bool = False) -> PlannedBatch:
    records = tuple(row.record for row in rows)
    return PlannedBatch(Batch("meta", "vip", operation, 1, "run-1", records), rows, resent)


def test_an_acknowledged_removal_takes_its_keys_out_of_every_state_row_holding_them():
    state = {
        "p1": StateRow("h1", frozenset({EMAIL_A, EMAIL_B})),
        "p2": StateRow("h2", frozenset({EMAIL_B})),
    }
    removal = batch(Operation.REMOVE, [PlannedRow(None, None, {"k": "a"}, frozenset({EMAIL_A}))])
    assert state_after_ack(removal, state) == {"p1": StateRow("h1", frozenset({EMAIL_B}))}


def test_an_acknowledged_add_records_the_payload_and_keeps_keys_held_before():
    state = {"p1": StateRow("old", frozenset({EMAIL_A}))}
    add = batch(Operation.ADD, [PlannedRow("p1", "new", {"k": "b"}, frozenset({EMAIL_B}))])
    assert state_after_ack(add, state) == {"p1": StateRow("new", frozenset({EMAIL_A, EMAIL_B}))}


def test_a_superseded_add_leaves_the_payload_unknown_so_the_member_is_sent_again():
    add = batch(Operation.ADD, [PlannedRow("p1", "new", {"k": "a"}, frozenset({EMAIL_A}))])
    assert state_after_supersede(add, {}) == {"p1": StateRow(None, frozenset({EMAIL_A}))}


def test_a_non_member_whose_keys_a_member_holds_has_nothing_left_to_take_back():
    state = {
        "old_id": StateRow("h", frozenset({EMAIL_A})),
        "new_id": StateRow("h", frozenset({EMAIL_A})),
        "gone": StateRow("h", frozenset({EMAIL_B})),
    }
    members = {"new_id": Prepared({"k": "a"}, frozenset({EMAIL_A}))}
    assert carried_persons(state, members) == ["old_id"]


def test_removals_go_first_and_resent_batches_before_new_ones():
    add = batch(Operation.ADD, [])
    resent_add = batch(Operation.ADD, [], resent=True)
    removal = batch(Operation.REMOVE, [])
    assert delivery_order([add, resent_add, removal]) == [removal, resent_add, add]
