-- Every staged event with the stitched person: the logged-in user's, else the email's or
-- phone's, else the anonymous id's, else the device's. Events before a login carry the
-- person the login later linked them to (re-stitched on every run). Events carrying an
-- erased identifier are left out.
with

events as (
    select * from {{ ref('stg_tracking__events') }}
),

attributed as (
    select
        events.*,
        coalesce(
            by_user.person_id,
            by_email.person_id,
            by_phone.person_id,
            by_anonymous.person_id,
            by_device.person_id,
            by_anonymous_hub.person_id,
            by_device_hub.person_id
        ) as person_id
    from events
    {{ cdp.join_person('by_user', 'customer_id', 'events.user_id') }}
    {{ cdp.join_person('by_email', 'email', 'events.email') }}
    {{ cdp.join_person('by_phone', 'phone', 'events.phone') }}
    {{ cdp.join_person('by_anonymous', 'anonymous_id', 'events.anonymous_id') }}
    {{ cdp.join_person('by_device', 'device_id', 'events.device_id') }}
    {{ cdp.join_person(
        'by_anonymous_hub', 'anonymous_id', 'events.anonymous_id', include_hubs=true
    ) }}
    {{ cdp.join_person('by_device_hub', 'device_id', 'events.device_id', include_hubs=true) }}
    where
        not {{ cdp.is_erased('customer_id', 'events.user_id') }}
        and not {{ cdp.is_erased('email', 'events.email') }}
        and not {{ cdp.is_erased('phone', 'events.phone') }}
        and not {{ cdp.is_erased('anonymous_id', 'events.anonymous_id') }}
        and not {{ cdp.is_erased('anonymous_id', 'events.previous_id') }}
        and not {{ cdp.is_erased('device_id', 'events.device_id') }}
)

-- Every staged event column passes through; the person is what this step adds.
select * from attributed  -- noqa: AM04
