"""The segment rule language: typed rule nodes, parsed from YAML and checked against the schema.

A rule is a tree of `all:` / `any:` / `not:` nodes over leaf conditions:

* `trait:` a comparison on a `customer_profiles` column,
* `account_trait:` the same on the `account_profiles` row of the person's CRM account,
* `did:` / `did_not:` event behaviour in `fct_events` (names, call types, column filters,
  a time window, a minimum count, and `not_followed_by:` another event since),
* `entered_segment:` the person's entry into another segment (from its membership
  history), within a window and optionally with no event since,
* `in_segment:` current membership of another segment.

Parsing is validation: every column is looked up in the schema (never copied from the
YAML into SQL), every value is checked against the column's type and later bound as a
parameter, every key is known. A problem raises `RuleError` with the rule path
(`rule.all[1].trait`); segments.py adds the file name. docs/segments.md is the reference.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.activation.columns import (
    ACCOUNTS,
    EVENTS,
    PROFILES,
    Column,
    ColumnType,
    WarehouseSchema,
)

SEGMENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Segment call types (fct_events.event_type accepts exactly these).
EVENT_TYPES = ("track", "page", "screen", "identify", "alias")


class RuleError(ValueError):
    """A rule that cannot run: `path` is where in the YAML (e.g. `rule.all[1].trait`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --------------------------------------------------------------------------- durations

_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_DURATION = re.compile(r"\s*(\d+)\s*(minute|hour|day|week)s?\s*")


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


def parse_duration(raw: Any, path: str) -> Duration:
    match = _DURATION.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise RuleError(
            path,
            f"expected a duration like '4 hours' or '180 days' (a positive whole number and "
            f"one of minutes, hours, days, weeks), got {_show(raw)}",
        )
    return Duration(int(match.group(1)), match.group(2))


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
_ALLOWED: dict[str, tuple[ColumnType, ...]] = {
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
_KIND_NAMES = {
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


def columns_used(node: Node, schema: WarehouseSchema) -> set[Column]:
    """Every column the compiled SQL names, including the join keys it relies on."""
    used: set[Column] = set()
    for leaf in leaves(node):
        if isinstance(leaf, Comparison):
            used.add(leaf.column)
            if leaf.column.table == ACCOUNTS:
                used.update(_required(schema, PROFILES, "account_id", leaf.path))
                used.update(_required(schema, ACCOUNTS, "account_id", leaf.path))
        specs: list[EventSpec] = []
        if isinstance(leaf, Did):
            specs.append(leaf.event)
        if isinstance(leaf, Did | EnteredSegment) and leaf.not_followed_by is not None:
            specs.append(leaf.not_followed_by)
        for spec in specs:
            used.update(_event_columns(schema, leaf.path))
            used.update(f.column for f in spec.filters)
    used.update(_required(schema, PROFILES, "person_id", "rule"))
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


# --------------------------------------------------------------------------- parsing


class RuleParser:
    """Parses the `rule:` of one segment against a schema."""

    NODE_KEYS = (
        "all",
        "any",
        "not",
        "trait",
        "account_trait",
        "did",
        "did_not",
        "entered_segment",
        "in_segment",
    )

    def __init__(self, schema: WarehouseSchema) -> None:
        self.schema = schema

    def parse(self, raw: Any, path: str = "rule") -> Node:
        if not isinstance(raw, Mapping) or not raw:
            raise RuleError(
                path,
                f"expected a condition (a mapping with one of {', '.join(self.NODE_KEYS)}), "
                f"got {_show(raw)}",
            )
        kinds = [key for key in raw if key in self.NODE_KEYS]
        if len(kinds) > 1:
            raise RuleError(
                path,
                f"one condition per item, found {', '.join(kinds)}: list several under "
                "'all:' or 'any:'",
            )
        if not kinds:
            unknown = next(iter(raw))
            raise RuleError(
                f"{path}.{unknown}", _unknown_key(unknown, self.NODE_KEYS, "a condition")
            )
        kind = kinds[0]
        if kind in ("all", "any"):
            _only_keys(raw, (kind,), path)
            items = raw[kind]
            if not isinstance(items, list) or not items:
                raise RuleError(f"{path}.{kind}", "expected a non-empty list of conditions")
            children = tuple(
                self.parse(item, f"{path}.{kind}[{index}]") for index, item in enumerate(items)
            )
            return AllOf(path, children) if kind == "all" else AnyOf(path, children)
        if kind == "not":
            _only_keys(raw, ("not",), path)
            return Not(path, self.parse(raw["not"], f"{path}.not"))
        if kind == "trait":
            return self.comparison(raw, PROFILES, "trait", path)
        if kind == "account_trait":
            _required(self.schema, PROFILES, "account_id", f"{path}.account_trait")
            _required(self.schema, ACCOUNTS, "account_id", f"{path}.account_trait")
            return self.comparison(raw, ACCOUNTS, "account_trait", path)
        if kind in ("did", "did_not"):
            _only_keys(raw, (kind,), path)
            return self.did(raw[kind], f"{path}.{kind}", node_path=path, negated=kind == "did_not")
        if kind == "entered_segment":
            _only_keys(raw, (kind,), path)
            return self.entered_segment(raw[kind], f"{path}.{kind}", node_path=path)
        _only_keys(raw, ("in_segment",), path)
        return InSegment(path, _segment_name(raw["in_segment"], f"{path}.in_segment"))

    # A comparison: {<column_key>: <column>, <operator>: <value>}.
    def comparison(
        self, raw: Mapping[str, Any], table: str, column_key: str, path: str
    ) -> Comparison:
        operators = [key for key in raw if key != column_key]
        if not operators:
            raise RuleError(
                path,
                f"'{column_key}: {raw.get(column_key)}' needs an operator ({', '.join(OPERATORS)})",
            )
        if len(operators) > 1:
            raise RuleError(
                path,
                f"one operator per comparison, found {', '.join(map(str, operators))}: "
                "combine comparisons with 'all:' or 'any:'",
            )
        key = operators[0]
        operator = SYMBOLS.get(key, key) if isinstance(key, str) else key
        if operator not in OPERATORS:
            raise RuleError(f"{path}.{key}", _unknown_key(key, OPERATORS, "an operator"))
        column = self.column(raw.get(column_key), table, f"{path}.{column_key}")
        op_path = f"{path}.{key}"
        if column.kind not in _ALLOWED[operator]:
            raise RuleError(
                op_path,
                f"'{operator}' does not apply to '{column.name}', which is "
                f"{_KIND_NAMES[column.kind]} ({column.data_type}); it applies to "
                + ", ".join(_KIND_NAMES[kind] for kind in _ALLOWED[operator])
                + " columns",
            )
        value = _value(operator, raw[key], column, op_path)
        return Comparison(path, column, operator, value)

    def column(self, raw: Any, table: str, path: str) -> Column:
        if not self.schema.has_table(table):
            raise RuleError(path, f"table {table} is not in {self.schema.source}")
        if not isinstance(raw, str):
            raise RuleError(path, f"expected a column name of {table}, got {_show(raw)}")
        column = self.schema.column(table, raw)
        if column is None:
            names = list(self.schema.columns(table))
            close = difflib.get_close_matches(raw, names, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise RuleError(path, f"column '{raw}' is not a column of {table}{hint}")
        return column

    def event_spec(self, raw: Mapping[str, Any], path: str) -> EventSpec:
        names = _names(raw.get("event"), f"{path}.event") if "event" in raw else ()
        types = _names(raw.get("type"), f"{path}.type") if "type" in raw else ()
        for index, event_type in enumerate(types):
            if event_type not in EVENT_TYPES:
                where = f"{path}.type" + (f"[{index}]" if isinstance(raw["type"], list) else "")
                raise RuleError(where, _unknown_key(event_type, EVENT_TYPES, "an event type"))
        filters: list[Comparison] = []
        if "where" in raw:
            items = raw["where"]
            if not isinstance(items, list) or not items:
                raise RuleError(
                    f"{path}.where",
                    "expected a non-empty list of column filters like "
                    "{column: page_path, starts_with: /pricing}",
                )
            for index, item in enumerate(items):
                item_path = f"{path}.where[{index}]"
                if not isinstance(item, Mapping) or "column" not in item:
                    raise RuleError(
                        item_path,
                        f"expected a filter like {{column: page_path, equals: /pricing}}, "
                        f"got {_show(item)}",
                    )
                filters.append(self.comparison(item, EVENTS, "column", item_path))
        return EventSpec(names, types, tuple(filters))

    def did(self, raw: Any, path: str, *, node_path: str, negated: bool) -> Did:
        if not isinstance(raw, Mapping):
            raise RuleError(
                path,
                f"expected a mapping like {{event: Product Added, within: 4 hours}}, "
                f"got {_show(raw)}",
            )
        _only_keys(
            raw,
            ("event", "type", "where", "within", "older_than", "min_times", "not_followed_by"),
            path,
        )
        _event_columns(self.schema, path)
        min_times = raw.get("min_times", 1)
        if isinstance(min_times, bool) or not isinstance(min_times, int) or min_times < 1:
            raise RuleError(
                f"{path}.min_times", f"expected a whole number >= 1, got {_show(min_times)}"
            )
        return Did(
            node_path,
            event=self.event_spec(raw, path),
            window=_window(raw, path),
            min_times=min_times,
            not_followed_by=self.followed(raw, path),
            negated=negated,
        )

    def entered_segment(self, raw: Any, path: str, *, node_path: str) -> EnteredSegment:
        if not isinstance(raw, Mapping) or "segment" not in raw:
            raise RuleError(
                path,
                "expected a mapping like {segment: abandoned_cart, older_than: 4 hours}, "
                f"got {_show(raw)}",
            )
        _only_keys(raw, ("segment", "within", "older_than", "not_followed_by"), path)
        return EnteredSegment(
            node_path,
            segment=_segment_name(raw["segment"], f"{path}.segment"),
            window=_window(raw, path),
            not_followed_by=self.followed(raw, path),
        )

    def followed(self, raw: Mapping[str, Any], path: str) -> EventSpec | None:
        if "not_followed_by" not in raw:
            return None
        spec_path = f"{path}.not_followed_by"
        spec = raw["not_followed_by"]
        if not isinstance(spec, Mapping) or not spec:
            raise RuleError(
                spec_path, f"expected events like {{event: Order Completed}}, got {_show(spec)}"
            )
        _only_keys(spec, ("event", "type", "where"), spec_path)
        _event_columns(self.schema, spec_path)
        return self.event_spec(spec, spec_path)


# --------------------------------------------------------------------------- helpers


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if value is None:
        return "nothing"
    return str(value)


def _plain(value: Any) -> str:
    """A value as a rule description shows it (`in ['champions', 'loyal']`, `at least 4`)."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_plain(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _unknown_key(key: Any, known: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"'{key}' is not {what}: {hint}expected one of {', '.join(known)}"


def _only_keys(raw: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    for key in raw:
        if key not in allowed:
            raise RuleError(f"{path}.{key}", _unknown_key(key, allowed, "allowed here"))


def _required(schema: WarehouseSchema, table: str, name: str, path: str) -> set[Column]:
    column = schema.column(table, name)
    if column is None:
        raise RuleError(path, f"this condition needs column '{name}' of {table}, which is missing")
    return {column}


def _event_columns(schema: WarehouseSchema, path: str) -> set[Column]:
    if not schema.has_table(EVENTS):
        raise RuleError(path, f"event conditions need table {EVENTS}, not in {schema.source}")
    return set().union(
        *(
            _required(schema, EVENTS, name, path)
            for name in ("person_id", "event_name", "event_type", "event_at")
        )
    )


def _names(raw: Any, path: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, str) and item.strip() for item in items):
        raise RuleError(path, f"expected a name or a non-empty list of names, got {_show(raw)}")
    return tuple(items)


def _segment_name(raw: Any, path: str) -> str:
    if not isinstance(raw, str) or not SEGMENT_NAME.fullmatch(raw):
        raise RuleError(path, f"expected a segment name (snake_case), got {_show(raw)}")
    return raw


def _window(raw: Mapping[str, Any], path: str) -> Window:
    within = parse_duration(raw["within"], f"{path}.within") if "within" in raw else None
    older = parse_duration(raw["older_than"], f"{path}.older_than") if "older_than" in raw else None
    if within and older and older.delta >= within.delta:
        raise RuleError(
            f"{path}.older_than",
            f"older_than ({older}) must be shorter than within ({within}): nothing can match",
        )
    return Window(within=within, older_than=older)


def _scalar(raw: Any, column: Column, path: str) -> Any:
    """A YAML value checked against the column's type (and parsed for timestamps)."""
    kind = column.kind
    expected = {
        ColumnType.TEXT: "a quoted string",
        ColumnType.NUMBER: "a number",
        ColumnType.BOOLEAN: "true or false",
        ColumnType.TIMESTAMP: "a date or timestamp (2026-01-31 or 2026-01-31T08:00:00Z)",
        ColumnType.DATE: "a date (2026-01-31)",
    }.get(kind, "nothing")
    problem = (
        f"'{column.name}' is {_KIND_NAMES[kind]} ({column.data_type}): the value must be "
        f"{expected}, got {_show(raw)}"
    )
    if kind == ColumnType.TEXT:
        if not isinstance(raw, str):
            raise RuleError(path, problem)
        return raw
    if kind == ColumnType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise RuleError(path, problem)
        return raw
    if kind == ColumnType.BOOLEAN:
        if not isinstance(raw, bool):
            raise RuleError(path, problem)
        return raw
    if kind in (ColumnType.TIMESTAMP, ColumnType.DATE):
        moment = _moment(raw)
        if moment is None:
            raise RuleError(path, problem)
        if kind == ColumnType.DATE:
            return moment.date() if isinstance(moment, dt.datetime) else moment
        if not isinstance(moment, dt.datetime):
            return dt.datetime.combine(moment, dt.time())
        return moment
    raise RuleError(path, problem)


def _moment(raw: Any) -> dt.date | dt.datetime | None:
    """A YAML date/timestamp, or an ISO-8601 string, as a naive UTC value."""
    if isinstance(raw, str):
        try:
            raw = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(raw, dt.datetime):
        if raw.tzinfo is not None:
            raw = raw.astimezone(dt.UTC).replace(tzinfo=None)
        return raw
    if isinstance(raw, dt.date):
        return raw
    return None


def _value(operator: str, raw: Any, column: Column, path: str) -> Any:
    if operator in NULL_OPERATORS:
        if raw is not True:
            raise RuleError(path, f"write '{operator}: true' (it takes no value), got {_show(raw)}")
        return None
    if operator in RELATIVE_OPERATORS:
        return parse_duration(raw, path)
    if operator in LIST_OPERATORS:
        if not isinstance(raw, list) or not raw:
            raise RuleError(path, f"expected a non-empty list of values, got {_show(raw)}")
        return tuple(_scalar(item, column, f"{path}[{index}]") for index, item in enumerate(raw))
    if operator in TEXT_OPERATORS and (not isinstance(raw, str) or not raw):
        raise RuleError(path, f"expected a non-empty quoted string, got {_show(raw)}")
    return _scalar(raw, column, path)
