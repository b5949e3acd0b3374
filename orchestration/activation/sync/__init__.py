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

1. Read the members allowed to leave (`audience_payloads`, a dbt model with a blocking
   test) and prepare each for the destination (its record, payload hash and match keys).
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

Split by concern: store.py (the three tables and the payloads in the sync's own types),
plan.py (the diff and the state transitions, pure) and deliver.py (a run: outbox, send,
acknowledge). The tables' SQL, on the DuckDB database they live in, is the adapter's
`SyncStateStore` (orchestration/warehouse/sync_state.py).
"""

from orchestration.activation.sync.deliver import (
    DestinationSyncResult,
    SegmentSyncResult,
    sync_destination,
    sync_segment,
)
from orchestration.activation.sync.plan import plan_changes

__all__ = [
    "DestinationSyncResult",
    "SegmentSyncResult",
    "plan_changes",
    "sync_destination",
    "sync_segment",
]
