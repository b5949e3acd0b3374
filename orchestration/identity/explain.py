"""`cdp explain`: why an identifier belongs to its person, as the links that joined them.

Reads the warehouse through the Warehouse adapter (DuckDB or Spark), read-only:
identity_map for the person, int_identity_edges for the links applied between its
identifiers, identity_conflicts for the links refused.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from orchestration.identifiers import normalize_email, normalize_phone
from orchestration.warehouse import Warehouse

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


IDENTIFIER_COLUMNS = [
    "identifier_type",
    "identifier_value",
    "first_seen_at",
    "last_seen_at",
    "sources",
    "is_hub",
]
EDGE_COLUMNS = [
    "left_type",
    "left_value",
    "right_type",
    "right_value",
    "rule",
    "tier",
    "evidence_count",
    "first_seen_at",
]
CONFLICT_COLUMNS = ["left_type", "left_value", "right_type", "right_value", "rule", "blocked_by"]


def explain(warehouse: Warehouse, asked: Node) -> Explanation:
    """Why `asked` belongs to its person: read through the Warehouse adapter (any engine)."""
    found = warehouse.read_arrow(
        "marts.identity_map",
        ["person_id"],
        where={"identifier_type": asked[0], "identifier_value": asked[1]},
    ).column(0)
    if len(found) == 0:
        digest = hashlib.sha256(f"{asked[0]}:{asked[1]}".encode()).hexdigest()
        erased = warehouse.read_arrow(
            "marts.suppression_list", ["identifier_hash"], where={"identifier_hash": digest}
        )
        return Explanation(asked=asked, person_id=None, erased=erased.num_rows > 0)
    person_id = str(found[0])
    identifiers = sorted(
        (
            tuple(row[column] for column in IDENTIFIER_COLUMNS)
            for row in warehouse.read_arrow(
                "marts.identity_map", IDENTIFIER_COLUMNS, where={"person_id": person_id}
            ).to_pylist()
        ),
        key=lambda row: (row[2], row[0], row[1]),
    )
    nodes = {(kind, value) for kind, value, *_ in identifiers}
    # Edges between two of the person's identifiers (the engine narrows by value).
    candidates = warehouse.read_arrow(
        "intermediate.int_identity_edges",
        EDGE_COLUMNS,
        where={"left_value": sorted({value for _, value in nodes})},
    ).to_pylist()
    links = sorted(
        (
            Link(
                (row["left_type"], row["left_value"]),
                (row["right_type"], row["right_value"]),
                row["rule"],
                row["tier"],
                row["evidence_count"],
                row["first_seen_at"],
            )
            for row in candidates
            if (row["left_type"], row["left_value"]) in nodes
            and (row["right_type"], row["right_value"]) in nodes
        ),
        key=lambda link: (link.first_seen_at, link.left, link.right, link.rule),
    )
    blocked_rows: dict[tuple[Any, ...], Any] = {}
    for side in ("left_person_id", "right_person_id"):
        for row in warehouse.read_arrow(
            "marts.identity_conflicts",
            [*CONFLICT_COLUMNS, "first_seen_at"],
            where={side: person_id},
        ).to_pylist():
            blocked_rows[tuple(row[column] for column in CONFLICT_COLUMNS)] = row["first_seen_at"]
    blocked = [row for row, _ in sorted(blocked_rows.items(), key=lambda item: (item[1], item[0]))]
    return Explanation(
        asked=asked,
        person_id=person_id,
        identifiers=identifiers,
        links=links,
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
