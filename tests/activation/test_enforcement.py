"""Enforcement on a copy of the demo warehouse: the payloads hold exactly the members the
rules allow (computed here independently), the violation count is 0, and each planted
fault (consent, erasure, anonymous, a person identity no longer knows) is found."""

import hashlib
from collections import defaultdict

import duckdb
import pytest

from orchestration.activation.destinations import load_destinations
from orchestration.activation.enforcement import (
    ActivationConfigError,
    audience_rules,
    build_audience_payloads,
    find_violations,
)
from orchestration.activation.model import Audience
from tests.activation.demo_segments import SEGMENTS, copy_warehouse, segment, write_membership

DESTINATIONS = load_destinations()
RULES = audience_rules(SEGMENTS, DESTINATIONS)


@pytest.fixture
def con(demo_build, tmp_path):
    connection = duckdb.connect(str(copy_warehouse(demo_build.warehouse, tmp_path)))
    for definition in SEGMENTS:
        write_membership(connection, definition.name)
    yield connection
    connection.close()


def payload(con):  # type: ignore[no-untyped-def]
    pairs = defaultdict(set)
    for segment_name, destination, person_id in con.execute(
        "select segment_name, destination, person_id from activation.audience_payloads"
    ).fetchall():
        pairs[segment_name, destination].add(person_id)
    return pairs


def test_rules_per_segment_and_destination():
    rules = {(r.segment, r.destination): (r.purposes, r.known_only) for r in RULES}
    assert rules == {
        # Ad platforms: advertising consent, known persons only, whatever the segment says.
        ("everyone_ads", "google_ads"): (("advertising",), True),
        ("everyone_ads", "meta"): (("advertising",), True),
        ("everyone_ads", "file"): (("advertising",), False),
        ("newsletter", "file"): (("email_marketing",), False),
        ("newsletter", "webhook"): (("email_marketing",), False),
        ("known_email", "file"): (("email_marketing",), True),
    }
    ads_for_email = segment("promo", "email_marketing", ("google_ads",))
    (rule,) = audience_rules([ads_for_email], DESTINATIONS)
    assert rule.purposes == ("advertising", "email_marketing")


def test_the_payload_holds_exactly_the_allowed_members_and_no_violation(con):
    counts = build_audience_payloads(con, RULES, "run-1")
    consent = {
        (pid, purpose): status
        for pid, purpose, status in con.execute(
            "select person_id, purpose, consent_status from intermediate.int_consent_latest"
        ).fetchall()
    }
    known = {
        pid
        for (pid,) in con.execute(
            "select distinct person_id from marts.identity_map where identifier_type in "
            "('customer_id', 'contact_id', 'email', 'phone') and not coalesce(is_hub, false)"
        ).fetchall()
    }
    persons = {pid for (pid,) in con.execute("select person_id from marts.identity_map").fetchall()}
    expected = {
        (rule.segment, rule.destination): {
            pid
            for pid in persons
            if all(consent.get((pid, p)) == "granted" for p in rule.purposes)
            and (pid in known or not rule.known_only)
        }
        for rule in RULES
    }
    actual = payload(con)
    assert {pair: actual.get(pair, set()) for pair in expected} == expected
    # The demo has members of every kind, so each rule does something here.
    by_pair = {(c.segment, c.destination): c for c in counts}
    assert by_pair["everyone_ads", "google_ads"].anonymous > 0
    assert by_pair["everyone_ads", "file"].anonymous == 0
    assert expected["everyone_ads", "file"] - known  # anonymous members, first party
    assert by_pair["newsletter", "webhook"].no_consent > 0
    assert all(c.allowed == len(expected[c.segment, c.destination]) for c in counts)
    report = find_violations(con, RULES)
    assert report.payload_rows == sum(len(v) for v in expected.values()) > 0
    assert report.violations == []


def test_a_profile_that_says_granted_while_consent_was_withdrawn_is_a_violation(con):
    ((person_id,),) = con.execute(
        "select min(person_id) from intermediate.int_consent_latest "
        "where purpose = 'email_marketing' and consent_status = 'withdrawn'"
    ).fetchall()
    con.execute(
        "update marts.customer_profiles set consent_email_marketing = 'granted' "
        "where person_id = ?",
        [person_id],
    )
    build_audience_payloads(con, RULES, "run-1")
    assert person_id in payload(con)["newsletter", "webhook"]  # the filter was fooled
    report = find_violations(con, RULES)
    found = {(v.kind, v.segment, v.destination, v.sample) for v in report.violations}
    expected_pairs = [("newsletter", "file"), ("newsletter", "webhook")]
    if person_id in payload(con).get(("known_email", "file"), set()):
        expected_pairs.append(("known_email", "file"))
    assert found == {
        ("consent_email_marketing_not_granted", s, d, (person_id,)) for s, d in expected_pairs
    }
    assert report.total == len(expected_pairs)


