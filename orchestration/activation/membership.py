"""Evaluate a segment and record who is in it, who entered, who left and why.

Three shared tables in schema `marts` (each evaluation replaces only its own segment's
rows, in one transaction):

* `segment_membership`: the current members (`segment_name`, `person_id`, `entered_at`,
  `attributes` as JSON text): the output contract the destinations read;
* `segment_membership_history`: one row per stay in a segment (`entered_at`, `exited_at`
  NULL while a member, `entered_because` / `exited_because`: the conditions that held or
  stopped holding, by rule path);
* `segment_sizes`: one row per evaluation (`member_count`, `entered_count`,
  `exited_count`, `computed_at`, `run_id`).

`entered_at` / `exited_at` are on the pipeline's clock (`intermediate.int_as_of`, the same
"now" the rule's windows end at); `computed_at` is the wall clock of the evaluation, so
evaluations order even when CDP_AS_OF pins "now".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from orchestration.activation.columns import EVENTS, Column, WarehouseSchema
from orchestration.activation.compiler import (
    EVENTS_RELATION,
    HISTORY_RELATION,
    MEMBERSHIP_RELATION,
    compile_rule,
)
from orchestration.activation.model import SegmentDefinition
from orchestration.activation.rules import (
    Comparison,
    Did,
    EnteredSegment,
    Leaf,
    Node,
    RuleError,
    columns_used,
    event_names,
    explain,
    leaves,
)
from orchestration.activation.segments import (
    Problem,
    SegmentDefinitionError,
    display_name,
    is_implicit,
    membership_condition,
)

SIZES_RELATION = "marts.segment_sizes"
MERGES_RELATION = "marts.person_merges"
AS_OF_RELATION = "intermediate.int_as_of"

TABLES_DDL = (
    "create schema if not exists marts",
    f"""create table if not exists {MEMBERSHIP_RELATION} (
        segment_name varchar not null,
        person_id varchar not null,
        entered_at timestamp not null,
        attributes varchar
    )""",
    f"""create table if not exists {HISTORY_RELATION} (
        segment_name varchar not null,
        person_id varchar not null,
        entered_at timestamp not null,
        exited_at timestamp,
        entered_because varchar,
        exited_because varchar
    )""",
    f"""create table if not exists {SIZES_RELATION} (
        segment_name varchar not null,
        computed_at timestamp not null,
        member_count bigint not null,
        entered_count bigint not null,
        exited_count bigint not null,
        run_id varchar
    )""",
)

LEFT_PROFILES = "no longer in customer_profiles (erased, or its identifiers now resolve elsewhere)"


@dataclass(frozen=True)
class SegmentEvaluation:
    segment_name: str
    as_of: dt.datetime
    computed_at: dt.datetime
    member_count: int
    entered_count: int
    exited_count: int
    run_id: str
    entered_reasons: dict[str, int] = field(default_factory=dict)
    exited_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return (
            f"segment {self.segment_name}: {self.member_count:,} members "
            f"(+{self.entered_count:,} entered, -{self.exited_count:,} exited)"
        )


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in TABLES_DDL:
        con.execute(statement)


def read_as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """The pipeline's "now": the one value of `intermediate.int_as_of` (see dbt)."""
    rows = con.execute(f"select as_of_at from {AS_OF_RELATION}").fetchall()
    if len(rows) != 1 or rows[0][0] is None:
        raise RuntimeError(f"{AS_OF_RELATION} must hold exactly one as_of_at; run dbt first")
    return rows[0][0]


