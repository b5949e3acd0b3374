{{ config(
    pre_hook="{% do cdp.resolve_identity_subgraph(ref('int_identifiers'), ref('int_identity_edges'), 'node_id in (select resolved.node_id from ' ~ ref('int_identity_resolved') ~ ' as resolved where resolved.person_node_id in (select affected.person_node_id from ' ~ ref('int_identity_resolved') ~ ' as affected where affected.node_id in (select node_id from ' ~ ref('int_identity_erasures') ~ '))) and node_id not in (select node_id from ' ~ ref('int_identity_erasures') ~ ')', 'int_identity_persons__relabelled', src_column='left_node_id', dst_column='right_node_id') %}"
) }}
-- depends_on: {{ ref('int_identifiers') }}
-- depends_on: {{ ref('int_identity_edges') }}

-- Every identifier's final person: erased identifiers removed, and the persons that
-- held them solved again without them (pre-hook), since removing an identifier can
-- split a person. Everyone else keeps the resolution of int_identity_resolved.
with

identifiers as (
    select * from {{ ref('int_identifiers') }}
),

resolved as (
    select * from {{ ref('int_identity_resolved') }}
),

erasures as (
    select * from {{ ref('int_identity_erasures') }}
),

relabelled as (
    select * from int_identity_persons__relabelled
),

affected_persons as (
    select distinct resolved.person_node_id
    from resolved
    inner join erasures on resolved.node_id = erasures.node_id
),

kept as (
    select
        node_id,
        person_node_id,
        is_hub
    from resolved
    where person_node_id not in (select affected_persons.person_node_id from affected_persons)
    union all
    select
        node_id,
        person_node_id,
        is_hub
    from relabelled
),

named as (
    select
        kept.node_id,
        kept.person_node_id,
        kept.is_hub,
        {{ cdp.identity_person_id('founder.identifier_type', 'founder.identifier_value') }}
            as person_id
    from kept
    inner join identifiers as founder on kept.person_node_id = founder.node_id
)

select
    identifiers.node_id,
    identifiers.identifier_type,
    identifiers.identifier_value,
    named.person_id,
    named.person_node_id,
    named.is_hub,
    identifiers.first_seen_at,
    identifiers.last_seen_at,
    identifiers.sources
from named
inner join identifiers on named.node_id = identifiers.node_id
