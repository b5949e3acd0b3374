-- GENERATED from orchestration/activation/segments/high_value_customers.yml
-- by `uv run cdp segments compile`: do not edit. Change the YAML and run the command
-- (a test fails while the two differ).
{{
    config(
        materialized='incremental',
        unique_key=['person_id', 'entered_at'],
        incremental_strategy=(
            'merge' if target.type == 'spark' else 'delete+insert'
        ),
        on_schema_change='append_new_columns',
        full_refresh=false,
        tags=['daily']
    )
}}
with

as_of as (
    select as_of_at from {{ ref('int_as_of') }}
),

profiles as (
    select * from {{ ref('customer_profiles') }}
),

merged_persons as (
    -- Where a person id went when identity merged it into another.
    select
        old_person_id,
        {{ dbt.listagg(
            measure='new_person_id',
            delimiter_text="', '",
            order_by_clause='order by new_person_id'
        ) }} as merged_into
    from {{ ref('person_merges') }}
    group by old_person_id
),

leaves as (
    select
        profiles.person_id,
        coalesce(
            profiles.is_known = true,
            false
        ) as leaf_0,
        coalesce(
            profiles.consent_advertising = 'granted',
            false
        ) as leaf_1,
        coalesce(
            profiles.rfm_segment in ('champions', 'loyal'),
            false
        ) as leaf_2,
        coalesce(
            profiles.rfm_monetary_score >= 4,
            false
        ) as leaf_3
    from profiles
    cross join as_of
),

nodes_1 as (
    select
        *,
        (leaf_2 and leaf_3) as node_1
    from leaves
),

nodes_2 as (
    select
        *,
        (leaf_0 and leaf_1 and node_1) as node_0
    from nodes_1
),

evaluated as (
    select
        *,
        coalesce(node_0, false) as is_member
    from nodes_2
),

explained as (
    -- The conditions that hold (members) or do not (everyone else), by rule path.
    select
        person_id,
        is_member,
        case
            when is_member
                then nullif(substring(concat(
                    (
                        '; rule.all[0]: rfm_segment in '
                        || ('[' || chr(39) || 'champions' || chr(39) || ', ')
                        || ('' || chr(39) || 'loyal' || chr(39) || ']')
                    ),
                    '; rule.all[1]: rfm_monetary_score at least 4'
                ), 3), '')
        end as entered_because,
        case
            when not is_member
                then nullif(substring(concat(
                    case
                        when not leaf_0
                            then '; audience: not is_known equals true'
                        else ''
                    end,
                    case
                        when not leaf_1
                            then (
                                '; consent_purpose: not consent_advertising '
                                || ('equals ' || chr(39) || 'granted' || chr(39) || '')
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_2
                            then (
                                '; rule.all[0]: not rfm_segment in '
                                || ('[' || chr(39) || 'champions' || chr(39) || ', ')
                                || ('' || chr(39) || 'loyal' || chr(39) || ']')
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_3
                            then '; rule.all[1]: not rfm_monetary_score at least 4'
                        else ''
                    end
                ), 3), '')
        end as exited_because
    from evaluated
),

open_stays as (
    {% if is_incremental() %}
        select
            person_id,
            entered_at,
            entered_because,
            entered_invocation_id
        from {{ this }}
        where exited_at is null
    {% else %}
        select
            cast(null as string) as person_id,
            cast(null as timestamp) as entered_at,
            cast(null as string) as entered_because,
            cast(null as string) as entered_invocation_id
        from as_of
        where false
    {% endif %}
),

entered as (
    select
        'high_value_customers' as segment_name,
        explained.person_id,
        as_of.as_of_at as entered_at,
        cast(null as timestamp) as exited_at,
        explained.entered_because,
        cast(null as string) as exited_because,
        cast(null as string) as attributes,
        '{{ invocation_id }}' as entered_invocation_id,
        cast(null as string) as exited_invocation_id
    from explained
    cross join as_of
    left join open_stays on explained.person_id = open_stays.person_id
    where explained.is_member and open_stays.person_id is null
),

exited as (
    select
        'high_value_customers' as segment_name,
        open_stays.person_id,
        open_stays.entered_at,
        as_of.as_of_at as exited_at,
        open_stays.entered_because,
        case
            when explained.person_id is not null then explained.exited_because
            when merged_persons.merged_into is not null
                then concat('merged into ', merged_persons.merged_into)
            else (
                'no longer in customer_profiles (erased, or its '
                || 'identifiers now resolve elsewhere)'
            )
        end as exited_because,
        cast(null as string) as attributes,
        open_stays.entered_invocation_id,
        '{{ invocation_id }}' as exited_invocation_id
    from open_stays
    cross join as_of
    left join explained on open_stays.person_id = explained.person_id
    left join merged_persons on open_stays.person_id = merged_persons.old_person_id
    where not coalesce(explained.is_member, false)
),

changes as (
    select * from entered
    union all
    select * from exited
)

select * from changes
