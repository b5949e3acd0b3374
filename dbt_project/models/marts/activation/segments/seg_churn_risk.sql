-- GENERATED from orchestration/activation/segments/churn_risk.yml
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
            profiles.consent_email_marketing = 'granted',
            false
        ) as leaf_1,
        coalesce(
            profiles.churn_risk >= 0.7,
            false
        ) as leaf_2,
        coalesce(
            profiles.order_count >= 1,
            false
        ) as leaf_3,
        coalesce(
            profiles.email is not null,
            false
        ) as leaf_4
    from profiles
    cross join as_of
),

nodes_1 as (
    select
        *,
        (leaf_2 and leaf_3 and leaf_4) as node_1
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
                    '; rule.all[0]: churn_risk at least 0.7',
                    '; rule.all[1]: order_count at least 1',
                    '; rule.all[2]: email is not null'
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
                                '; consent_purpose: not consent_email_marketing '
                                || ('equals ' || chr(39) || 'granted' || chr(39) || '')
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_2
                            then '; rule.all[0]: not churn_risk at least 0.7'
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_3
                            then '; rule.all[1]: not order_count at least 1'
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_4
                            then '; rule.all[2]: not email is not null'
                        else ''
                    end
                ), 3), '')
        end as exited_because
    from evaluated
),

segment as (
    -- The segment's constants, for the change log (cdp.segment_stay_changes).
    select
        'churn_risk' as segment_name,
        cast(null as string) as attributes
),

{{ cdp.segment_stay_changes() }}
