-- Each person's account from Segment group calls: the group_id of their latest group call.
-- An account link, not an identifier: persons of one account stay separate persons.
with

events as (
    select * from {{ ref('int_events_stitched') }}
    where event_type = 'group' and person_id is not null
),

ranked as (
    select
        person_id,
        group_id,
        event_at,
        row_number() over (
            partition by person_id
            order by event_at desc, message_id desc
        ) as recency_rank
    from events
)

select
    person_id,
    group_id,
    event_at as grouped_at
from ranked
where recency_rank = 1
