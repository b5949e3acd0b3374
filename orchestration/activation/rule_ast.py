"""The segment rule language's syntax tree: typed rule nodes and what can be read off them.

A rule is a tree of `all:` / `any:` / `not:` nodes over leaf conditions:

* `trait:` a comparison on a `customer_profiles` column,
* `account_trait:` the same on the `account_profiles` row of the person's CRM account,
* `did:` / `did_not:` event behaviour in `fct_events` (names, call types, column filters,
  a time window, a minimum count, and `not_followed_by:` another event since),
* `entered_segment:` the person's entry into another segment (from its stays), within a
  window and optionally with no event since,
* `in_segment:` current membership of another segment.

Nodes are built by rule_parser.py (which validates them against the schema) and turned
into a dbt model by compiler.py. docs/segments.md is the reference.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from orchestration.activation.columns import ACCOUNTS, EVENTS, Column, ColumnType

SEGMENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Segment call types (fct_events.event_type accepts exactly these).
EVENT_TYPES = ("track", "page", "screen", "identify", "group", "alias")


class RuleError(ValueError):
    """A rule that cannot run: `path` is where in the YAML (e.g. `rule.all[1].trait`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --------------------------------------------------------------------------- durations

_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


@dataclass(frozen=True)
class Duration:
    """A relative time span such as `4 hours` or `180 days`."""

    amount: int
    unit: str  # minute, hour, day, week

    @property
    def delta(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.amount * _UNITS[self.unit])

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"


# --------------------------------------------------------------------------- operators

# Canonical operator names (they read as English: `order_count at_least 2`), with the
# SQL they compile to. Symbols are accepted as synonyms (quote them in YAML: `">=": 2`).
COMPARISON_SQL = {
    "equals": "=",
    "not_equals": "<>",
    "less_than": "<",
    "at_most": "<=",
    "greater_than": ">",
    "at_least": ">=",
}
SYMBOLS = {
    "=": "equals",
    "==": "equals",
    "!=": "not_equals",
    "<>": "not_equals",
    "<": "less_than",
    "<=": "at_most",
    ">": "greater_than",
    ">=": "at_least",
}
LIST_OPERATORS = ("in", "not_in")
NULL_OPERATORS = ("is_null", "is_not_null")
TEXT_OPERATORS = ("starts_with", "contains")
RELATIVE_OPERATORS = ("older_than", "within")
OPERATORS = (
    *COMPARISON_SQL,
    *LIST_OPERATORS,
    *NULL_OPERATORS,
    *TEXT_OPERATORS,
    *RELATIVE_OPERATORS,
)

_ORDERED = (ColumnType.NUMBER, ColumnType.TIMESTAMP, ColumnType.DATE)
_WHEN = (ColumnType.TIMESTAMP, ColumnType.DATE)
OPERATOR_KINDS: dict[str, tuple[ColumnType, ...]] = {
    "equals": (ColumnType.TEXT, ColumnType.BOOLEAN, *_ORDERED),
    "not_equals": (ColumnType.TEXT, ColumnType.BOOLEAN, *_ORDERED),
    "less_than": _ORDERED,
    "at_most": _ORDERED,
    "greater_than": _ORDERED,
    "at_least": _ORDERED,
    "in": (ColumnType.TEXT, ColumnType.NUMBER, ColumnType.DATE),
    "not_in": (ColumnType.TEXT, ColumnType.NUMBER, ColumnType.DATE),
    "is_null": tuple(ColumnType),
    "is_not_null": tuple(ColumnType),
    "starts_with": (ColumnType.TEXT,),
    "contains": (ColumnType.TEXT,),
    "older_than": _WHEN,
    "within": _WHEN,
}
KIND_NAMES = {
    ColumnType.TEXT: "text",
    ColumnType.NUMBER: "a number",
    ColumnType.BOOLEAN: "a boolean",
    ColumnType.TIMESTAMP: "a timestamp",
    ColumnType.DATE: "a date",
    ColumnType.OTHER: "of an uncomparable type",
}


# --------------------------------------------------------------------------- rule nodes


@dataclass(frozen=True)
class Node:
    """A rule node; `path` locates it in the YAML (`rule.all[2]`)."""

    path: str


@dataclass(frozen=True)
class AllOf(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    child: Node


@dataclass(frozen=True)
class Leaf(Node):
    """A condition that is true or false per person (never NULL: see compiler.py)."""

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Comparison(Leaf):
    """`<column> <operator> <value>`; `value` is bound as a parameter, never inlined."""

    column: Column
    operator: str  # canonical name (OPERATORS)
    value: Any  # str | int | float | bool | date | datetime | tuple | Duration | None

    def describe(self) -> str:
        prefix = "account's " if self.column.table == ACCOUNTS else ""
        words = self.operator.replace("_", " ")
        if self.operator in NULL_OPERATORS:
            return f"{prefix}{self.column.name} {words}"
        if self.operator == "older_than":
            return f"{prefix}{self.column.name} at least {self.value} ago"
        return f"{prefix}{self.column.name} {words} {_plain(self.value)}"


@dataclass(frozen=True)
class EventSpec:
    """Which events: names (`event`), call types (`type`) and column filters (`where`)."""

    names: tuple[str, ...]
    types: tuple[str, ...]
    filters: tuple[Comparison, ...]

    def describe(self) -> str:
        parts = []
        if self.names:
            parts.append(" or ".join(repr(name) for name in self.names))
        if self.types:
            parts.append("a " + " or ".join(self.types) + " call")
        if not parts:
            parts.append("any event")
        if self.filters:
            parts.append("where " + " and ".join(f.describe() for f in self.filters))
        return " ".join(parts)


@dataclass(frozen=True)
class Window:
    """How long ago: `within` (at most that long ago) and `older_than` (at least)."""

    within: Duration | None = None
    older_than: Duration | None = None

    def describe(self) -> str:
        if self.within and self.older_than:
            return f" between {self.older_than} and {self.within} ago"
        if self.within:
            return f" within {self.within}"
        if self.older_than:
            return f" at least {self.older_than} ago"
        return " ever"


@dataclass(frozen=True)
class Did(Leaf):
    """The person did a matching event (at least `min_times`) in the window; with
    `not_followed_by`, a matching event in the window has no `not_followed_by` event
    after it (up to now). `negated` (`did_not:`) is the exact complement."""

    event: EventSpec
    window: Window
    min_times: int = 1
    not_followed_by: EventSpec | None = None
    negated: bool = False

    def describe(self) -> str:
        text = f"{'did not do' if self.negated else 'did'} {self.event.describe()}"
        if self.min_times > 1:
            text += f" at least {self.min_times} times"
        text += self.window.describe()
        if self.not_followed_by is not None:
            text += f", not followed by {self.not_followed_by.describe()}"
        return text


@dataclass(frozen=True)
class EnteredSegment(Leaf):
    """The person entered `segment` (membership history) in the window, and with
    `not_followed_by`, no such event happened between that entry and now."""

    segment: str
    window: Window
    not_followed_by: EventSpec | None = None

    def describe(self) -> str:
        text = f"entered segment {self.segment}{self.window.describe()}"
        if self.not_followed_by is not None:
            text += f", not followed by {self.not_followed_by.describe()}"
        return text


@dataclass(frozen=True)
class InSegment(Leaf):
    """The person is a current member of `segment`."""

    segment: str

    def describe(self) -> str:
        return f"member of segment {self.segment}"


def leaves(node: Node) -> Iterator[Leaf]:
    """The leaves of a rule, depth first (the order the compiler numbers them)."""
    if isinstance(node, AllOf | AnyOf):
        for child in node.children:
            yield from leaves(child)
    elif isinstance(node, Not):
        yield from leaves(node.child)
    elif isinstance(node, Leaf):
        yield node


def referenced_segments(node: Node) -> set[str]:
    return {leaf.segment for leaf in leaves(node) if isinstance(leaf, EnteredSegment | InSegment)}


def event_names(node: Node) -> set[str]:
    """Every event name the rule looks for (`event:` of did / did_not / not_followed_by)."""
    names: set[str] = set()
    for leaf in leaves(node):
        if isinstance(leaf, Did):
            names.update(leaf.event.names)
        if isinstance(leaf, Did | EnteredSegment) and leaf.not_followed_by is not None:
            names.update(leaf.not_followed_by.names)
    return names


def tables_used(node: Node) -> set[str]:
    """The rule tables a rule reads besides customer_profiles (for asset dependencies)."""
    used: set[str] = set()
    for leaf in leaves(node):
        if isinstance(leaf, Comparison):
            used.add(leaf.column.table)
        elif isinstance(leaf, Did) or (
            isinstance(leaf, EnteredSegment) and leaf.not_followed_by is not None
        ):
            used.add(EVENTS)
    return used


# --------------------------------------------------------------------------- explaining


def evaluate(node: Node, truth: Mapping[str, bool]) -> bool:
    """A node's value from its leaves' values (keyed by leaf path)."""
    if isinstance(node, AllOf):
        return all(evaluate(child, truth) for child in node.children)
    if isinstance(node, AnyOf):
        return any(evaluate(child, truth) for child in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, truth)
    return truth[node.path]


def explain(node: Node, truth: Mapping[str, bool], value: bool) -> list[tuple[Leaf, bool]]:
    """The leaves that make `node` evaluate to `value` under `truth`, with their values:
    for an `all` that is false, its false children; for an `any` that is true, its true
    children; `not` swaps. Used to say why a person entered or left a segment."""
    if isinstance(node, AllOf | AnyOf):
        decisive = (isinstance(node, AllOf) and value) or (isinstance(node, AnyOf) and not value)
        children = [c for c in node.children if decisive or evaluate(c, truth) == value]
        return [fact for child in children for fact in explain(child, truth, value)]
    if isinstance(node, Not):
        return explain(node.child, truth, not value)
    assert isinstance(node, Leaf)
    return [(node, truth[node.path])]


def _plain(value: Any) -> str:
    """A value as a rule description shows it (`in ['champions', 'loyal']`, `at least 4`)."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_plain(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)
