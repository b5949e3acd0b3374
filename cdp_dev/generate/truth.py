"""Ground truth: which identifiers a *correct* identity resolution ties together.

The simulator reports every record's identifiers as it writes them (`Linker.link`),
leaving out the ones a correct resolver must not use to link: placeholders, the
`undefined` anonymous id, the shared family tablet, the office phone hub and records
that are soft-deleted. A person's truth is then a connected component of those links.
A human whose browser never logs in is therefore two truth persons (nobody could know),
and the family tablet is a person of its own (it belongs to neither customer).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

Node = tuple[str, str]  # (identifier type, normalised value)

LIST_FIELDS: dict[str, str] = {
    "customer_id": "customer_ids",
    "email": "emails",
    "phone": "phones",
    "anonymous_id": "anonymous_ids",
    "device_id": "device_ids",
    "contact_id": "contact_ids",
}
KNOWN_TYPES = ("customer_id", "email", "phone", "contact_id")


class GeneratorBugError(RuntimeError):
    """Two simulated people share an identifier that is not a designed trap."""


@dataclass
class Linker:
    """Union-find over identifier nodes, each node owned by one simulated entity."""

    enabled: bool = True
    parent: dict[Node, Node] = field(default_factory=dict)
    owner: dict[Node, str] = field(default_factory=dict)
    erased_nodes: list[Node] = field(default_factory=list)

    def _find(self, node: Node) -> Node:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def link(self, entity: str, nodes: Iterable[Node | None]) -> None:
        """Record that these identifiers occur together in one record of `entity`."""
        if not self.enabled:
            return
        first: Node | None = None
        for node in nodes:
            if node is None:
                continue
            known = self.owner.setdefault(node, entity)
            if known != entity:
                raise GeneratorBugError(f"{node} used by {known} and {entity}")
            if node not in self.parent:
                self.parent[node] = node
            if first is None:
                first = self._find(node)
                continue
            root = self._find(node)
            if root != first:
                self.parent[root] = first

    def erase(self, node: Node) -> None:
        """The component holding `node` is the subject of a deletion request."""
        if self.enabled:
            self.erased_nodes.append(node)

    def components(self) -> tuple[list[dict[str, object]], dict[Node, str]]:
        """Truth persons (ordered by first appearance) and node -> person_key."""
        groups: dict[Node, list[Node]] = {}
        for node in self.parent:  # insertion order: deterministic
            groups.setdefault(self._find(node), []).append(node)
        erased_roots = {self._find(n) for n in self.erased_nodes if n in self.parent}
        per_entity: dict[str, int] = {}
        persons: list[dict[str, object]] = []
        key_of: dict[Node, str] = {}
        for root, members in groups.items():
            entity = self.owner[members[0]]
            count = per_entity.get(entity, 0) + 1
            per_entity[entity] = count
            key = entity if count == 1 else f"{entity}-{count}"
            record: dict[str, object] = {"person_key": key}
            for id_type, list_name in LIST_FIELDS.items():
                record[list_name] = sorted(v for t, v in members if t == id_type)
            record["is_erased"] = root in erased_roots
            record["is_known"] = any(t in KNOWN_TYPES for t, _ in members)
            persons.append(record)
            for node in members:
                key_of[node] = key
        return persons, key_of

    def reset(self) -> None:
        self.parent.clear()
        self.owner.clear()
        self.erased_nodes.clear()


class TruthWriter:
    """Streams the truth JSON (persons batch by batch) so memory stays bounded at scale."""

    def __init__(self, path: Path, options: dict[str, object]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._file.write('{"generator":' + json.dumps(options, sort_keys=True) + ',\n"persons":[\n')
        self._first = True
        self.count = 0

    def add_persons(self, persons: list[dict[str, object]]) -> None:
        for record in persons:
            self._file.write(
                ("" if self._first else ",\n") + json.dumps(record, ensure_ascii=False)
            )
            self._first = False
            self.count += 1

    def close(self, traps: dict[str, object]) -> None:
        self._file.write("\n],\n" + '"traps":' + json.dumps(traps, indent=1, ensure_ascii=False))
        self._file.write("\n}\n")
        self._file.close()
