"""Incremental identity resolution equals a full solve.

resolve_identity_incremental keeps the previous labels and re-solves only the live
components a change touched. On random pairs of graph states (links added and removed,
identifiers added and removed, first-seen times moved, hubs appearing and vanishing) its
second run must equal resolve_identity on the second state alone.
"""

import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import BLOCK, EDGE_SCHEMA, NODE_SCHEMA, T0, TYPES, Warehouse


def two_states(seed: int, graphs: int) -> tuple[list, list, list, list]:
    """(nodes1, edges1, nodes2, edges2) over disjoint blocks; state 2 mostly grows state 1."""
    rng = random.Random(seed)
    nodes1, edges1, nodes2, edges2 = [], [], [], []
    for number in range(graphs):
        base = number * BLOCK
        size = rng.randint(1, 12)
        kinds = [rng.choice(TYPES) for _ in range(size)]
        pairs = [
            (base + rng.randrange(size), base + rng.randrange(size), rng.choice([1, 2]))
            for _ in range(rng.randint(0, 2 * size))
        ]
        for index, kind in enumerate(kinds):
            seen = T0 + timedelta(minutes=rng.randint(0, 5))
            row = (base + index, kind, f"g{number}n{index}", seen)
            if rng.random() < 0.8:  # most identifiers exist in the first state already
                moved = seen + timedelta(minutes=rng.choice([0, 0, 0, 3]))  # or were seen later
                nodes1.append((row[0], kind, row[2], moved))
            if rng.random() < 0.95:  # a few disappear (a soft-deleted contact)
                nodes2.append(row)
        present1 = {row[0] for row in nodes1}
        present2 = {row[0] for row in nodes2}
        for src, dst, tier in pairs:
            if src in present2 and dst in present2:
                edges2.append((src, dst, tier))
            if src in present1 and dst in present1 and rng.random() < 0.6:
                edges1.append((src, dst, tier if rng.random() < 0.9 else 3 - tier))
        # a link of the first state that is gone in the second (a CDC update)
        if len(present1) > 1 and rng.random() < 0.3:
            a, b = rng.sample(sorted(present1), 2)
            edges1.append((a, b, 1))
    return nodes1, edges1, nodes2, edges2


def run_incremental(warehouse: Warehouse, nodes, edges) -> None:
    warehouse.load("inc_nodes", NODE_SCHEMA, nodes)
    warehouse.load("inc_edges", EDGE_SCHEMA, edges)
    result = warehouse.run_operation(
        "resolve_identity_incremental",
        nodes_relation="main.inc_nodes",
        edges_relation="main.inc_edges",
        output_relation="main.inc_labels_new",
        previous_relation="main.inc_labels",
        state_prefix="main.inc_state",
    )
    assert result.success, "\n".join(result.errors)
    # What the calling model does: its new labels become the previous ones.
    warehouse.execute("create or replace table inc_labels as select * from inc_labels_new")


def run_full(warehouse: Warehouse, nodes, edges) -> set[tuple]:
    warehouse.load("full_nodes", NODE_SCHEMA, nodes)
    warehouse.load("full_edges", EDGE_SCHEMA, edges)
    result = warehouse.run_operation(
        "resolve_identity",
        nodes_relation="main.full_nodes",
        edges_relation="main.full_edges",
        output_relation="main.full_labels",
    )
    assert result.success, "\n".join(result.errors)
    return set(warehouse.execute("select node_id, person_node_id, is_hub from full_labels"))


def reset(warehouse: Warehouse) -> None:
    for table in ("inc_labels", "inc_labels_new", "inc_state__nodes", "inc_state__edges"):
        warehouse.execute(f"drop table if exists {table}")


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(min_value=0, max_value=10_000))
def test_a_second_incremental_run_equals_a_full_solve(warehouse: Warehouse, seed: int) -> None:
    nodes1, edges1, nodes2, edges2 = two_states(seed, graphs=60)
    reset(warehouse)
    run_incremental(warehouse, nodes1, edges1)
    assert set(warehouse.execute("select node_id, person_node_id, is_hub from inc_labels")) == (
        run_full(warehouse, nodes1, edges1)
    ), "first (full) run"
    run_incremental(warehouse, nodes2, edges2)
    incremental = set(warehouse.execute("select node_id, person_node_id, is_hub from inc_labels"))
    assert incremental == run_full(warehouse, nodes2, edges2)


def test_an_unchanged_graph_re_solves_nothing_and_a_new_link_only_its_components(
    warehouse: Warehouse,
) -> None:
    nodes = [(i, "email", f"e{i}", T0) for i in range(6)] + [(6, "customer_id", "c6", T0)]
    edges = [(0, 1, 1), (2, 3, 1), (4, 5, 1)]
    reset(warehouse)
    run_incremental(warehouse, nodes, edges)
    warehouse.load("inc_nodes", NODE_SCHEMA, nodes)
    warehouse.load("inc_edges", EDGE_SCHEMA, edges)
    unchanged = warehouse.run_operation(
        "resolve_identity_incremental",
        nodes_relation="main.inc_nodes",
        edges_relation="main.inc_edges",
        output_relation="main.inc_labels_new",
        previous_relation="main.inc_labels",
        state_prefix="main.inc_state",
    )
    assert any("re-solved 0 of 7 identifiers" in line for line in unchanged.log_lines)
    warehouse.execute("create or replace table inc_labels as select * from inc_labels_new")
    warehouse.load("inc_edges", EDGE_SCHEMA, [*edges, (1, 6, 1)])
    grown = warehouse.run_operation(
        "resolve_identity_incremental",
        nodes_relation="main.inc_nodes",
        edges_relation="main.inc_edges",
        output_relation="main.inc_labels_new",
        previous_relation="main.inc_labels",
        state_prefix="main.inc_state",
    )
    # The new link touches the component {0, 1} and the lone customer {6}: 3 identifiers.
    assert any("re-solved 3 of 7 identifiers" in line for line in grown.log_lines)
