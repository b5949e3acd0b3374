"""Compile a validated segment into the text of its dbt model (`seg_<name>.sql`).

The model is portable SQL (no `qualify`, no `group by all`, no engine-only function: time
arithmetic goes through `dbt.dateadd`) and reads everything through `ref()`. It is an
append-only change log (incremental, `append` on every engine): each build evaluates the
rule for every profile at the pipeline's "now" (`int_as_of`) and appends an `entered` row
for a new member and an `exited` row for the open stay of a person who no longer
qualifies, with the conditions that held or stopped holding (`reason`), by rule path. The
model holds the rule; the log tail is the dbt macro `cdp.segment_stay_changes`, and
`cdp.segment_stays` pairs a log's rows back into stays (for `in_segment` /
`entered_segment` and the membership models).

Safety: identifiers come from the schema (`Column.name`, checked to be a plain
identifier), or are constants here; every value from a YAML file goes through
`sql_literal`, the one function that writes a SQL literal (quotes doubled, Jinja
delimiters neutralised, backslashes refused), so `x' or '1'='1` is compared as the
string it is and `{{ ... }}` is never executed by dbt.

Each leaf becomes a boolean column `leaf_<i>` (NULL folded to false, so `not:` is the
exact complement). Event conditions are aggregates per person joined to the profiles
(no correlated subqueries, which Spark does not run in a select list): "did X in the
window, not followed by Y" holds when the latest X in the window has no Y after it up to
now, which is exactly "some X in the window has no Y after it".
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from orchestration.activation.columns import ACCOUNTS, EVENTS, PROFILES, Column
from orchestration.activation.model import SegmentDefinition
from orchestration.activation.rule_ast import (
    COMPARISON_SQL,
    AllOf,
    AnyOf,
    Comparison,
    Did,
    Duration,
    EnteredSegment,
    EventSpec,
    InSegment,
    Leaf,
    Node,
    Not,
    Window,
    leaves,
)
from orchestration.activation.segment_files import is_implicit

MODEL_PREFIX = "seg_"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_CHUNK = 48  # characters of a string literal per line, so generated models stay < 100 wide


def model_name(segment: str) -> str:
    return f"{MODEL_PREFIX}{segment}"


def _stays(segment: str) -> str:
    """The stays (open and closed) of another segment's change log, as a subquery body."""
    return f"{{{{ cdp.segment_stays(ref('{model_name(segment)}')) }}}}"


# --------------------------------------------------------------------------- literals


