"""Hostile and broken raw files: every record is loaded or quarantined with a reason, or
the whole file is refused with an IngestionError naming it; the run never crashes.

Records are counted without the loader (`csv_records`, `jsonl_records`), by the rules
docs/own-data.md states:

* CSV: RFC 4180 records; a record that is only a line end is blank, not a record. Broken
  quoting (text after a closing quote) ends the record with its physical line: one
  record, quarantined. A quoted field still open at the end of the file (the rest of the
  file would be one field) refuses the file. Stray quotes inside an unquoted field are
  text (`5" screen`).
* JSON lines: every physical line (split at \\n, \\r\\n or \\r) that is not only
  whitespace is one record, whether or not it is a JSON object.
* Bytes that are not UTF-8 (a Latin-1 export, random bytes) quarantine the record that
  holds them, with the reason `not valid UTF-8 at byte N`; in the CSV header they refuse
  the file. A UTF-8 BOM is dropped. The counts read the file with `surrogateescape`
  (a bad byte becomes a lone surrogate, which is no line break, quote or comma).

The default run is short (CI); `HYPOTHESIS_PROFILE=fuzz` draws many more examples.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orchestration.ingestion.loader import connect, ensure_raw_schema, load_table
from orchestration.ingestion.readers import IngestionError, discover_files

settings.register_profile(
    "ci", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --- independent record counts -------------------------------------------------------

_LINE = re.compile(r"\r\n|\r|\n")


def physical_lines(text: str) -> list[str]:
    """Lines as Python's text files split them with newline='' (ends kept)."""
    lines, start = [], 0
    for match in _LINE.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


class Unterminated(Exception):
    """The file ends inside a quoted field."""


def not_utf8(text: str) -> bool:
    """Whether text decoded with `surrogateescape` held bytes that are not UTF-8."""
    return any("\udc80" <= char <= "\udcff" for char in text)


def csv_records(text: str) -> int:
    """Records after the header by RFC 4180 and the broken-quoting rule above."""
    return len(csv_record_texts(text))


def csv_record_texts(text: str, with_header: bool = False) -> list[str]:
    """The raw text of each record after the header (its physical lines)."""
    records: list[str] = []
    state = "record"  # record | field | unquoted | quoted | quote
    pending = ""
    for line in physical_lines(text):
        pending += line
        if state != "quoted":
            state = "record"
        for char in line:
            if state in ("record", "field"):
                if char in "\r\n":
                    break
                state = "quoted" if char == '"' else "field" if char == "," else "unquoted"
            elif state == "unquoted":
                if char in "\r\n":
                    break
                if char == ",":
                    state = "field"
            elif state == "quoted":
                if char == '"':
                    state = "quote"
            elif state == "quote":
                if char == '"':
                    state = "quoted"
                elif char == ",":
                    state = "field"
                elif char in "\r\n":
                    break
                else:
                    state = "broken"  # the record ends with this line
                    break
        if state == "quoted":
            continue
        if state != "record":
            records.append(pending)
        pending = ""
    if state == "quoted":
        raise Unterminated
    return records if with_header else records[1:]


def csv_bad_records(text: str) -> list[int]:
    """Row numbers of the records that hold bytes that are not UTF-8."""
    return [number for number, record in enumerate(csv_record_texts(text), 1) if not_utf8(record)]


def jsonl_records(text: str) -> int:
    return len(jsonl_record_texts(text))


def jsonl_record_texts(text: str) -> list[str]:
    return [line for line in physical_lines(text) if line.strip()]


def jsonl_bad_records(text: str) -> list[int]:
    return [number for number, line in enumerate(jsonl_record_texts(text), 1) if not_utf8(line)]


BAD_RECORDS = {csv_records: csv_bad_records, jsonl_records: jsonl_bad_records}


# --- loading one file ----------------------------------------------------------------


