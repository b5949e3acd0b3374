"""Reference identity resolution in plain Python: the specification of the SQL models.

The dbt models in `dbt_project/models/intermediate/identity/` implement the same rules
set-wise in SQL; property tests run both on random graphs and require equal results.
Nothing here runs in production: it is small, slow and obviously correct on purpose.

Rules (docs/identity.md explains why):

0. Placeholder values never reach the graph (staging nulls them). An identifier of a
   shareable type (email, phone, anonymous_id, device_id) linked to more than
   `hub_threshold` distinct identifiers of one strong type is a *hub*: it keeps no edge.
1. Strong identifiers (customer_id, contact_id, email, phone) are merged tier by tier
   (tier 1: a record asserts the pair, e.g. a shop customer's email; tier 2: the pair
   co-occurs, e.g. on a guest order); a pair counts once, at its strongest tier.
   Within a tier, clusters connected by the tier's edges form a group. A group that
   respects the per-type limits (default: at most one customer_id per person) merges.
   A group that would not: clusters holding a limited identifier ("anchored") stay
   apart; each connected set of the other clusters joins its anchored neighbour when it
   has exactly one, else stays on its own. Every edge not applied is a conflict.
2. Weak identifiers (anonymous_id, device_id) come last, as tier 3: every link with a
   weak end, under the same limit rule. A browser seen with one customer, an email and
   a phone joins them into one person; a tablet seen with two customers is a group
   over the limit, so it merges neither and stays a person of its own (with its
   device). Strong evidence always decides first.
3. A person is named after its founder: the identifier seen first (ties: strong types
   first, then the value), so a person's id only changes when its cluster does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

STRONG_TYPES = ("customer_id", "contact_id", "email", "phone")
WEAK_TYPES = ("anonymous_id", "device_id")
SHAREABLE_TYPES = ("email", "phone", "anonymous_id", "device_id")
# Founder tie-break: the more authoritative type names the person.
TYPE_PRIORITY = {
    "customer_id": 0,
    "contact_id": 1,
    "email": 2,
    "phone": 3,
    "anonymous_id": 4,
    "device_id": 5,
}

Node = tuple[str, str]  # (identifier_type, identifier_value)


@dataclass(frozen=True)
class Edge:
    left: Node
    right: Node
    rule: str
    tier: int = 1  # only meaningful between two strong identifiers


@dataclass(frozen=True)
class Rules:
    limits: Mapping[str, int] = field(default_factory=lambda: {"customer_id": 1})
    hub_threshold: int = 3


@dataclass(frozen=True)
class Conflict:
    left: Node
    right: Node
    rule: str
    blocked_by: str


@dataclass
class Resolution:
    person_of: dict[Node, Node]  # identifier -> founder of its person
    hubs: set[Node]
    conflicts: list[Conflict]

    def partition(self) -> set[frozenset[Node]]:
        persons: dict[Node, set[Node]] = defaultdict(set)
        for node, founder in self.person_of.items():
            persons[founder].add(node)
        return {frozenset(members) for members in persons.values()}


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Node, Node] = {}

    def add(self, node: Node) -> None:
        self.parent.setdefault(node, node)

    def find(self, node: Node) -> Node:
        self.add(node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, left: Node, right: Node) -> None:
        left_root, right_root = self.find(left), self.find(right)
        if left_root != right_root:
            self.parent[max(left_root, right_root)] = min(left_root, right_root)

    def groups(self, nodes: Iterable[Node]) -> dict[Node, list[Node]]:
        grouped: dict[Node, list[Node]] = defaultdict(list)
        for node in nodes:
            grouped[self.find(node)].append(node)
        return grouped


def find_hubs(nodes: Iterable[Node], edges: Iterable[Edge], threshold: int) -> set[Node]:
    neighbours: dict[Node, dict[str, set[Node]]] = defaultdict(lambda: defaultdict(set))
    for edge in edges:
        if edge.left != edge.right:
            neighbours[edge.left][edge.right[0]].add(edge.right)
            neighbours[edge.right][edge.left[0]].add(edge.left)
    return {
        node
        for node in nodes
        if node[0] in SHAREABLE_TYPES
        and any(
            len(linked) > threshold
            for kind, linked in neighbours[node].items()
            if kind in STRONG_TYPES
        )
    }


def _apply_tier(
    clusters: UnionFind,
    members: dict[Node, list[Node]],
    tier_edges: list[Edge],
    rules: Rules,
    conflicts: list[Conflict],
) -> None:
    """Merge the clusters one tier's edges connect, within the limits (rule 1)."""

    def limited_counts(cluster_roots: Iterable[Node]) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for root in cluster_roots:
            for node in members[root]:
                if node[0] in rules.limits:
                    counts[node[0]] += 1
        return counts

    cluster_edges = {}
    for edge in tier_edges:
        left, right = clusters.find(edge.left), clusters.find(edge.right)
        if left != right:
            cluster_edges.setdefault((min(left, right), max(left, right)), []).append(edge)
    grouping = UnionFind()
    for left, right in cluster_edges:
        grouping.union(left, right)
    involved = {root for pair in cluster_edges for root in pair}
    for group in grouping.groups(involved).values():
        counts = limited_counts(group)
        if all(counts[kind] <= limit for kind, limit in rules.limits.items()):
            for root in group[1:]:
                clusters.union(group[0], root)
            continue
        anchored = {root for root in group if limited_counts([root])}
        free = UnionFind()
        for root in group:
            if root not in anchored:
                free.add(root)
        in_group = [(pair, edges) for pair, edges in cluster_edges.items() if pair[0] in group]
        for (left, right), _ in in_group:
            if left not in anchored and right not in anchored:
                free.union(left, right)
        free_sets = free.groups([root for root in group if root not in anchored])
        joins: list[tuple[Node, Node]] = []
        for free_set in free_sets.values():
            free_roots = set(free_set)
            neighbours = {
                other
                for (left, right), _ in in_group
                for this, other in ((left, right), (right, left))
                if this in free_roots and other in anchored
            }
            for root in free_set[1:]:
                joins.append((free_set[0], root))
            if len(neighbours) == 1:
                joins.append((free_set[0], next(iter(neighbours))))
            else:
                for (left, right), edges in in_group:
                    if (left in free_roots) != (right in free_roots):
                        conflicts.extend(
                            Conflict(e.left, e.right, e.rule, "several_limited_persons")
                            for e in edges
                        )
        for (left, right), edges in in_group:
            if left in anchored and right in anchored:
                conflicts.extend(
                    Conflict(e.left, e.right, e.rule, "identifier_limit") for e in edges
                )
        for left, right in joins:
            clusters.union(left, right)