def check_schema(definition: SegmentDefinition, con: duckdb.DuckDBPyConnection) -> WarehouseSchema:
    """The warehouse's own schema, once it is confirmed to have every column the rule was
    validated for, with the same kind of type. The rule was checked against the dbt
    manifest; tables built from older models can lack a column since added there."""
    actual = WarehouseSchema.from_connection(con)
    file = display_name(definition.source_file) if definition.source_file else definition.name
    try:
        condition = membership_condition(definition, actual)
        columns_used(condition, actual)  # the join keys the SQL relies on
    except RuleError as error:
        raise SegmentDefinitionError(
            [Problem(file, error.path, f"in the warehouse: {error.message}")]
        ) from None
    problems = []
    for path, column in _compared_columns(condition):
        found = actual.column(column.table, column.name)
        if found is None:
            problems.append(
                Problem(
                    file,
                    path,
                    f"column '{column.name}' of {column.table} is not in the warehouse "
                    "(the models changed since the last build: run `cdp run`)",
                )
            )
        elif found.kind != column.kind:
            problems.append(
                Problem(
                    file,
                    path,
                    f"column '{column.name}' of {column.table} is {found.data_type} in the "
                    f"warehouse but {column.data_type} in the dbt manifest: run `cdp run`",
                )
            )
    if problems:
        raise SegmentDefinitionError(problems)
    return actual


def _compared_columns(condition: Node) -> list[tuple[str, Column]]:
    found: list[tuple[str, Column]] = []
    for leaf in leaves(condition):
        if isinstance(leaf, Comparison):
            found.append((leaf.path, leaf.column))
        specs = []
        if isinstance(leaf, Did):
            specs.append(leaf.event)
        if isinstance(leaf, Did | EnteredSegment) and leaf.not_followed_by is not None:
            specs.append(leaf.not_followed_by)
        found.extend((f.path, f.column) for spec in specs for f in spec.filters)
    return found


