-- Every consent change of a resolved person, in the order it was recorded: the history
-- behind the latest status per purpose on customer_profiles. A change whose subject is
-- an erased identifier (or resolves to no one) is not listed.
with

changes as (
    select * from {{ ref('stg_privacy__consent_changes') }}
),

persons as (
    select * from {{ ref('int_identity_persons') }}
)

select
    persons.person_id,
    changes.purpose,
    changes.consent_status,
    changes.consent_source,
    changes.identifier_type as subject_type,
    changes.recorded_at
from changes
inner join persons
    on
        changes.identifier_type = persons.identifier_type
        and changes.identifier_value = persons.identifier_value
