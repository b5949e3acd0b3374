"""The identity rules on the traps real identity data has (reference resolver).

The SQL models are property-tested against this reference elsewhere; here each rule is
pinned on a small, readable graph.
"""

import random
from datetime import datetime, timedelta

from cdp_dev.reference import Edge, Rules, resolve

T0 = datetime(2026, 1, 1)


def seen(*nodes, start=T0):
    return {node: start + timedelta(minutes=index) for index, node in enumerate(nodes)}


def person(resolution, node):
    return {
        member
        for member, founder in resolution.person_of.items()
        if founder == resolution.person_of[node]
    }


A1, A2, TABLET = ("anonymous_id", "a1"), ("anonymous_id", "a2"), ("anonymous_id", "tablet")
C1, C2 = ("customer_id", "0001"), ("customer_id", "0002")
E1, E2, E_NEW = ("email", "ann@x.io"), ("email", "bob@x.io"), ("email", "new@x.io")
K1, K2, K3, K4, K5 = (("contact_id", f"k{i}") for i in range(1, 6))
P1, P2, OFFICE = ("phone", "+14155550001"), ("phone", "+14155550002"), ("phone", "+14155550100")
D1 = ("device_id", "d1")


def test_a_multi_hop_chain_resolves_to_one_person():
    edges = [
        Edge(A1, C1, "event_user_anonymous"),
        Edge(C1, E1, "shop_customer_email", 1),
        Edge(K1, E1, "crm_contact_email", 1),
        Edge(K1, P1, "crm_contact_phone", 1),
        Edge(P1, E_NEW, "guest_order_email_phone", 2),
    ]
    nodes = [A1, C1, E1, K1, P1, E_NEW]
    resolution = resolve(nodes, edges, seen(*nodes))
    assert person(resolution, A1) == set(nodes)
    assert resolution.person_of[E_NEW] == A1  # the founder: seen first
    assert resolution.conflicts == []


def test_a_shared_tablet_merges_neither_customer_and_keeps_its_device():
    edges = [
        Edge(C1, E1, "shop_customer_email", 1),
        Edge(C2, E2, "shop_customer_email", 1),
        Edge(TABLET, C1, "event_user_anonymous"),
        Edge(TABLET, C2, "event_user_anonymous"),
        Edge(D1, TABLET, "event_device_anonymous"),
    ]
    resolution = resolve([], edges, seen(C1, E1, C2, E2, TABLET, D1))
    assert person(resolution, C1) == {C1, E1}
    assert person(resolution, C2) == {C2, E2}
    assert person(resolution, TABLET) == {TABLET, D1}
    assert {(c.rule, c.blocked_by) for c in resolution.conflicts} == {
        ("event_user_anonymous", "several_limited_persons")
    }


def test_an_email_two_customers_claim_belongs_to_neither():
    edges = [Edge(C1, E1, "shop_customer_email", 1), Edge(C2, E1, "shop_customer_email", 1)]
    resolution = resolve([], edges, seen(C1, C2, E1))
    assert resolution.partition() == {frozenset({C1}), frozenset({C2}), frozenset({E1})}
    assert len(resolution.conflicts) == 2


def test_a_guest_order_with_one_customers_email_and_anothers_phone_joins_nobody():
    edges = [
        Edge(C1, E1, "shop_customer_email", 1),
        Edge(C2, P2, "shop_customer_phone", 1),
        Edge(E1, P2, "guest_order_email_phone", 2),
    ]
    resolution = resolve([], edges, seen(C1, E1, C2, P2))
    assert resolution.partition() == {frozenset({C1, E1}), frozenset({C2, P2})}
    assert [(c.rule, c.blocked_by) for c in resolution.conflicts] == [
        ("guest_order_email_phone", "identifier_limit")
    ]


def test_a_guest_order_with_a_new_email_joins_the_phones_customer():
    edges = [Edge(C2, P2, "shop_customer_phone", 1), Edge(E_NEW, P2, "guest_order_email_phone", 2)]
    resolution = resolve([], edges, seen(C2, P2, E_NEW))
    assert person(resolution, E_NEW) == {C2, P2, E_NEW}


