"""Google Ads Customer Match: Google's normalisation, its published hash vectors, and the
upload file a sync writes."""

import csv
import hashlib

import duckdb
import pytest

from orchestration.activation.destinations import parse_destinations
from orchestration.activation.destinations.google_ads import (
    COLUMNS,
    GoogleAdsCustomerMatch,
    normalise_email,
    normalise_name,
    normalise_phone,
)
from orchestration.activation.sync import sync_destination
from tests.activation.payloads import person, run_info, write_payloads


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def google() -> GoogleAdsCustomerMatch:
    destination = parse_destinations(
        {"destinations": {"google_ads": {"type": "google_ads_customer_match"}}}
    )["google_ads"]
    assert isinstance(destination, GoogleAdsCustomerMatch)
    return destination


def test_googles_published_email_vector():
    assert normalise_email("  ALEXZ@example.com ") == "alexz@example.com"
    assert (
        sha256(normalise_email("  ALEXZ@example.com "))
        == "509e933019bb285a134a9334b8bb679dff79d0ce023d529af4bd744d47b4fd8a"
    )


def test_googles_published_phone_vector():
    assert normalise_phone("1-800-555-0100 ", None, "US") == "+18005550100"
    assert (
        sha256(normalise_phone("1-800-555-0100 ", None, "US"))
        == "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30"
    )


def test_gmail_and_googlemail_lose_dots_and_plus_suffix_other_domains_keep_them():
    assert normalise_email(" John.Smith+promo@Gmail.com") == "johnsmith@gmail.com"
    assert normalise_email("j.o.h.n+x@googlemail.com") == "john@googlemail.com"
    assert normalise_email("john.smith+promo@example.com") == "john.smith+promo@example.com"
    assert normalise_email("no-at-sign") is None


def test_a_national_phone_is_read_with_the_members_country():
    assert normalise_phone("030 12345678", "DE", "US") == "+493012345678"
    assert normalise_phone("(415) 555-0134", None, "US") == "+14155550134"
    assert normalise_phone("12", None, "US") is None


def test_names_are_lower_cased_and_trimmed():
    assert normalise_name("  Mary   ANN ") == "mary ann"


def test_a_member_becomes_a_hashed_row_with_country_and_zip_in_clear(google):
    member = person(1, email=" Ann.Lee@Gmail.com ", phone="(415) 555-0101", first_name=" Ann ")
    prepared = google.prepare(member)
    assert prepared.record == {
        "Email": sha256("annlee@gmail.com"),
        "Phone": sha256("+14155550101"),
        "First Name": sha256("ann"),
        "Last Name": sha256("lee"),
        "Country": "US",
        "Zip": "94103",
    }
    # Removal works by the hashed email and phone: that is all the sync state keeps.
    assert prepared.keys == {
        ("Email", sha256("annlee@gmail.com")),
        ("Phone", sha256("+14155550101")),
    }


def test_names_leave_only_with_a_complete_mailing_address(google):
    prepared = google.prepare(person(2, postal_code=None))
    assert prepared.record["First Name"] is None
    assert prepared.record["Last Name"] is None
    assert prepared.record["Country"] is None
    assert prepared.record["Email"] == sha256("member2@example.com")


def test_a_member_without_email_and_phone_is_not_sent(google):
    assert google.prepare(person(3, email=None, phone=None)) is None
    assert google.prepare(person(4, email=None, phone="not a phone")) is None


def test_the_upload_file_has_googles_headers_and_one_row_per_member(tmp_path, google):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    members = [person(n) for n in range(1, 4)] + [person(9, email=None, phone=None)]
    write_payloads(con, "vip", "google_ads", members)
    result = sync_destination(con, google, [("vip", {})], run_info(tmp_path / "exports", "r1"))
    (segment,) = result.segments
    assert (segment.adds, segment.unmatchable, segment.removes) == (3, 1, 0)
    (path,) = (tmp_path / "exports" / "google_ads").glob("*/vip__add__*.csv")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert COLUMNS == ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
    assert sorted(row[0] for row in rows[1:]) == sorted(
        sha256(f"member{n}@example.com") for n in range(1, 4)
    )
    assert all(row[4] == "US" and row[5] == "94103" for row in rows[1:])
