-- Every observed link that was applied: both ends resolved to the same person and
-- neither is a hub. The edges the studio draws in a person's identity graph (the refused
-- ones are identity_conflicts). Links involving erased identifiers are not listed: an
-- erased identifier has no person.
with

edges as (
    select * from {{ ref('int_identity_edges') }}
),

persons as (
    select * from {{ ref('int_identity_persons') }}
),

applied as (
    select
        edges.*,
        left_person.person_id
    from edges
    inner join persons as left_person on edges.left_node_id = left_person.node_id
    inner join persons as right_person on edges.right_node_id = right_person.node_id
    where
        left_person.person_id = right_person.person_id
        and not left_person.is_hub
        and not right_person.is_hub
)

select
    person_id,
    left_type,
    left_value,
    right_type,
    right_value,
    rule,
    cast(tier as {{ dbt.type_int() }}) as tier,
    source_table,
    first_seen_at,
    last_seen_at,
    cast(evidence_count as {{ dbt.type_bigint() }}) as evidence_count
from applied