def resolve(
    nodes: Iterable[Node],
    edges: Iterable[Edge],
    first_seen: Mapping[Node, datetime],
    rules: Rules | None = None,
) -> Resolution:
    rules = rules or Rules()
    all_nodes = set(nodes)
    # A pair of identifiers counts once, at the strongest tier it was seen in: evidence
    # that tier 1 found ambiguous does not get a second chance in tier 2.
    strongest: dict[tuple[Node, Node], Edge] = {}
    for edge in edges:
        if edge.left == edge.right:
            continue
        pair = (min(edge.left, edge.right), max(edge.left, edge.right))
        if pair not in strongest or (edge.tier, edge.rule) < (
            strongest[pair].tier,
            strongest[pair].rule,
        ):
            strongest[pair] = edge
    edge_list = [strongest[pair] for pair in sorted(strongest)]
    all_nodes |= {node for edge in edge_list for node in (edge.left, edge.right)}
    hubs = find_hubs(all_nodes, edge_list, rules.hub_threshold)
    edge_list = [edge for edge in edge_list if edge.left not in hubs and edge.right not in hubs]
    conflicts: list[Conflict] = []

    clusters = UnionFind()
    ordered = sorted(all_nodes)
    for node in ordered:
        clusters.add(node)
    for tier in (1, 2, 3):
        if tier < 3:
            tier_edges = [
                edge
                for edge in edge_list
                if edge.tier == tier
                and edge.left[0] in STRONG_TYPES
                and edge.right[0] in STRONG_TYPES
            ]
        else:
            tier_edges = [
                edge
                for edge in edge_list
                if edge.left[0] in WEAK_TYPES or edge.right[0] in WEAK_TYPES
            ]
        members = clusters.groups(ordered)
        _apply_tier(clusters, members, tier_edges, rules, conflicts)

    def founder_key(node: Node) -> tuple[datetime, int, str]:
        return (first_seen[node], TYPE_PRIORITY[node[0]], node[1])

    person_of: dict[Node, Node] = {}
    for members in clusters.groups(sorted(all_nodes)).values():
        founder = min(members, key=founder_key)
        for node in members:
            person_of[node] = founder
    return Resolution(person_of=person_of, hubs=hubs, conflicts=conflicts)
