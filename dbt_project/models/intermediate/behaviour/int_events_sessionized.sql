-- Events with the person's session: a session ends after cdp_session_timeout_minutes
-- without an event from the person on any device, so one visit that moves from phone to
-- laptop is one session, and a visit across midnight is not cut in two. Email engagement
-- (sent by the ESP, not a visit) and events without a person have no session.
with

events as (
    select * from {{ ref('int_events_stitched') }}
),

visits as (
    select
        *,
        lag(event_at) over (
            partition by person_id order by event_at, message_id
        ) as previous_event_at
    from events
    where person_id is not null and not is_email_event
),

flagged as (
    select
        *,
        case
            when
                previous_event_at is null
                or event_at > {{ dbt.dateadd(
                    'minute', var('cdp_session_timeout_minutes'), 'previous_event_at'
                ) }}
                then 1
            else 0
        end as is_session_start
    from visits
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by person_id order by event_at, message_id
            rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

started as (
    select
        *,
        min(event_at) over (partition by person_id, session_number) as session_started_at
    from numbered
),

sessionized as (
    select
        message_id,
        {{ cdp.hash_text(
            "concat(person_id, '|', cast(session_started_at as " ~ dbt.type_string() ~ "))"
        ) }} as session_id,
        session_number
    from started
)

-- Every stitched event column passes through; the session is what this step adds.
select
    events.*,  -- noqa: AM04
    sessionized.session_id,
    sessionized.session_number
from events
left join sessionized on events.message_id = sessionized.message_id
