{{ config(materialized='identity_resolution', identity_incremental=false) }}

-- The persons that held an erased identifier, solved again without it: removing an
-- identifier can split a person, and nothing may link through an erased identifier.
-- This select is that part of the identity graph (its remaining identifiers and the
-- links between them); the identity_resolution materialization solves it whole.
with

identifiers as (
    select * from {{ ref('int_identifiers') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

resolved as (
    select * from {{ ref('int_identity_resolved') }}
),

erasures as (
    select * from {{ ref('int_identity_erasures') }}
),

affected_persons as (
    select distinct resolved.person_node_id
    from resolved
    inner join erasures on resolved.node_id = erasures.node_id
),

remaining_identifiers as (
    select identifiers.*
    from identifiers
    inner join resolved on identifiers.node_id = resolved.node_id
    where
        resolved.person_node_id in (select affected_persons.person_node_id from affected_persons)
        and identifiers.node_id not in (select erasures.node_id from erasures)
),

node_rows as (
    select
        node_id,
        identifier_type,
        identifier_value,
        first_seen_at,
        cast(null as bigint) as linked_node_id,
        cast(null as int) as tier
    from remaining_identifiers
),

link_rows as (
    select
        edges.left_node_id as node_id,
        cast(null as string) as identifier_type,
        cast(null as string) as identifier_value,
        cast(null as timestamp) as first_seen_at,
        edges.right_node_id as linked_node_id,
        edges.tier
    from edges
    where
        edges.left_node_id in (select remaining_identifiers.node_id from remaining_identifiers)
        and edges.right_node_id in (select remaining_identifiers.node_id from remaining_identifiers)
),

graph as (
    select * from node_rows
    union all
    select * from link_rows
)

select * from graph