def sql_literal(value: Any, indent: str = "") -> str:
    """`value` as a SQL literal that means the same on DuckDB and Spark inside a dbt model.

    Strings: a single quote as `chr(39)` (see _string); `{` before `{`, `%` or `#`
    written as `{{ '{' }}` so dbt's Jinja prints it instead of running it; long strings
    split into `'...' || '...'`
    (in parentheses, for a line indented by `indent`). Backslashes are refused (Spark reads them as
    escapes, DuckDB does not, so the same literal would mean two things), and so are NUL and
    CR (Jinja turns CR into a newline) (validation
    refuses them earlier, naming the file). Numbers must be finite; dates and timestamps
    (naive UTC) become casts.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return f"cast({_string(value.isoformat(sep=' '))} as timestamp)"
    if isinstance(value, dt.date):
        return f"cast({_string(value.isoformat())} as date)"
    if isinstance(value, str):
        if re.search(r"[\\\x00\r]", value):
            raise ValueError(f"backslashes, NUL and CR are not allowed in values: {value!r}")
        chunks = _chunks(value)
        if len(chunks) == 1:
            return _string(chunks[0])
        inner = indent + "    "
        pieces = f"\n{inner}|| ".join(_string(chunk) for chunk in chunks)
        return f"(\n{inner}{pieces}\n{indent})"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


# What a quote adds to a literal's width: `' || chr(39) || '` for one character.
_QUOTE_WIDTH = len("' || chr(39) || '") - 1


def _width(text: str) -> int:
    return len(text) + text.count("'") * _QUOTE_WIDTH


def _chunks(text: str) -> list[str]:
    """`text` cut into pieces of at most _CHUNK characters as written (a quote counts as
    its `chr(39)` spelling), after a space where possible."""
    chunks: list[str] = []
    while _width(text) > _CHUNK:
        limit = 1
        while limit < len(text) and _width(text[: limit + 1]) <= _CHUNK:
            limit += 1
        cut = text.rfind(" ", 1, limit) + 1 or limit
        chunks.append(text[:cut])
        text = text[cut:]
    return [*chunks, text]


def _string(text: str) -> str:
    """One literal; a quote inside it is spelled `chr(39)`: Spark's parser reads `''` as two
    adjacent literals (`'a''b'` is `ab` there), so doubling would mean two things."""
    pieces = ["'" + re.sub(r"\{(?=[{%#])", "{{ '{' }}", piece) + "'" for piece in text.split("'")]
    if len(pieces) == 1:
        return pieces[0]
    return "(" + " || chr(39) || ".join(pieces) + ")"


def identifier(column: Column) -> str:
    """A column name from the schema, as a plain identifier (the same on every engine)."""
    if not _IDENTIFIER.fullmatch(column.name):
        raise ValueError(
            f"column {column.table}.{column.name} is not a plain lower-case identifier: "
            "segment rules cannot name it"
        )
    return column.name


# --------------------------------------------------------------------------- the model


def compile_segment(definition: SegmentDefinition, condition: Node, header: str) -> str:
    """The model text for `definition`; `condition` is its membership condition
    (audience, consent and rule: segment_files.membership_condition)."""
    return _Model(definition, condition).render(header)


class _Model:
    def __init__(self, definition: SegmentDefinition, condition: Node) -> None:
        self.definition = definition
        self.condition = condition
        self.found = tuple(leaves(condition))
        self.index = {leaf.path: position for position, leaf in enumerate(self.found)}
        if len(self.index) != len(self.found):
            raise ValueError("leaf paths must be unique")
        # all/any/not nodes by path: (number, height); the root is node_0
        self.nodes = {
            node.path: (number, _height(node))
            for number, node in enumerate(_inner_nodes(condition))
        }
        self.last_nodes = "leaves"
        self.imports: dict[str, str] = {}  # cte name -> ref
        self.ctes: list[tuple[str, str]] = []
        self.joins: list[str] = []

    # ---- leaves

    def render(self, header: str) -> str:
        columns = [self.leaf(position, leaf) for position, leaf in enumerate(self.found)]
        member = self.combine(self.condition)
        entered = self.reason(self.condition, True)
        exited = self.reason(self.condition, False)
        segment = sql_literal(self.definition.name)
        attributes = (
            sql_literal(json.dumps(self.definition.attributes, sort_keys=True), " " * 8)
            if self.definition.attributes
            else "cast(null as string)"
        )
        tags = f"['{self.definition.refresh.value}']"
        parts = [
            header,
            "{{\n    config(\n"
            "        materialized='incremental',\n"
            # Only new rows, never an update: plain Parquet tables on Spark take it.
            "        incremental_strategy='append',\n"
            "        on_schema_change='append_new_columns',\n"
            "        full_refresh=false,\n"
            f"        tags={tags}\n"
            "    )\n}}\n",
            "with\n\n",
            "{as_of}",
            "profiles as (\n    select * from {{ ref('customer_profiles') }}\n),\n\n",
        ]
        parts += [
            f"{name} as (\n    select * from {{{{ ref('{ref}') }}}}\n),\n\n"
            for name, ref in self.imports.items()
        ]
        parts += [f"{name} as (\n{body}\n),\n\n" for name, body in self.ctes]
        joins = "".join(f"\n    {join}" for join in self.joins)
        leaf_columns = ",\n".join(f"        {sql} as leaf_{i}" for i, sql in enumerate(columns))
        parts.append(
            "leaves as (\n"
            "    select\n"
            "        profiles.person_id,\n"
            f"{leaf_columns}\n"
            "    from profiles\n"
            f"    cross join as_of{joins}\n"
            "),\n\n"
        )
        parts.append(self.node_ctes())
        parts.append(
            "evaluated as (\n"
            "    select\n"
            "        *,\n"
            f"        coalesce({member}, false) as is_member\n"
            f"    from {self.last_nodes}\n"
            "),\n\n"
        )
        parts.append(
            "explained as (\n"
            "    -- The conditions that hold (members) or do not (everyone else), by rule path.\n"
            "    select\n"
            "        person_id,\n"
            "        is_member,\n"
            "        case\n"
            f"            when is_member\n                then {entered}\n"
            "        end as entered_because,\n"
            "        case\n"
            f"            when not is_member\n                then {exited}\n"
            "        end as exited_because\n"
            "    from evaluated\n"
            "),\n\n"
        )
        parts.append(
            "segment as (\n"
            "    -- The segment's constants, for the change log (cdp.segment_stay_changes).\n"
            "    select\n"
            f"        {segment} as segment_name,\n"
            f"        {attributes} as attributes\n"
            "),\n\n"
            "{{ cdp.segment_stay_changes() }}\n"
        )
        text = "".join(parts)
        return text.replace("{as_of}", _as_of_cte(text), 1)

    def use(self, name: str, ref: str) -> str:
        self.imports.setdefault(name, ref)
        return name

    def leaf(self, position: int, leaf: Leaf) -> str:
        cte = f"leaf_{position}_matches"
        if isinstance(leaf, Comparison) and leaf.column.table == PROFILES:
            condition = comparison(leaf, "profiles")
            return f"coalesce(\n            {condition},\n            false\n        )"
        if isinstance(leaf, Comparison):  # an account trait
            accounts = self.use("accounts", ACCOUNTS)
            self.ctes.append(
                (
                    cte,
                    "    select profiles.person_id\n"
                    "    from profiles\n"
                    f"    inner join {accounts}\n"
                    f"        on profiles.account_id = {accounts}.account_id\n"
                    "    cross join as_of\n"
                    f"    where {comparison(leaf, accounts)}",
                )
            )
            self.joins.append(f"left join {cte} on profiles.person_id = {cte}.person_id")
            return f"{cte}.person_id is not null"
        if isinstance(leaf, InSegment):
            self.ctes.append(
                (
                    cte,
                    "    select distinct stays.person_id\n"
                    f"    from ({_stays(leaf.segment)}) as stays\n"
                    "    where stays.exited_at is null",
                )
            )
            self.joins.append(f"left join {cte} on profiles.person_id = {cte}.person_id")
            return f"{cte}.person_id is not null"
        if isinstance(leaf, Did):
            events = self.use("events", EVENTS)
            where = [
                *event_conditions(leaf.event, events),
                *window(f"{events}.event_at", leaf.window),
            ]
            self.ctes.append(
                (cte, _aggregate(events, f"{events}.person_id", f"{events}.event_at", where))
            )
            value = self.followed(position, cte, leaf.min_times, leaf.not_followed_by)
            return f"not {value}" if leaf.negated else value
        if isinstance(leaf, EnteredSegment):
            source = f"({_stays(leaf.segment)}) as stays"
            where = window("stays.entered_at", leaf.window)
            self.ctes.append(
                (cte, _aggregate(source, "stays.person_id", "stays.entered_at", where))
            )
            return self.followed(position, cte, 1, leaf.not_followed_by)
        raise TypeError(f"cannot compile {type(leaf).__name__}")

    def followed(self, position: int, cte: str, min_times: int, after: EventSpec | None) -> str:
        """The leaf's value from its matches (`cte`) and, with `not_followed_by`, the
        person's latest such event up to now."""
        self.joins.append(f"left join {cte} on profiles.person_id = {cte}.person_id")
        holds = f"\n            {cte}.matching_count >= {min_times}"
        if after is not None:
            events = self.use("events", EVENTS)
            later = f"leaf_{position}_followed"
            where = [*event_conditions(after, events), f"{events}.event_at <= as_of.as_of_at"]
            self.ctes.append(
                (later, _aggregate(events, f"{events}.person_id", f"{events}.event_at", where))
            )
            self.joins.append(f"left join {later} on profiles.person_id = {later}.person_id")
            holds += (
                f"\n            and (\n                {later}.latest_at is null"
                f"\n                or {later}.latest_at <= {cte}.latest_at\n            )"
            )
        return f"coalesce({holds},\n            false\n        )"

    # ---- combining and explaining

    def combine(self, node: Node) -> str:
        """The column holding `node`'s value: `leaf_<i>`, or `node_<k>` for all/any/not."""
        if isinstance(node, Leaf):
            return f"leaf_{self.index[node.path]}"
        return f"node_{self.nodes[node.path][0]}"

    def node_expression(self, node: Node) -> str:
        if isinstance(node, Not):
            return f"not {self.combine(node.child)}"
        assert isinstance(node, AllOf | AnyOf)
        keyword = " and " if isinstance(node, AllOf) else " or "
        children = [self.combine(child) for child in node.children]
        if len(", ".join(children)) <= 60:
            return "(" + keyword.join(children) + ")"
        inner = f"\n{' ' * 12}{keyword.strip()} "
        return f"(\n{' ' * 12}" + inner.join(children) + f"\n{' ' * 8})"

    def node_ctes(self) -> str:
        """One CTE per height of the tree (leaves are height 0): each adds the all/any/not
        nodes whose children are all in the CTE before it."""
        previous = "leaves"
        text = ""
        for height in range(1, max((h for _, h in self.nodes.values()), default=0) + 1):
            nodes = [
                (number, node)
                for node in _inner_nodes(self.condition)
                for number, node_height in [self.nodes[node.path]]
                if node_height == height
            ]
            columns = ",\n".join(
                f"        {self.node_expression(node)} as node_{number}" for number, node in nodes
            )
            name = f"nodes_{height}"
            text += f"{name} as (\n    select\n        *,\n{columns}\n    from {previous}\n),\n\n"
            previous = name
        self.last_nodes = previous
        return text

    def reason(self, condition: Node, value: bool) -> str:
        """SQL for the text segment_files explains a member (value True) or a non-member
        (False) with: the leaves that decide `condition`, joined by '; '. Mirrors
        rule_ast.explain: for an `all` that is false its false children, for an `any`
        that is true its true children, `not` swaps."""
        parts = []
        for when, leaf, holds in self._explained(condition, value, None):
            if value and is_implicit(leaf):
                continue
            fact = f"; {leaf.path}: {'' if holds else 'not '}{leaf.describe()}"
            if when:
                text = sql_literal(fact, " " * 28)
                parts.append(
                    f"case\n{' ' * 24}when {when}\n{' ' * 28}then {text}\n"
                    f"{' ' * 24}else ''\n{' ' * 20}end"
                )
            else:
                parts.append(sql_literal(fact, " " * 20))
        if not parts:
            return "cast(null as string)"
        joined = f",\n{' ' * 20}".join(parts)
        return f"nullif(substring(concat(\n{' ' * 20}{joined}\n{' ' * 16}), 3), '')"

    def _explained(
        self, node: Node, value: bool, when: str | None
    ) -> Iterator[tuple[str | None, Leaf, bool]]:
        def both(extra: str) -> str:
            return extra if when is None else f"{when} and {extra}"

        if isinstance(node, AllOf | AnyOf):
            decisive = isinstance(node, AllOf) == value
            for child in node.children:
                if decisive:
                    yield from self._explained(child, value, when)
                else:
                    expr = self.combine(child)
                    yield from self._explained(child, value, both(expr if value else f"not {expr}"))
        elif isinstance(node, Not):
            yield from self._explained(node.child, not value, when)
        else:
            assert isinstance(node, Leaf)
            yield when, node, value


