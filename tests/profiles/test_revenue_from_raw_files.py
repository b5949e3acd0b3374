"""Revenue and order counts per person, recomputed from the demo's raw files in plain
Python (the contract's definition, not the dbt models), against `customer_profiles`.

Only the identity map (an output of the contract) is borrowed from the warehouse, to
know whose order is whose: the customer id's person, else the email's, else the
phone's, hub identifiers never attributing. Everything else is read from seeds/.
"""

import csv
import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from orchestration.identifiers import normalize_email, normalize_phone
from tests.conftest import SEEDS

MONEY = ("subtotal", "discount", "tax", "shipping", "total")
STATUSES = {"pending", "paid", "fulfilled", "cancelled", "refunded"}
REVENUE_STATUSES = {"paid", "fulfilled"}
FUTURE_TOLERANCE = dt.timedelta(hours=24)


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _timestamp(value: str | None) -> dt.datetime | None:
    """ISO 8601; a naive timestamp is UTC. Raises ValueError like the loader would."""
    if _blank(value) is None:
        return None
    parsed = dt.datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _decimal(value: str | None) -> Decimal | None:
    if _blank(value) is None:
        return None
    return Decimal(value.strip())


def csv_rows(path: Path) -> list[tuple[Path, int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(path, number, row) for number, row in enumerate(csv.DictReader(handle), 1)]


def fx_rates() -> dict[str, list[tuple[dt.date, Decimal]]]:
    """Currency -> (rate date, rate) ascending; the last delivery of a day wins."""
    latest: dict[tuple[dt.date, str], Decimal | None] = {}
    for _, _, row in csv_rows(SEEDS / "fx_rates.csv"):
        try:
            day = dt.date.fromisoformat(row["rate_date"].strip())
            rate = _decimal(row["rate_to_usd"])
        except (ValueError, InvalidOperation):
            continue  # not typable: quarantined at ingestion
        latest[(day, (row["currency"] or "").strip().upper())] = rate
    rates: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for (day, currency), rate in sorted(latest.items()):
        if rate is not None and rate > 0:
            rates[currency].append((day, rate))
    return rates


def rate_on(rates: dict, currency: str, day: dt.date) -> Decimal | None:
    if currency == "USD":
        return Decimal(1)
    earlier = [rate for rate_day, rate in rates.get(currency, []) if rate_day <= day]
    return earlier[-1] if earlier else None


def latest_orders() -> list[dict]:
    """The newest typable version of every order (CDC), then the staging rules."""
    newest: dict[str, tuple] = {}
    now = dt.datetime.now(dt.UTC)
    for path in sorted((SEEDS / "shop_orders").glob("*.csv")):
        for _, number, row in csv_rows(path):
            try:
                money = {name: _decimal(row[name]) for name in MONEY}
                created_at = _timestamp(row["created_at"])
                updated_at = _timestamp(row["updated_at"])
            except (ValueError, InvalidOperation):
                continue  # quarantined at ingestion
            order_id = _blank(row["order_id"])
            if order_id is None:
                continue
            rank = (updated_at is not None, updated_at, str(path), number)
            if order_id not in newest or rank > newest[order_id][0]:
                newest[order_id] = (rank, {**row, **money, "created_at": created_at})
    orders = []
    for _, row in newest.values():
        status = (_blank(row["status"]) or "").lower()
        currency = (_blank(row["currency"]) or "").upper()
        amounts = [row[name] for name in MONEY if row[name] is not None]
        if (
            row["total"] is None
            or min(amounts) < 0
            or not (len(currency) == 3 and currency.isalpha() and currency.isascii())
            or status not in STATUSES
            or row["created_at"] is None
            or row["created_at"] > now + FUTURE_TOLERANCE
        ):
            continue  # quarantined in staging
        orders.append({**row, "status": status, "currency": currency})
    return orders


def sha256(identifier_type: str, value: str) -> str:
    return hashlib.sha256(f"{identifier_type}:{value}".encode()).hexdigest()


@pytest.fixture(scope="module")
def expected(demo_db) -> dict[str, tuple[int, Decimal]]:
    person_of = {
        (kind, value): person
        for kind, value, person in demo_db.execute(
            "select identifier_type, identifier_value, person_id from marts.identity_map "
            "where not is_hub"
        ).fetchall()
    }
    erased = {
        row[0]
        for row in demo_db.execute("select identifier_hash from marts.suppression_list").fetchall()
    }
    rates = fx_rates()
    totals: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for order in latest_orders():
        if order["status"] not in REVENUE_STATUSES:
            continue
        identifiers = [
            ("customer_id", _blank(order["customer_id"])),
            ("email", normalize_email(order["email"])),
            ("phone", normalize_phone(order["phone"], None)),
        ]
        present = [(kind, value) for kind, value in identifiers if value]
        if any(sha256(kind, value) in erased for kind, value in present):
            continue  # an erased person's order is in no mart
        person = next((person_of[i] for i in present if i in person_of), None)
        rate = rate_on(rates, order["currency"], order["created_at"].date())
        if person is None or rate is None:
            continue
        totals[person][0] += 1
        totals[person][1] += (order["total"] * rate).quantize(Decimal("1e-10"))
    return {person: (count, revenue) for person, (count, revenue) in totals.items()}


def test_the_recompute_sees_real_orders(expected):
    assert len(expected) > 20
    assert sum(count for count, _ in expected.values()) > 50


def test_order_count_and_lifetime_revenue_match_the_raw_files_exactly(demo_db, expected):
    profiles = {
        person: (count, revenue)
        for person, count, revenue in demo_db.execute(
            "select person_id, order_count, lifetime_revenue_usd from marts.customer_profiles "
            "where order_count > 0 or lifetime_revenue_usd <> 0"
        ).fetchall()
    }
    assert set(profiles) == set(expected)
    mismatches = {
        person: (profiles[person], expected[person])
        for person in expected
        if profiles[person][0] != expected[person][0]
        or Decimal(profiles[person][1])
        != expected[person][1].quantize(
            Decimal(1).scaleb(Decimal(profiles[person][1]).as_tuple().exponent)
        )
    }
    assert not mismatches
