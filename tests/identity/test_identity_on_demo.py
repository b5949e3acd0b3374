"""Identity resolution on the demo data, checked against the generator's ground truth.

The truth is regenerated from the same options as seeds/ (the generator is
deterministic, and a test in tests/generate/ holds seeds/ equal to its output).
"""

import hashlib

import pytest

from orchestration.identity.explain import explain, parse_identifier, render
from orchestration.reports import SUMMARY_KEY, identity_health_report
from orchestration.warehouse import DuckDBWarehouse

KEYS = {
    "customer_ids": "customer_id",
    "emails": "email",
    "phones": "phone",
    "anonymous_ids": "anonymous_id",
    "device_ids": "device_id",
    "contact_ids": "contact_id",
}


@pytest.fixture(scope="module")
def truth(demo_truth: dict) -> dict:
    return demo_truth


@pytest.fixture(scope="module")
def person_of(demo_db) -> dict[tuple[str, str], str]:
    rows = demo_db.execute(
        "select identifier_type, identifier_value, person_id from marts.identity_map"
    ).fetchall()
    return {(kind, value): person for kind, value, person in rows}


def identifiers(person: dict) -> list[tuple[str, str]]:
    return [(KEYS[key], value) for key in KEYS for value in person[key]]


def test_every_true_person_is_exactly_one_resolved_person(truth, person_of):
    resolved_to_truth: dict[str, set[str]] = {}
    for person in truth["persons"]:
        if person["is_erased"]:
            continue
        found = {person_of.get(identifier) for identifier in identifiers(person)}
        assert None not in found, f"{person['person_key']}: identifier missing from the map"
        assert len(found) == 1, f"{person['person_key']} split into {len(found)} persons"
        resolved_to_truth.setdefault(found.pop(), set()).add(person["person_key"])
    over_merged = {key: value for key, value in resolved_to_truth.items() if len(value) > 1}
    assert over_merged == {}


def test_the_multi_hop_chain_is_one_person(truth, person_of):
    chain = truth["traps"]["multi_hop_chain"]
    hops = [
        ("anonymous_id", chain["anonymous_id"]),
        ("customer_id", chain["customer_id"]),
        ("email", chain["email"]),
        ("contact_id", chain["contact_id"]),
        ("phone", chain["phone"]),
        ("email", chain["guest_email"]),
    ]
    assert len({person_of[hop] for hop in hops}) == 1


def test_the_shared_tablet_merges_neither_customer(truth, person_of):
    tablet = truth["traps"]["shared_tablet"]
    first, second = (person_of[("customer_id", c)] for c in tablet["customer_ids"])
    tablet_person = person_of[("anonymous_id", tablet["anonymous_id"])]
    assert first != second
    assert tablet_person not in {first, second}
    assert person_of[("device_id", tablet["device_id"])] == tablet_person


def test_a_placeholder_email_merges_no_strangers(truth, person_of, demo_db):
    trap = truth["traps"]["test_email"]
    customers = {person_of[("customer_id", c)] for c in trap["customer_ids"]}
    contacts = {person_of[("contact_id", c)] for c in trap["contact_ids"]}
    assert len(customers) == len(trap["customer_ids"])
    assert len(contacts) == len(trap["contact_ids"])
    assert ("email", "test@test.com") not in person_of


def test_the_shared_office_phone_is_a_hub_that_links_nobody(truth, person_of, demo_db):
    trap = truth["traps"]["office_phone"]
    (is_hub,) = demo_db.execute(
        "select is_hub from marts.identity_map where identifier_type = 'phone' "
        "and identifier_value = ?",
        [trap["phone"]],
    ).fetchone()
    assert is_hub
    contacts = {
        person_of[("contact_id", c)] for c in trap["contact_ids"] if ("contact_id", c) in person_of
    }
    assert (
        len(contacts) == len([c for c in trap["contact_ids"] if ("contact_id", c) in person_of]) > 1
    )
    assert person_of[("phone", trap["phone"])] not in contacts


def test_soft_deleted_contacts_are_gone_from_the_map(demo_db, person_of):
    deleted = demo_db.execute(
        "select contact_id from staging.base_crm__contacts where is_deleted"
    ).fetchall()
    assert deleted, "the demo data has soft-deleted contacts"
    assert all(("contact_id", contact) not in person_of for (contact,) in deleted)


def test_erased_persons_are_only_hashes_and_later_data_does_not_bring_them_back(
    truth, person_of, demo_db
):
    hashes = {
        row[0]
        for row in demo_db.execute("select identifier_hash from marts.suppression_list").fetchall()
    }
    erased = [person for person in truth["persons"] if person["is_erased"]]
    assert erased
    for person in erased:
        for identifier in identifiers(person):
            assert identifier not in person_of, f"erased identifier {identifier} is mapped"
    requests = {entry["request_id"]: entry for entry in truth["traps"]["erased"]}
    for entry in requests.values():
        subject = (
            "customer_id" if entry["subject_type"] == "user_id" else entry["subject_type"],
            entry["subject_id"].strip().lower()
            if entry["subject_type"] == "email"
            else entry["subject_id"],
        )
        if subject[0] != "phone":
            digest = hashlib.sha256(f"{subject[0]}:{subject[1]}".encode()).hexdigest()
            assert digest in hashes
    late = [
        entry
        for entry in requests.values()
        if entry["arrived_after"]["message_ids"] or entry["arrived_after"]["order_ids"]
    ]
    assert late, "the demo data sends data after some deletion requests"


def test_identity_health_reports_no_person_over_a_limit(demo_db):
    rows = dict(
        demo_db.execute(
            "select dimension, metric_value from marts.identity_health "
            "where metric = 'persons_over_limit'"
        ).fetchall()
    )
    assert rows == {"customer_id": 0}


def test_explain_shows_the_path_from_a_browser_to_a_guest_order_email(truth, demo_db):
    chain = truth["traps"]["multi_hop_chain"]
    explanation = explain(
        DuckDBWarehouse(demo_db, owned=False),
        parse_identifier(f"anonymous_id:{chain['anonymous_id']}"),
    )
    path = explanation.path_to(("email", chain["guest_email"]))
    assert path is not None
    assert len(path) >= 3
    assert path[-1].rule == "guest_order_email_phone"
    text = render(explanation)
    assert f"belongs to person {explanation.person_id}" in text
    assert chain["guest_email"] in text


def test_explain_says_an_erased_identifier_is_erased(truth, demo_db):
    entry = next(e for e in truth["traps"]["erased"] if e["subject_type"] == "email")
    explanation = explain(
        DuckDBWarehouse(demo_db, owned=False), parse_identifier(f"email:{entry['subject_id']}")
    )
    assert explanation.person_id is None
    assert explanation.erased
    assert "was erased" in render(explanation)


def test_the_identity_health_report_reads_the_mart_back(demo_db):
    metadata = identity_health_report(DuckDBWarehouse(demo_db, owned=False))
    (persons,) = demo_db.execute(
        "select count(distinct person_id) from marts.identity_map"
    ).fetchone()
    assert metadata["persons"].value == persons
    assert metadata["persons_over_limit"].value == 0
    assert metadata[SUMMARY_KEY].value.startswith(f"identity: {persons:,} persons (")
