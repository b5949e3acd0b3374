"""The GX suites give the same outcome on Spark as on DuckDB: the same small warehouse is
written to both through the Warehouse adapter (raw tables by the real loader), the real
suite files are validated on each (pandas frames on DuckDB, Spark DataFrames on Spark),
and every check passes or fails alike, with the same evidence."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from textwrap import dedent
from typing import Any

import pyarrow as pa
import pytest

from orchestration.ingestion.loader import ensure_raw_schema, load_table
from orchestration.quality.frames import raw_schema_with_lineage, read_frame
from orchestration.quality.suite_files import load_suite
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.warehouse import DuckDBWarehouse, SparkWarehouse, Warehouse
from tests.quality.helpers import by_check, read_csv, run_suites_on, write_csv

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (docs/spark.md)"),
    pytest.mark.timeout(1800),
]

SEEDS = PROJECT_ROOT / "seeds"
LOADED_AT = dt.datetime(2026, 11, 2, 6)
SUITES = {
    "raw/latest_load",
    "raw/delivered_columns",
    "raw/privacy_columns_delivered",
    "staging/stg_shop__orders",
    "staging/staged_row_counts",
    "marts/consent_never_null",
    "marts/revenue_not_negative",
    "marts/order_counts",
    "marts/profile_completeness",
    "marts/identity_health",
}
ASSETS = {
    "raw/consent",
    "raw/shop_orders",
    "staging/stg_shop__orders",
    "marts/customer_profiles",
    "marts/fct_orders",
}
# What the planted data breaks (and so must fail on both engines).
PLANTED_FAILURES = {
    # One order in ten created two days after it was loaded.
    "staging/stg_shop__orders:created_at_not_in_future",
    # A profile without an SMS consent value; a negative lifetime revenue.
    "marts/customer_profiles:consent_fields_never_null",
    "marts/customer_profiles:revenue_not_negative",
    # p3 has one revenue order in fct_orders and none counted on the profile.
    "marts/customer_profiles:order_count_matches_fct_orders",
    # Staged orders shrank from 10 to 5 between the two runs.
    "staging/stg_shop__orders:staged_rows_within_band_of_previous_run",
}
CONSENT = [
    "consent_email_marketing",
    "consent_sms_marketing",
    "consent_advertising",
    "consent_analytics",
    "consent_personalization",
]


def _raw_folder(root: Path) -> Path:
    """A small raw folder: the first rows of the demo's consent and shop orders."""
    raw = root / "raw"
    header, rows = read_csv(SEEDS / "consent.csv")
    write_csv(raw / "consent.csv", header, rows[:20])
    header, rows = read_csv(SEEDS / "shop_orders" / "part-00001.csv")
    write_csv(raw / "shop_orders" / "part-00001.csv", header, rows[:10])
    return raw


def _profiles() -> pa.Table:
    people = ["p1", "p2", "p3", "p4"]
    columns: dict[str, Any] = {
        "person_id": people,
        "is_known": [True, True, True, False],
        "email": ["a@example.com", None, "c@example.com", None],
        "phone": [None, "+14155550100", None, None],
        "order_count": pa.array([2, 1, 0, 0], pa.int64()),
        "lifetime_revenue_usd": pa.array(
            [Decimal("10.50"), Decimal("-1.00"), Decimal("0.00"), None], pa.decimal128(18, 2)
        ),
        "average_order_value_usd": pa.array(
            [Decimal("5.25"), Decimal("3.00"), None, None], pa.decimal128(18, 2)
        ),
    }
    for column in CONSENT:
        columns[column] = ["granted", "denied", "none", "none"]
    columns["consent_sms_marketing"] = ["granted", None, "none", "none"]
    return pa.table(columns)


def _orders() -> pa.Table:
    return pa.table(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "person_id": ["p1", "p1", "p2", "p3", None],
            "is_revenue": [True, True, True, True, True],
            "total_usd": pa.array(
                [Decimal(v) for v in ("4.00", "6.50", "3.00", "1.00", "2.00")],
                pa.decimal128(18, 2),
            ),
        }
    )


