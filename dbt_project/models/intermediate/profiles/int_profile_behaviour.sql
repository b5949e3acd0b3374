-- Each person's behaviour: sessions and page views, activity in the last 7/30/90 days
-- (visits, not email engagement), email opens and clicks in 30 days, devices and
-- channels seen. Windows end at "now" (CDP_AS_OF, else the build time).
{%- set now = cdp.as_of_timestamp() %}

with

events as (
    select * from {{ ref('int_events_sessionized') }}
    where person_id is not null
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

event_facts as (
    select
        person_id,
        max(event_at) as last_event_at,
        count(case when event_type = 'page' then 1 end) as page_view_count,
        count(
            case
                when not is_email_event and event_at > {{ dbt.dateadd('day', -7, now) }} then 1
            end
        ) as events_7d,
        count(
            case
                when not is_email_event and event_at > {{ dbt.dateadd('day', -30, now) }} then 1
            end
        ) as events_30d,
        count(
            case
                when not is_email_event and event_at > {{ dbt.dateadd('day', -90, now) }} then 1
            end
        ) as events_90d,
        count(
            case
                when event_name = 'Email Opened' and event_at > {{ dbt.dateadd('day', -30, now) }}
                    then 1
            end
        ) as email_opens_30d,
        count(
            case
                when event_name = 'Email Clicked' and event_at > {{ dbt.dateadd('day', -30, now) }}
                    then 1
            end
        ) as email_clicks_30d,
        count(distinct device_id) as device_count,
        count(distinct anonymous_id) as browser_count
    from events
    group by person_id
),

channels as (
    select
        person_id,
        {{ cdp.sorted_string_agg('event_source') }} as channels_seen
    from
        (select distinct
            person_id,
            event_source
        from events
        where event_source is not null) as seen
    group by person_id
),

device_types as (
    select
        person_id,
        {{ cdp.sorted_string_agg('device_type') }} as device_types
    from (select distinct
        person_id,
        device_type
    from events
    where device_type is not null) as seen
    group by person_id
),

session_facts as (
    select
        person_id,
        count(*) as session_count,
        max(started_at) as last_session_at
    from sessions
    group by person_id
)

select
    event_facts.person_id,
    event_facts.last_event_at,
    event_facts.page_view_count,
    event_facts.events_7d,
    event_facts.events_30d,
    event_facts.events_90d,
    event_facts.email_opens_30d,
    event_facts.email_clicks_30d,
    event_facts.device_count,
    event_facts.browser_count,
    channels.channels_seen,
    device_types.device_types,
    session_facts.last_session_at,
    coalesce(session_facts.session_count, 0) as session_count
from event_facts
left join channels on event_facts.person_id = channels.person_id
left join device_types on event_facts.person_id = device_types.person_id
left join session_facts on event_facts.person_id = session_facts.person_id
