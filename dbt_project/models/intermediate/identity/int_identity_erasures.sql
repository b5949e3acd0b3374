-- The identifiers a deletion request erases: every identifier of the person its subject
-- resolves to that had been seen by the time of the request, and the subject itself
-- (even when never seen). Later data about these identifiers never links again;
-- identifiers first seen after the request are not erased, but cannot reach the
-- erased person (their links through erased identifiers are gone).
with

requests as (
    select * from {{ ref('stg_privacy__deletion_requests') }}
),

identifiers as (
    select * from {{ ref('int_identifiers') }}
),

resolved as (
    select * from {{ ref('int_identity_resolved') }}
),

subjects as (
    select
        request_id,
        requested_at,
        identifier_type,
        identifier_value,
        {{ cdp.identity_node_id('identifier_type', 'identifier_value') }} as node_id
    from requests
),

subject_persons as (
    select
        subjects.request_id,
        subjects.requested_at,
        resolved.person_node_id
    from subjects
    inner join resolved on subjects.node_id = resolved.node_id
),

person_members as (
    select
        subject_persons.request_id,
        subject_persons.requested_at,
        identifiers.node_id,
        identifiers.identifier_type,
        identifiers.identifier_value
    from subject_persons
    inner join resolved on subject_persons.person_node_id = resolved.person_node_id
    inner join identifiers on resolved.node_id = identifiers.node_id
    where
        subject_persons.requested_at is null
        or identifiers.first_seen_at <= subject_persons.requested_at
),

erased as (
    select
        request_id,
        requested_at,
        node_id,
        identifier_type,
        identifier_value
    from person_members
    union all
    select
        request_id,
        requested_at,
        node_id,
        identifier_type,
        identifier_value
    from subjects
),

first_request as (
    select
        *,
        row_number() over (
            partition by node_id order by requested_at nulls first, request_id
        ) as request_rank
    from erased
)

select
    node_id,
    identifier_type,
    identifier_value,
    request_id,
    requested_at
from first_request
where request_rank = 1