def _identity_health() -> pa.Table:
    return pa.table(
        {
            "metric": ["largest_person_identifiers", "max_identifiers_per_person"],
            "dimension": ["all", "email"],
            "metric_value": pa.array([4.0, 2.0], pa.float64()),
        }
    )


def _base_orders(warehouse: Warehouse, rows: int) -> pa.Table:
    """base_shop__orders as staging would keep it: the raw rows with their lineage, the
    email nulled on odd rows (the suite then reads the raw one by lineage), the tenth
    order created 48 hours after its load."""
    raw = warehouse.read_arrow(
        "raw.shop_orders", ["order_id", "email", "phone", "currency", "_file", "_row_number"]
    ).to_pylist()
    raw.sort(key=lambda row: row["_row_number"])
    loaded = warehouse.read_arrow("raw.shop_orders", ["_loaded_at"]).column(0)[0].as_py()
    loaded = loaded.replace(tzinfo=None)
    base = []
    for index, row in enumerate(raw[:rows]):
        base.append(
            {
                **row,
                "email": None if index % 2 else row["email"],
                # Staging keeps phones normalised to E.164.
                "phone": f"+1415555{index:04d}",
                "_loaded_at": loaded,
                "created_at": loaded + dt.timedelta(hours=48 if index == 9 else -1),
            }
        )
    return pa.Table.from_pylist(
        base,
        schema=pa.schema(
            [
                ("order_id", pa.string()),
                ("email", pa.string()),
                ("phone", pa.string()),
                ("currency", pa.string()),
                ("_file", pa.string()),
                ("_row_number", pa.int64()),
                ("_loaded_at", pa.timestamp("us")),
                ("created_at", pa.timestamp("us")),
            ]
        ),
    )


def _plant(warehouse: Warehouse, raw_dir: Path, staged_orders: int) -> None:
    ensure_raw_schema(warehouse)
    for table in ("consent", "shop_orders"):
        load_table(warehouse, raw_dir, table, LOADED_AT)
    base = _base_orders(warehouse, staged_orders)
    # Rates for every currency of the orders but USD (which needs none).
    currencies = sorted({c for c in base.column("currency").to_pylist() if c} - {"USD"})
    warehouse.write_arrow("staging.stg_finance__fx_rates", pa.table({"currency": currencies}))
    warehouse.write_arrow("staging.base_shop__orders", base)
    warehouse.write_arrow("staging.stg_shop__orders", base)
    warehouse.write_arrow("marts.customer_profiles", _profiles())
    warehouse.write_arrow("marts.fct_orders", _orders())
    warehouse.write_arrow("marts.identity_health", _identity_health())


def _validate(warehouse: Warehouse, root: Path, raw_dir: Path) -> dict[str, Any]:
    """Two runs (the band needs a previous one): 10 staged orders, then 5."""
    _plant(warehouse, raw_dir, staged_orders=10)
    run_suites_on(warehouse, root / "docs", "run-1", SUITES, ASSETS)
    warehouse.write_arrow("staging.stg_shop__orders", _base_orders(warehouse, 5))
    return by_check(run_suites_on(warehouse, root / "docs", "run-2", SUITES, ASSETS))


