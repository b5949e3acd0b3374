"""The raw suites on files loaded by the real loader into a DuckDB file: each planted fault
fails exactly the check meant for it, on the table it was planted in."""

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from orchestration.ingestion.loader import connect, ensure_raw_schema, load_table
from orchestration.quality.results import RESULTS_TABLE
from orchestration.settings import PROJECT_ROOT
from tests.quality.helpers import by_check, failed, read_csv, run_suites, write_csv

RAW_SUITES = {"raw/latest_load", "raw/delivered_columns", "raw/privacy_columns_delivered"}
SEEDS = PROJECT_ROOT / "seeds"
ITEMS_HEADER, ITEMS = read_csv(SEEDS / "shop_order_items.csv")
START = dt.datetime(2026, 11, 1, 6)


class RawFolder:
    """A raw folder and a warehouse; `deliver` writes a batch file and loads it."""

    def __init__(self, root: Path) -> None:
        self.raw_dir = root / "raw"
        self.warehouse = root / "cdp.duckdb"
        self.docs = root / "data_docs"
        self.loads = 0
        with connect(self.warehouse) as con:
            ensure_raw_schema(con)

    def deliver(self, table: str, name: str, header: list[str], rows: list[dict]) -> None:
        write_csv(self.raw_dir / table / name, header, rows)
        self.load(table)

    def load(self, table: str) -> None:
        """A run of the ingestion for `table` (loads only files not loaded before)."""
        self.loads += 1
        with connect(self.warehouse) as con:
            load_table(con, self.raw_dir, table, START + dt.timedelta(days=self.loads))

    def validate(self, run_id: str, tables: tuple[str, ...] = ("shop_order_items",)) -> dict:
        """Every raw check of these tables (the others hold no data in these tests)."""
        assets = {f"raw/{table}" for table in tables}
        return by_check(run_suites(self.warehouse, self.docs, run_id, RAW_SUITES, assets))


@pytest.fixture
def raw(tmp_path: Path) -> RawFolder:
    return RawFolder(tmp_path)


def items(start: int, count: int) -> list[dict]:
    return [dict(row) for row in ITEMS[start : start + count]]


def test_a_first_load_has_no_baseline_and_every_raw_check_passes(raw):
    raw.deliver("shop_order_items", "part-1.csv", ITEMS_HEADER, items(0, 150))
    outcomes = raw.validate("run-1", ("shop_order_items", "crm_accounts"))
    assert failed(list(outcomes.values())) == set()
    volume = outcomes["raw/shop_order_items:volume_within_band_of_previous_loads"]
    assert volume.observed_value is None
    assert volume.details["frame"][0]["previous_loads"] == 0
    # A table that was never delivered (any table may be missing) passes as well.
    assert outcomes["raw/crm_accounts:expected_columns_delivered"].success


def test_a_batch_with_half_the_rows_fails_only_the_volume_check_until_a_normal_batch(raw):
    raw.deliver("shop_order_items", "part-1.csv", ITEMS_HEADER, items(0, 100))
    raw.deliver("shop_order_items", "part-2.csv", ITEMS_HEADER, items(100, 100))
    assert failed(list(raw.validate("run-2").values())) == set()

    raw.deliver("shop_order_items", "part-3.csv", ITEMS_HEADER, items(200, 50))
    outcomes = raw.validate("run-3")
    check = "raw/shop_order_items:volume_within_band_of_previous_loads"
    assert failed(list(outcomes.values())) == {check}
    assert outcomes[check].observed_value == pytest.approx(0.5)
    assert outcomes[check].expectation.severity == "warn"

    # A run that loads nothing new judges the same latest load: same verdict.
    raw.load("shop_order_items")
    assert failed(list(raw.validate("run-4").values())) == {check}

    raw.deliver("shop_order_items", "part-4.csv", ITEMS_HEADER, items(250, 54) + items(0, 46))
    assert failed(list(raw.validate("run-5").values())) == set()


def test_untypeable_rows_over_the_threshold_fail_only_the_quarantine_check(raw):
    raw.deliver("shop_order_items", "part-1.csv", ITEMS_HEADER, items(0, 100))
    batch = items(100, 100)
    for row in batch[:30]:
        row["quantity"] = "several"
    raw.deliver("shop_order_items", "part-2.csv", ITEMS_HEADER, batch)
    outcomes = raw.validate("run-1")
    check = "raw/shop_order_items:quarantined_share_below_threshold"
    assert failed(list(outcomes.values())) == {check}
    assert outcomes[check].observed_value == pytest.approx(0.3)
    # Delivered volume counts quarantined rows: the batch is not "small".
    volume = outcomes["raw/shop_order_items:volume_within_band_of_previous_loads"]
    assert volume.observed_value == pytest.approx(1.0)


def test_a_column_the_source_stopped_sending_fails_only_expected_columns(raw):
    raw.deliver("shop_order_items", "part-1.csv", ITEMS_HEADER, items(0, 100))
    without_price = [column for column in ITEMS_HEADER if column != "unit_price"]
    raw.deliver("shop_order_items", "part-2.csv", without_price, items(100, 100))
    outcomes = raw.validate("run-1")
    check = "raw/shop_order_items:expected_columns_delivered"
    assert failed(list(outcomes.values())) == {check}
    assert outcomes[check].observed_value == {"missing": ["unit_price"]}
    assert not outcomes[check].expectation.blocking


def test_consent_without_its_status_column_fails_the_blocking_privacy_check(raw):
    header, rows = read_csv(SEEDS / "consent.csv")
    raw.deliver("consent", "part-1.csv", header, rows)
    assert failed(list(raw.validate("run-1", ("consent",)).values())) == set()
    raw.deliver("consent", "part-2.csv", [c for c in header if c != "status"], rows)
    outcomes = raw.validate("run-2", ("consent",))
    check = "raw/consent:expected_columns_delivered"
    assert failed(list(outcomes.values())) == {check}
    assert outcomes[check].expectation.blocking
    assert outcomes[check].expectation.severity == "error"
    assert outcomes[check].observed_value == {"missing": ["status"]}


def test_every_outcome_is_appended_to_the_results_table(raw):
    raw.deliver("shop_order_items", "part-1.csv", ITEMS_HEADER, items(0, 100))
    first = raw.validate("run-1")
    second = raw.validate("run-2")
    with duckdb.connect(str(raw.warehouse), read_only=True) as con:
        rows = con.execute(
            f"select run_id, suite, asset_key, expectation, expectation_type, severity, "
            f"blocking, success, observed_value, details from {RESULTS_TABLE}"
        ).fetchall()
    assert len(rows) == len(first) + len(second)
    assert {row[0] for row in rows} == {"run-1", "run-2"}
    quarantine = next(
        row
        for row in rows
        if row[2] == "raw/shop_order_items" and row[3] == "quarantined_share_below_threshold"
    )
    assert quarantine[1] == "raw/latest_load"
    assert quarantine[4:8] == ("expect_column_values_to_be_between", "warn", False, True)
    assert json.loads(quarantine[8]) == 0.0
    details = json.loads(quarantine[9])
    assert details["kwargs"]["max_value"] == 0.05
    assert details["frame"][0]["rows_loaded"] == 100
