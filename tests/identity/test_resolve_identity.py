"""resolve_identity (SQL, through dbt) equals the reference resolver on random graphs.

Hypothesis draws typed graphs with both tiers, shared identifiers, hubs and conflicts;
every graph of one example goes into one node and one edge table (disjoint id ranges),
the macro runs once, and each graph's persons and founders are compared.
"""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp_dev.reference import Edge, Rules, resolve

from .conftest import BLOCK, EDGE_SCHEMA, NODE_SCHEMA, T0, TYPES, Warehouse


@st.composite
def typed_graphs(draw: st.DrawFn) -> tuple[list[tuple[str, int]], list[tuple[int, int, int]]]:
    """Nodes (type, minutes after T0) and edges (i, j, tier) over them."""
    size = draw(st.integers(min_value=1, max_value=14))
    # Few customers and many shared identifiers make conflicts and hubs likely.
    nodes = [
        (draw(st.sampled_from(TYPES)), draw(st.integers(min_value=0, max_value=5)))
        for _ in range(size)
    ]
    pairs = st.tuples(
        st.integers(min_value=0, max_value=size - 1),
        st.integers(min_value=0, max_value=size - 1),
        st.sampled_from([1, 2]),
    )
    edges = draw(st.lists(pairs, max_size=size * 2))
    return nodes, edges


def run_sql(warehouse: Warehouse, graphs, rules: Rules) -> dict[int, int]:
    node_rows, edge_rows = [], []
    for number, (nodes, edges) in enumerate(graphs):
        base = number * BLOCK
        for index, (kind, minutes) in enumerate(nodes):
            node_rows.append(
                (base + index, kind, f"g{number}n{index}", T0 + timedelta(minutes=minutes))
            )
        edge_rows.extend((base + i, base + j, tier) for i, j, tier in edges)
    warehouse.load("ri_nodes", NODE_SCHEMA, node_rows)
    warehouse.load("ri_edges", EDGE_SCHEMA, edge_rows)
    result = warehouse.run_operation(
        "resolve_identity",
        nodes_relation="main.ri_nodes",
        edges_relation="main.ri_edges",
        output_relation="main.ri_persons",
        limits=dict(rules.limits),
        hub_threshold=rules.hub_threshold,
    )
    assert result.success, "\n".join(result.errors)
    rows = warehouse.execute("select node_id, person_node_id from ri_persons")
    assert len(rows) == len(node_rows), "one row per identifier"
    return dict(rows)


def run_reference(graphs, rules: Rules) -> dict[int, int]:
    expected: dict[int, int] = {}
    for number, (nodes, edges) in enumerate(graphs):
        base = number * BLOCK
        keys = [(kind, f"g{number}n{index}") for index, (kind, _) in enumerate(nodes)]
        # Values compare like the SQL's (zero-padded so text order = index order).
        first_seen = {key: T0 + timedelta(minutes=nodes[i][1]) for i, key in enumerate(keys)}
        resolution = resolve(
            keys,
            [Edge(keys[i], keys[j], "rule", tier) for i, j, tier in edges],
            first_seen,
            rules,
        )
        index_of = {key: i for i, key in enumerate(keys)}
        for key, founder in resolution.person_of.items():
            expected[base + index_of[key]] = base + index_of[founder]
    return expected


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    graphs=st.lists(typed_graphs(), min_size=1, max_size=40),
    hub_threshold=st.sampled_from([1, 2, 3]),
)
def test_sql_resolution_equals_the_reference(warehouse: Warehouse, graphs, hub_threshold) -> None:
    rules = Rules(limits={"customer_id": 1}, hub_threshold=hub_threshold)
    padded = [([(kind, minutes) for kind, minutes in nodes], edges) for nodes, edges in graphs]
    assert run_sql(warehouse, padded, rules) == run_reference(padded, rules)


def test_two_limited_types_and_a_limit_of_two(warehouse: Warehouse) -> None:
    """Limits are configuration: customer_id <= 2 and contact_id <= 1 at once."""
    rules = Rules(limits={"customer_id": 2, "contact_id": 1}, hub_threshold=5)
    graphs = [
        (
            [
                ("customer_id", 0),
                ("customer_id", 1),
                ("email", 2),
                ("contact_id", 3),
                ("contact_id", 4),
            ],
            [(0, 2, 1), (1, 2, 1), (2, 3, 1), (2, 4, 2)],
        ),
        (
            [("customer_id", 0), ("customer_id", 0), ("customer_id", 0), ("email", 1)],
            [(0, 3, 1), (1, 3, 1), (2, 3, 1)],
        ),
    ]
    assert run_sql(warehouse, graphs, rules) == run_reference(graphs, rules)
