-- Reported in Dagster as a check on identity_map.
{{ config(meta={'dagster': {'ref': {'name': 'identity_map'}}}) }}

-- Every identifier seen in an identity source resolves to a person, except erased ones,
-- which must not appear at all.
with

expected as (
    select
        identifier_type,
        identifier_value
    from {{ ref('int_identifiers') }}
    where node_id not in (
        select erasures.node_id from {{ ref('int_identity_erasures') }} as erasures
    )
),

mapped as (
    select
        identifier_type,
        identifier_value
    from {{ ref('identity_map') }}
),

missing as (
    select
        'missing from identity_map' as problem,
        identifier_type,
        identifier_value
    from expected
    where not exists (
        select 1 from mapped
        where
            mapped.identifier_type = expected.identifier_type
            and mapped.identifier_value = expected.identifier_value
    )
),

unexpected as (
    select
        'erased or unknown identifier in identity_map' as problem,
        identifier_type,
        identifier_value
    from mapped
    where not exists (
        select 1 from expected
        where
            mapped.identifier_type = expected.identifier_type
            and mapped.identifier_value = expected.identifier_value
    )
)

select * from missing
union all
select * from unexpected
