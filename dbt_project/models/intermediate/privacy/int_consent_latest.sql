-- Each person's consent per purpose: the latest change recorded on any of the person's
-- identifiers (granted on the customer id, withdrawn on the email: withdrawn). Changes
-- at the same moment resolve to the most restrictive. Subjects that resolve to no person
-- (never seen, or erased) are ignored.
with

changes as (
    select * from {{ ref('stg_privacy__consent_changes') }}
),

identity as (
    select * from {{ ref('identity_map') }}
),

attributed as (
    select
        identity.person_id,
        changes.purpose,
        changes.consent_status,
        changes.consent_source,
        changes.recorded_at,
        changes.identifier_type
    from changes
    inner join identity
        on
            changes.identifier_type = identity.identifier_type
            and changes.identifier_value = identity.identifier_value
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_id, purpose
            order by
                recorded_at desc,
                case consent_status when 'withdrawn' then 0 when 'denied' then 1 else 2 end
        ) as change_rank
    from attributed
)

select
    person_id,
    purpose,
    consent_status,
    consent_source,
    identifier_type as recorded_on,
    recorded_at
from ranked
where change_rank = 1
