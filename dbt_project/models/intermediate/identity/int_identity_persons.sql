-- Every identifier's final person: erased identifiers removed, and the persons that
-- held them taken from their re-solve without them (int_identity_resolved_without_erasures),
-- since removing an identifier can split a person. Everyone else keeps the resolution
-- of int_identity_resolved.
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
    select * from {{ ref('int_identity_resolved_without_erasures') }}
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
