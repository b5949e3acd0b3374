"""Staging on the demo data (seeds/): the contents, checked against the raw files.

Expectations are computed from the files with plain Python (tests/e2e/rawfiles.py), not
from the warehouse, so each test fails when staging does the wrong thing to real rows.
All tests share the session build of seeds/ (`demo_db`).
"""

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import phonenumbers
import pytest

from orchestration.ingestion.contract import load_contract
from tests.conftest import SEEDS
from tests.e2e.rawfiles import field, parse_utc, table_records

STAGED_MODEL = {
    "crm_accounts": "stg_crm__accounts",
    "crm_contacts": "stg_crm__contacts",
    "crm_deals": "stg_crm__deals",
    "crm_tickets": "stg_crm__tickets",
    "shop_customers": "stg_shop__customers",
    "shop_orders": "stg_shop__orders",
    "shop_order_items": "stg_shop__order_items",
    "fx_rates": "stg_finance__fx_rates",
    "events": "stg_tracking__events",
    "consent": "stg_privacy__consent_changes",
    "deletion_requests": "stg_privacy__deletion_requests",
}
STAGED_KEYS = {
    "stg_crm__accounts": ["account_id"],
    "stg_crm__contacts": ["contact_id"],
    "stg_crm__deals": ["deal_id"],
    "stg_crm__tickets": ["ticket_id"],
    "stg_shop__customers": ["customer_id"],
    "stg_shop__orders": ["order_id"],
    "stg_shop__order_items": ["order_id", "line_number"],
    "stg_finance__fx_rates": ["rate_date", "currency"],
    "stg_tracking__events": ["message_id"],
    "stg_privacy__consent_changes": ["consent_change_id"],
    "stg_privacy__deletion_requests": ["request_id"],
}
EMAIL_COLUMNS = [
    ("stg_crm__contacts", "email"),
    ("stg_shop__customers", "email"),
    ("stg_shop__orders", "email"),
    ("stg_tracking__events", "email"),
]
PHONE_COLUMNS = [
    ("stg_crm__contacts", "phone"),
    ("stg_shop__customers", "phone"),
    ("stg_shop__orders", "phone"),
    ("stg_tracking__events", "phone"),
]
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
PLACEHOLDER_EMAIL = "test@test.com"


def rel(path: Path) -> str:
    return path.relative_to(SEEDS).as_posix()


def newest_versions(table: str, key: str, clean: Any = None) -> dict[str, dict[str, Any]]:
    """The newest version of each key as the contract defines it (CDC): the greatest
    `updated_at`, ties to the later delivery (file path, then record number).

    Keys with a version that `clean` rejects (a row ingestion quarantines) are left out:
    their surviving version depends on that quarantine, not on the CDC rule.
    """
    versions: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    rejected: set[str] = set()
    for path, number, record in table_records(SEEDS, table):
        value = (record.get(key) or "").strip()
        updated_at = parse_utc(record.get("updated_at"))
        if not value:
            continue
        if updated_at is None or (clean is not None and not clean(record)):
            rejected.add(value)
            continue
        versions[value].append((updated_at, rel(path), number, record))
    return {
        value: max(rows, key=lambda row: row[:3])[3]
        for value, rows in versions.items()
        if value not in rejected
    }


def column(demo_db, sql: str) -> list[Any]:
    return [row[0] for row in demo_db.execute(sql).fetchall()]


@pytest.mark.parametrize(("model", "key"), STAGED_KEYS.items())
def test_every_staged_key_is_present_and_unique(demo_db, model, key):
    columns = ", ".join(key)
    nulls = " or ".join(f"{name} is null" for name in key)
    rows, distinct, null_keys = demo_db.execute(
        f"select count(*), count(distinct ({columns})), count(*) filter ({nulls}) "
        f"from staging.{model}"
    ).fetchone()
    assert rows > 0, f"{model} is empty on the demo data"
    assert null_keys == 0
    assert distinct == rows


