"""Tiny hand-made DuckDB warehouses and segment files for the segment tests.

A test declares only the persons, events and accounts it is about; every other profile
column takes a default (known, consent granted for every purpose).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import yaml

from orchestration.activation.columns import WarehouseSchema
from orchestration.activation.model import SegmentDefinition
from orchestration.activation.segment_files import load_segment_definitions
from orchestration.warehouse import DuckDBWarehouse

AS_OF = dt.datetime(2026, 3, 1, 12, 0)

PROFILE_COLUMNS = {
    "person_id": "varchar",
    "is_known": "boolean",
    "email": "varchar",
    "phone": "varchar",
    "country": "varchar",
    "order_count": "bigint",
    "lifetime_revenue_usd": "decimal(38,10)",
    "last_order_at": "timestamp",
    "signup_date": "date",
    "rfm_segment": "varchar",
    "churn_risk": "double",
    "account_id": "varchar",
    "consent_email_marketing": "varchar",
    "consent_sms_marketing": "varchar",
    "consent_advertising": "varchar",
    "consent_analytics": "varchar",
    "consent_personalization": "varchar",
}
PROFILE_DEFAULTS: dict[str, Any] = {
    "is_known": True,
    "order_count": 0,
    "lifetime_revenue_usd": 0,
    **{name: "granted" for name in PROFILE_COLUMNS if name.startswith("consent_")},
}
EVENT_COLUMNS = {
    "message_id": "varchar",
    "person_id": "varchar",
    "event_type": "varchar",
    "event_name": "varchar",
    "event_at": "timestamp",
    "page_path": "varchar",
    "revenue": "decimal(38,10)",
}
ACCOUNT_COLUMNS = {
    "account_id": "varchar",
    "is_engaged_30d": "boolean",
    "employee_count": "bigint",
    "open_pipeline_usd": "decimal(38,10)",
}


def _create(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: Mapping[str, str],
    rows: Iterable[Mapping[str, Any]],
    defaults: Mapping[str, Any] | None = None,
) -> None:
    con.execute(
        f"create or replace table {relation} ("
        + ", ".join(f"{name} {kind}" for name, kind in columns.items())
        + ")"
    )
    values = [[{**(defaults or {}), **row}.get(name) for name in columns] for row in rows]
    if values:
        marks = ", ".join("?" for _ in columns)
        con.executemany(f"insert into {relation} values ({marks})", values)


def build_warehouse(
    path: Path,
    *,
    profiles: Iterable[Mapping[str, Any]] = (),
    events: Iterable[Mapping[str, Any]] = (),
    accounts: Iterable[Mapping[str, Any]] = (),
    as_of: dt.datetime = AS_OF,
) -> Path:
    """A DuckDB file with marts.customer_profiles, fct_events, account_profiles and
    intermediate.int_as_of holding the given rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists intermediate")
        _create(con, "marts.customer_profiles", PROFILE_COLUMNS, profiles, PROFILE_DEFAULTS)
        events = [
            {"message_id": f"m{index}", "event_type": "track", **event}
            for index, event in enumerate(events)
        ]
        _create(con, "marts.fct_events", EVENT_COLUMNS, events)
        _create(con, "marts.account_profiles", ACCOUNT_COLUMNS, accounts)
        con.execute("create or replace table intermediate.int_as_of (as_of_at timestamp)")
        con.execute("insert into intermediate.int_as_of values (?)", [as_of])
    finally:
        con.close()
    return path


def segment_yaml(name: str = "test_segment", **overrides: Any) -> dict[str, Any]:
    """A valid segment document; override any key (rule included)."""
    document: dict[str, Any] = {
        "name": name,
        "description": "A segment for a test.",
        "owner": "team:growth",
        "consent_purpose": "email_marketing",
        "destinations": ["webhook"],
        "refresh": "daily",
        "audience": "known",
        "rule": {"trait": "order_count", "at_least": 1},
    }
    document.update(overrides)
    return document


def write_segment(directory: Path, document: Mapping[str, Any], suffix: str = ".yml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{document['name']}{suffix}"
    path.write_text(yaml.safe_dump(dict(document), sort_keys=False))
    return path


def load_segments(directory: Path, con: duckdb.DuckDBPyConnection) -> dict[str, SegmentDefinition]:
    """The segments in `directory`, validated against the warehouse behind `con`."""
    schema = WarehouseSchema.from_warehouse(DuckDBWarehouse(con, owned=False))
    return {
        definition.name: definition
        for definition in load_segment_definitions(directory, schema=schema)
    }


def members(con: duckdb.DuckDBPyConnection, segment: str) -> set[str]:
    rows = con.execute(
        "select person_id from marts.segment_membership where segment_name = ?", [segment]
    ).fetchall()
    return {person_id for (person_id,) in rows}
