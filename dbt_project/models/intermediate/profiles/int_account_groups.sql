-- One row per account named by Segment group calls: the company traits of its latest group
-- call (Segment's reserved group traits: name, website, industry, employees, address),
-- for the accounts the CRM does not have (account_profiles).
with

group_calls as (
    select * from {{ ref('stg_tracking__events') }}
    where event_type = 'group'
),

traits as (
    select
        group_id,
        event_at,
        message_id,
        {{ cdp.clean_text(cdp.json_value('traits', '$.name')) }} as account_name,
        nullif(
            {{ cdp.regex_replace_all(
                "lower(" ~ cdp.clean_text(
                    "coalesce(" ~ cdp.json_value('traits', '$.website') ~ ", "
                    ~ cdp.json_value('traits', '$.domain') ~ ")"
                ) ~ ")",
                "^(https?://)?(www\\.)?|/.*$", ""
            ) }},
            ''
        ) as account_domain,
        {{ cdp.clean_text(cdp.json_value('traits', '$.industry')) }} as industry,
        {{ dbt.safe_cast(cdp.json_value('traits', '$.employees'), dbt.type_bigint()) }}
            as employee_count,
        {{ cdp.clean_country(
            "coalesce(" ~ cdp.json_value('traits', '$.country') ~ ", "
            ~ cdp.json_value('traits', '$.address.country') ~ ")"
        ) }} as country,
        min(event_at) over (partition by group_id) as first_grouped_at,
        row_number() over (
            partition by group_id
            order by event_at desc, message_id desc
        ) as recency_rank
    from group_calls
)

select
    group_id as account_id,
    account_name,
    account_domain,
    industry,
    employee_count,
    country,
    first_grouped_at,
    event_at as last_grouped_at
from traits
where recency_rank = 1