def evaluate_segment(
    con: duckdb.DuckDBPyConnection,
    definition: SegmentDefinition,
    *,
    run_id: str,
    schema: WarehouseSchema,
    as_of: dt.datetime | None = None,
    computed_at: dt.datetime | None = None,
) -> SegmentEvaluation:
    """Evaluate `definition` at `as_of` (default: int_as_of) and record the changes.

    Only this segment's rows change, in one transaction: a failure leaves the previous
    membership, history and sizes as they were.
    """
    ensure_tables(con)
    as_of = as_of or read_as_of(con)
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(dt.UTC).replace(tzinfo=None)
    computed_at = computed_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    condition = membership_condition(definition, schema)
    compiled = compile_rule(condition, schema, as_of)
    name = definition.name
    attributes = (
        json.dumps(definition.attributes, sort_keys=True) if definition.attributes else None
    )
    merged_into = (
        f"""(select 'merged into ' || string_agg(distinct merges.new_person_id, ', ')
            from {MERGES_RELATION} as merges where merges.old_person_id = changes.person_id)"""
        if _relation_exists(con, MERGES_RELATION)
        else "null"
    )

    con.execute("begin transaction")
    try:
        con.execute(
            f"create or replace temp table segment_evaluation as {compiled.sql}", compiled.params
        )
        con.execute(
            f"""create or replace temp table segment_pending as
            with current_members as (
                select person_id from {MEMBERSHIP_RELATION} where segment_name = ?
            ),

            entered as (
                select evaluation.person_id, 'entered' as change, evaluation.pattern
                from segment_evaluation as evaluation
                where evaluation.is_member and not exists (
                    select 1 from current_members
                    where current_members.person_id = evaluation.person_id
                )
            ),

            exited as (
                select current_members.person_id, 'exited' as change, evaluation.pattern
                from current_members
                left join segment_evaluation as evaluation
                    on current_members.person_id = evaluation.person_id
                where not coalesce(evaluation.is_member, false)
            )

            select * from entered
            union all
            select * from exited""",
            [name],
        )
        # Why: the conditions behind each distinct combination of leaf values.
        patterns = con.execute(
            "select distinct change, pattern from segment_pending where pattern is not null"
        ).fetchall()
        con.execute(
            "create or replace temp table segment_reasons "
            "(change varchar, pattern varchar, reason varchar)"
        )
        if patterns:
            con.executemany(
                "insert into segment_reasons values (?, ?, ?)",
                [
                    (change, pattern, _reason(condition, compiled.leaves, pattern, change))
                    for change, pattern in patterns
                ],
            )
        con.execute(
            f"""create or replace temp table segment_changes as
            select
                changes.person_id,
                changes.change,
                coalesce(
                    reasons.reason,
                    case when changes.change = 'exited' then coalesce({merged_into}, ?) end
                ) as reason
            from segment_pending as changes
            left join segment_reasons as reasons
                on changes.change = reasons.change and changes.pattern = reasons.pattern""",
            [LEFT_PROFILES],
        )
        con.execute(
            f"""update {HISTORY_RELATION} as history
            set exited_at = ?, exited_because = changes.reason
            from segment_changes as changes
            where changes.change = 'exited' and history.segment_name = ?
                and history.person_id = changes.person_id and history.exited_at is null""",
            [as_of, name],
        )
        con.execute(
            f"""insert into {HISTORY_RELATION}
            select ?, person_id, ?, null, reason, null
            from segment_changes where change = 'entered'""",
            [name, as_of],
        )
        con.execute(f"delete from {MEMBERSHIP_RELATION} where segment_name = ?", [name])
        con.execute(
            f"""insert into {MEMBERSHIP_RELATION}
            select ?, history.person_id, max(history.entered_at), ?
            from {HISTORY_RELATION} as history
            where history.segment_name = ? and history.exited_at is null
            group by history.person_id""",
            [name, attributes, name],
        )
        reasons = con.execute(
            "select change, reason, count(*) from segment_changes group by all"
        ).fetchall()
        (member_count,) = con.execute(
            f"select count(*) from {MEMBERSHIP_RELATION} where segment_name = ?", [name]
        ).fetchall()[0]
        by_change: dict[str, dict[str, int]] = {"entered": {}, "exited": {}}
        for change, reason, count in reasons:
            by_change[change][reason or "-"] = int(count)
        entered_count = sum(by_change["entered"].values())
        exited_count = sum(by_change["exited"].values())
        con.execute(
            f"insert into {SIZES_RELATION} values (?, ?, ?, ?, ?, ?)",
            [name, computed_at, member_count, entered_count, exited_count, run_id],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for table in (
            "segment_evaluation",
            "segment_pending",
            "segment_reasons",
            "segment_changes",
        ):
            con.execute(f"drop table if exists {table}")
    return SegmentEvaluation(
        segment_name=name,
        as_of=as_of,
        computed_at=computed_at,
        member_count=int(member_count),
        entered_count=entered_count,
        exited_count=exited_count,
        run_id=run_id,
        entered_reasons=by_change["entered"],
        exited_reasons=by_change["exited"],
    )


def unseen_event_names(
    con: duckdb.DuckDBPyConnection, definition: SegmentDefinition, schema: WarehouseSchema
) -> list[str]:
    """Event names the rule looks for that no event in fct_events has: usually a typo
    (`Prodcut Added`), which no validation can catch before the data is there."""
    names = sorted(event_names(definition.rule))
    column = schema.column(EVENTS, "event_name")
    if not names or column is None:
        return []
    marks = ", ".join("?" for _ in names)
    seen = con.execute(
        f"select distinct {column.sql} from {EVENTS_RELATION} where {column.sql} in ({marks})",
        names,
    ).fetchall()
    return sorted(set(names) - {name for (name,) in seen})


def _relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, table = relation.split(".")
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return rows[0][0] > 0


def _reason(condition: Node, found: tuple[Leaf, ...], pattern: str, change: str) -> str:
    """Why a person with these leaf values entered (the rule's conditions that hold) or
    left (the conditions, audience and consent included, that no longer hold)."""
    truth: Mapping[str, bool] = {
        leaf.path: flag == "1" for leaf, flag in zip(found, pattern, strict=True)
    }
    entering = change == "entered"
    facts = explain(condition, truth, entering)
    if entering:
        facts = [(leaf, holds) for leaf, holds in facts if not is_implicit(leaf)]
    return "; ".join(
        f"{leaf.path}: {'' if holds else 'not '}{leaf.describe()}" for leaf, holds in facts
    )
