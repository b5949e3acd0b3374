"""Masking of e-mails and phones outside explicit lookups (orchestration/pii.py): the
helpers, GX's sample values, ingestion's messages and the run's log file."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from orchestration.ingestion.loader import connect, ensure_raw_schema, load_table
from orchestration.pii import (
    identifier_type_of,
    mask_column_value,
    mask_emails_in,
    mask_value,
)
from orchestration.pipeline import MaskedLog
from orchestration.quality.validation import mask_samples, masked


def test_emails_in_free_text_are_masked_to_their_first_letter_and_domain():
    text = "Could not convert string 'Ann.Lee+promo@Example.COM' to INT64; cc bo@x.co.uk."
    assert mask_emails_in(text) == (
        "Could not convert string 'A***@Example.COM' to INT64; cc b***@x.co.uk."
    )
    # Not addresses: a path or version with an @, a decorator, plain text.
    for same in ("/data/raw@2026.01/a.csv", "@dg.asset", "no address here", "user@host"):
        assert mask_emails_in(same) == same


def test_a_single_value_is_masked_when_it_is_an_email_or_shaped_like_a_phone():
    assert mask_value("ann@example.com") == "a***@example.com"
    assert mask_value("+1 (415) 555-0123") == "+1*************23"
    assert mask_value("4155550123") == "41******23"
    # Column names and short numbers stay.
    for same in ("email", "phone_2", "order_id", "2026", "x1234"):
        assert mask_value(same) == same


def test_a_column_value_is_masked_by_what_the_column_holds():
    assert identifier_type_of("billing_email") == "email"
    assert identifier_type_of("Phone") == "phone"
    assert identifier_type_of("total") is None
    assert mask_column_value("phone", "0000000000") == "00******00"
    assert mask_column_value("email", "not-an-address") == "***"
    assert mask_column_value("city", "bo@example.com") == "b***@example.com"
    assert mask_column_value("city", "Köln") == "Köln"
    # Counts and shares of an identifier column are no identifiers.
    assert mask_column_value("email", 3) == 3
    assert mask_column_value("email_or_phone_share", 0.98) == 0.98


def test_gx_sample_values_of_an_identifier_column_are_masked_and_the_counts_kept():
    result = {
        "element_count": 110,
        "unexpected_count": 2,
        "partial_unexpected_list": ["0000000000", "+44 20 7946 0958"],
        "partial_unexpected_counts": [{"value": "0000000000", "count": 1}],
        "partial_missing_list": [],
    }
    assert mask_samples("phone", result) == {
        "element_count": 110,
        "unexpected_count": 2,
        "partial_unexpected_list": ["00******00", "+4************58"],
        "partial_unexpected_counts": [{"value": "00******00", "count": 1}],
        "partial_missing_list": [],
    }
    assert masked("email", ["Ann@Example.com", None]) == ["A***@Example.com", None]
    assert masked(None, {"element_count": 3}) == {"element_count": 3}


def test_the_run_log_stream_masks_emails_in_what_dbt_writes():
    target = io.StringIO()
    stream = MaskedLog(target)
    assert stream.write("Conversion Error: 'zoe@example.org'\n") == 36
    stream.flush()
    assert target.getvalue() == "Conversion Error: 'z***@example.org'\n"
    assert not stream.isatty()


def test_a_headerless_csv_refused_by_name_does_not_quote_its_first_row():
    """A file without a header: its first data row is read as one, matches no contract
    column, and the refusal (shown in the log, the summary, Dagster's events) lists the
    'columns' masked."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw"
        raw.mkdir()
        (raw / "crm_contacts.csv").write_text(
            "c1,Ann.Lee@example.com,+14155550123,Ann\nc2,bo@example.com,,Bo\n"
        )
        con = connect(Path(folder) / "w.duckdb")
        ensure_raw_schema(con)
        report = load_table(con, raw, "crm_contacts")
        con.close()
    (error,) = report.errors
    assert "none of the columns of table crm_contacts found" in error
    assert "c1, A***@example.com, +1********23, Ann" in error
    assert "ann.lee@example.com" not in error.lower()
    assert "4155550123" not in error


def test_unknown_columns_that_are_identifiers_are_reported_masked():
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw"
        raw.mkdir()
        (raw / "shop_orders.csv").write_text("order_id,ann@example.com\n1,x\n")
        (raw / "events.jsonl").write_text('{"messageId": "m1", "bo@example.com": 1}\n')
        con = connect(Path(folder) / "w.duckdb")
        ensure_raw_schema(con)
        orders = load_table(con, raw, "shop_orders")
        events = load_table(con, raw, "events")
        ledger = con.execute("select unknown_columns from raw._loaded_files").fetchall()
        con.close()
    assert orders.unknown_columns == ["a***@example.com"]
    assert events.unknown_columns == ["b***@example.com"]
    assert "example.com" in repr(ledger)
    assert "ann@" not in repr(ledger)
    assert "bo@" not in repr(ledger)
