"""Diff syncs (see deliver.py): the public entry points."""

from orchestration.activation.sync.deliver import (
    DestinationSyncResult,
    SegmentSyncResult,
    sync_destination,
    sync_segment,
)

__all__ = ["DestinationSyncResult", "SegmentSyncResult", "sync_destination", "sync_segment"]
