{{ config(materialized='identity_resolution') }}

-- Every identifier's person before erasure. This select is the identity graph (one row
-- per identifier, one per observed link); the identity_resolution materialization solves
-- it with the guards of docs/identity.md (macro resolve_identity) and, between runs,
-- re-solves only the live components a change touched (resolve_identity_incremental);
-- `--full-refresh` solves everything.
with

identifiers as (
    select * from {{ ref('int_identifiers') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

node_rows as (
    select
        node_id,
        identifier_type,
        identifier_value,
        first_seen_at,
        cast(null as bigint) as linked_node_id,
        cast(null as int) as tier
    from identifiers
),

link_rows as (
    select
        left_node_id as node_id,
        cast(null as string) as identifier_type,
        cast(null as string) as identifier_value,
        cast(null as timestamp) as first_seen_at,
        right_node_id as linked_node_id,
        tier
    from edges
),

graph as (
    select * from node_rows
    union all
    select * from link_rows
)

select * from graph
