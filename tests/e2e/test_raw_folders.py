"""`cdp run --raw-dir X --warehouse Y` on other raw folders: the three formats `cdp
generate` writes, a folder with most tables missing, and re-runs on a growing folder.

The format matrix runs on a small generated folder and builds only what it asserts on
(ingestion, staging, the quality marts): file formats end at staging, and the layers
after it are asserted on the session's demo build."""

import csv
import json
import uuid

import duckdb
import pytest

from orchestration.ingestion.contract import load_contract
from tests.conftest import INGESTION, SEEDS, THROUGH_QUALITY, THROUGH_STAGING, build_warehouse
from tests.e2e.conftest import cdp
from tests.e2e.rawfiles import table_files, table_records
from tests.e2e.test_staging_on_demo import STAGED_MODEL

TABLES = sorted(load_contract().tables)
# Enough persons for every table to have rows and the generator's dirty values to occur.
MATRIX_PERSONS = 30


def accounting(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, ...]]:
    rows = con.execute(
        "select source_table, raw_rows, staged_rows, quarantined_rows, superseded_rows, "
        "soft_deleted_rows from quality.row_accounting"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_a_generated_raw_folder_builds_in_every_format(tmp_path, fmt, restore_environ):
    raw_dir = tmp_path / "raw"
    generated = cdp(
        "generate",
        raw_dir,
        "--persons",
        str(MATRIX_PERSONS),
        "--format",
        fmt,
        "--quiet",
        dagster_home=tmp_path / "dagster_home",
    )
    assert generated.returncode == 0, generated.stderr

    summary = build_warehouse(raw_dir, tmp_path / "warehouse", selection=THROUGH_QUALITY)

    assert summary.success, summary.render()
    with duckdb.connect(str(summary.warehouse), read_only=True) as con:
        balance = accounting(con)
        for table in TABLES:
            files = table_files(raw_dir, table)
            assert files, table
            assert {path.suffix for path in files} == {f".{fmt}"}, table
            counts = summary.tables[table]
            assert counts.files_loaded == len(files), table
            assert counts.loaded + counts.quarantined == len(table_records(raw_dir, table)), table
            assert counts.loaded == count(con, f"raw.{table}"), table
            raw, staged, quarantined, superseded, soft_deleted = balance[table]
            assert raw == staged + quarantined + superseded + soft_deleted, table
            assert staged == count(con, f"staging.{STAGED_MODEL[table]}") > 0, table
        reasons = [
            row[0]
            for row in con.execute(
                "select reason from raw.quarantine where table_name = 'events'"
            ).fetchall()
        ]
        identified = con.execute(
            "select count(*) from staging.stg_tracking__events "
            "where event_type = 'identify' and email is not null and user_id is not null"
        ).fetchone()[0]
    # JSON columns are text in CSV / Parquet, where the generator truncates a few.
    malformed = [reason for reason in reasons if "malformed JSON" in reason]
    assert bool(malformed) == (fmt != "jsonl"), reasons
    # Identify calls keep their traits in every format (nested objects in JSONL).
    assert identified > 0


def write_orders_as_one_file(raw_dir):
    """The demo's order parts as one `shop_orders.csv` (a table given as a single file)."""
    rows = [record for _, _, record in table_records(SEEDS, "shop_orders")]
    with (raw_dir / "shop_orders.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


@pytest.mark.slow
def test_events_and_orders_only_then_a_rerun_then_one_new_batch(tmp_path, restore_environ):
    raw_dir = tmp_path / "raw"
    (raw_dir / "events").mkdir(parents=True)
    demo_events = SEEDS / "events" / "part-00001.jsonl"
    (raw_dir / "events" / "part-00001.jsonl").write_bytes(demo_events.read_bytes())
    orders_in_file = write_orders_as_one_file(raw_dir)
    target = tmp_path / "warehouse"

    # 1. Only two tables: the other nine are empty sources and everything builds.
    first = build_warehouse(raw_dir, target)
    assert first.success, first.render()
    assert first.tables["shop_orders"].loaded + first.tables["shop_orders"].quarantined == (
        orders_in_file
    )
    with duckdb.connect(str(first.warehouse), read_only=True) as con:
        balance = accounting(con)
        for table in TABLES:
            staged = count(con, f"staging.{STAGED_MODEL[table]}")
            if table in {"events", "shop_orders"}:
                assert staged > 0, table
            else:
                assert (first.tables[table].files_loaded, balance[table][0], staged) == (0, 0, 0)
            assert balance[table][0] == sum(balance[table][1:]), table
        raw_counts = {table: count(con, f"raw.{table}") for table in TABLES}
        loaded_files = con.execute("select * from raw._loaded_files order by all").fetchall()
    assert sorted(row[1] for row in loaded_files) == ["events/part-00001.jsonl", "shop_orders.csv"]

    # 2. The same folder again: every file is skipped, no row is loaded twice (ingestion).
    second = build_warehouse(raw_dir, target, selection=INGESTION)
    assert second.success, second.render()
    assert {
        table: (c.loaded, c.quarantined, c.files_loaded) for table, c in second.tables.items()
    } == {table: (0, 0, 0) for table in TABLES}
    assert second.tables["events"].files_skipped == second.tables["shop_orders"].files_skipped == 1
    with duckdb.connect(str(second.warehouse), read_only=True) as con:
        assert {table: count(con, f"raw.{table}") for table in TABLES} == raw_counts
        assert con.execute("select * from raw._loaded_files order by all").fetchall() == (
            loaded_files
        )

    # 3. One new batch file: exactly its rows are loaded (3 good, 1 untypeable).
    templates = [
        json.loads(line)
        for line in demo_events.read_text().splitlines()
        if json.loads(line)["type"] == "page"
    ][:4]
    new_ids = [str(uuid.uuid4()) for _ in templates]
    batch = [
        {**message, "messageId": new_id} for message, new_id in zip(templates, new_ids, strict=True)
    ]
    batch[-1]["timestamp"] = "not-a-date"
    (raw_dir / "events" / "part-00002.jsonl").write_text(
        "".join(json.dumps(message) + "\n" for message in batch)
    )
    # (Ingestion and staging: the new rows reach stg_tracking__events.)
    third = build_warehouse(raw_dir, target, selection=THROUGH_STAGING)
    assert third.success, third.render()
    events = third.tables["events"]
    assert (events.loaded, events.quarantined, events.files_loaded, events.files_skipped) == (
        3,
        1,
        1,
        1,
    )
    assert all(c.loaded == c.quarantined == 0 for t, c in third.tables.items() if t != "events")
    with duckdb.connect(str(third.warehouse), read_only=True) as con:
        assert count(con, "raw.events") == raw_counts["events"] + 3
        assert count(con, "raw.shop_orders") == raw_counts["shop_orders"]
        new_file = con.execute(
            "select rows_loaded, rows_quarantined from raw._loaded_files "
            "where file_path = 'events/part-00002.jsonl'"
        ).fetchall()
        assert new_file == [(3, 1)]
        assert count(con, "raw._loaded_files") == len(loaded_files) + 1
        staged = {
            row[0]
            for row in con.execute(
                "select message_id from staging.stg_tracking__events "
                "where list_contains(?, message_id)",
                [new_ids],
            ).fetchall()
        }
    assert staged == set(new_ids[:3])