def _inner_nodes(node: Node) -> list[Node]:
    """The all/any/not nodes of a tree, root first (depth first)."""
    if isinstance(node, AllOf | AnyOf):
        return [node, *(inner for child in node.children for inner in _inner_nodes(child))]
    if isinstance(node, Not):
        return [node, *_inner_nodes(node.child)]
    return []


def _height(node: Node) -> int:
    if isinstance(node, AllOf | AnyOf):
        return 1 + max(_height(child) for child in node.children)
    if isinstance(node, Not):
        return 1 + _height(node.child)
    return 0


def comparison(leaf: Comparison, alias: str) -> str:
    """`leaf` on `alias`'s column (may be NULL; callers fold NULL into false)."""
    column = f"{alias}.{identifier(leaf.column)}"
    operator, value = leaf.operator, leaf.value
    if operator in COMPARISON_SQL:
        return f"{column} {COMPARISON_SQL[operator]} {sql_literal(value)}"
    if operator in ("in", "not_in"):
        keyword = "in" if operator == "in" else "not in"
        return f"{column} {keyword} ({', '.join(sql_literal(item) for item in value)})"
    if operator == "is_null":
        return f"{column} is null"
    if operator == "is_not_null":
        return f"{column} is not null"
    if operator == "starts_with":
        return f"substring({column}, 1, {len(value)}) = {sql_literal(value)}"
    if operator == "contains":
        return f"instr({column}, {sql_literal(value)}) > 0"
    if operator == "older_than":
        return f"{column} <= {ago(value)}"
    if operator == "within":
        return f"({column} >= {ago(value)} and {column} <= as_of.as_of_at)"
    raise ValueError(f"unknown operator {operator}")


