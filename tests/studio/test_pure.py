"""The studio's pure pieces: masking, reading a search text, the graph layout, charts."""

import datetime as dt

from orchestration.pii import mask, mask_email, mask_phone
from orchestration.studio import charts, graph
from orchestration.studio.data import IdentityGraph, identifier_candidates


def test_an_email_is_masked_to_its_first_letter_and_domain():
    assert mask_email("ann.lee@example.com") == "a***@example.com"
    assert mask_email("not-an-email") == "***"


def test_a_phone_keeps_its_country_code_and_last_two_digits():
    assert mask_phone("+14155550123") == "+1********23"
    assert mask_phone("+123") == "***"


def test_only_emails_and_phones_are_masked_and_show_pii_turns_masking_off():
    assert mask("customer_id", "C0000001", show_pii=False) == "C0000001"
    assert mask("email", "ann@x.io", show_pii=False) == "a***@x.io"
    assert mask("email", "ann@x.io", show_pii=True) == "ann@x.io"
    assert mask("phone", None, show_pii=False) is None


def test_a_search_text_with_a_type_prefix_is_read_as_that_type_only():
    assert identifier_candidates("email: Ann.Lee@Example.com ") == [
        ("email", "ann.lee@example.com")
    ]
    assert identifier_candidates("user_id:C0000001") == [("customer_id", "C0000001")]


def test_a_bare_phone_is_read_as_e164_and_also_tried_as_an_id():
    candidates = identifier_candidates("(415) 555-0123")
    assert ("phone", "+14155550123") in candidates
    assert ("customer_id", "(415) 555-0123") in candidates
    assert all(kind != "email" for kind, _ in candidates)


def test_an_empty_search_text_has_no_candidates():
    assert identifier_candidates("   ") == []


def _graph() -> IdentityGraph:
    nodes = [
        {"id": "n0", "type": "email", "label": "a***@x.io", "is_outside": False},
        {"id": "n1", "type": "customer_id", "label": "C1", "is_outside": False},
        {"id": "n2", "type": "phone", "label": "+1****23", "is_outside": True},
    ]
    edge = {"source": "n0", "target": "n1", "rule": "customer_email", "source_table": "shop"}
    refused = {"source": "n1", "target": "n2", "rule": "order_phone", "blocked_by": "hub"}
    return IdentityGraph(nodes=nodes, edges=[edge], refused=[refused])


def test_the_layout_puts_own_identifiers_inside_and_other_persons_outside():
    drawn = graph.layout(_graph())
    centre = (graph.WIDTH / 2, graph.HEIGHT / 2)

    def radius(node):
        return ((node["x"] - centre[0]) ** 2 + (node["y"] - centre[1]) ** 2) ** 0.5

    inner = [radius(node) for node in drawn["nodes"] if not node["is_outside"]]
    outer = [radius(node) for node in drawn["nodes"] if node["is_outside"]]
    assert all(abs(r - graph.INNER) < 1 for r in inner)
    assert all(abs(r - graph.OUTER) < 1 for r in outer)


def test_the_layout_keeps_refused_links_apart_and_is_deterministic():
    first, second = graph.layout(_graph()), graph.layout(_graph())
    assert first == second
    assert [edge["refused"] for edge in first["edges"]] == [False, True]
    assert first["edges"][1]["blocked_by"] == "hub"


def test_the_segment_chart_has_one_point_per_run():
    sizes = [
        {
            "computed_at": dt.datetime(2026, 1, day),
            "member_count": day,
            "entered_count": 1,
            "exited_count": 0,
        }
        for day in (1, 2, 3)
    ]
    spec = charts.segment_size_chart(sizes)
    assert spec["data"][0]["y"] == [1, 2, 3]
    assert spec["data"][0]["x"][0] == "2026-01-01 00:00:00"


def test_the_identifier_chart_draws_each_types_bound():
    health = {
        "max_per_person": {"email": 3, "phone": 1},
        "avg_per_person": {"email": 1.1, "phone": 1.0},
        "bounds": {"email": 10, "phone": 10},
    }
    bound = charts.identifiers_per_type_chart(health)["data"][2]
    assert bound["name"] == "check bound"
    assert bound["x"] == ["email", "phone"]
    assert bound["y"] == [10, 10]
