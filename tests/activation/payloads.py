"""Helpers for the destination and sync tests: members in `activation.audience_payloads`
of a real DuckDB file (what enforcement writes), and a run to sync them in."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.activation.destinations.base import Member, RunInfo
from orchestration.activation.sync.store import MEMBER_COLUMNS

# The payload mart's columns, as the sync reads them.
COLUMNS = tuple(MEMBER_COLUMNS)


def person(number: int, **changes: object) -> Member:
    """A plausible known member `p<number>` (distinct email and phone per number)."""
    values: dict[str, object] = {
        "person_id": f"p{number:05d}",
        "is_known": True,
        "email": f"member{number}@example.com",
        "phone": f"+1415555{number % 10_000:04d}",
        "first_name": "Ann",
        "last_name": "Lee",
        "city": "San Francisco",
        "postal_code": "94103",
        "country": "US",
        "entered_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    values.update(changes)
    return Member(**values)  # type: ignore[arg-type]


def write_payloads(
    con: duckdb.DuckDBPyConnection,
    segment: str,
    destination: str,
    members: Iterable[Member],
) -> None:
    """Replace the payload rows of (segment, destination) with these members."""
    con.execute("create schema if not exists activation")
    con.execute(
        """create table if not exists activation.audience_payloads (
            segment_name varchar, destination varchar, person_id varchar, is_known boolean,
            email varchar, phone varchar, first_name varchar, last_name varchar,
            city varchar, postal_code varchar, country varchar, entered_at timestamp,
            attributes varchar)"""
    )
    con.execute(
        "delete from activation.audience_payloads where segment_name = ? and destination = ?",
        [segment, destination],
    )
    rows = list(members)
    if not rows:
        return
    frame = payload_table(segment, destination, rows)
    con.register("new_payload_rows", frame)
    con.execute(
        f"insert into activation.audience_payloads ({', '.join(COLUMNS)}) "
        f"select {', '.join(COLUMNS)} from new_payload_rows"
    )
    con.unregister("new_payload_rows")


def payload_table(segment: str, destination: str, members: Iterable[Member]) -> pa.Table:
    """Payload rows of (segment, destination) as Arrow, in the mart's column order."""
    rows = list(members)
    return pa.table(
        {
            "segment_name": pa.array([segment] * len(rows), pa.string()),
            "destination": pa.array([destination] * len(rows), pa.string()),
            "person_id": pa.array([m.person_id for m in rows], pa.string()),
            "is_known": pa.array([m.is_known for m in rows], pa.bool_()),
            "email": pa.array([m.email for m in rows], pa.string()),
            "phone": pa.array([m.phone for m in rows], pa.string()),
            "first_name": pa.array([m.first_name for m in rows], pa.string()),
            "last_name": pa.array([m.last_name for m in rows], pa.string()),
            "city": pa.array([m.city for m in rows], pa.string()),
            "postal_code": pa.array([m.postal_code for m in rows], pa.string()),
            "country": pa.array([m.country for m in rows], pa.string()),
            "entered_at": pa.array(
                [m.entered_at.replace(tzinfo=None) if m.entered_at else None for m in rows],
                pa.timestamp("us"),
            ),
            "attributes": pa.array([json.dumps(dict(m.attributes)) for m in rows], pa.string()),
        }
    )


def run_info(exports_dir: Path, run_id: str, minute: int = 0) -> RunInfo:
    """A run at a fixed time (export folders sort by it)."""
    return RunInfo(
        run_id=run_id,
        started_at=datetime(2026, 11, 22, 10, minute, tzinfo=UTC),
        exports_dir=exports_dir,
        log=logging.getLogger("tests.exports"),
    )
