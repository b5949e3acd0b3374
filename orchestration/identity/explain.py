"""`cdp explain`: why an identifier belongs to its person, as the links that joined them.

Reads the warehouse read-only: identity_map for the person, int_identity_edges for the
links applied between its identifiers, identity_conflicts for the links refused.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.identifiers import normalize_email, normalize_phone

IDENTIFIER_TYPES = ("anonymous_id", "customer_id", "email", "phone", "contact_id", "device_id")

Node = tuple[str, str]


@dataclass(frozen=True)
class Link:
    left: Node
    right: Node
    rule: str
    tier: int
    evidence: int
    first_seen_at: object


@dataclass
class Explanation:
    asked: Node
    person_id: str | None
    erased: bool = False
    identifiers: list[tuple] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    blocked: list[tuple] = field(default_factory=list)

    def path_to(self, target: Node) -> list[Link] | None:
        return shortest_path(self.asked, target, self.links)


def parse_identifier(text: str, default_country: str = "US") -> Node:
    """'email: Ann@X.io ' -> ('email', 'ann@x.io'): the normal form identity_map holds."""
    if ":" not in text:
        raise ValueError(f"expected <type>:<value>, got {text!r}")
    kind, value = text.split(":", 1)
    kind = kind.strip().lower()
    if kind == "user_id":
        kind = "customer_id"
    if kind not in IDENTIFIER_TYPES:
        raise ValueError(f"unknown identifier type {kind!r}; one of {', '.join(IDENTIFIER_TYPES)}")
    if kind == "email":
        normalised = normalize_email(value)
    elif kind == "phone":
        normalised = normalize_phone(value, None, default_country)
    else:
        normalised = value.strip() or None
    if not normalised:
        raise ValueError(f"{text!r} is not a usable {kind}")
    return kind, normalised


def shortest_path(start: Node, target: Node, links: list[Link]) -> list[Link] | None:
    """Breadth-first: the fewest links from start to target (None when not connected)."""
    adjacent: dict[Node, list[tuple[Node, Link]]] = {}
    for link in links:
        adjacent.setdefault(link.left, []).append((link.right, link))
        adjacent.setdefault(link.right, []).append((link.left, link))
    previous: dict[Node, tuple[Node, Link] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == target:
            path: list[Link] = []
            while previous[node] is not None:
                node, link = previous[node]  # type: ignore[misc]
                path.append(link)
            return list(reversed(path))
        for neighbour, link in sorted(adjacent.get(node, []), key=lambda item: item[0]):
            if neighbour not in previous:
                previous[neighbour] = (node, link)
                queue.append(neighbour)
    return None


def explain(warehouse: Path, asked: Node) -> Explanation:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            "select person_id from marts.identity_map "
            "where identifier_type = ? and identifier_value = ?",
            list(asked),
        ).fetchall()
        if not found:
            digest = hashlib.sha256(f"{asked[0]}:{asked[1]}".encode()).hexdigest()
            erased = con.execute(
                "select count(*) from marts.suppression_list where identifier_hash = ?", [digest]
            ).fetchall()[0][0]
            return Explanation(asked=asked, person_id=None, erased=erased > 0)
        person_id = found[0][0]
        identifiers = con.execute(
            "select identifier_type, identifier_value, first_seen_at, last_seen_at, sources, "
            "is_hub from marts.identity_map where person_id = ? order by first_seen_at, 1, 2",
            [person_id],
        ).fetchall()
        links = con.execute(
            """
            select edges.left_type, edges.left_value, edges.right_type, edges.right_value,
                   edges.rule, edges.tier, edges.evidence_count, edges.first_seen_at
            from intermediate.int_identity_edges as edges
            inner join marts.identity_map as left_map
                on edges.left_type = left_map.identifier_type
                and edges.left_value = left_map.identifier_value
            inner join marts.identity_map as right_map
                on edges.right_type = right_map.identifier_type
                and edges.right_value = right_map.identifier_value
            where left_map.person_id = ? and right_map.person_id = ?
            order by edges.first_seen_at
            """,
            [person_id, person_id],
        ).fetchall()
        blocked = con.execute(
            "select left_type, left_value, right_type, right_value, rule, blocked_by "
            "from marts.identity_conflicts where left_person_id = ? or right_person_id = ? "
            "order by first_seen_at",
            [person_id, person_id],
        ).fetchall()
    return Explanation(
        asked=asked,
        person_id=person_id,
        identifiers=identifiers,
        links=[
            Link((lt, lv), (rt, rv), rule, tier, evidence, seen)
            for lt, lv, rt, rv, rule, tier, evidence, seen in links
        ],
        blocked=blocked,
    )


def render(explanation: Explanation) -> str:
    asked = f"{explanation.asked[0]}:{explanation.asked[1]}"
    if explanation.person_id is None:
        if explanation.erased:
            return f"{asked} was erased (right to erasure): only its hash is kept."
        return (
            f"{asked} is not in the identity map: never seen in an identity source, or a "
            "placeholder value (cdp_placeholder_*) that staging nulls."
        )
    lines = [f"{asked} belongs to person {explanation.person_id}", "", "identifiers:"]
    for kind, value, first_seen, last_seen, sources, is_hub in explanation.identifiers:
        hub = "  [hub: links nobody]" if is_hub else ""
        lines.append(f"  {kind}:{value}  seen {first_seen} .. {last_seen} in {sources}{hub}")
    lines += ["", f"how they are linked to {asked}:"]
    for kind, value, *_ in explanation.identifiers:
        target = (kind, value)
        if target == explanation.asked:
            continue
        path = explanation.path_to(target)
        if path is None:
            lines.append(f"  {kind}:{value}: no path")
            continue
        steps, node = [], explanation.asked
        for link in path:
            node = link.right if link.left == node else link.left
            steps.append(f"{node[0]}:{node[1]} ({link.rule}, tier {link.tier}, x{link.evidence})")
        hops = " -> ".join(steps)
        lines.append(f"  {kind}:{value}: {len(path)} link(s): {hops}")
    if explanation.blocked:
        lines += ["", "links refused by the over-merge guards:"]
        for lt, lv, rt, rv, rule, blocked_by in explanation.blocked:
            lines.append(f"  {lt}:{lv} -- {rt}:{rv}  ({rule}; blocked by {blocked_by})")
    return "\n".join(lines)
