-- No person holds more identifiers of a limited type than var cdp_identity_limits allows
-- (default: one customer_id). Blocks activation when it fails.
with

limits as (
    {{ cdp.identity_limits_table() }}
),

per_person as (
    select
        person_id,
        identifier_type,
        count(*) as identifiers
    from {{ ref('identity_map') }}
    group by person_id, identifier_type
)

select
    per_person.person_id,
    per_person.identifier_type,
    per_person.identifiers,
    limits.max_identifiers
from per_person
inner join limits on per_person.identifier_type = limits.identifier_type
where per_person.identifiers > limits.max_identifiers
