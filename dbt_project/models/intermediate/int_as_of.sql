-- The one "now" of this build, for every time window (last 30 days, churn labels, "in the
-- last 4 hours"): CDP_AS_OF when set; else the latest event or order in the data, never
-- later than the wall clock. Windows follow the data's own clock, so a replay, a backfill
-- or the demo data give meaningful windows; on a live feed it is (almost) now, and a
-- stalled feed shows up in source freshness and the volume checks.
with

events as (
    select max(event_at) as latest_at from {{ ref('stg_tracking__events') }}
),

orders as (
    select max(created_at) as latest_at from {{ ref('stg_shop__orders') }}
),

clock as (
    select
        {{ cdp.current_utc_timestamp() }} as wall_clock_at,
        {{ cdp.greatest_non_null('events.latest_at', 'orders.latest_at') }} as data_latest_at
    from events
    cross join orders
)

select
    coalesce(
        {{ cdp.as_of_override() }},
        case when data_latest_at < wall_clock_at then data_latest_at end,
        wall_clock_at
    ) as as_of_at,
    case
        when {{ cdp.as_of_override() }} is not null then 'CDP_AS_OF'
        when data_latest_at < wall_clock_at then 'data'
        else 'wall_clock'
    end as as_of_source
from clock
