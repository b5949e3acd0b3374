-- GENERATED from orchestration/activation/segments/engaged_b2b_accounts.yml
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

accounts as (
    select * from {{ ref('account_profiles') }}
),

leaf_2_matches as (
    select profiles.person_id
    from profiles
    inner join accounts
        on profiles.account_id = accounts.account_id
    cross join as_of
    where accounts.is_engaged_30d = true
),

leaf_3_matches as (
    select profiles.person_id
    from profiles
    inner join accounts
        on profiles.account_id = accounts.account_id
    cross join as_of
    where accounts.open_pipeline_usd > 0
),

leaf_4_matches as (
    select profiles.person_id
    from profiles
    inner join accounts
        on profiles.account_id = accounts.account_id
    cross join as_of
    where accounts.employee_count >= 50
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
        leaf_2_matches.person_id is not null as leaf_2,
        leaf_3_matches.person_id is not null as leaf_3,
        leaf_4_matches.person_id is not null as leaf_4,
        coalesce(
            profiles.email is not null,
            false
        ) as leaf_5
    from profiles
    cross join as_of
    left join leaf_2_matches on profiles.person_id = leaf_2_matches.person_id
    left join leaf_3_matches on profiles.person_id = leaf_3_matches.person_id
    left join leaf_4_matches on profiles.person_id = leaf_4_matches.person_id
),

nodes_1 as (
    select
        *,
        (leaf_3 or leaf_4) as node_2
    from leaves
),

nodes_2 as (
    select
        *,
        (leaf_2 and node_2 and leaf_5) as node_1
    from nodes_1
),

nodes_3 as (
    select
        *,
        (leaf_0 and leaf_1 and node_1) as node_0
    from nodes_2
),

evaluated as (
    select
        *,
        coalesce(node_0, false) as is_member
    from nodes_3
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
                        ('; rule.all[0]: account' || chr(39) || 's ')
                        || 'is_engaged_30d equals true'
                    ),
                    case
                        when leaf_3
                            then (
                                ('; rule.all[1].any[0]: account' || chr(39) || 's ')
                                || 'open_pipeline_usd greater than 0'
                            )
                        else ''
                    end,
                    case
                        when leaf_4
                            then (
                                ('; rule.all[1].any[1]: account' || chr(39) || 's ')
                                || 'employee_count at least 50'
                            )
                        else ''
                    end,
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
                            then (
                                ('; rule.all[0]: not account' || chr(39) || 's ')
                                || 'is_engaged_30d equals true'
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not node_2
                            then (
                                '; rule.all[1].any[0]: not '
                                || ('account' || chr(39) || 's open_pipeline_usd ')
                                || 'greater than 0'
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not node_2
                            then (
                                '; rule.all[1].any[1]: not '
                                || ('account' || chr(39) || 's employee_count at ')
                                || 'least 50'
                            )
                        else ''
                    end,
                    case
                        when not node_1 and not leaf_5
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
        'engaged_b2b_accounts' as segment_name,
        cast(null as string) as attributes
),

{{ cdp.segment_stay_changes() }}
