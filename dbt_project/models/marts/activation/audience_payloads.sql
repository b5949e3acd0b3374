-- Who may leave now, per (segment, destination): the candidates no rule holds back. The
-- only relation the diff syncs read; its violation test recounts from other sources.
with

candidates as (
    select * from {{ ref('int_audience_candidates') }}
),

payloads as (
    select
        segment_name,
        destination,
        person_id,
        is_known,
        email,
        phone,
        first_name,
        last_name,
        city,
        postal_code,
        country,
        entered_at,
        attributes,
        required_purposes,
        {{ cdp.current_utc_timestamp() }} as built_at,
        '{{ invocation_id }}' as run_id
    from candidates
    where held_back_because is null
)

select * from payloads
