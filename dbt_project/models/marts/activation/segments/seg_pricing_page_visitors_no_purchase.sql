-- GENERATED from orchestration/activation/segments/pricing_page_visitors_no_purchase.yml
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
    select
        as_of_at,
        {{ dbt.dateadd('second', -1209600, 'as_of_at') }} as as_of_minus_1209600s
    from {{ ref('int_as_of') }}
),

profiles as (
    select * from {{ ref('customer_profiles') }}
),

events as (
    select * from {{ ref('fct_events') }}
),

leaf_1_matches as (
    select
        events.person_id,
        count(*) as matching_count,
        max(events.event_at) as latest_at
    from events
    cross join as_of
    where
        events.event_type in ('page')
        and substring(events.page_path, 1, 8) = '/pricing'
        and events.event_at <= as_of.as_of_at
        and events.event_at >= as_of.as_of_minus_1209600s
    group by events.person_id
),

leaf_1_followed as (
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
            profiles.consent_advertising = 'granted',
            false
        ) as leaf_0,
        coalesce(
            leaf_1_matches.matching_count >= 1
            and (
                leaf_1_followed.latest_at is null
                or leaf_1_followed.latest_at <= leaf_1_matches.latest_at
            ),
            false
        ) as leaf_1
    from profiles
    cross join as_of
    left join leaf_1_matches on profiles.person_id = leaf_1_matches.person_id
    left join leaf_1_followed on profiles.person_id = leaf_1_followed.person_id
),

nodes_1 as (
    select
        *,
        (leaf_0 and leaf_1) as node_0
    from leaves
),

evaluated as (
    select
        *,
        coalesce(node_0, false) as is_member
    from nodes_1
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
                        '; rule: did a page call where page_path starts '
                        || ('with ' || chr(39) || '/pricing' || chr(39) || ' ')
                        || 'within 14 days, not followed by '
                        || ('' || chr(39) || 'Order ')
                        || ('Completed' || chr(39) || '')
                    )
                ), 3), '')
        end as entered_because,
        case
            when not is_member
                then nullif(substring(concat(
                    case
                        when not leaf_0
                            then (
                                '; consent_purpose: not consent_advertising '
                                || ('equals ' || chr(39) || 'granted' || chr(39) || '')
                            )
                        else ''
                    end,
                    case
                        when not leaf_1
                            then (
                                '; rule: not did a page call where page_path '
                                || 'starts with '
                                || ('' || chr(39) || '/pricing' || chr(39) || ' ')
                                || 'within 14 days, not followed by '
                                || ('' || chr(39) || 'Order ')
                                || ('Completed' || chr(39) || '')
                            )
                        else ''
                    end
                ), 3), '')
        end as exited_because
    from evaluated
),

segment as (
    -- The segment's constants, for the change log (cdp.segment_stay_changes).
    select
        'pricing_page_visitors_no_purchase' as segment_name,
        cast(null as string) as attributes
),

{{ cdp.segment_stay_changes() }}
