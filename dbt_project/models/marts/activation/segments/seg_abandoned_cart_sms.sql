-- GENERATED from orchestration/activation/segments/abandoned_cart_sms.yml
-- by `uv run cdp segments compile`: do not edit. Change the YAML and run the command
-- (a test fails while the two differ).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        full_refresh=false,
        tags=['hourly']
    )
}}
with

as_of as (
    select
        as_of_at,
        {{ dbt.dateadd('second', -14400, 'as_of_at') }} as as_of_minus_14400s,
        {{ dbt.dateadd('second', -86400, 'as_of_at') }} as as_of_minus_86400s
    from {{ ref('int_as_of') }}
),

profiles as (
    select * from {{ ref('customer_profiles') }}
),

events as (
    select * from {{ ref('fct_events') }}
),

leaf_2_matches as (
    select
        stays.person_id,
        count(*) as matching_count,
        max(stays.entered_at) as latest_at
    from ({{ cdp.segment_stays(ref('seg_abandoned_cart')) }}) as stays
    cross join as_of
    where
        stays.entered_at <= as_of.as_of_at
        and stays.entered_at >= as_of.as_of_minus_86400s
        and stays.entered_at <= as_of.as_of_minus_14400s
    group by stays.person_id
),

leaf_2_followed as (
    select
        events.person_id,
        count(*) as matching_count,
        max(events.event_at) as latest_at
    from events
    cross join as_of
    where
        events.event_name in ('Order Completed')
        and events.event_at <= as_of.as_of_at
    group by events.person_id
),

leaves as (
    select
        profiles.person_id,
        coalesce(
            profiles.is_known = true,
            false
        ) as leaf_0,
        coalesce(
            profiles.consent_sms_marketing = 'granted',
            false
        ) as leaf_1,
        coalesce(
            leaf_2_matches.matching_count >= 1
            and (
                leaf_2_followed.latest_at is null
                or leaf_2_followed.latest_at <= leaf_2_matches.latest_at
            ),
            false
        ) as leaf_2,
        coalesce(
            profiles.phone is not null,
            false
        ) as leaf_3
    from profiles
    cross join as_of
    left join leaf_2_matches on profiles.person_id = leaf_2_matches.person_id
    left join leaf_2_followed on profiles.person_id = leaf_2_followed.person_id
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
                        '; rule.all[0]: entered segment abandoned_cart '
                        || 'between 4 hours and 1 day ago, not followed by '
                        || ('' || chr(39) || 'Order ')
                        || ('Completed' || chr(39) || '')
                    ),
                    '; rule.all[1]: phone is not null'
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
                                '; consent_purpose: not consent_sms_marketing '
                                || ('equals ' || chr(39) || 'granted' || chr(39) || '')
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_2
                            then (
                                '; rule.all[0]: not entered segment '
                                || 'abandoned_cart between 4 hours and 1 day ago, '
                                || ('not followed by ' || chr(39) || 'Order ')
                                || ('Completed' || chr(39) || '')
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_3
                            then '; rule.all[1]: not phone is not null'
                        else ''
                    end
                ), 3), '')
        end as exited_because
    from evaluated
),

segment as (
    -- The segment's constants, for the change log (cdp.segment_stay_changes).
    select
        'abandoned_cart_sms' as segment_name,
        (
            '{"discount_code": "CART10", "discount_percent": '
            || '10}'
        ) as attributes
),

{{ cdp.segment_stay_changes() }}
