"""Meta Custom Audiences: Meta's normalisation (no gmail rule), the schema, and batches of
at most 10,000 rows."""

import csv
import hashlib

import duckdb
import pytest

from orchestration.activation.destinations import DestinationConfigError, parse_destinations
from orchestration.activation.destinations.meta import (
    SCHEMA,
    MetaCustomAudiences,
    letters_only,
    normalise_country,
    normalise_email,
    normalise_phone,
    normalise_zip,
)
from orchestration.activation.sync import sync_destination
from tests.activation.payloads import person, run_info, write_payloads


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def meta(**options: object) -> MetaCustomAudiences:
    destination = parse_destinations(
        {"destinations": {"meta": {"type": "meta_custom_audiences", "options": options}}}
    )["meta"]
    assert isinstance(destination, MetaCustomAudiences)
    return destination


def test_email_is_trimmed_and_lower_cased_without_googles_gmail_rule():
    assert normalise_email("  John.Smith+x@GMAIL.com ") == "john.smith+x@gmail.com"


def test_phone_is_digits_with_country_code_and_no_plus():
    assert normalise_phone("+1 (415) 555-0134", None, "US") == "14155550134"
    assert normalise_phone("020 7946 0018", "GB", "US") == "442079460018"
    assert normalise_phone("0000", None, "US") is None


def test_names_and_city_keep_letters_only_lower_cased():
    assert letters_only(" Mary-Ann O'Neil ") == "maryannoneil"
    assert letters_only("Chloé") == "chloé"
    assert letters_only("New York") == "newyork"
    assert letters_only("St. John's 2") == "stjohns"
    assert letters_only("--") is None


def test_zip_is_lower_case_without_spaces_and_us_zips_keep_five_digits():
    assert normalise_zip("94103-1234", "US") == "94103"
    assert normalise_zip(" M4C 1B5 ", "CA") == "m4c1b5"
    assert normalise_zip("SW1A 1AA", "GB") == "sw1a1aa"


def test_country_is_two_letter_lower_case():
    assert normalise_country(" US ") == "us"
    assert normalise_country("USA") is None


def test_a_member_becomes_the_eight_hashed_schema_fields():
    prepared = meta().prepare(
        person(1, email="Ann.Lee@Gmail.com", first_name="Ann-Marie", city="San Francisco")
    )
    assert list(prepared.record) == list(SCHEMA)
    assert prepared.record == {
        "EMAIL": sha256("ann.lee@gmail.com"),
        "PHONE": sha256("14155550001"),
        "FN": sha256("annmarie"),
        "LN": sha256("lee"),
        "CT": sha256("sanfrancisco"),
        "ST": None,
        "ZIP": sha256("94103"),
        "COUNTRY": sha256("us"),
    }
    assert prepared.keys == {
        ("EMAIL", sha256("ann.lee@gmail.com")),
        ("PHONE", sha256("14155550001")),
    }


def test_a_batch_size_over_metas_limit_is_a_config_error_naming_the_entry():
    with pytest.raises(DestinationConfigError, match=r"meta.*batch_size 20000.*10,000"):
        meta(batch_size=20_000)


def _batch_files(tmp_path, destination, count):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_payloads(con, "lookalike", "meta", [person(n) for n in range(count)])
    result = sync_destination(
        con, destination, [("lookalike", {})], run_info(tmp_path / "exports", "r1")
    )
    assert result.total("adds") == count
    sizes = {}
    for path in sorted((tmp_path / "exports" / "meta").glob("*/lookalike__add__*.csv")):
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == SCHEMA
        sizes[path.name.split("__")[2]] = len(rows) - 1
    con.close()
    return sizes


def test_changes_go_in_batches_of_the_configured_size(tmp_path):
    assert _batch_files(tmp_path, meta(batch_size=3), 7) == {"001": 3, "002": 3, "003": 1}


def test_10001_members_make_two_batches_of_at_most_10000(tmp_path):
    assert _batch_files(tmp_path, meta(), 10_001) == {"001": 10_000, "002": 1}


def test_spaces_inside_the_city_are_removed_as_metas_rule_and_sdk_both_do():
    """Reported as a bug ("only the ends should be trimmed"): it is Meta's rule. Meta's
    docs say CT is lower case "with no punctuation, no special characters, and no white
    space", and Meta's SDK (CustomAudienceMixin.normalize_key) keeps a-z only, so
    `San Francisco` must leave as the hash of `sanfrancisco`; keeping the space would make
    every multi-word city unmatchable. (Google's formatter keeps inner spaces in address
    fields, but our Google file sends no city.)"""
    from facebook_business.adobjects.helpers.customaudiencemixin import CustomAudienceMixin

    prepared = meta().prepare(person(1, city="  San Francisco "))
    sdk = CustomAudienceMixin.format_params(["CT"], [["  San Francisco "]], is_raw=True)
    assert prepared.record["CT"] == sha256("sanfrancisco") == sdk["payload"]["data"][0][0]