def test_staged_emails_are_trimmed_lower_case_addresses(demo_db):
    checked = 0
    for model, name in EMAIL_COLUMNS:
        for email in column(
            demo_db, f"select {name} from staging.{model} where {name} is not null"
        ):
            assert email == email.strip().lower(), (model, email)
            assert not re.search(r"\s", email), (model, email)
            assert re.fullmatch(r"[^@]+@[^@]+\.[^@]+", email), (model, email)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("table", "key", "model"),
    [
        ("shop_orders", "order_id", "stg_shop__orders"),
        ("crm_contacts", "contact_id", "stg_crm__contacts"),
    ],
)
def test_messy_raw_emails_arrive_normalised(demo_db, table, key, model):
    """Raw emails with capitals or spaces: staged as the trimmed, lower-cased address."""
    newest = newest_versions(table, key, clean=_order_is_clean if table == "shop_orders" else None)
    messy = {
        value: record["email"]
        for value, record in newest.items()
        if record.get("email")
        and record["email"] != record["email"].strip().lower()
        and record["email"].strip().lower() != PLACEHOLDER_EMAIL
    }
    assert messy, f"seeds/{table} should hold emails with capitals or spaces"
    staged = dict(
        demo_db.execute(
            f"select {key}, email from staging.{model} where list_contains(?, {key})",
            [list(messy)],
        ).fetchall()
    )
    assert staged, "the records with messy emails should be staged"
    assert staged == {value: messy[value].strip().lower() for value in staged}


def test_staged_phones_are_valid_e164(demo_db):
    checked = 0
    for model, name in PHONE_COLUMNS:
        for phone in column(
            demo_db, f"select {name} from staging.{model} where {name} is not null"
        ):
            assert E164.match(phone), (model, phone)
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), (model, phone)
            checked += 1
    assert checked > 50


def test_national_and_00_prefixed_raw_phones_become_e164(demo_db):
    newest = newest_versions("shop_customers", "customer_id")
    national = {
        customer_id: record["phone"]
        for customer_id, record in newest.items()
        if record.get("phone") and not record["phone"].strip().startswith("+")
    }
    assert len(national) >= 5, "seeds/ should hold national / 00-prefixed customer phones"
    staged = dict(
        demo_db.execute(
            "select customer_id, phone from staging.stg_shop__customers "
            "where list_contains(?, customer_id)",
            [list(national)],
        ).fetchall()
    )
    converted = [phone for phone in staged.values() if phone is not None]
    # Placeholders (0000000000, n/a) are nulled; real national numbers are converted.
    assert len(converted) >= 5
    assert all(E164.match(phone) for phone in converted)


def _order_is_clean(record: dict[str, Any]) -> bool:
    """What ingestion types without quarantining: ISO timestamps, numeric money."""
    if parse_utc(record.get("created_at")) is None:
        return False
    for name in ("subtotal", "discount", "tax", "shipping", "total"):
        value = record.get(name)
        if value is not None:
            try:
                Decimal(value)
            except InvalidOperation:
                return False
    return True


def test_cdc_keeps_the_newest_order_status(demo_db):
    """For every order delivered in several versions, staging holds the status of the
    greatest updated_at, not the last row delivered (late older versions exist)."""
    records = table_records(SEEDS, "shop_orders")
    delivered: dict[str, list[tuple[Path, int, dict[str, Any]]]] = defaultdict(list)
    for path, number, record in records:
        delivered[(record.get("order_id") or "").strip()].append((path, number, record))
    newest = newest_versions("shop_orders", "order_id", clean=_order_is_clean)
    multi = {
        order_id: record for order_id, record in newest.items() if len(delivered[order_id]) > 1
    }
    late = [
        order_id
        for order_id, record in multi.items()
        if delivered[order_id][-1][2] is not record
        and delivered[order_id][-1][2]["status"] != record["status"]
    ]
    assert len(multi) >= 100
    assert late, "seeds/ should hold orders whose last delivered row is an older version"

    base = dict(
        demo_db.execute(
            "select order_id, order_status from staging.base_shop__orders "
            "where list_contains(?, order_id)",
            [list(multi)],
        ).fetchall()
    )
    expected = {order_id: record["status"].strip().lower() for order_id, record in multi.items()}
    assert base == expected
    staged = dict(
        demo_db.execute(
            "select order_id, order_status from staging.stg_shop__orders "
            "where list_contains(?, order_id)",
            [late],
        ).fetchall()
    )
    assert staged == {order_id: expected[order_id] for order_id in staged}
    assert staged, "the late-version orders should be staged"


