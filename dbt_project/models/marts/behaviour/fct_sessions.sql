-- One row per session of a person (a visit across devices; see int_events_sessionized).
with

events as (
    select * from {{ ref('int_events_sessionized') }}
    where session_id is not null
),

ordered as (
    select
        *,
        row_number() over (partition by session_id order by event_at, message_id) as event_position
    from events
),

landing as (
    select
        session_id,
        page_path as landing_page_path,
        utm_source,
        utm_medium,
        utm_campaign,
        event_source as first_event_source
    from ordered
    where event_position = 1
),

aggregated as (
    select
        session_id,
        min(person_id) as person_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as event_count,
        count(case when event_type = 'page' then 1 end) as page_view_count,
        count(case when event_type = 'screen' then 1 end) as screen_view_count,
        count(distinct coalesce(device_id, anonymous_id)) as device_count,
        count(case when event_name = 'Order Completed' then 1 end) as orders_completed,
        count(case when event_name = 'Product Added' then 1 end) as products_added
    from events
    group by session_id
)

select
    aggregated.session_id,
    aggregated.person_id,
    aggregated.started_at,
    aggregated.ended_at,
    cast(aggregated.started_at as date) as session_date,
    cast(
        {{ dbt.datediff('aggregated.started_at', 'aggregated.ended_at', 'second') }}
        as {{ dbt.type_bigint() }}
    ) as duration_seconds,
    cast(aggregated.event_count as {{ dbt.type_bigint() }}) as event_count,
    cast(aggregated.page_view_count as {{ dbt.type_bigint() }}) as page_view_count,
    cast(aggregated.screen_view_count as {{ dbt.type_bigint() }}) as screen_view_count,
    cast(aggregated.device_count as {{ dbt.type_bigint() }}) as device_count,
    aggregated.orders_completed > 0 as has_order_completed,
    aggregated.products_added > 0 as has_product_added,
    landing.landing_page_path,
    landing.utm_source,
    landing.utm_medium,
    landing.utm_campaign,
    landing.first_event_source
from aggregated
inner join landing on aggregated.session_id = landing.session_id
