-- Each person's CRM side: the most recently updated of their contacts (lifecycle stage,
-- account, job title) and their support tickets (open, total, average CSAT).
with

identity as (
    select * from {{ ref('identity_map') }}
    where identifier_type = 'contact_id'
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
),

person_contacts as (
    select
        identity.person_id,
        contacts.contact_id,
        contacts.account_id,
        contacts.lifecycle_stage,
        contacts.lead_source,
        contacts.job_title,
        row_number() over (
            partition by identity.person_id
            order by contacts.updated_at desc nulls last, contacts.contact_id asc
        ) as recency_rank
    from contacts
    inner join identity on contacts.contact_id = identity.identifier_value
),

ticket_facts as (
    select
        person_contacts.person_id,
        count(*) as tickets_total,
        count(
            case when coalesce(tickets.ticket_status, '') not in ('resolved', 'closed') then 1 end
        ) as tickets_open,
        avg(tickets.csat_score) as average_csat
    from tickets
    inner join person_contacts on tickets.contact_id = person_contacts.contact_id
    group by person_contacts.person_id
),

persons as (
    select distinct person_id from person_contacts
)

select
    persons.person_id,
    primary_contact.contact_id,
    primary_contact.account_id,
    primary_contact.lifecycle_stage,
    primary_contact.lead_source,
    primary_contact.job_title,
    ticket_facts.average_csat,
    coalesce(ticket_facts.tickets_total, 0) as tickets_total,
    coalesce(ticket_facts.tickets_open, 0) as tickets_open
from persons
inner join person_contacts as primary_contact
    on persons.person_id = primary_contact.person_id and primary_contact.recency_rank = 1
left join ticket_facts on persons.person_id = ticket_facts.person_id
