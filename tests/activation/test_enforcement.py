"""Enforcement, in dbt: the demo payloads hold exactly the members the rules allow
(computed here independently) and the violation test passes; on a copy of the demo
warehouse each planted fault (consent, erasure, anonymous, a person identity no longer
knows) fools the payload filter and fails the blocking violation test."""

import hashlib
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from orchestration.activation.destinations import load_destinations
from orchestration.activation.generated import ActivationConfigError, audience_rule_rows
from orchestration.activation.model import Audience, Refresh, SegmentDefinition
from tests.activation.fixture_warehouse import copy_warehouse, dbt_build, violations

PAYLOAD_MODELS = ["int_audience_candidates", "audience_payloads"]
TEST = "no_consent_or_erasure_violations"
ENTERED = "2026-11-01 00:00:00"


def payload(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for segment_name, destination, person_id in con.execute(
        "select segment_name, destination, person_id from activation.audience_payloads"
    ).fetchall():
        pairs[segment_name, destination].add(person_id)
    return pairs


def digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def test_the_demo_payloads_hold_exactly_the_allowed_members_and_no_violation(demo_db):
    rules: dict[tuple[str, str], tuple[set[str], bool]] = {}
    for segment, destination, purpose, known_only in demo_db.execute(
        "select segment_name, destination, purpose, is_known_only "
        "from intermediate.int_audience_rules"
    ).fetchall():
        purposes, _ = rules.setdefault((segment, destination), (set(), known_only))
        purposes.add(purpose)
    consent = {
        (pid, purpose): status
        for pid, purpose, status in demo_db.execute(
            "select person_id, purpose, consent_status from intermediate.int_consent_latest"
        ).fetchall()
    }
    known = {
        pid
        for (pid,) in demo_db.execute(
            "select distinct person_id from marts.identity_map where identifier_type in "
            "('customer_id', 'contact_id', 'email', 'phone') and not coalesce(is_hub, false)"
        ).fetchall()
    }
    suppressed = {
        h
        for (h,) in demo_db.execute("select identifier_hash from marts.suppression_list").fetchall()
    }
    profiles = {
        pid: (email, phone)
        for pid, email, phone in demo_db.execute(
            "select person_id, email, phone from marts.customer_profiles"
        ).fetchall()
    }
    members = demo_db.execute("select segment_name, person_id from marts.segment_membership")
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for segment, pid in members.fetchall():
        for (rule_segment, destination), (purposes, known_only) in rules.items():
            if rule_segment != segment or pid not in profiles:
                continue
            email, phone = profiles[pid]
            hashes = {
                digest("email", email) if email else None,
                digest("phone", phone) if phone else None,
            }
            if (
                all(consent.get((pid, p)) == "granted" for p in purposes)
                and (pid in known or not known_only)
                and not hashes & suppressed
            ):
                expected[segment, destination].add(pid)
    assert payload(demo_db) == expected
    # Not vacuous: the demo's segments reach several destinations. (No exact count: it
    # moves with any change to the demo's events, through the churn model's scores.)
    assert len([pair for pair, pids in expected.items() if pids]) >= 5
    assert sum(len(v) for v in expected.values()) >= 20
    assert demo_db.execute(f"select count(*) from activation.{TEST}").fetchall() == [(0,)]


@pytest.fixture
def warehouse(demo_build, tmp_path) -> Path:
    return copy_warehouse(demo_build.warehouse, tmp_path)


def plant_member(con: duckdb.DuckDBPyConnection, segment: str, person_id: str) -> None:
    con.execute(
        "insert into marts.segment_membership values (?, ?, timestamp '" + ENTERED + "', null)",
        [segment, person_id],
    )


def test_a_profile_that_says_granted_while_consent_was_withdrawn_fails_the_test(
    warehouse, tmp_path
):
    with duckdb.connect(str(warehouse)) as con:
        ((person_id,),) = con.execute(
            """select min(consent.person_id)
            from intermediate.int_consent_latest as consent
            inner join marts.customer_profiles as profiles using (person_id)
            where consent.purpose = 'email_marketing' and consent.consent_status = 'withdrawn'
                and profiles.is_known"""
        ).fetchall()
        con.execute(
            "update marts.customer_profiles set consent_email_marketing = 'granted' "
            "where person_id = ?",
            [person_id],
        )
        plant_member(con, "churn_risk", person_id)
    result = dbt_build(warehouse, PAYLOAD_MODELS, tmp_path)
    assert result.statuses["audience_payloads"] == "success"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert person_id in payload(con)["churn_risk", "webhook"]  # the filter was fooled
    assert result.statuses[TEST] == "fail"
    assert result.returncode != 0
    assert violations(warehouse) == {
        ("consent_email_marketing_not_granted", "churn_risk", destination, person_id)
        for destination in ("file", "webhook")
    }


def test_an_erased_email_behind_a_stale_suppression_list_fails_the_test(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
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
        plant_member(con, "churn_risk", person_id)
    # With the suppression list intact, the filter holds the member back (an equi-join on
    # the hash) and the test passes.
    result = dbt_build(warehouse, PAYLOAD_MODELS, tmp_path / "first")
    assert result.statuses[TEST] == "pass"
    with duckdb.connect(str(warehouse)) as con:
        held = con.execute(
            "select distinct held_back_because from intermediate.int_audience_candidates "
            "where person_id = ?",
            [person_id],
        ).fetchall()
        assert held == [("suppressed",)]
        # A stale suppression list lets it through; the erasure model still knows.
        con.execute(
            "delete from marts.suppression_list where identifier_hash = ?",
            [digest("email", erased_email)],
        )
    result = dbt_build(warehouse, PAYLOAD_MODELS, tmp_path / "second")
    assert result.statuses[TEST] == "fail"
    found = {
        (kind, destination)
        for kind, _, destination, pid in violations(warehouse)
        if pid == person_id
    }
    assert found == {
        ("erased_or_suppressed_value", "file"),
        ("erased_or_suppressed_value", "webhook"),
    }


def test_an_anonymous_person_marked_known_fails_the_test_for_ad_platforms(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        ((person_id,),) = con.execute(
            "select min(person_id) from marts.customer_profiles "
            "where not is_known and consent_advertising = 'granted'"
        ).fetchall()
        con.execute(
            "update marts.customer_profiles set is_known = true where person_id = ?", [person_id]
        )
        plant_member(con, "high_value_customers", person_id)
    result = dbt_build(warehouse, PAYLOAD_MODELS, tmp_path)
    assert result.statuses[TEST] == "fail"
    assert violations(warehouse) == {
        ("anonymous_person", "high_value_customers", destination, person_id)
        for destination in ("google_ads", "meta")
    }


def test_a_person_identity_no_longer_knows_fails_the_test(warehouse, tmp_path):
    # A profile row that outlived its person (erased: gone from identity_map).
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into marts.customer_profiles select * replace ('p_ghost' as person_id) "
            "from marts.customer_profiles where consent_advertising = 'granted' and is_known "
            "and email is null and phone is null limit 1"
        )
        plant_member(con, "high_value_customers", "p_ghost")
    result = dbt_build(warehouse, PAYLOAD_MODELS, tmp_path)
    assert result.statuses[TEST] == "fail"
    kinds = {kind for kind, _, _, pid in violations(warehouse) if pid == "p_ghost"}
    assert kinds == {
        "person_not_in_identity_map",
        "consent_advertising_not_granted",
        "anonymous_person",
    }


def test_members_without_a_profile_never_leave(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        plant_member(con, "churn_risk", "p_erased")
    result = dbt_build(warehouse, PAYLOAD_MODELS, tmp_path)
    assert result.statuses[TEST] == "pass"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        held = con.execute(
            "select destination, held_back_because from intermediate.int_audience_candidates "
            "where person_id = 'p_erased' order by destination"
        ).fetchall()
        assert held == [("file", "no_profile"), ("webhook", "no_profile")]
        assert all("p_erased" not in persons for persons in payload(con).values())


def test_a_segment_with_an_unknown_destination_names_its_file():
    segment = SegmentDefinition(
        name="x",
        description="x",
        owner="team:test",
        consent_purpose="advertising",
        destinations=("tiktok",),
        refresh=Refresh.DAILY,
        audience=Audience.KNOWN,
        rule=None,
        source_file=Path("orchestration/activation/segments/x.yml"),
    )
    with pytest.raises(ActivationConfigError, match=r"x.yml: segment 'x': unknown destination"):
        audience_rule_rows([segment], load_destinations())
