-- GENERATED from orchestration/activation/segments/high_value_customers.yml
-- by `uv run cdp segments compile`: do not edit. Change the YAML and run the command
-- (a test fails while the two differ).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
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

segment as (
    -- The segment's constants, for the change log (cdp.segment_stay_changes).
    select
        'high_value_customers' as segment_name,
        cast(null as string) as attributes
),

{{ cdp.segment_stay_changes() }}