def _normalise(value: Any) -> Any:
    """Observed values as JSON compares them across engines: numbers as rounded floats,
    lists of scalars sorted (distinct values come in no fixed order)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else round(float(value), 6)
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_normalise(item) for item in value]
        return sorted(items, key=repr) if all(not isinstance(i, dict) for i in items) else items
    return value


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkWarehouse]:
    root = tmp_path_factory.mktemp("spark")
    settings = Settings.from_env(
        {"CDP_WAREHOUSE": str(root / "cdp.duckdb"), "CDP_SPARK_DIR": str(root / "spark")}
    )
    warehouse = SparkWarehouse.open(settings)
    yield warehouse
    warehouse.close()


def test_the_suites_give_the_same_outcome_on_spark_as_on_duckdb(
    spark: SparkWarehouse, tmp_path: Path
) -> None:
    raw_dir = _raw_folder(tmp_path)
    with DuckDBWarehouse.open(tmp_path / "duckdb" / "cdp.duckdb") as duck:
        on_duckdb = _validate(duck, tmp_path / "duckdb", raw_dir)
    on_spark = _validate(spark, tmp_path / "spark", raw_dir)

    assert set(on_spark) == set(on_duckdb)
    assert {key for key, o in on_duckdb.items() if not o.success} == PLANTED_FAILURES
    assert {key for key, o in on_spark.items() if not o.success} == PLANTED_FAILURES
    for key, outcome in on_duckdb.items():
        assert "error" not in outcome.details, (key, outcome.details["error"])
        assert "error" not in on_spark[key].details, (key, on_spark[key].details["error"])
        assert _normalise(on_spark[key].observed_value) == _normalise(outcome.observed_value), key
    # The evidence the results table keeps for a metric frame is the same.
    key = "marts/customer_profiles:consent_fields_never_null"
    assert _normalise(on_spark[key].details["frame"]) == _normalise(on_duckdb[key].details["frame"])
    # Results were appended through the adapter on Spark: two runs of every check.
    results = spark.read_arrow("quality.gx_validation_results", ["run_id"]).column(0)
    assert sorted(set(results.to_pylist())) == ["run-1", "run-2"]
    assert len(results) == 2 * len(on_spark)


SAMPLED_SUITE = """\
description: A sample of orders.
asset: staging/stg_shop__orders
read: {table: staging.sampled, sample_rows: 3}
expectations:
  - name: ids_present
    description: Every order has an id.
    type: expect_column_values_to_not_be_null
    kwargs: {column: order_id}
"""


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_sample_is_the_same_rows_on_every_read_and_counts_the_whole_relation(
    engine: str, spark: SparkWarehouse, tmp_path: Path
) -> None:
    suites_dir = tmp_path / "suites"
    (suites_dir / "staging").mkdir(parents=True)
    (suites_dir / "staging" / "sampled.yml").write_text(dedent(SAMPLED_SUITE))
    suite = load_suite(suites_dir / "staging" / "sampled.yml", suites_dir)
    rows = pa.table({"order_id": [f"o{i}" for i in range(10)], "amount": list(range(10))})
    warehouse: Warehouse = (
        spark if engine == "spark" else DuckDBWarehouse.open(tmp_path / "cdp.duckdb")
    )
    warehouse.write_arrow("staging.sampled", rows)

    def sample() -> list[str]:
        frame = read_frame(warehouse, suite, {"schema": "staging", "name": "stg_shop__orders"})
        assert (frame.rows, frame.total_rows, frame.columns) == (3, 10, ("order_id", "amount"))
        assert frame.preview is not None
        return sorted(frame.preview["order_id"])

    first = sample()
    assert sample() == first
    assert len(set(first)) == 3


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_landed_tables_without_lineage_get_session_views_with_null_lineage(
    engine: str, spark: SparkWarehouse, tmp_path: Path
) -> None:
    warehouse: Warehouse = (
        spark if engine == "spark" else DuckDBWarehouse.open(tmp_path / "cdp.duckdb")
    )
    warehouse.write_arrow("landing.crm_contacts", pa.table({"email": ["Ann@Example.com"]}))
    schema = raw_schema_with_lineage(warehouse, "landing")
    assert schema == ("global_temp" if engine == "spark" else "temp")
    rows = warehouse.read_query(
        f"select email, _file, _row_number, _loaded_at from {schema}.crm_contacts"
    ).to_pylist()
    assert rows == [
        {"email": "Ann@Example.com", "_file": None, "_row_number": None, "_loaded_at": None}
    ]
