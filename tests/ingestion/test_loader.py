"""Ingestion on a corpus of dirty raw files: typed rows in, bad rows quarantined with a
reason, nothing lost, re-runs idempotent. Row counts are checked against an independent
reading of each file (Python's csv/json modules, pyarrow), not against the loader."""

import csv
import gzip
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.ingestion.loader import ensure_raw_schema, load_table
from orchestration.ingestion.readers import IngestionError, discover_files


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[object | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [record if isinstance(record, str) else json.dumps(record) for record in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def records_in_file(path: Path) -> int:
    """Count records without the loader: the other half of the invariant."""
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        if ".csv" in path.name:
            return sum(1 for row in csv.reader(handle) if row) - 1
        return sum(1 for line in handle if line.strip())


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def quarantine(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, str]:
    return dict(
        rows(
            con,
            "select _row_number, reason from raw.quarantine where table_name = ?",
            [table],
        )
    )


ORDER_HEADER = ["order_id", "customer_id", "email", "status", "currency", "total", "created_at"]


def test_csv_rows_are_typed_and_bad_values_quarantined_with_their_reason(raw_dir, con):
    write_csv(
        raw_dir / "shop_orders.csv",
        ORDER_HEADER,
        [
            ["0001", "0042", " A@x.com ", "paid", "EUR", "12.50", "2026-03-01T10:00:00+01:00"],
            ["0002", "", "b@y.com", "paid", "USD", "12,50", "2026-03-01T10:00:00Z"],
            ["0003", "7", "c@z.com", "paid", "USD", "3", "31/02/2026"],
            ["", "7", "d@z.com", "paid", "USD", "3", "2026-01-01"],
            ["0005", "7", "e@z.com", "paid"],
        ],
    )
    report = load_table(con, raw_dir, "shop_orders")

    assert report.errors == []
    assert (report.rows_loaded, report.rows_quarantined) == (1, 4)
    loaded = rows(
        con, "select order_id, customer_id, email, total, created_at from raw.shop_orders"
    )
    # Ids keep leading zeros; text is kept as written; the offset is applied (09:00 UTC).
    assert loaded == [("0001", "0042", " A@x.com ", pytest.approx(12.5), datetime(2026, 3, 1, 9))]
    reasons = quarantine(con, "shop_orders")
    assert reasons[2] == "total: not a number (12,50)"
    assert reasons[3] == "created_at: not an ISO-8601 timestamp (31/02/2026)"
    assert reasons[4] == "missing key: order_id"
    assert reasons[5] == "expected 7 fields, found 4"


def test_quarantined_record_keeps_the_raw_values_for_inspection(raw_dir, con):
    write_csv(raw_dir / "shop_orders.csv", ORDER_HEADER, [["9", "", "x", "paid", "USD", "abc", ""]])
    load_table(con, raw_dir, "shop_orders")
    (record,) = rows(con, "select record from raw.quarantine")[0]
    assert json.loads(record) == {
        "order_id": "9",
        "customer_id": None,
        "email": "x",
        "status": "paid",
        "currency": "USD",
        "total": "abc",
        "created_at": None,
    }


def test_csv_quoting_bom_blank_lines_and_empty_fields(raw_dir, con):
    text = (
        "\ufefforder_id,email,total,created_at\r\n"
        '1,"multi\nline, with comma",5,2026-01-01\r\n'
        "\r\n"
        '2,"",7,2026-01-02 10:00:00\r\n'
    )
    (raw_dir / "shop_orders.csv").write_text(text, encoding="utf-8")
    report = load_table(con, raw_dir, "shop_orders")
    assert (report.rows_loaded, report.rows_quarantined) == (2, 0)
    assert rows(con, "select order_id, email, _row_number from raw.shop_orders order by 1") == [
        ("1", "multi\nline, with comma", 1),
        ("2", None, 2),
    ]


def test_every_type_of_the_contract_is_parsed_or_quarantined(raw_dir, con):
    header = ["contact_id", "is_deleted", "created_at", "updated_at"]
    write_csv(
        raw_dir / "crm_contacts.csv",
        header,
        [
            ["c1", "true", "2026-01-01", "2026-01-01T00:00:00-05:00"],
            ["c2", "0", "2026-01-01 08:30", "2026-01-02"],
            ["c3", "maybe", "2026-01-01", "2026-01-01"],
            ["c4", "yes", "infinity", "2026-01-01"],
        ],
    )
    write_csv(
        raw_dir / "crm_tickets.csv",
        ["ticket_id", "csat_score"],
        [["t1", "5"], ["t2", "4.0"], ["t3", "4.5"], ["t4", ""]],
    )
    write_csv(
        raw_dir / "fx_rates.csv",
        ["rate_date", "currency", "rate_to_usd"],
        [
            ["2026-01-02", "EUR", "1.0412345678"],
            ["2026-13-01", "EUR", "1.1"],
        ],
    )
    load_table(con, raw_dir, "crm_contacts")
    load_table(con, raw_dir, "crm_tickets")
    load_table(con, raw_dir, "fx_rates")

    assert rows(
        con, "select contact_id, is_deleted, updated_at from raw.crm_contacts order by 1"
    ) == [
        ("c1", True, datetime(2026, 1, 1, 5)),
        ("c2", False, datetime(2026, 1, 2)),
    ]
    contact_reasons = quarantine(con, "crm_contacts")
    assert contact_reasons[3] == "is_deleted: not a boolean (maybe)"
    assert contact_reasons[4] == "created_at: not an ISO-8601 timestamp (infinity)"
    assert rows(con, "select ticket_id, csat_score from raw.crm_tickets order by 1") == [
        ("t1", 5),
        ("t2", 4),
        ("t4", None),
    ]
    assert quarantine(con, "crm_tickets") == {3: "csat_score: not an integer (4.5)"}
    assert [r[0] for r in rows(con, "select rate_to_usd::varchar from raw.fx_rates")] == [
        "1.0412345678"
    ]
    assert quarantine(con, "fx_rates") == {2: "rate_date: not an ISO-8601 date (2026-13-01)"}


SEGMENT_MESSAGES: list[object | str] = [
    {
        "messageId": "m1",
        "type": "track",
        "event": "Product Added",
        "anonymousId": "a1",
        "userId": 12345,
        "context": {"device": {"id": "d1"}},
        "properties": {"product_id": "p1", "price": 5},
        "timestamp": "2026-03-01T10:00:00Z",
        "sentAt": "2026-03-01T10:00:01Z",
        "receivedAt": "2026-03-01T10:00:02Z",
        "integrations": {},
        "channel": "server",
        "_metadata": {"bundled": ["Segment.io"]},
        "shoeSize": 44,
    },
    {
        "messageId": "m2",
        "type": "page",
        "anonymousId": "a1",
        "originalTimestamp": "2026-03-01T11:00:00+02:00",
        "context": '{"page": {"path": "/pricing"}}',
    },
    '{"messageId": "m3", broken',
    "[1, 2]",
    {"type": "page", "anonymousId": "a2", "timestamp": "2026-03-01"},
    {"message_id": "m4", "type": "page", "timestamp": "yesterday", "properties": "{bad json"},
]


def test_segment_camelcase_messages_map_to_contract_columns(raw_dir, con):
    write_jsonl(raw_dir / "events" / "2026-03-01.jsonl", SEGMENT_MESSAGES)
    report = load_table(con, raw_dir, "events")

    assert (report.rows_loaded, report.rows_quarantined) == (2, 4)
    # Spec keys no model reads (integrations, channel, _metadata) are known, not warned.
    assert report.unknown_columns == ["shoeSize"]
    loaded = rows(
        con,
        "select message_id, user_id, anonymous_id, context, properties, timestamp, received_at "
        "from raw.events order by 1",
    )
    assert loaded[0][:3] == ("m1", "12345", "a1")  # a numeric id becomes text
    assert json.loads(loaded[0][3]) == {"device": {"id": "d1"}}
    assert json.loads(loaded[0][4]) == {"product_id": "p1", "price": 5}
    assert loaded[0][6] == datetime(2026, 3, 1, 10, 0, 2)
    # originalTimestamp stands in for timestamp; a JSON string holding JSON is unwrapped.
    assert loaded[1][0] == "m2"
    assert loaded[1][5] == datetime(2026, 3, 1, 9)
    assert json.loads(loaded[1][3]) == {"page": {"path": "/pricing"}}
    assert quarantine(con, "events") == {
        3: "malformed JSON line",
        4: "record is not a JSON object",
        5: "missing key: message_id",
        6: (
            "properties: malformed JSON ({bad json); "
            "timestamp: not an ISO-8601 timestamp (yesterday)"
        ),
    }


def test_parquet_typed_and_nested_columns_are_read_as_contract_types(raw_dir, con):
    table = pa.table(
        {
            "message_id": ["p1", "p2", None],
            "type": ["track", "page", "page"],
            "event": ["Order Completed", None, None],
            "user_id": ["007", None, None],
            "context": [{"device": {"id": "d9"}}, {"device": {"id": None}}, None],
            "timestamp": pa.array(
                [datetime(2026, 3, 1, 10), datetime(2026, 3, 2, 10), datetime(2026, 3, 3)],
                type=pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    (raw_dir / "events").mkdir()
    pq.write_table(table, raw_dir / "events" / "part-1.parquet")
    report = load_table(con, raw_dir, "events")

    assert (report.rows_loaded, report.rows_quarantined) == (2, 1)
    assert report.missing_columns == [
        "anonymous_id",
        "category",
        "group_id",
        "name",
        "previous_id",
        "properties",
        "received_at",
        "sent_at",
        "source",
        "traits",
    ]
    loaded = rows(
        con,
        "select message_id, user_id, context, timestamp, _row_number from raw.events order by 1",
    )
    assert loaded[0][:2] == ("p1", "007")
    assert json.loads(loaded[0][2]) == {"device": {"id": "d9"}}
    assert loaded[0][3] == datetime(2026, 3, 1, 10)
    assert quarantine(con, "events") == {3: "missing key: message_id"}


def test_rows_in_files_equal_rows_loaded_plus_rows_quarantined(raw_dir, con):
    write_csv(
        raw_dir / "shop_orders" / "b1.csv",
        ORDER_HEADER,
        [["1", "", "", "paid", "USD", "1", "2026-01-01"], ["2", "", "", "paid", "USD", "x", "bad"]],
    )
    write_csv(raw_dir / "shop_orders" / "b2.csv", ORDER_HEADER, [["3", "a"], ["4"] * 7])
    write_jsonl(raw_dir / "events.jsonl", SEGMENT_MESSAGES)
    gz_path = raw_dir / "consent" / "c.jsonl.gz"
    gz_path.parent.mkdir()
    with gzip.open(gz_path, "wt", encoding="utf-8") as handle:
        handle.write('{"subject_type": "email", "recorded_at": "2026-01-01"}\nnot json\n')

    for table in ("shop_orders", "events", "consent"):
        load_table(con, raw_dir, table)
        for path in discover_files(raw_dir, table):
            rel_path = path.relative_to(raw_dir).as_posix()
            loaded = rows(con, f"select count(*) from raw.{table} where _file = ?", [rel_path])[0][
                0
            ]
            held = rows(con, "select count(*) from raw.quarantine where _file = ?", [rel_path])[0][
                0
            ]
            assert records_in_file(path) == loaded + held, rel_path
    assert rows(con, "select count(*) from raw.consent")[0][0] == 1


def test_reloading_skips_loaded_files_and_a_new_batch_adds_exactly_its_rows(raw_dir, con):
    write_csv(
        raw_dir / "shop_orders" / "b1.csv",
        ORDER_HEADER,
        [["1", "", "", "paid", "USD", "1", "2026-01-01"]],
    )
    first = load_table(con, raw_dir, "shop_orders")
    again = load_table(con, raw_dir, "shop_orders")
    assert (first.files_loaded, again.files_loaded, again.files_skipped) == (1, 0, 1)
    assert rows(con, "select count(*) from raw.shop_orders")[0][0] == 1

    write_csv(
        raw_dir / "shop_orders" / "b2.csv",
        ORDER_HEADER,
        [["2", "", "", "paid", "USD", "2", "2026-01-02"], ["3", "", "", "paid", "USD", "-", "x"]],
    )
    second = load_table(con, raw_dir, "shop_orders")
    assert (second.files_loaded, second.files_skipped) == (1, 1)
    assert (second.rows_loaded, second.rows_quarantined) == (1, 1)
    assert rows(con, "select count(*) from raw.shop_orders")[0][0] == 2


def test_a_file_rewritten_in_place_is_loaded_again_as_a_new_version(raw_dir, con):
    path = write_csv(
        raw_dir / "shop_orders.csv",
        ORDER_HEADER,
        [["1", "", "", "pending", "USD", "1", "2026-01-01"]],
    )
    load_table(con, raw_dir, "shop_orders")
    write_csv(path, ORDER_HEADER, [["1", "", "", "paid", "USD", "1", "2026-01-01"]])
    report = load_table(con, raw_dir, "shop_orders")
    assert report.files_loaded == 1
    assert rows(con, "select status from raw.shop_orders order by _loaded_at") == [
        ("pending",),
        ("paid",),
    ]


def test_a_missing_table_is_an_empty_source(raw_dir, con):
    report = load_table(con, raw_dir, "crm_deals")
    assert (report.files, report.errors) == ([], [])
    assert rows(con, "select count(*) from raw.crm_deals")[0][0] == 0


def test_empty_files_are_empty_batches_not_errors_and_are_not_read_again(raw_dir, con):
    folder = raw_dir / "shop_orders"
    write_csv(
        folder / "a_rows.csv", ORDER_HEADER, [["1", "", "", "paid", "USD", "1", "2026-01-01"]]
    )
    write_csv(folder / "b_header_only.csv", ORDER_HEADER, [])
    (folder / "c_zero_bytes.csv").write_bytes(b"")
    (folder / "d_blank.csv").write_text("\n  \r\n\t\n")
    with gzip.open(folder / "e_blank.csv.gz", "wb") as handle:
        handle.write(b"\n\n")
    report = load_table(con, raw_dir, "shop_orders")
    assert report.errors == []
    assert {file.path: file.status for file in report.files} == {
        "shop_orders/a_rows.csv": "loaded",
        "shop_orders/b_header_only.csv": "empty",
        "shop_orders/c_zero_bytes.csv": "empty",
        "shop_orders/d_blank.csv": "empty",
        "shop_orders/e_blank.csv.gz": "empty",
    }
    assert (report.files_loaded, report.files_empty, report.rows_loaded) == (1, 4, 1)
    assert rows(con, "select count(*) from raw._loaded_files")[0][0] == 5
    again = load_table(con, raw_dir, "shop_orders")
    assert (again.files_skipped, again.files_empty, again.errors) == (5, 0, [])


def test_an_empty_jsonl_or_parquet_file_is_an_empty_batch(raw_dir, con):
    (raw_dir / "events").mkdir()
    (raw_dir / "events" / "a.jsonl").write_text("\n")
    pq.write_table(
        pa.table({"order_id": pa.array([], pa.string())}), raw_dir / "shop_orders.parquet"
    )
    for table in ("events", "shop_orders"):
        report = load_table(con, raw_dir, table)
        assert report.errors == []
        assert [file.status for file in report.files] == ["empty"]


def test_a_file_that_cannot_be_parsed_is_reported_by_name_and_other_files_still_load(raw_dir, con):
    write_csv(
        raw_dir / "shop_orders" / "a_good.csv",
        ORDER_HEADER,
        [["1", "", "", "paid", "USD", "1", "2026-01-01"]],
    )
    (raw_dir / "shop_orders" / "b_binary.csv").write_bytes(b"\xff\xfe\x00garbage\x00\x81")
    (raw_dir / "shop_orders" / "c_prose.csv").write_text("Dear team,\nhere is the export\n")
    write_csv(raw_dir / "shop_orders" / "d_nokey.csv", ["email", "total"], [["a@b.c", "1"]])
    report = load_table(con, raw_dir, "shop_orders")

    assert report.rows_loaded == 1
    assert len(report.errors) == 3
    assert "b_binary.csv: the CSV header is not valid UTF-8 at byte 0" in report.errors[0]
    assert "c_prose.csv: none of the columns of table shop_orders found" in report.errors[1]
    assert "d_nokey.csv: key column(s) order_id missing from the file" in report.errors[2]
    # Nothing of the failed files was written, and they are retried next time.
    assert rows(con, "select count(*) from raw._loaded_files")[0][0] == 1


def test_corrupt_parquet_fails_with_the_file_name(raw_dir, con):
    (raw_dir / "events").mkdir()
    (raw_dir / "events" / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    report = load_table(con, raw_dir, "events")
    assert len(report.errors) == 1
    assert "broken.parquet" in report.errors[0]


def test_a_table_folder_with_mixed_formats_is_refused(raw_dir):
    write_csv(raw_dir / "events" / "a.csv", ["message_id"], [["1"]])
    write_jsonl(raw_dir / "events" / "b.jsonl", [{"messageId": "2"}])
    with pytest.raises(IngestionError, match="one format"):
        discover_files(raw_dir, "events")


def test_marker_files_and_hidden_files_in_a_table_folder_are_ignored(raw_dir):
    write_jsonl(raw_dir / "events" / "b.jsonl", [{"messageId": "2"}])
    (raw_dir / "events" / "_SUCCESS").write_text("")
    (raw_dir / "events" / ".DS_Store").write_text("")
    assert [p.name for p in discover_files(raw_dir, "events")] == ["b.jsonl"]


def test_header_names_match_case_insensitively_and_aliases_apply_to_csv(raw_dir, con):
    write_csv(
        raw_dir / "events.csv",
        ["messageId", "TYPE", "anonymousId", "timestamp"],
        [["m1", "page", "a1", "2026-01-01T00:00:00Z"]],
    )
    report = load_table(con, raw_dir, "events")
    assert report.rows_loaded == 1
    assert rows(con, "select message_id, type, anonymous_id from raw.events") == [
        ("m1", "page", "a1")
    ]


def test_a_raw_table_created_before_the_contract_gained_columns_gets_them_and_still_loads(
    raw_dir, con
):
    """A warehouse ingested before events had group_id, name and category: the next run
    adds the columns (NULL in old rows) instead of failing to append the new batch."""
    con.execute("insert into raw.events (message_id, type) values ('old', 'track')")
    for column in ("group_id", "name", "category"):
        con.execute(f"alter table raw.events drop column {column}")
    ensure_raw_schema(con)
    (raw_dir / "events").mkdir()
    (raw_dir / "events" / "b1.jsonl").write_text(
        '{"messageId": "g1", "type": "group", "userId": "42", "groupId": "acct-7",'
        ' "timestamp": "2026-03-01T08:00:00Z"}\n'
    )
    report = load_table(con, raw_dir, "events")

    assert (report.rows_loaded, report.errors) == (1, [])
    assert rows(con, "select message_id, group_id from raw.events order by 1") == [
        ("g1", "acct-7"),
        ("old", None),
    ]
