"""The identity macros against a real DuckDB file through dbt (no mocks).

dbt costs about a second per invocation, so the property test batches every graph that
hypothesis draws for one example into one edge table (disjoint node-id ranges), runs the
macro once, and compares each graph's partition with a union-find.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import shutil
from collections import defaultdict

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.dbt_inprocess import invoke_dbt
from orchestration.settings import DBT_PROJECT_DIR

from .conftest import Warehouse, passes_of

EDGE_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64())])
# Node ids of graph k live in [k * BLOCK + BASE, (k + 1) * BLOCK + BASE): disjoint ranges,
# negative ones included: connected_components takes any BIGINT (hash_bigint's are positive).
BLOCK = 10_000
BASE = -5_000_000


def union_find_partition(edges: list[tuple[int, int]]) -> dict[int, int]:
    """Reference: each node -> the smallest node of its component."""
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for src, dst in edges:
        src_root, dst_root = find(src), find(dst)
        if src_root != dst_root:
            parent[max(src_root, dst_root)] = min(src_root, dst_root)
    return {node: find(node) for node in list(parent)}


def solve(warehouse: Warehouse, rows: list[tuple[int, int]], **arguments: object):
    """Load `rows` as main.cc_edges, run connected_components, return its labels and log."""
    warehouse.load("cc_edges", EDGE_SCHEMA, rows)
    result = warehouse.run_operation(
        "connected_components",
        edges_relation="main.cc_edges",
        output_relation="main.cc_components",
        **arguments,
    )
    assert result.success, "\n".join(result.errors)
    labels = dict(warehouse.execute("select node, component from cc_components"))
    (row_count,) = warehouse.execute("select count(*) from cc_components")[0]
    assert row_count == len(labels), "one row per node"
    return labels, result


@st.composite
def small_graphs(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Edges over nodes 0..n-1: random, chain, star or cycle, plus duplicates and self-loops."""
    n = draw(st.integers(min_value=1, max_value=25))
    shape = draw(st.sampled_from(["random", "chain", "star", "cycle", "isolated"]))
    order = draw(st.permutations(range(n)))
    if shape == "chain":
        edges = [(order[i], order[i + 1]) for i in range(n - 1)]
    elif shape == "star":
        edges = [(order[0], order[i]) for i in range(1, n)]
    elif shape == "cycle":
        edges = [(order[i], order[(i + 1) % n]) for i in range(n)]
    elif shape == "isolated":
        edges = []
    else:
        node = st.integers(min_value=0, max_value=n - 1)
        edges = draw(st.lists(st.tuples(node, node), max_size=2 * n))
    edges += draw(st.lists(st.sampled_from(edges), max_size=5)) if edges else []
    flips = draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges)))
    edges = [
        (dst, src) if flip else (src, dst) for (src, dst), flip in zip(edges, flips, strict=True)
    ]
    # Nodes no edge touches are isolated: given as self-loops.
    touched = {node for edge in edges for node in edge}
    edges += [(node, node) for node in range(n) if node not in touched]
    return edges


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(
    graphs=st.lists(small_graphs(), min_size=1, max_size=60),
    max_passes=st.sampled_from([1, 2, 30]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_connected_components_equals_union_find_and_ignores_row_order(
    warehouse: Warehouse, graphs: list[list[tuple[int, int]]], max_passes: int, seed: int
) -> None:
    """Every graph twice (ids shuffled into two disjoint ranges, rows in two orders): both
    copies must match union-find, so the output cannot depend on row order or id layout."""
    shuffler = random.Random(seed)
    rows: list[tuple[int, int]] = []
    expected: dict[int, int] = {}
    copies: list[tuple[dict[int, int], dict[int, int]]] = []
    for index, edges in enumerate(graphs):
        nodes = sorted({node for edge in edges for node in edge})
        mappings = []
        for copy in range(2):
            base = (2 * index + copy) * BLOCK + BASE
            ids = shuffler.sample(range(BLOCK), len(nodes))
            mapping = {node: base + node_id for node, node_id in zip(nodes, ids, strict=True)}
            mapped = [(mapping[src], mapping[dst]) for src, dst in edges]
            rows += mapped
            expected |= union_find_partition(mapped)
            mappings.append(mapping)
        copies.append((mappings[0], mappings[1]))
    shuffler.shuffle(rows)

    labels, result = solve(warehouse, rows, max_passes=max_passes)

    assert labels == expected
    # Same graph, other id layout: the partitions of the two copies are the same.
    for first, second in copies:
        pairs = {(labels[first[node]], labels[second[node]]) for node in first}
        assert len(pairs) == len({pair[0] for pair in pairs}) == len({pair[1] for pair in pairs})
    passes, _ = passes_of(result)
    assert passes <= max_passes


def chain_orders(length: int) -> dict[str, list[int]]:
    """Node orders along a path that are easy and hard for min-label propagation."""
    zigzag = [
        value
        for pair in zip(range(length // 2), range(length - 1, length // 2 - 1, -1), strict=True)
        for value in pair
    ]
    return {
        "increasing": list(range(length)),
        "decreasing": list(range(length - 1, -1, -1)),
        "zigzag": zigzag,
        "random": random.Random(7).sample(range(length), length),
    }


def chains_table(length: int) -> tuple[list[tuple[int, int]], dict[int, int]]:
    rows: list[tuple[int, int]] = []
    for index, order in enumerate(chain_orders(length).values()):
        path = [index * BLOCK + BASE + node for node in order]
        rows += list(itertools.pairwise(path))
    random.Random(3).shuffle(rows)
    return rows, union_find_partition(rows)


def test_chains_of_diameter_1200_converge_in_few_passes(warehouse: Warehouse) -> None:
    """Label propagation would need ~1,200 passes; hooking plus pointer jumping needs a few."""
    rows, expected = chains_table(1_200)
    labels, result = solve(warehouse, rows)
    assert labels == expected
    assert len(set(labels.values())) == 4
    passes, fallback_passes = passes_of(result)
    assert passes <= 12
    assert fallback_passes == 0


def test_pass_cap_switches_to_large_star_small_star_and_stays_correct(
    warehouse: Warehouse,
) -> None:
    rows, expected = chains_table(1_200)
    labels, result = solve(warehouse, rows, max_passes=1)
    assert labels == expected
    assert any("switching to large-star/small-star" in line for line in result.log_lines)
    passes, fallback_passes = passes_of(result)
    assert passes == 1
    assert fallback_passes > 0


def test_fallback_that_cannot_converge_in_its_cap_raises(warehouse: Warehouse) -> None:
    rows, _ = chains_table(1_200)
    warehouse.load("cc_edges", EDGE_SCHEMA, rows)
    result = warehouse.run_operation(
        "connected_components",
        edges_relation="main.cc_edges",
        output_relation="main.cc_components",
        max_passes=1,
        max_fallback_passes=1,
    )
    assert not result.success
    assert "did not converge in 1 passes" in "\n".join(result.errors)


def test_empty_edge_list_gives_empty_output(warehouse: Warehouse) -> None:
    labels, result = solve(warehouse, [])
    assert labels == {}
    assert passes_of(result) == (1, 0)


IDENTIFIER_SCHEMA = pa.schema([("src_identifier", pa.string()), ("dst_identifier", pa.string())])


def resolve(warehouse: Warehouse, rows: list[tuple], **arguments: object):
    warehouse.load("identifier_edges", IDENTIFIER_SCHEMA, rows)
    return warehouse.run_operation(
        "resolve_identifier_graph",
        edges_relation="main.identifier_edges",
        output_relation="main.identity_resolved",
        **arguments,
    )


def test_resolve_identifier_graph_maps_identifiers_back_to_their_persons(
    warehouse: Warehouse,
) -> None:
    rows = [
        ("email:ann@example.com", "anonymous_id:a1"),
        ("anonymous_id:a1", "phone:+15550001"),
        ("anonymous_id:a1", "email:ann@example.com"),  # duplicate, written the other way
        ("customer_id:42", "device_id:d9"),
        ("email:bob@example.com", None),  # an identifier alone
        (None, None),
        *[(f"anonymous_id:solo{i}", f"anonymous_id:solo{i}") for i in range(100)],
    ]
    result = resolve(warehouse, rows)
    assert result.success, "\n".join(result.errors)

    resolved = warehouse.execute("select identifier, node, component from identity_resolved")
    component_of = {identifier: component for identifier, _, component in resolved}
    persons = defaultdict(set)
    for identifier, component in component_of.items():
        persons[component].add(identifier)
    assert sorted(map(sorted, persons.values()))[:3] == [
        ["anonymous_id:a1", "email:ann@example.com", "phone:+15550001"],
        ["anonymous_id:solo0"],
        ["anonymous_id:solo1"],
    ]
    assert {"customer_id:42", "device_id:d9"} in persons.values()
    assert {"email:bob@example.com"} in persons.values()
    assert len(resolved) == 3 + 2 + 1 + 100
    # Component = smallest node of the person; nodes are hash_bigint: 60 bits of md5.
    nodes = {identifier: node for identifier, node, _ in resolved}
    for members in persons.values():
        assert {component_of[m] for m in members} == {min(nodes[m] for m in members)}
    assert 0 <= min(nodes.values()) < max(nodes.values()) < 2**60
    assert nodes["email:ann@example.com"] == int(
        hashlib.md5(b"email:ann@example.com").hexdigest()[:15], 16
    )
    # No scratch table is left behind (they are all named `<output>__...`).
    tables = [name for (name,) in warehouse.execute("select table_name from duckdb_tables()")]
    assert [name for name in tables if "__" in name] == []


def test_hash_collision_raises_and_leaves_no_output(warehouse: Warehouse) -> None:
    """Ten identifiers in a 3-value hash space must collide: the check has to say so."""
    rows = [(f"email:person{i}@example.com", f"phone:+1555000{i}") for i in range(5)]
    result = resolve(warehouse, rows, hash_modulus=3)
    assert not result.success
    assert "hash_bigint collision" in "\n".join(result.errors)
    assert "identity_resolved was dropped" in "\n".join(result.errors).replace('"', "")
    tables = {name for (name,) in warehouse.execute("select table_name from duckdb_tables()")}
    assert "identity_resolved" not in tables


def test_a_model_materialised_as_identity_resolution_is_its_graph_solved(
    tmp_path, warehouse
) -> None:
    """The way a model uses the solve: its select is the graph, the materialization solves
    it (no pre-hook, no table made behind dbt's back), scratch tables are dropped."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "demo").mkdir(parents=True)
    (project / "models" / "demo" / "demo_identity.sql").write_text(
        "{{ config(materialized='identity_resolution', identity_incremental=false) }}\n"
        "select * from (values\n"
        "    (1, 'customer_id', 'c1', timestamp '2026-01-02', null, null),\n"
        "    (2, 'email', 'ann@x.io', timestamp '2026-01-01', null, null),\n"
        "    (3, 'customer_id', 'c2', timestamp '2026-01-01', null, null),\n"
        "    (1, null, null, null, 2, 1)\n"
        ") as graph (node_id, identifier_type, identifier_value, first_seen_at,"
        " linked_node_id, tier)\n"
    )
    result = invoke_dbt(
        [
            "run",
            "--select",
            "path:models/demo",
            "--target",
            "dev",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--quiet",
        ],
        project_dir=project,
    )
    assert result.success, result.exception
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        rows = con.execute(
            "select node_id, person_node_id, is_hub from demo_identity order by node_id"
        ).fetchall()
        tables = [
            name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()
        ]
    # The email was seen first: it founds the person of c1; c2 is alone.
    assert rows == [(1, 2, False), (2, 2, False), (3, 3, False)]
    assert [name for name in tables if name.startswith("demo_identity__")] == []
