-- Reported in Dagster as a check on identity_health.
{{ config(meta={'dagster': {'ref': {'name': 'identity_health'}}}) }}

-- An identity run that merges more than var cdp_identity_max_merge_share of the persons
-- is a mass change (a junk identifier or a bad link rule joining strangers), not normal
-- growth: it fails here with the numbers. Graphs with fewer persons than var
-- cdp_identity_merge_guard_min_persons are not guarded (docs/operations.md).
with

health as (
    select * from {{ ref('identity_health') }}
),

merged as (
    select coalesce(sum(metric_value), 0) as merged_person_ids
    from health
    where metric = 'person_id_changes_this_run' and dimension = 'merged'
),

persons as (
    select coalesce(sum(metric_value), 0) as persons
    from health
    where metric = 'persons' and dimension = 'all'
),

measured as (
    select
        merged.merged_person_ids,
        persons.persons,
        merged.merged_person_ids / nullif(persons.persons, 0) as merged_share
    from merged
    cross join persons
),

too_many as (
    select *
    from measured
    where
        persons >= {{ var('cdp_identity_merge_guard_min_persons') }}
        and merged_share > {{ var('cdp_identity_max_merge_share') }}
)

select * from too_many
