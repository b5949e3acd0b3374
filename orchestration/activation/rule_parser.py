"""Parsing segment rules: YAML -> the typed nodes of rule_ast.py, checked against the schema.

Parsing is validation: every column is looked up in the schema (never copied from the
YAML into SQL), every value is checked against the column's type (compiler.py renders
it as an escaped literal), every key is known. A problem raises `RuleError` with the
rule path (`rule.all[1].trait`); segment_files.py adds the file name.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from orchestration.activation.columns import (
    ACCOUNTS,
    EVENTS,
    PROFILES,
    Column,
    ColumnType,
    WarehouseSchema,
)
from orchestration.activation.rule_ast import (
    EVENT_TYPES,
    KIND_NAMES,
    LIST_OPERATORS,
    NULL_OPERATORS,
    OPERATOR_KINDS,
    OPERATORS,
    RELATIVE_OPERATORS,
    SEGMENT_NAME,
    SYMBOLS,
    TEXT_OPERATORS,
    AllOf,
    AnyOf,
    Comparison,
    Did,
    Duration,
    EnteredSegment,
    EventSpec,
    InSegment,
    Node,
    Not,
    RuleError,
    Window,
    leaves,
)

_DURATION = re.compile(r"\s*(\d+)\s*(minute|hour|day|week)s?\s*")


def parse_duration(raw: Any, path: str) -> Duration:
    match = _DURATION.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise RuleError(
            path,
            f"expected a duration like '4 hours' or '180 days' (a positive whole number and "
            f"one of minutes, hours, days, weeks), got {_show(raw)}",
        )
    return Duration(int(match.group(1)), match.group(2))


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
        if column.kind not in OPERATOR_KINDS[operator]:
            raise RuleError(
                op_path,
                f"'{operator}' does not apply to '{column.name}', which is "
                f"{KIND_NAMES[column.kind]} ({column.data_type}); it applies to "
                + ", ".join(KIND_NAMES[kind] for kind in OPERATOR_KINDS[operator])
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
    return tuple(portable_text(item, path) for item in items)


def portable_text(raw: str, path: str) -> str:
    """A text value the generated SQL can hold as a literal on every engine: Spark reads
    a backslash in a literal as an escape and DuckDB does not, so it is refused."""
    if re.search(r"[\\\x00\r]", raw):
        raise RuleError(
            path,
            f"{_show(raw)} contains a backslash, NUL or carriage return: not allowed in "
            "values (SQL engines read them differently)",
        )
    return raw


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
        f"'{column.name}' is {KIND_NAMES[kind]} ({column.data_type}): the value must be "
        f"{expected}, got {_show(raw)}"
    )
    if kind == ColumnType.TEXT:
        if not isinstance(raw, str):
            raise RuleError(path, problem)
        return portable_text(raw, path)
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
    if operator in TEXT_OPERATORS:
        portable_text(raw, path)
    return _scalar(raw, column, path)