def test_an_erased_email_behind_a_stale_suppression_list_is_a_violation(con):
    ((erased_email,),) = con.execute(
        "select min(identifier_value) from intermediate.int_identity_erasures "
        "where identifier_type = 'email'"
    ).fetchall()
    ((person_id,),) = con.execute(
        "select min(person_id) from marts.customer_profiles "
        "where consent_email_marketing = 'granted' and is_known"
    ).fetchall()
    con.execute(
        "update marts.customer_profiles set email = ? where person_id = ?",
        [erased_email, person_id],
    )
    # With the suppression list intact, the filter holds the member back.
    counts = build_audience_payloads(con, RULES, "run-1")
    assert sum(c.suppressed for c in counts) >= 1
    assert person_id not in payload(con)["newsletter", "webhook"]
    assert find_violations(con, RULES).total == 0
    # A stale suppression list lets it through; the erasure model still knows.
    digest = hashlib.sha256(f"email:{erased_email}".encode()).hexdigest()
    con.execute("delete from marts.suppression_list where identifier_hash = ?", [digest])
    build_audience_payloads(con, RULES, "run-2")
    assert person_id in payload(con)["newsletter", "webhook"]
    kinds = {(v.kind, v.sample) for v in find_violations(con, RULES).violations}
    assert ("erased_or_suppressed_value", (person_id,)) in kinds


def test_an_anonymous_person_marked_known_is_a_violation_for_ad_platforms(con):
    ((person_id,),) = con.execute(
        "select min(person_id) from marts.customer_profiles "
        "where not is_known and consent_advertising = 'granted'"
    ).fetchall()
    con.execute(
        "update marts.customer_profiles set is_known = true where person_id = ?", [person_id]
    )
    build_audience_payloads(con, RULES, "run-1")
    report = find_violations(con, RULES)
    found = {(v.kind, v.destination) for v in report.violations if person_id in v.sample}
    assert found == {("anonymous_person", "google_ads"), ("anonymous_person", "meta")}


def test_a_person_identity_no_longer_knows_is_a_violation(con):
    # A profile row that outlived its person (erased: gone from identity_map).
    con.execute(
        "insert into marts.customer_profiles select * replace ('p_ghost' as person_id) "
        "from marts.customer_profiles where consent_advertising = 'granted' and is_known limit 1"
    )
    con.execute(
        "insert into marts.segment_membership values "
        "('everyone_ads', 'p_ghost', timestamp '2026-11-01', '{}')"
    )
    build_audience_payloads(con, RULES, "run-1")
    kinds = {v.kind for v in find_violations(con, RULES).violations if "p_ghost" in v.sample}
    assert kinds == {
        "person_not_in_identity_map",
        "consent_advertising_not_granted",
        "anonymous_person",
    }


def test_members_without_a_profile_never_leave(con):
    con.execute(
        "insert into marts.segment_membership values "
        "('newsletter', 'p_erased', timestamp '2026-11-01', '{}')"
    )
    counts = build_audience_payloads(con, RULES, "run-1")
    assert {(c.segment, c.destination): c.no_profile for c in counts if c.no_profile} == {
        ("newsletter", "file"): 1,
        ("newsletter", "webhook"): 1,
    }
    assert all("p_erased" not in persons for persons in payload(con).values())


def test_a_segment_with_an_unknown_destination_or_purpose_names_its_file():
    with pytest.raises(
        ActivationConfigError, match=r"test_segments.yml: segment 'x': unknown destination 'tiktok'"
    ):
        audience_rules([segment("x", "advertising", ("tiktok",))], DESTINATIONS)
    with pytest.raises(ActivationConfigError, match=r"segment 'y': consent purpose 'spam'"):
        audience_rules([segment("y", "spam", ("file",), Audience.KNOWN)], DESTINATIONS)


def test_a_bare_membership_table_with_a_repeated_row_gives_one_payload_row(con):
    con.execute(
        "create or replace table marts.segment_membership as "
        "select 'newsletter' as segment_name, person_id from intermediate.int_consent_latest "
        "where purpose = 'email_marketing' and consent_status = 'granted'"
    )
    con.execute(
        "insert into marts.segment_membership select * from marts.segment_membership limit 1"
    )
    counts = build_audience_payloads(con, RULES, "run-1")
    rows = con.execute(
        "select person_id, entered_at, attributes from activation.audience_payloads "
        "where destination = 'webhook'"
    ).fetchall()
    granted = {
        pid
        for (pid,) in con.execute(
            "select distinct person_id from marts.segment_membership"
        ).fetchall()
    }
    assert sorted(pid for pid, _, _ in rows) == sorted(granted)
    assert {(entered_at, attributes) for _, entered_at, attributes in rows} == {(None, "{}")}
    assert {(c.segment, c.destination): c.members for c in counts if c.members} == {
        ("newsletter", "file"): len(granted),
        ("newsletter", "webhook"): len(granted),
    }