def load_one(table: str, name: str, data: bytes):
    """Load `data` as the only file of `table` in a fresh raw folder and warehouse."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw"
        raw.mkdir()
        (raw / name).write_bytes(data)
        con = connect(Path(folder) / "w.duckdb")
        try:
            ensure_raw_schema(con)
            report = load_table(con, raw, table)  # any exception fails the test
            quarantined = con.execute(
                "select _row_number, record, reason from raw.quarantine"
            ).fetchall()
            loaded = [r[0] for r in con.execute(f"select _row_number from raw.{table}").fetchall()]
            ledger = con.execute("select count(*) from raw._loaded_files").fetchone()[0]
        finally:
            con.close()
    return report, loaded, quarantined, ledger


HEADER_REFUSALS = ("none of the columns", "key column", "cannot parse the CSV header")


def csv_header_has_key(text: str) -> bool:
    try:
        names = next(csv.reader(io.StringIO(text, newline=""), strict=True), [])
    except csv.Error:
        return False
    return "order_id" in {name.strip().lower() for name in names}


def csv_header_ok(text: str) -> bool:
    """The header names the key and is UTF-8 (else the file is refused)."""
    try:
        header = csv_record_texts(text, with_header=True)[:1]
    except Unterminated:
        return False
    return csv_header_has_key(text) and not any(not_utf8(record) for record in header)


def check_outcome(table: str, name: str, data: bytes, counter, header_ok=None) -> None:
    """The property: refused as predicted, or every record accounted for, the records
    with bytes that are not UTF-8 quarantined with that reason."""
    refusals: list[str] = []
    bad: list[int] = []
    try:
        text = data.decode("utf-8-sig", errors="surrogateescape")
        if header_ok is not None and not header_ok(text):
            refusals += ["the CSV header is not valid UTF-8", *HEADER_REFUSALS]
        expected = counter(text)
        bad = BAD_RECORDS[counter](text)
    except Unterminated:
        refusals += ["is never closed"]
    report, loaded, quarantined, ledger = load_one(table, name, data)
    if refusals:
        assert len(report.errors) == 1, report.errors
        assert name in report.errors[0], report.errors
        assert any(reason in report.errors[0] for reason in refusals), report.errors
        assert (loaded, quarantined, ledger) == ([], [], 0)  # nothing half-loaded
        return
    assert report.errors == []
    assert report.rows_loaded + report.rows_quarantined == expected
    assert (len(loaded), len(quarantined)) == (report.rows_loaded, report.rows_quarantined)
    numbers = sorted(loaded + [row[0] for row in quarantined])
    assert numbers == list(range(1, expected + 1))  # each record once, none dropped
    for _, record, reason in quarantined:
        assert reason
        assert record is not None
    not_utf8_rows = sorted(n for n, _, why in quarantined if why.startswith("not valid UTF-8"))
    assert not_utf8_rows == bad


# --- strategies ----------------------------------------------------------------------

TIMESTAMPS = [
    "2026-03-01T10:00:00Z",
    "2026-03-01 10:00:00",
    "2026-03-01T10:00:00+01:00",
    "2026-03-01T10:00:00+0100",
    "2026-03-01T10:00:00-05",
    "2026-03-01T10:00:00.123456789Z",
    "2026-03-01T10:00Z",
    "2026-03-01",
    "2026-W09-1",
    "2026-060",
    "20260301T100000Z",
    "2026-03-01T10:00:00+25:00",
    "2026-02-30",
    "infinity",
    "yesterday",
    "",
]
NUMBERS = ["1e3", "1E-2", "-1.5e2", "1e40", "NaN", "inf", "12,50", "0x10", "+5", ".5", "1" * 60]
HOSTILE = st.one_of(
    st.text(max_size=20),
    st.text(alphabet='",\r\n\x00\ufeff \t', max_size=8),
    st.sampled_from(TIMESTAMPS + NUMBERS),
    st.sampled_from(['5" screen', '"', '""', 'a"b"c', "\x00", "é", "\u2028", "{", "[1]"]),
    st.just("x" * 5000),
)
ORDER_COLUMNS = ["order_id", "customer_id", "email", "status", "total", "tax", "created_at"]


LATIN1 = ["é", "Köln", "Straße", "Müller", "ñ", "©", "\xa0", "\xff"]


@st.composite
def mixed_encoding(draw, text: str) -> bytes:
    """Each physical line in UTF-8 or in Latin-1 (an export appended to by two systems),
    some lines given a Latin-1 letter first: invalid UTF-8 rows among valid ones."""
    data = b""
    for line in physical_lines(text):
        if draw(st.integers(0, 2)) == 0:
            line = draw(st.sampled_from(LATIN1)) + line
        data += line.encode(draw(st.sampled_from(["utf-8", "latin-1"])), errors="replace")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data


@st.composite
def csv_files(draw) -> bytes:
    columns = draw(st.lists(st.sampled_from(ORDER_COLUMNS), min_size=1, max_size=6, unique=True))
    if "order_id" not in columns and draw(st.booleans()):
        columns.insert(0, "order_id")
    header = columns + draw(st.lists(st.text(max_size=5), max_size=3))
    header = [name.upper() if draw(st.booleans()) else name for name in header]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 12))):
        width = draw(st.sampled_from([len(header), len(header), len(header) + 1, 1]))
        fields = draw(st.lists(HOSTILE, min_size=width, max_size=width))
        if draw(st.integers(0, 5)) == 0:  # hand-made, possibly broken quoting
            buffer.write(",".join(fields) + newline)
        else:
            writer.writerow(fields)
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    if draw(st.integers(0, 8)) == 0:
        text += '"unterminated' + newline + "1,2" + newline
    data = text.encode("utf-8")
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "bom", "latin-1", "mixed", "bytes"]))
    if encoding == "bom":
        data = b"\xef\xbb\xbf" + data
    elif encoding == "latin-1":
        data = text.encode("latin-1", errors="replace")
    elif encoding == "mixed":
        data = draw(mixed_encoding(text))
    elif encoding == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), HOSTILE
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
EVENT_KEYS = ["message_id", "messageId", "type", "anonymousId", "userId", "context"]
EVENT_KEYS += ["properties", "traits", "timestamp", "sentAt", "receivedAt", "shoeSize"]


@st.composite
def jsonl_lines(draw) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        record = draw(st.dictionaries(st.sampled_from(EVENT_KEYS), JSON_VALUES, max_size=8))
        line = json.dumps(record, ensure_ascii=draw(st.booleans()))
        if kind == 5 and record:  # a duplicate key when the record has one already
            line = '{"message_id": "first", ' + line[1:]
        return line
    if kind == 6:
        return "[1, 2]" if draw(st.booleans()) else "42"
    if kind == 7:
        depth = draw(st.integers(1, 3000))
        return '{"message_id": "deep", "context": ' + "[" * depth + "]" * depth + "}"
    if kind == 8:
        return draw(st.text(max_size=30))  # garbage, may hold line breaks or NUL
    return ""


@st.composite
def jsonl_files(draw) -> bytes:
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(draw(st.lists(jsonl_lines(), max_size=12)))
    data = text.encode("utf-8")
    kind = draw(st.integers(0, 5))
    if kind == 0:
        data = text.encode("latin-1", errors="replace")
    elif kind == 1:
        return draw(mixed_encoding(text))
    if draw(st.integers(0, 5)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


@PROFILE
@given(data=csv_files())
@example(data=b"\xef\xbb\xbforder_id,total\n1,1e3\n")
@example(data=b"order_id,total\n1,caf\xe9\n")
@example(data=b'order_id,total\n1,2\n\xff,3\r\n"4\n\xe9",5\n6,7')
@example(data=b"order_id,tot\xe9l\n1,2\n")
@example(data=b'order_id,total\n"1"x,2\n3,4\n')
@example(data=b'order_id,total\n"1,2\n3,4\n')
def test_fuzzed_csv_is_loaded_quarantined_or_refused(data: bytes) -> None:
    check_outcome("shop_orders", "shop_orders.csv", data, csv_records, csv_header_ok)


@PROFILE
@given(data=jsonl_files())
@example(data=b'{"message_id": "1", "message_id": "2"}\n{"messageId": "3"}\n')
@example(data=b'{"messageId": "1\x00"}\n\r\n[1]\r{"messageId": "2"}')
@example(data=b'\xef\xbb\xbf{"messageId": "\xe9"}\r{"messageId": "2"}\n\xff')
def test_fuzzed_jsonl_is_loaded_quarantined_or_refused(data: bytes) -> None:
    check_outcome("events", "events.jsonl", data, jsonl_records)


# --- explicit hostile cases ----------------------------------------------------------


def test_a_utf8_bom_is_dropped_from_the_csv_header():
    report, loaded, quarantined, _ = load_one(
        "shop_orders", "shop_orders.csv", b"\xef\xbb\xbforder_id,total\n1,2\n"
    )
    assert (report.errors, len(loaded), quarantined) == ([], 1, [])
    assert report.files[0].unknown_columns == []


def test_latin1_rows_in_a_utf8_csv_are_quarantined_one_by_one_and_the_others_load():
    data = (
        b"\xef\xbb\xbforder_id,email\r\n"
        + "1,köln@example.com\r\n".encode()  # UTF-8: loads
        + "2,köln@example.com\r\n".encode("latin-1")
        + b'3,"two\nlines \xe9"\r\n'  # the bad byte on the record's second line
        + b"4,ok\r\n"
    )
    report, loaded, quarantined, ledger = load_one("shop_orders", "shop_orders.csv", data)
    assert report.errors == []
    assert (report.rows_loaded, report.rows_quarantined, ledger) == (2, 2, 1)
    assert sorted(loaded) == [1, 4]
    assert quarantined == [
        # Offsets count from 0 in the file, its BOM included; the record shows the byte.
        (2, "2,k\\xf6ln@example.com", "not valid UTF-8 at byte 43 (0xF6, line 3)"),
        (3, '3,"two\nlines \\xe9"', "not valid UTF-8 at byte 73 (0xE9, line 5)"),
    ]


def test_a_wholly_latin1_csv_quarantines_each_row_with_a_non_ascii_letter():
    """No encoding is guessed: ASCII rows are the same bytes in both and load; a row
    with a Latin-1 letter is quarantined with the byte."""
    text = "order_id,city\n1,Köln\n2,Bonn\n3,Málaga\n"
    report, loaded, quarantined, _ = load_one(
        "shop_orders", "shop_orders.csv", text.encode("latin-1")
    )
    assert report.errors == []
    assert loaded == [2]
    assert [(n, why) for n, _, why in quarantined] == [
        (1, "not valid UTF-8 at byte 17 (0xF6, line 2)"),
        (3, "not valid UTF-8 at byte 31 (0xE1, line 4)"),
    ]


def test_a_csv_header_that_is_not_utf8_refuses_the_file_naming_the_byte():
    data = "order_id,straße\n1,a\n".encode("latin-1")
    report, loaded, _, ledger = load_one("shop_orders", "shop_orders.csv", data)
    assert len(report.errors) == 1
    assert "shop_orders.csv: the CSV header is not valid UTF-8 at byte 13" in report.errors[0]
    assert "iconv" in report.errors[0]
    assert (loaded, ledger) == ([], 0)


def test_latin1_lines_in_utf8_json_lines_are_quarantined_and_the_others_load():
    data = (
        '{"messageId": "m1", "type": "track", "event": "Köln"}\n'.encode()
        + '{"messageId": "m2", "type": "track", "event": "Köln"}\r\n'.encode("latin-1")
        + b"\n"
        + b'{"messageId": "m3", "type": "track"}'
    )
    report, loaded, quarantined, _ = load_one("events", "events.jsonl", data)
    assert report.errors == []
    assert sorted(loaded) == [1, 3]
    assert quarantined == [
        (
            2,
            '{"messageId": "m2", "type": "track", "event": "K\\xf6ln"}',
            "not valid UTF-8 at byte 103 (0xF6, line 2)",
        )
    ]


def test_a_gzipped_file_with_a_latin1_row_quarantines_it():
    import gzip

    data = gzip.compress(b"order_id,city\n1,K\xf6ln\n2,Bonn\n")
    report, loaded, quarantined, _ = load_one("shop_orders", "shop_orders.csv.gz", data)
    assert (report.errors, loaded) == ([], [2])
    assert [why for _, _, why in quarantined] == ["not valid UTF-8 at byte 17 (0xF6, line 2)"]


def test_a_corrupt_gzip_file_is_refused_by_name():
    report, loaded, _, ledger = load_one("events", "events.jsonl.gz", b"\x1f\x8bnot gzip")
    assert len(report.errors) == 1
    assert "events.jsonl.gz: not a readable gzip file" in report.errors[0]
    assert (loaded, ledger) == ([], 0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"order_id,email\n1,a\x00b\n2,ok\n", "NUL byte in a field"),
        (b'order_id,email\n"1"x,a\n2,ok\n', "broken CSV quoting"),
        (b"order_id,email\n1,a,extra\n2,ok\n", "expected 2 fields, found 3"),
    ],
)
def test_a_broken_csv_record_is_quarantined_and_the_next_one_loads(data, reason):
    report, loaded, quarantined, _ = load_one("shop_orders", "shop_orders.csv", data)
    assert report.errors == []
    assert loaded == [2]
    assert [(number, reason in why) for number, _, why in quarantined] == [(1, True)]


def test_an_unclosed_quote_refuses_the_file_with_where_it_opened():
    data = b'order_id,email\n1,a\n"2,b\n3,c\n'
    report, loaded, quarantined, _ = load_one("shop_orders", "shop_orders.csv", data)
    assert len(report.errors) == 1
    assert "shop_orders.csv: a quoted field opened in record 2 (line 3)" in report.errors[0]
    assert (loaded, quarantined) == ([], [])


def test_a_stray_quote_inside_an_unquoted_field_is_text():
    data = b'order_id,email\n1,5" screen\n'
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw"
        raw.mkdir()
        (raw / "shop_orders.csv").write_bytes(data)
        con = connect(Path(folder) / "w.duckdb")
        ensure_raw_schema(con)
        load_table(con, raw, "shop_orders")
        assert con.execute("select email from raw.shop_orders").fetchall() == [('5" screen',)]
        con.close()


def test_a_one_megabyte_field_loads():
    big = "x" * (1 << 20)
    report, loaded, quarantined, _ = load_one(
        "shop_orders", "shop_orders.csv", f"order_id,email\n1,{big}\n".encode()
    )
    assert (report.errors, loaded, quarantined) == ([], [1], [])


def test_ten_thousand_columns_are_ignored_and_reported():
    extra = [f"x{index}" for index in range(10_000)]
    data = (",".join(["order_id", *extra]) + "\n" + ",".join(["1"] * 10_001) + "\n").encode()
    report, loaded, _, _ = load_one("shop_orders", "shop_orders.csv", data)
    assert (report.errors, loaded) == ([], [1])
    assert len(report.files[0].unknown_columns) == 10_000


def test_json_nested_ten_thousand_deep_is_kept_as_json():
    deep = '{"a": ' * 10_000 + "1" + "}" * 10_000
    data = ('{"messageId": "m1", "context": ' + deep + "}\n").encode()
    report, loaded, quarantined, _ = load_one("events", "events.jsonl", data)
    assert (report.errors, loaded, quarantined) == ([], [1], [])


def test_duplicate_json_keys_are_quarantined_not_resolved_silently():
    data = b'{"messageId": "m1", "type": "track", "type": "page"}\n{"messageId": "m2"}\n'
    _, loaded, quarantined, _ = load_one("events", "events.jsonl", data)
    assert loaded == [2]
    assert [(number, reason) for number, _, reason in quarantined] == [
        (1, "duplicate key in JSON object")
    ]


def typed_values(table: str, column: str, header: str, values: list[str]) -> dict[str, object]:
    """value -> its typed value, or the quarantine reason."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw"
        raw.mkdir()
        with (raw / f"{table}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([header, column])
            writer.writerows([f"k{i}", value] for i, value in enumerate(values))
        con = connect(Path(folder) / "w.duckdb")
        ensure_raw_schema(con)
        load_table(con, raw, table)
        key = header
        got = dict(con.execute(f"select {key}, {column} from raw.{table}").fetchall())
        got |= {
            json.loads(record)[key]: reason
            for record, reason in con.execute(
                "select record, reason from raw.quarantine"
            ).fetchall()
        }
        con.close()
    return {value: got[f"k{i}"] for i, value in enumerate(values)}


def test_numbers_in_exponent_form_are_money():
    got = typed_values("shop_orders", "total", "order_id", ["1e3", "1E-2", "-1.5e2", "1e40"])
    assert got["1e3"] == Decimal("1000")
    assert got["1E-2"] == Decimal("0.01")
    assert got["-1.5e2"] == Decimal("-150")
    assert got["1e40"] == "total: not a number (1e40)"


UTC_10 = datetime(2026, 3, 1, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T10:00:00Z", UTC_10),
        ("2026-03-01 10:00:00", UTC_10),
        ("2026-03-01T10:00:00", UTC_10),
        ("2026-03-01T11:00:00+01:00", UTC_10),
        ("2026-03-01T11:00:00+0100", UTC_10),
        ("2026-03-01T11:00:00+01", UTC_10),
        ("2026-03-01T05:00:00-05:00", UTC_10),
        ("2026-03-01T10:00Z", UTC_10),
        ("2026-03-01T10:00:00.5Z", datetime(2026, 3, 1, 10, 0, 0, 500000)),
        ("2026-03-01T10:00:00.123456789Z", datetime(2026, 3, 1, 10, 0, 0, 123456)),
        ("2026-03-01", datetime(2026, 3, 1)),
        # BigQuery's CSV exports name the zone: ' UTC'.
        ("2026-03-01 10:00:00.000000 UTC", UTC_10),
        # ISO-8601 forms the contract does not take (extended calendar dates only):
        ("2026-W09-7", None),
        ("2026-060", None),
        ("20260301T100000Z", None),
        ("2026-03-01T10:00:00,5Z", None),
        ("2026-03-01T10:00:00.1234567891Z", None),
        ("2026-03-01T10:00:00+25:00", None),
        ("2026-03-01T10:00:00 Europe/Paris", None),
        ("2026-02-30", None),
        ("infinity", None),
        ("yesterday", None),
    ],
)
def test_timestamps_in_iso_variants_are_typed_or_quarantined(text, expected):
    got = typed_values("shop_orders", "created_at", "order_id", [text])[text]
    if expected is None:
        assert got == f"created_at: not an ISO-8601 timestamp ({text})"
    else:
        assert got == expected


