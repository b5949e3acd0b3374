"""Compile a segment's condition tree into one parameterised DuckDB query.

The query returns one row per profile: `person_id`, `is_member`, one boolean column per
leaf (`leaf_0`, ...) and `pattern` (the leaf values as a string of 0/1, for explaining
who entered or left why). Identifiers come from the schema (`Column.sql`) or are
constants here; every value (event names, thresholds, cut-off timestamps, segment
names) is a `?` parameter. Nothing from a YAML file is pasted into the SQL text.

"Now" is the `as_of` passed in (the pipeline's `intermediate.int_as_of`); windows are
inclusive: `within: 4 hours` = at most 4 hours ago and not after now, `older_than:
180 days` = at least 180 days ago. Each leaf is coalesced to false, so a comparison with
a NULL trait is false and `not:` is its exact complement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from orchestration.activation.columns import (
    ACCOUNTS,
    EVENTS,
    MARTS_SCHEMA,
    PROFILES,
    Column,
    WarehouseSchema,
)
from orchestration.activation.rules import (
    COMPARISON_SQL,
    AllOf,
    AnyOf,
    Comparison,
    Did,
    EnteredSegment,
    EventSpec,
    InSegment,
    Leaf,
    Node,
    Not,
    Window,
    leaves,
)

PROFILES_RELATION = f"{MARTS_SCHEMA}.{PROFILES}"
EVENTS_RELATION = f"{MARTS_SCHEMA}.{EVENTS}"
ACCOUNTS_RELATION = f"{MARTS_SCHEMA}.{ACCOUNTS}"
MEMBERSHIP_RELATION = f"{MARTS_SCHEMA}.segment_membership"
HISTORY_RELATION = f"{MARTS_SCHEMA}.segment_membership_history"

Sql = tuple[str, list[Any]]


@dataclass(frozen=True)
class CompiledRule:
    sql: str
    params: list[Any]
    leaves: tuple[Leaf, ...]  # leaf_<i> is leaves[i]


def compile_rule(root: Node, schema: WarehouseSchema, as_of: dt.datetime) -> CompiledRule:
    """The membership query of `root` (audience, consent and rule) at `as_of`."""
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(dt.UTC).replace(tzinfo=None)
    compiler = _Compiler(schema, as_of)
    found = tuple(leaves(root))
    index = {leaf.path: position for position, leaf in enumerate(found)}
    if len(index) != len(found):
        raise ValueError("leaf paths must be unique")
    person = compiler.column(PROFILES, "person_id")
    select = [f"profiles.{person.sql} as person_id"]
    params: list[Any] = []
    for position, leaf in enumerate(found):
        sql, leaf_params = compiler.leaf(leaf)
        select.append(f"coalesce({sql}, false) as leaf_{position}")
        params.extend(leaf_params)
    member = _combine(root, index)
    pattern = ", ".join(f"cast(leaf_{i} as integer)" for i in range(len(found)))
    leaf_columns = ", ".join(f"leaf_{i}" for i in range(len(found)))
    sql = (
        "with leaves as (\n    select\n        "
        + ",\n        ".join(select)
        + f"\n    from {PROFILES_RELATION} as profiles\n)\n"
        + f"select person_id, {member} as is_member, concat({pattern}) as pattern, "
        + f"{leaf_columns}\nfrom leaves"
    )
    return CompiledRule(sql=sql, params=params, leaves=found)


def _combine(node: Node, index: dict[str, int]) -> str:
    if isinstance(node, AllOf):
        return "(" + " and ".join(_combine(child, index) for child in node.children) + ")"
    if isinstance(node, AnyOf):
        return "(" + " or ".join(_combine(child, index) for child in node.children) + ")"
    if isinstance(node, Not):
        return f"(not {_combine(node.child, index)})"
    return f"leaf_{index[node.path]}"


class _Compiler:
    def __init__(self, schema: WarehouseSchema, as_of: dt.datetime) -> None:
        self.schema = schema
        self.as_of = as_of

    def column(self, table: str, name: str) -> Column:
        column = self.schema.column(table, name)
        if column is None:  # parsing checked it; a schema swapped in between did not
            raise ValueError(f"column {name} is missing from {table}")
        return column

    def leaf(self, leaf: Leaf) -> Sql:
        if isinstance(leaf, Comparison):
            if leaf.column.table == ACCOUNTS:
                return self.account(leaf)
            return self.comparison(leaf, "profiles")
        if isinstance(leaf, Did):
            return self.did(leaf)
        if isinstance(leaf, EnteredSegment):
            return self.entered(leaf)
        if isinstance(leaf, InSegment):
            person = self.column(PROFILES, "person_id").sql
            return (
                f"exists (select 1 from {MEMBERSHIP_RELATION} as membership "
                f"where membership.segment_name = ? and membership.person_id = profiles.{person})",
                [leaf.segment],
            )
        raise TypeError(f"cannot compile {type(leaf).__name__}")

    def comparison(self, leaf: Comparison, alias: str) -> Sql:
        column = f"{alias}.{leaf.column.sql}"
        operator, value = leaf.operator, leaf.value
        if operator in COMPARISON_SQL:
            return f"{column} {COMPARISON_SQL[operator]} ?", [value]
        if operator in ("in", "not_in"):
            marks = ", ".join("?" for _ in value)
            keyword = "in" if operator == "in" else "not in"
            return f"{column} {keyword} ({marks})", list(value)
        if operator == "is_null":
            return f"{column} is null", []
        if operator == "is_not_null":
            return f"{column} is not null", []
        if operator == "starts_with":
            return f"starts_with({column}, ?)", [value]
        if operator == "contains":
            return f"contains({column}, ?)", [value]
        if operator == "older_than":
            return f"{column} <= ?", [self.as_of - value.delta]
        if operator == "within":
            return f"({column} >= ? and {column} <= ?)", [self.as_of - value.delta, self.as_of]
        raise ValueError(f"unknown operator {operator}")

    def account(self, leaf: Comparison) -> Sql:
        person_account = self.column(PROFILES, "account_id").sql
        account_id = self.column(ACCOUNTS, "account_id").sql
        condition, params = self.comparison(leaf, "accounts")
        return (
            f"exists (select 1 from {ACCOUNTS_RELATION} as accounts "
            f"where accounts.{account_id} = profiles.{person_account} and {condition})",
            params,
        )

    def events(self, spec: EventSpec, alias: str) -> Sql:
        """`alias`'s conditions for `spec` (names, types, filters)."""
        parts: list[str] = []
        params: list[Any] = []
        if spec.names:
            name = self.column(EVENTS, "event_name").sql
            parts.append(f"{alias}.{name} in ({', '.join('?' for _ in spec.names)})")
            params.extend(spec.names)
        if spec.types:
            event_type = self.column(EVENTS, "event_type").sql
            parts.append(f"{alias}.{event_type} in ({', '.join('?' for _ in spec.types)})")
            params.extend(spec.types)
        for comparison in spec.filters:
            sql, filter_params = self.comparison(comparison, alias)
            parts.append(sql)
            params.extend(filter_params)
        return " and ".join(parts) or "true", params

    def window(self, timestamp: str, window: Window) -> Sql:
        parts = [f"{timestamp} <= ?"]
        params: list[Any] = [self.as_of]
        if window.within is not None:
            parts.append(f"{timestamp} >= ?")
            params.append(self.as_of - window.within.delta)
        if window.older_than is not None:
            parts.append(f"{timestamp} <= ?")
            params.append(self.as_of - window.older_than.delta)
        return " and ".join(parts), params

    def none_after(self, spec: EventSpec, person: str, since: str) -> Sql:
        """No `spec` event of `person` after `since` up to now."""
        person_id = self.column(EVENTS, "person_id").sql
        event_at = self.column(EVENTS, "event_at").sql
        condition, params = self.events(spec, "later")
        return (
            f"not exists (select 1 from {EVENTS_RELATION} as later "
            f"where later.{person_id} = {person} and {condition} "
            f"and later.{event_at} > {since} and later.{event_at} <= ?)",
            [*params, self.as_of],
        )

    def did(self, leaf: Did) -> Sql:
        person_id = self.column(EVENTS, "person_id").sql
        event_at = self.column(EVENTS, "event_at").sql
        profile_person = self.column(PROFILES, "person_id").sql
        condition, params = self.events(leaf.event, "events")
        window, window_params = self.window(f"events.{event_at}", leaf.window)
        where = f"events.{person_id} = profiles.{profile_person} and {condition} and {window}"
        where_params = [*params, *window_params]
        parts: list[str] = []
        out: list[Any] = []
        if leaf.min_times > 1:
            parts.append(f"(select count(*) from {EVENTS_RELATION} as events where {where}) >= ?")
            out.extend([*where_params, leaf.min_times])
        if leaf.not_followed_by is not None or leaf.min_times == 1:
            exists_where, exists_params = where, list(where_params)
            if leaf.not_followed_by is not None:
                after, after_params = self.none_after(
                    leaf.not_followed_by, f"events.{person_id}", f"events.{event_at}"
                )
                exists_where += f" and {after}"
                exists_params.extend(after_params)
            parts.append(f"exists (select 1 from {EVENTS_RELATION} as events where {exists_where})")
            out.extend(exists_params)
        sql = " and ".join(parts)
        return (f"(not ({sql}))" if leaf.negated else f"({sql})"), out

    def entered(self, leaf: EnteredSegment) -> Sql:
        profile_person = self.column(PROFILES, "person_id").sql
        window, window_params = self.window("history.entered_at", leaf.window)
        where = (
            f"history.segment_name = ? and history.person_id = profiles.{profile_person} "
            f"and {window}"
        )
        params: list[Any] = [leaf.segment, *window_params]
        if leaf.not_followed_by is not None:
            after, after_params = self.none_after(
                leaf.not_followed_by, "history.person_id", "history.entered_at"
            )
            where += f" and {after}"
            params.extend(after_params)
        return f"exists (select 1 from {HISTORY_RELATION} as history where {where})", params
