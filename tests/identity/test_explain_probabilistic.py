"""`cdp explain` on a probabilistic link: the path names the link with its probability,
and the waterfall adds the comparisons' weights from the prior to the match weight.
A hand-made warehouse holds only the relations explain reads."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from orchestration.identity.explain import Explanation, Link, explain, parse_identifier, render
from orchestration.identity_matching import COMPARISONS
from orchestration.warehouse.duckdb_warehouse import DuckDBWarehouse

SEEN = datetime(2026, 1, 1)
# Jon Smith in the CRM (work e-mail), Jonathan Smyth in the shop: one person through the
# model's match of contact k1 and customer c7 (tier 4), beside k1's own e-mail (tier 1).
WEIGHTS = {
    "first_name": 3.5,
    "last_name": 2.25,
    "postal_code": 5.0,
    "city": 4.5,
    "email_local_part": -0.5,
    "phone_last_digits": 0.0,
}
PRIOR = -6.0
MATCH_WEIGHT = PRIOR + sum(WEIGHTS.values())


@pytest.fixture
def warehouse(tmp_path: Path):
    with DuckDBWarehouse.open(tmp_path / "w.duckdb") as warehouse:
        con = warehouse.connection
        con.execute("create schema marts")
        con.execute("create schema intermediate")
        con.execute(
            "create table marts.identity_map as select * from (values"
            " ('contact_id', 'k1', 'p_1', ?::timestamp, ?::timestamp, 'crm_contacts', false),"
            " ('email', 'jon@work.io', 'p_1', ?::timestamp, ?::timestamp, 'crm_contacts', false),"
            " ('customer_id', 'c7', 'p_1', ?::timestamp, ?::timestamp, 'shop_customers', false))"
            " as rows (identifier_type, identifier_value, person_id, first_seen_at,"
            " last_seen_at, sources, is_hub)",
            [SEEN] * 6,
        )
        con.execute(
            "create table marts.suppression_list as select 'x' as identifier_hash where false"
        )
        con.execute(
            "create table intermediate.int_identity_edges as select * from (values"
            " ('contact_id', 'k1', 'email', 'jon@work.io', 'crm_contact_email', 1, 1,"
            "  ?::timestamp, null::double, null::double),"
            " ('contact_id', 'k1', 'customer_id', 'c7', 'probabilistic', 4, 1,"
            "  null::timestamp, 0.9995::double, ?::double))"
            " as rows (left_type, left_value, right_type, right_value, rule, tier,"
            " evidence_count, first_seen_at, match_probability, match_weight)",
            [SEEN, MATCH_WEIGHT],
        )
        weights = ", ".join(f"{WEIGHTS[name]}::double as weight_{name}" for name in COMPARISONS)
        con.execute(
            "create table intermediate.int_identity_match_pairs as select 'contact_id' as"
            " identifier_type_l, 'k1' as identifier_value_l, 'customer_id' as"
            f" identifier_type_r, 'c7' as identifier_value_r, {weights}"
        )
        con.execute(
            "create table marts.identity_conflicts as select 'a' as left_type,"
            " 'a' as left_value, 'a' as right_type, 'a' as right_value, 'a' as rule,"
            " 'a' as blocked_by, 'p' as left_person_id, 'p' as right_person_id,"
            " null::timestamp as first_seen_at where false"
        )
        yield warehouse


def test_explain_names_a_probabilistic_link_with_its_probability_beside_the_rules(warehouse):
    explanation = explain(warehouse, parse_identifier("email:jon@work.io"))
    path = explanation.path_to(("customer_id", "c7"))
    assert [link.rule for link in path] == ["crm_contact_email", "probabilistic"]
    assert path[-1].match_probability == pytest.approx(0.9995)
    text = render(explanation)
    assert "customer_id:c7 (probabilistic, tier 4, p=0.9995, weight +8.75)" in text
    assert "contact_id:k1 (crm_contact_email, tier 1, x1)" in text


def test_explain_shows_the_waterfall_of_a_probabilistic_link_from_prior_to_match_weight(
    warehouse,
):
    explanation = explain(warehouse, parse_identifier("customer_id:c7"))
    (link,) = [link for link in explanation.links if link.is_probabilistic]
    assert dict(link.weights) == WEIGHTS
    assert link.prior_weight == pytest.approx(PRIOR)
    text = render(explanation)
    assert "probabilistic links (match weights per comparison" in text
    assert "prior                  -6.00  total   -6.00" in text
    assert "first_name             +3.50  total   -2.50" in text
    assert "match weight           +8.75  -> probability 0.9995" in text


def test_the_path_takes_the_rules_links_where_they_connect_and_the_match_only_where_not():
    contact, email, customer, other = (
        ("contact_id", "k1"),
        ("email", "jon@work.io"),
        ("customer_id", "c7"),
        ("customer_id", "c8"),
    )
    links = [
        Link(contact, customer, "probabilistic", 4, 1, None, 0.9999, 13.0),
        Link(contact, email, "crm_contact_email", 1, 1, SEEN),
        Link(customer, email, "shop_customer_email", 1, 1, SEEN),
        Link(contact, other, "probabilistic", 4, 1, None, 0.9999, 13.0),
    ]
    explanation = Explanation(asked=contact, person_id="p_1", links=links)
    assert [link.rule for link in explanation.path_to(customer)] == [
        "crm_contact_email",
        "shop_customer_email",
    ]
    assert [link.rule for link in explanation.path_to(other)] == ["probabilistic"]