def ago(duration: Duration) -> str:
    """ "now" minus `duration`: a column of the model's `as_of` CTE (seconds: every unit
    is a whole number of them), which `_as_of_cte` defines for each one used."""
    return f"as_of.as_of_minus_{int(duration.delta.total_seconds())}s"


_AGO = re.compile(r"as_of\.as_of_minus_(\d+)s")


def _as_of_cte(body: str) -> str:
    """The model's "now" (int_as_of) and "now" minus each duration `body` uses."""
    columns = ["        as_of_at"] + [
        f"        {{{{ dbt.dateadd('second', -{seconds}, 'as_of_at') }}}} as as_of_minus_{seconds}s"
        for seconds in sorted({int(found) for found in _AGO.findall(body)})
    ]
    if len(columns) == 1:
        return "as_of as (\n    select as_of_at from {{ ref('int_as_of') }}\n),\n\n"
    return (
        "as_of as (\n    select\n"
        + ",\n".join(columns)
        + "\n    from {{ ref('int_as_of') }}\n),\n\n"
    )


def window(timestamp: str, span: Window) -> list[str]:
    conditions = [f"{timestamp} <= as_of.as_of_at"]
    if span.within is not None:
        conditions.append(f"{timestamp} >= {ago(span.within)}")
    if span.older_than is not None:
        conditions.append(f"{timestamp} <= {ago(span.older_than)}")
    return conditions


def event_conditions(spec: EventSpec, alias: str) -> list[str]:
    conditions = []
    if spec.names:
        conditions.append(
            f"{alias}.event_name in ({', '.join(sql_literal(name) for name in spec.names)})"
        )
    if spec.types:
        conditions.append(
            f"{alias}.event_type in ({', '.join(sql_literal(kind) for kind in spec.types)})"
        )
    conditions += [comparison(item, alias) for item in spec.filters]
    return conditions


def _aggregate(source: str, person: str, timestamp: str, where: list[str]) -> str:
    conditions = "\n        and ".join(where)
    return (
        "    select\n"
        f"        {person}{'' if person.endswith('.person_id') else ' as person_id'},\n"
        "        count(*) as matching_count,\n"
        f"        max({timestamp}) as latest_at\n"
        f"    from {source}\n"
        "    cross join as_of\n"
        f"    where\n        {conditions}\n"
        f"    group by {person}"
    )
