-- The golden record's contact attributes per person, by survivorship: the first source in
-- var cdp_source_priority that has a value (crm > shop > events by default), then its
-- most recent value. An email or phone must be one of the person's own, non-hub
-- identifiers (an order's email that identity refused to link is not this person's).
-- The winning source is kept beside each attribute.
{%- set priority = var('cdp_source_priority') %}

with

identity as (
    select * from {{ ref('identity_map') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

orders as (
    select
        fct_orders.person_id,
        stg_orders.created_at,
        stg_orders.email,
        stg_orders.phone
    from {{ ref('fct_orders') }} as fct_orders
    inner join {{ ref('stg_shop__orders') }} as stg_orders
        on fct_orders.order_id = stg_orders.order_id
),

events as (
    select * from {{ ref('int_events_stitched') }}
),

records as (
    select
        identity.person_id,
        'crm' as source_system,
        coalesce(contacts.updated_at, contacts.created_at) as observed_at,
        contacts.email,
        contacts.phone,
        contacts.first_name,
        contacts.last_name,
        contacts.country,
        contacts.city,
        contacts.postal_code
    from contacts
    inner join identity
        on
            identity.identifier_type = 'contact_id'
            and contacts.contact_id = identity.identifier_value
    union all
    select
        identity.person_id,
        'shop' as source_system,
        coalesce(customers.updated_at, customers.created_at) as observed_at,
        customers.email,
        customers.phone,
        customers.first_name,
        customers.last_name,
        customers.country,
        customers.city,
        customers.postal_code
    from customers
    inner join identity
        on
            identity.identifier_type = 'customer_id'
            and customers.customer_id = identity.identifier_value
    union all
    select
        orders.person_id,
        'shop' as source_system,
        orders.created_at as observed_at,
        orders.email,
        orders.phone,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as postal_code
    from orders
    where orders.person_id is not null
    union all
    select
        events.person_id,
        'events' as source_system,
        events.event_at as observed_at,
        events.email,
        events.phone,
        events.first_name,
        events.last_name,
        events.country,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as postal_code
    from events
    where events.person_id is not null and events.event_type = 'identify'
),

ranked_records as (
    select
        *,
        case source_system
            {%- for source_system in priority %}
                when '{{ source_system }}' then {{ loop.index }}
            {%- endfor %}
            else {{ priority | length + 1 }}
        end as source_rank
    from records
),

own_emails as (
    select
        ranked_records.*,
        row_number() over (
            partition by ranked_records.person_id
            order by
                ranked_records.source_rank asc,
                ranked_records.observed_at desc,
                ranked_records.email asc
        ) as pick
    from ranked_records
    inner join identity
        on
            identity.identifier_type = 'email'
            and ranked_records.email = identity.identifier_value
            and ranked_records.person_id = identity.person_id
            and not identity.is_hub
),

own_phones as (
    select
        ranked_records.*,
        row_number() over (
            partition by ranked_records.person_id
            order by
                ranked_records.source_rank asc,
                ranked_records.observed_at desc,
                ranked_records.phone asc
        ) as pick
    from ranked_records
    inner join identity
        on
            identity.identifier_type = 'phone'
            and ranked_records.phone = identity.identifier_value
            and ranked_records.person_id = identity.person_id
            and not identity.is_hub
),

names as (
    select
        *,
        row_number() over (
            partition by person_id
            order by source_rank asc, observed_at desc, first_name asc, last_name asc
        ) as pick
    from ranked_records
    where first_name is not null or last_name is not null
),

countries as (
    select
        *,
        row_number() over (
            partition by person_id order by source_rank asc, observed_at desc, country asc
        ) as pick
    from ranked_records
    where country is not null
),

addresses as (
    -- City and postal code travel together, from one record.
    select
        *,
        row_number() over (
            partition by person_id
            order by source_rank asc, observed_at desc, city asc, postal_code asc
        ) as pick
    from ranked_records
    where city is not null or postal_code is not null
),

persons as (
    select distinct person_id from identity
)

select
    persons.person_id,
    own_emails.email,
    own_emails.source_system as email_source,
    own_phones.phone,
    own_phones.source_system as phone_source,
    names.first_name,
    names.last_name,
    names.source_system as name_source,
    countries.country,
    countries.source_system as country_source,
    addresses.city,
    addresses.postal_code,
    addresses.source_system as address_source
from persons
left join own_emails on persons.person_id = own_emails.person_id and own_emails.pick = 1
left join own_phones on persons.person_id = own_phones.person_id and own_phones.pick = 1
left join names on persons.person_id = names.person_id and names.pick = 1
left join countries on persons.person_id = countries.person_id and countries.pick = 1
left join addresses on persons.person_id = addresses.person_id and addresses.pick = 1