def test_one_row_per_message_id_and_every_message_accounted_for(demo_db):
    raw_ids = [
        field(record, "message_id", "messageId") for _, _, record in table_records(SEEDS, "events")
    ]
    present = [value.strip() for value in raw_ids if value and value.strip()]
    assert len(present) > len(set(present)), "seeds/ should deliver some messages twice"

    staged = column(demo_db, "select message_id from staging.stg_tracking__events")
    assert len(staged) == len(set(staged))
    held_back = set(
        column(
            demo_db,
            "select message_id from staging.base_tracking__events "
            "where _quarantine_reason is not null",
        )
    )
    ingestion_rejects = set(
        column(
            demo_db,
            "select coalesce(record ->> 'messageId', record ->> 'message_id') "
            "from raw.quarantine where table_name = 'events'",
        )
    )
    assert set(staged) | held_back | (ingestion_rejects - {None}) == set(present)


def test_soft_deleted_contacts_are_not_staged(demo_db):
    newest = newest_versions("crm_contacts", "contact_id")
    deleted = [
        contact_id
        for contact_id, record in newest.items()
        if (record.get("is_deleted") or "").strip().lower() == "true"
    ]
    kept = [contact_id for contact_id in newest if contact_id not in deleted]
    assert deleted, "seeds/ should hold a soft-deleted contact"
    staged = set(column(demo_db, "select contact_id from staging.stg_crm__contacts"))
    assert staged.isdisjoint(deleted)
    assert set(kept) <= staged
    flagged = column(
        demo_db,
        "select contact_id from staging.base_crm__contacts where is_deleted order by 1",
    )
    assert flagged == sorted(deleted)


def test_placeholder_emails_never_reach_staging(demo_db):
    for model, name in EMAIL_COLUMNS:
        found = column(
            demo_db,
            f"select {name} from staging.{model} where lower(trim({name})) = '{PLACEHOLDER_EMAIL}'",
        )
        assert found == [], model
    newest = newest_versions("shop_customers", "customer_id")
    placeholder_customers = [
        customer_id
        for customer_id, record in newest.items()
        if (record.get("email") or "").strip().lower() == PLACEHOLDER_EMAIL
    ]
    assert placeholder_customers, "seeds/ should hold customers with test@test.com"
    # The customers are staged (they are real), only their placeholder email is nulled.
    emails = demo_db.execute(
        "select email from staging.stg_shop__customers where list_contains(?, customer_id)",
        [placeholder_customers],
    ).fetchall()
    assert emails == [(None,)] * len(placeholder_customers)


def test_a_wrong_device_clock_is_corrected_by_the_collectors_clock(demo_db):
    """seeds/ holds events from devices whose clock runs years ahead (timestamp and sentAt
    agree, receivedAt does not): they land at receivedAt - (sentAt - timestamp), Segment's
    correction, instead of being quarantined as future. Every other event keeps its own
    time (its clocks agree within cdp_clock_skew_tolerance_seconds)."""
    first_delivery: dict[str, dict[str, Any]] = {}
    for _, _, record in table_records(SEEDS, "events"):
        message_id = field(record, "message_id", "messageId")
        if message_id and message_id not in first_delivery:
            first_delivery[message_id] = record
    skewed, agreeing = {}, {}
    for message_id, record in first_delivery.items():
        times = [
            parse_utc(value)
            for value in (
                field(record, "timestamp", "originalTimestamp"),
                field(record, "sent_at", "sentAt"),
                field(record, "received_at", "receivedAt"),
            )
        ]
        if None in times:
            continue
        timestamp, sent_at, received_at = times
        if abs((received_at - sent_at).total_seconds()) > 60:
            skewed[message_id] = received_at - (sent_at - timestamp)
        else:
            agreeing[message_id] = timestamp
    assert skewed, "seeds/ should hold events from a device with a wrong clock"
    staged = dict(
        demo_db.execute(
            "select message_id, event_at from staging.stg_tracking__events "
            "where list_contains(?, message_id)",
            [list(skewed) + list(agreeing)],
        ).fetchall()
    )
    assert {key: staged.get(key) for key in skewed} == skewed
    assert all(staged[key] == value for key, value in agreeing.items() if key in staged)
    assert all(value.year < 2028 for value in skewed.values())


