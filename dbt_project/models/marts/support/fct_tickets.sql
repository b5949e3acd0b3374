-- One row per support ticket (newest version), with the person its CRM contact resolved
-- to. A ticket whose contact is erased (or resolves to no one) is not listed.
with

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
),

persons as (
    select * from {{ ref('int_identity_persons') }}
    where identifier_type = 'contact_id'
)

select
    tickets.ticket_id,
    persons.person_id,
    tickets.contact_id,
    tickets.channel,
    tickets.subject,
    tickets.ticket_status,
    tickets.priority,
    tickets.csat_score,
    tickets.created_at,
    tickets.resolved_at
from tickets
inner join persons on tickets.contact_id = persons.identifier_value
