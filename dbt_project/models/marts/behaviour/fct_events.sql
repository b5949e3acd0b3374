-- One row per event (first delivery of each message_id) with its stitched person and
-- session. Identity traits (email, phone, names) stay in identity_map and profiles.
with

events as (
    select * from {{ ref('int_events_sessionized') }}
)

select
    message_id,
    person_id,
    session_id,
    event_type,
    event_name,
    event_source,
    event_at,
    event_date,
    anonymous_id,
    user_id,
    group_id,
    device_id,
    device_type,
    page_path,
    page_url,
    page_referrer,
    page_title,
    page_name,
    page_category,
    screen_name,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_term,
    utm_content,
    product_id,
    product_sku,
    product_category,
    product_price,
    quantity,
    order_id,
    revenue,
    currency,
    is_email_event,
    properties
from events