def test_offsets_are_converted_to_utc(demo_db):
    """A `+01:00` timestamp is stored as its UTC instant (one hour earlier)."""
    first_delivery: dict[str, dict[str, Any]] = {}
    for _, _, record in table_records(SEEDS, "events"):
        message_id = field(record, "message_id", "messageId")
        if message_id and message_id not in first_delivery:
            first_delivery[message_id] = record
    with_offset = {
        message_id: parse_utc(record["timestamp"])
        for message_id, record in first_delivery.items()
        if str(record.get("timestamp") or "").endswith("+01:00")
    }
    assert len(with_offset) >= 10
    staged = dict(
        demo_db.execute(
            "select message_id, original_timestamp from staging.base_tracking__events "
            "where list_contains(?, message_id)",
            [list(with_offset)],
        ).fetchall()
    )
    assert staged == with_offset

    newest = newest_versions("shop_orders", "order_id", clean=_order_is_clean)
    orders = {
        order_id: parse_utc(record["created_at"])
        for order_id, record in newest.items()
        if record["created_at"].endswith("+01:00")
    }
    assert orders, "seeds/ should hold orders created at +01:00"
    staged_orders = dict(
        demo_db.execute(
            "select order_id, created_at from staging.base_shop__orders "
            "where list_contains(?, order_id)",
            [list(orders)],
        ).fetchall()
    )
    assert staged_orders == orders


def test_rows_in_the_files_are_loaded_or_quarantined(demo_db, demo_build):
    """Per table: records in seeds/ files = rows in raw.<table> + ingestion quarantine,
    and the run summary printed the same numbers."""
    for table in sorted(load_contract().tables):
        in_files = len(table_records(SEEDS, table))
        loaded, quarantined = demo_db.execute(
            f"select (select count(*) from raw.{table}), "
            "(select count(*) from raw.quarantine where table_name = ?)",
            [table],
        ).fetchone()
        assert in_files > 0, table
        assert loaded + quarantined == in_files, table
        counts = demo_build.tables[table]
        assert (counts.loaded, counts.quarantined) == (loaded, quarantined), table


def test_row_accounting_balances_for_every_raw_table(demo_db):
    rows = demo_db.execute(
        "select source_table, raw_rows, staged_rows, quarantined_rows, superseded_rows, "
        "soft_deleted_rows from quality.row_accounting order by 1"
    ).fetchall()
    assert [row[0] for row in rows] == sorted(load_contract().tables)
    for table, raw, staged, quarantined, superseded, soft_deleted in rows:
        assert raw == staged + quarantined + superseded + soft_deleted, table
        assert raw == demo_db.execute(f"select count(*) from raw.{table}").fetchone()[0]
        model = STAGED_MODEL[table]
        assert staged == demo_db.execute(f"select count(*) from staging.{model}").fetchone()[0]
    totals = {row[0]: row for row in rows}
    assert totals["shop_orders"][4] > 0  # superseded order versions exist
    assert totals["crm_contacts"][5] > 0  # and a soft delete


def test_quarantined_rows_have_reasons_and_point_at_their_source(demo_db):
    rows = demo_db.execute(
        "select source_table, quarantine_stage, reason, _file, _row_number "
        "from quality.quarantined_rows"
    ).fetchall()
    stages = {row[1] for row in rows}
    assert {"ingestion", "staging"} <= stages
    assert all(row[2] and row[2].strip() for row in rows)
    staged_total = demo_db.execute(
        "select sum(quarantined_rows) from quality.row_accounting"
    ).fetchone()[0]
    ingestion_total = demo_db.execute("select count(*) from raw.quarantine").fetchone()[0]
    assert sum(row[1] == "staging" for row in rows) == staged_total
    assert sum(row[1] == "ingestion" for row in rows) == ingestion_total
    # Every ingestion reject names a real record of a real file.
    for table, stage, _, file, row_number in rows:
        if stage == "ingestion":
            records = [n for path, n, _ in table_records(SEEDS, table) if rel(path) == file]
            assert row_number in records, (table, file, row_number)