def test_a_shared_office_phone_is_a_hub_and_links_nobody():
    contacts = [K1, K2, K3, K4, K5]
    edges = [Edge(contact, OFFICE, "crm_contact_phone", 1) for contact in contacts]
    edges.append(Edge(K1, E1, "crm_contact_email", 1))
    resolution = resolve([], edges, seen(*contacts, OFFICE, E1), Rules(hub_threshold=3))
    assert resolution.hubs == {OFFICE}
    assert person(resolution, K1) == {K1, E1}
    assert person(resolution, OFFICE) == {OFFICE}
    assert len(resolution.partition()) == 6


def test_a_device_carries_a_never_logged_in_browser_to_its_one_owner():
    edges = [
        Edge(A1, C1, "event_user_anonymous"),
        Edge(D1, A1, "event_device_anonymous"),
        Edge(D1, A2, "event_device_anonymous"),
    ]
    resolution = resolve([], edges, seen(C1, A1, D1, A2))
    assert person(resolution, A2) == {C1, A1, D1, A2}


def test_contacts_and_customers_merge_through_a_shared_email_within_limits():
    edges = [Edge(C1, E1, "shop_customer_email", 1), Edge(K1, E1, "crm_contact_email", 1)]
    resolution = resolve([], edges, seen(C1, E1, K1))
    assert person(resolution, K1) == {C1, E1, K1}


def test_the_result_does_not_depend_on_input_order():
    edges = [
        Edge(A1, C1, "event_user_anonymous"),
        Edge(C1, E1, "shop_customer_email", 1),
        Edge(C2, E1, "shop_customer_email", 1),
        Edge(TABLET, C1, "event_user_anonymous"),
        Edge(TABLET, C2, "event_user_anonymous"),
        Edge(E2, P2, "guest_order_email_phone", 2),
        Edge(C2, P2, "shop_customer_phone", 1),
    ]
    first_seen = seen(A1, C1, E1, C2, TABLET, E2, P2)
    expected = resolve([], edges, first_seen)
    for seed in range(20):
        shuffled = edges[:]
        random.Random(seed).shuffle(shuffled)
        flipped = [Edge(e.right, e.left, e.rule, e.tier) if seed % 2 else e for e in shuffled]
        again = resolve([], flipped, first_seen)
        assert again.person_of == expected.person_of


def test_a_browser_joins_its_one_customer_with_the_email_and_phone_it_identified():
    """Anonymous identify (email, phone), then a login on the same browser: one person."""
    edges = [
        Edge(A1, E1, "event_anonymous_email", 2),
        Edge(A1, P1, "event_anonymous_phone", 2),
        Edge(A1, C1, "event_user_anonymous", 2),
    ]
    resolution = resolve([], edges, seen(A1, E1, P1, C1))
    assert person(resolution, C1) == {A1, E1, P1, C1}


def test_strong_evidence_decides_before_a_browser_can_merge():
    """The browser links Ann's email to Bob's customer record; the records say otherwise."""
    edges = [
        Edge(C1, E1, "shop_customer_email", 1),
        Edge(C2, E2, "shop_customer_email", 1),
        Edge(A1, E1, "event_anonymous_email", 2),
        Edge(A1, C2, "event_user_anonymous", 2),
    ]
    resolution = resolve([], edges, seen(C1, E1, C2, E2, A1))
    assert resolution.partition() == {frozenset({C1, E1}), frozenset({C2, E2}), frozenset({A1})}


def test_two_newsletter_emails_on_one_browser_merge_unless_emails_are_limited():
    edges = [Edge(A1, E1, "event_anonymous_email", 2), Edge(A1, E2, "event_anonymous_email", 2)]
    first_seen = seen(A1, E1, E2)
    assert person(resolve([], edges, first_seen), A1) == {A1, E1, E2}
    strict = resolve([], edges, first_seen, Rules(limits={"customer_id": 1, "email": 1}))
    assert strict.partition() == {frozenset({A1}), frozenset({E1}), frozenset({E2})}
