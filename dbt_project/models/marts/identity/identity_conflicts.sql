-- Every observed link that was not applied, with the guard that stopped it: an edge to
-- a hub, or an edge whose ends ended in different persons because merging them would
-- break an identifier limit (directly, or because the group touched several limited
-- persons). Links involving erased identifiers are not listed.
with

edges as (
    select * from {{ ref('int_identity_edges') }}
),

persons as (
    select * from {{ ref('int_identity_persons') }}
),

limited_per_person as (
    {{ cdp.identity_limit_counts('persons') }}
),

unapplied as (
    select
        edges.*,
        left_person.person_id as left_person_id,
        right_person.person_id as right_person_id,
        left_person.is_hub or right_person.is_hub as touches_hub
    from edges
    inner join persons as left_person on edges.left_node_id = left_person.node_id
    inner join persons as right_person on edges.right_node_id = right_person.node_id
    where
        left_person.person_id <> right_person.person_id
        or left_person.is_hub
        or right_person.is_hub
),

classified as (
    select
        unapplied.*,
        {{ cdp.identity_blocking_guard('unapplied.touches_hub', 'left_limits', 'right_limits') }}
            as blocked_by
    from unapplied
    inner join limited_per_person as left_limits
        on unapplied.left_person_id = left_limits.person_id
    inner join limited_per_person as right_limits
        on unapplied.right_person_id = right_limits.person_id
)

select
    left_type,
    left_value,
    right_type,
    right_value,
    rule,
    cast(tier as {{ dbt.type_int() }}) as tier,
    source_table,
    blocked_by,
    left_person_id,
    right_person_id,
    first_seen_at,
    last_seen_at,
    cast(evidence_count as {{ dbt.type_bigint() }}) as evidence_count
from classified
