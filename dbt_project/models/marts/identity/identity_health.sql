-- The health of this run's identity graph in one long table (metric, dimension, value),
-- for charts over time and for the checks that block activation: person sizes, the
-- largest person, identifiers per person by type, persons over a limit (must be 0),
-- hubs, conflicts by guard, person id changes and erasures.
with

persons as (
    select * from {{ ref('int_identity_persons') }}
),

conflicts as (
    select * from {{ ref('identity_conflicts') }}
),

person_id_changes as (
    select * from {{ ref('person_merges') }}
),

erasures as (
    select * from {{ ref('int_identity_erasures') }}
),

person_sizes as (
    select
        person_id,
        count(*) as identifiers,
        max(case when is_hub then 0 else 1 end) as has_unshared_identifier,
        max(
            case
                when identifier_type in ('customer_id', 'contact_id', 'email', 'phone') then 1
                else 0
            end
        ) as is_known
    from persons
    group by person_id
),

per_type as (
    select
        person_id,
        identifier_type,
        count(*) as identifiers
    from persons
    group by person_id, identifier_type
),

metrics as (
    select
        'persons' as metric,
        'all' as dimension,
        count(*) as metric_value
    from person_sizes
    union all
    select
        'persons' as metric,
        case when is_known = 1 then 'known' else 'anonymous' end as dimension,
        count(*) as metric_value
    from person_sizes
    group by case when is_known = 1 then 'known' else 'anonymous' end
    union all
    select
        'persons_by_size' as metric,
        case
            when identifiers = 1 then '01: 1'
            when identifiers = 2 then '02: 2'
            when identifiers <= 5 then '03: 3-5'
            when identifiers <= 10 then '04: 6-10'
            when identifiers <= 50 then '05: 11-50'
            when identifiers <= 500 then '06: 51-500'
            else '07: over 500'
        end as dimension,
        count(*) as metric_value
    from person_sizes
    group by dimension
    union all
    select
        'largest_person_identifiers' as metric,
        'all' as dimension,
        coalesce(max(identifiers), 0) as metric_value
    from person_sizes
    union all
    select
        'identifiers' as metric,
        identifier_type as dimension,
        count(*) as metric_value
    from persons
    group by identifier_type
    union all
    select
        'max_identifiers_per_person' as metric,
        identifier_type as dimension,
        max(identifiers) as metric_value
    from per_type
    group by identifier_type
    union all
    select
        'avg_identifiers_per_person' as metric,
        identifier_type as dimension,
        avg(identifiers) as metric_value
    from per_type
    group by identifier_type
    union all
    {{ cdp.identity_over_limit_metrics('per_type') }}
    union all
    select
        'hub_identifiers' as metric,
        identifier_type as dimension,
        count(*) as metric_value
    from persons
    where is_hub
    group by identifier_type
    union all
    select
        'conflicts' as metric,
        blocked_by as dimension,
        count(*) as metric_value
    from conflicts
    group by blocked_by
    union all
    select
        'person_id_changes_this_run' as metric,
        change_reason as dimension,
        count(*) as metric_value
    from person_id_changes
    where changed_at = {{ cdp.run_started_timestamp() }}
    group by change_reason
    union all
    select
        'erased_identifiers' as metric,
        'all' as dimension,
        count(*) as metric_value
    from erasures
)

select
    metric,
    dimension,
    cast(metric_value as double) as metric_value,
    {{ cdp.run_started_timestamp() }} as measured_at
from metrics
