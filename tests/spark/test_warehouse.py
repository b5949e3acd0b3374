"""The Warehouse adapter behaves the same on a DuckDB file and on a local Spark session,
and Spark's phone UDF gives DuckDB's (libphonenumber's) values."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from orchestration.identifiers import normalize_phone
from orchestration.ingestion.loader import ensure_raw_schema, load_table
from orchestration.settings import Settings
from orchestration.warehouse import DuckDBWarehouse, SparkWarehouse, Warehouse

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java")

SAMPLE = pa.table(
    {
        "name": pa.array(["ann", None, "bob"]),
        "count": pa.array([1, 2, None], pa.int64()),
        "amount": pa.array([Decimal("1.5"), None, Decimal("-2.25")], pa.decimal128(38, 10)),
        "seen_at": pa.array([dt.datetime(2026, 3, 1, 10, 0), None, dt.datetime(2026, 3, 2)]),
        "tags": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
    }
)


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("spark", marks=[pytest.mark.spark, needs_java])]
)
def warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "duckdb":
        opened: Warehouse = DuckDBWarehouse.open(root / "cdp.duckdb")
    else:
        opened = SparkWarehouse.open(Settings.from_env({"CDP_WAREHOUSE": str(root / "cdp.duckdb")}))
    yield opened
    opened.close()


def _rows(table: pa.Table) -> list[dict[str, object]]:
    rows = table.to_pylist()
    for row in rows:
        if isinstance(row.get("seen_at"), dt.datetime):
            row["seen_at"] = row["seen_at"].replace(tzinfo=None)
    return sorted(rows, key=lambda row: str(row["name"]))


def test_write_replace_then_append_by_name_reads_back_the_same_values(warehouse: Warehouse) -> None:
    warehouse.write_arrow("parity.sample", SAMPLE)
    # Columns in another order and one missing: matched by name, the missing one NULL.
    warehouse.write_arrow("parity.sample", SAMPLE.select(["count", "name"]).slice(0, 1), "append")
    rows = _rows(warehouse.read_arrow("parity.sample"))
    assert len(rows) == 4
    ann = {
        "name": "ann",
        "count": 1,
        "amount": Decimal("1.5"),
        "seen_at": dt.datetime(2026, 3, 1, 10, 0),
        "tags": ["a", "b"],
    }
    empty = {"name": None, "count": 2, "amount": None, "seen_at": None, "tags": []}
    appended = {"name": "ann", "count": 1, "amount": None, "seen_at": None, "tags": None}
    assert ann in rows
    assert empty in rows
    assert appended in rows
    assert warehouse.row_count("parity.sample") == 4
    assert list(warehouse.read_arrow("parity.sample", ["count"]).column_names) == ["count"]


def test_relation_exists_and_columns_name_the_engine_types(warehouse: Warehouse) -> None:
    warehouse.create_table("parity.empty", SAMPLE.schema)
    assert warehouse.relation_exists("parity.empty")
    assert not warehouse.relation_exists("parity.absent")
    assert warehouse.row_count("parity.empty") == 0
    columns = warehouse.columns("parity.empty")
    assert list(columns) == ["name", "count", "amount", "seen_at", "tags"]
    expected = {
        "duckdb": ["varchar", "bigint", "decimal(38,10)", "timestamp", "varchar[]"],
        "spark": ["string", "bigint", "decimal(38,10)", "timestamp", "array<string>"],
    }[warehouse.engine]
    assert [kind.replace(" ", "") for kind in columns.values()] == expected


def test_read_arrow_filters_by_equal_values_and_lists_in_the_engine(warehouse: Warehouse) -> None:
    warehouse.write_arrow("parity.filtered", SAMPLE)
    read = warehouse.read_arrow
    assert read("parity.filtered", ["name"], where={"name": "bob"}).to_pylist() == [{"name": "bob"}]
    both = read("parity.filtered", ["name"], where={"name": ["ann", "bob", "zed"]})
    assert sorted(both.column("name").to_pylist()) == ["ann", "bob"]
    assert read("parity.filtered", ["name"], where={"name": "ann", "count": 2}).num_rows == 0
    assert read("parity.filtered", ["name"], where={"name": []}).num_rows == 0


def test_list_relations_names_a_schemas_tables_and_nothing_for_a_missing_schema(
    warehouse: Warehouse,
) -> None:
    warehouse.write_arrow("listing.b_table", SAMPLE)
    warehouse.create_table("listing.a_table", SAMPLE.schema)
    assert warehouse.list_relations("listing") == ["a_table", "b_table"]
    assert warehouse.list_relations("no_such_schema") == []


def test_add_columns_widens_a_table_and_existing_rows_read_null(warehouse: Warehouse) -> None:
    warehouse.write_arrow("parity.widened", SAMPLE.select(["name", "count"]))
    extra = pa.schema([("group_id", pa.string()), ("seen_at", pa.timestamp("us"))])
    warehouse.add_columns("parity.widened", extra)
    assert list(warehouse.columns("parity.widened")) == ["name", "count", "group_id", "seen_at"]
    rows = warehouse.read_arrow("parity.widened", ["name", "group_id", "seen_at"]).to_pylist()
    assert sorted(rows, key=lambda row: str(row["name"])) == [
        {"name": None, "group_id": None, "seen_at": None},
        {"name": "ann", "group_id": None, "seen_at": None},
        {"name": "bob", "group_id": None, "seen_at": None},
    ]


def test_ensure_raw_schema_adds_the_columns_an_older_raw_table_lacks(warehouse: Warehouse) -> None:
    """A raw `events` table landed before the contract gained group_id, name and category
    gets them (NULL in its rows) instead of failing the next load."""
    older = pa.schema([("message_id", pa.string()), ("type", pa.string())])
    warehouse.create_schema("raw")
    warehouse.write_arrow("raw.events", pa.table({"message_id": ["m1"], "type": ["track"]}, older))
    ensure_raw_schema(warehouse)
    columns = warehouse.columns("raw.events")
    assert {"group_id", "name", "category", "received_at"} <= set(columns)
    assert list(columns)[:2] == ["message_id", "type"]
    assert warehouse.read_arrow("raw.events", ["message_id", "group_id"]).to_pylist() == [
        {"message_id": "m1", "group_id": None}
    ]


def test_ingestion_lands_typed_rows_and_quarantine_and_is_idempotent(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "fx_rates.csv").write_text(
        "rate_date,currency,rate_to_usd\n2026-03-01,EUR,1.08\n2026-03-01,GBP,abc\n"
    )
    ensure_raw_schema(warehouse)
    first = load_table(warehouse, raw, "fx_rates")
    again = load_table(warehouse, raw, "fx_rates")
    assert (first.rows_loaded, first.rows_quarantined) == (1, 1)
    assert (again.files_skipped, again.rows_loaded) == (1, 0)
    rates = warehouse.read_arrow("raw.fx_rates", ["currency", "rate_to_usd", "_file"]).to_pylist()
    assert rates == [{"currency": "EUR", "rate_to_usd": Decimal("1.08"), "_file": "fx_rates.csv"}]
    reasons = warehouse.read_arrow("raw.quarantine", ["table_name", "reason"]).to_pylist()
    assert {"table_name": "fx_rates", "reason": "rate_to_usd: not a number (abc)"} in reasons


PHONES = [
    ("(415) 555-2671", None),
    ("+1 415 555 2671", "DE"),
    ("030 901820", "DE"),
    ("0044 20 7946 0958", None),
    ("020 7946 0958", "GB"),
    ("07700 900123", "GB"),
    ("+49 (0)30 901820", None),
    ("555-2671", None),
    ("not a phone", "US"),
    ("+33 1 23 45 67 89", "zz"),
    (None, "US"),
]


@pytest.mark.spark
@needs_java
def test_spark_phone_udf_gives_the_libphonenumber_values(warehouse: Warehouse) -> None:
    if not isinstance(warehouse, SparkWarehouse):
        pytest.skip("the UDF of the Spark session")
    frame = warehouse.session.createDataFrame(PHONES, "phone string, country string")
    frame.createOrReplaceTempView("phones")
    rows = warehouse.session.sql(
        "select phone, country, cdp_normalize_phone(phone, country, 'US') as e164 from phones"
    ).collect()
    got = {(row.phone, row.country): row.e164 for row in rows}
    assert got == {
        (phone, country): normalize_phone(phone, country, "US") for phone, country in PHONES
    }
    assert got[("(415) 555-2671", None)] == "+14155552671"


def test_the_serving_copy_reads_any_engine_through_the_adapter(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    import duckdb

    from orchestration.serving import publish_serving_copy

    warehouse.write_arrow("marts.served_sample", SAMPLE)
    warehouse.write_arrow("unserved.hidden_sample", SAMPLE)
    report = publish_serving_copy(warehouse, tmp_path / "serving")
    assert report.tables.get("marts.served_sample") == SAMPLE.num_rows
    assert not any(name.startswith("unserved.") for name in report.tables)
    with duckdb.connect(str(report.database), read_only=True) as con:
        served = con.sql("select * from marts.served_sample").to_arrow_table()
    assert _rows(served) == _rows(SAMPLE)
    parquet = report.parquet / "marts" / "served_sample.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall() == [(SAMPLE.num_rows,)]


def test_the_serving_copy_takes_the_sync_log_from_the_state_file_beside_any_engine(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """On Spark the sync state (and its log) lives in the DuckDB file at CDP_WAREHOUSE,
    not in the catalog: the serving copy reads `activation.sync_log` from there."""
    import duckdb

    from orchestration.serving import publish_serving_copy

    state = tmp_path / "state.duckdb"
    with duckdb.connect(str(state)) as con:
        con.execute("create schema activation")
        con.execute("create table activation.sync_log as select 'run-1' as run_id, 3 as adds")
        con.execute("create table activation.sync_outbox as select 'secret' as payload")
    warehouse.write_arrow("marts.served_with_state", SAMPLE)
    report = publish_serving_copy(warehouse, tmp_path / "serving", state=state)
    assert report.tables.get("activation.sync_log") == 1
    assert "activation.sync_outbox" not in report.tables
    with duckdb.connect(str(report.database), read_only=True) as con:
        assert con.sql("select run_id, adds from activation.sync_log").fetchall() == [("run-1", 3)]
    missing = publish_serving_copy(warehouse, tmp_path / "serving_none", state=tmp_path / "no")
    assert "activation.sync_log" not in missing.tables


def test_a_diff_sync_reads_its_members_from_either_engine_and_keeps_its_state_in_duckdb(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    import csv

    import duckdb

    from orchestration.activation.destinations import parse_destinations
    from orchestration.activation.sync import sync_destination
    from tests.activation.payloads import payload_table, person, run_info

    files = parse_destinations({"destinations": {"file": {"type": "file", "options": {}}}})["file"]
    exports = tmp_path / "exports"
    state = duckdb.connect(str(tmp_path / "state.duckdb"))
    try:
        warehouse.write_arrow(
            "activation.audience_payloads", payload_table("cart", "file", map(person, (1, 2, 3)))
        )
        first = sync_destination(
            state, files, [("cart", {})], run_info(exports, "r1"), payloads=warehouse
        )
        assert (first.total("members"), first.total("adds")) == (3, 3)
        warehouse.write_arrow(
            "activation.audience_payloads",
            payload_table("cart", "file", [person(2), person(3, first_name="Bo"), person(4)]),
        )
        second = sync_destination(
            state, files, [("cart", {})], run_info(exports, "r2", minute=5), payloads=warehouse
        )
        assert (second.total("adds"), second.total("updates"), second.total("removes")) == (
            1,
            1,
            1,
        )
        held = state.execute(
            "select person_id from activation.sync_state order by person_id"
        ).fetchall()
        assert held == [("p00002",), ("p00003",), ("p00004",)]
    finally:
        state.close()
    folder = next(path for path in (exports / "file").iterdir() if "r2" in path.name)
    with next(folder.glob("cart__add__*")).open(newline="") as handle:
        assert [row["person_id"] for row in csv.DictReader(handle)] == ["p00004"]