def test_parquet_with_odd_types_is_loaded_or_quarantined():
    table = pa.table(
        {
            "order_id": pa.array(["1", "2", "3", None]),
            "total": pa.array([1.5, float("nan"), float("inf"), 1e300]),
            "tax": pa.array([2**64 - 1, 0, 1, 2], type=pa.uint64()),
            "created_at": pa.array([0, 1, 2, 3], type=pa.timestamp("ns", tz="Asia/Tokyo")),
            "email": pa.array([b"\x00\xff", b"", b"a", None], type=pa.binary()),
            "status": pa.array(["a", "b", "a", "b"]).dictionary_encode(),
            "customer_id": pa.array([[1], [], None, [2, 3]], type=pa.list_(pa.int64())),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    report, loaded, quarantined, _ = load_one(
        "shop_orders", "shop_orders.parquet", buffer.getvalue()
    )
    assert report.errors == []
    assert sorted(loaded + [row[0] for row in quarantined]) == [1, 2, 3, 4]
    assert all(reason for _, _, reason in quarantined)


# --- path safety ---------------------------------------------------------------------


def test_a_raw_file_symlinked_out_of_the_raw_folder_is_refused(raw_dir, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("order_id\n1\n")
    (raw_dir / "shop_orders.csv").symlink_to(outside)
    with pytest.raises(IngestionError, match=r"refusing .* shop_orders.csv ->"):
        discover_files(raw_dir, "shop_orders")


def test_a_batch_file_or_folder_symlinked_out_is_refused(raw_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.csv").write_text("order_id\n1\n")
    (raw_dir / "shop_orders").mkdir()
    (raw_dir / "shop_orders" / "a.csv").symlink_to(outside / "a.csv")
    with pytest.raises(IngestionError, match=r"shop_orders/a\.csv ->"):
        discover_files(raw_dir, "shop_orders")
    (raw_dir / "events").symlink_to(outside, target_is_directory=True)
    with pytest.raises(IngestionError, match="outside the raw folder"):
        discover_files(raw_dir, "events")


def test_a_refused_symlink_fails_its_table_by_name_and_loads_nothing(raw_dir, tmp_path, con):
    (tmp_path / "x.csv").write_text("order_id\n1\n")
    (raw_dir / "shop_orders.csv").symlink_to(tmp_path / "x.csv")
    report = load_table(con, raw_dir, "shop_orders")
    assert len(report.errors) == 1
    assert "shop_orders.csv" in report.errors[0]
    assert con.execute("select count(*) from raw.shop_orders").fetchone()[0] == 0


def test_a_symlink_that_stays_inside_the_raw_folder_is_allowed(raw_dir):
    (raw_dir / "archive").mkdir()
    (raw_dir / "archive" / "orders.csv").write_text("order_id\n1\n")
    (raw_dir / "shop_orders.csv").symlink_to(raw_dir / "archive" / "orders.csv")
    assert discover_files(raw_dir, "shop_orders") == [raw_dir / "shop_orders.csv"]


def test_a_symlink_loop_and_a_dotdot_table_name_are_refused(raw_dir):
    (raw_dir / "shop_orders.csv").symlink_to(raw_dir / "shop_orders.csv")
    with pytest.raises(IngestionError, match="refusing"):
        discover_files(raw_dir, "shop_orders")
    with pytest.raises(IngestionError, match="refusing table name"):
        discover_files(raw_dir, "../shop_orders")
