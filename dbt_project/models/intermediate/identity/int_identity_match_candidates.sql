-- The records probabilistic matching compares (issue 10): CRM contacts and shop
-- customers with their name, place and the identifiers they carry. One row per
-- source record; match_record_id is unique across sources. Names and places are
-- lower-cased and trimmed so the comparisons see one spelling of case and spacing;
-- the e-mail local part and the phone's last digits are the weak identifier features.
with

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

records as (
    select
        'crm_contacts' as source_table,
        'contact_id' as record_identifier_type,
        contact_id as record_identifier_value,
        first_name,
        last_name,
        city,
        postal_code,
        country,
        email,
        phone
    from contacts
    union all
    select
        'shop_customers' as source_table,
        'customer_id' as record_identifier_type,
        customer_id as record_identifier_value,
        first_name,
        last_name,
        city,
        postal_code,
        country,
        email,
        phone
    from customers
)

select
    source_table,
    record_identifier_type,
    record_identifier_value,
    email,
    phone,
    source_table || ':' || record_identifier_value as match_record_id,
    nullif(lower(trim(first_name)), '') as first_name,
    nullif(lower(trim(last_name)), '') as last_name,
    nullif(lower(trim(city)), '') as city,
    nullif(upper(replace(trim(postal_code), ' ', '')), '') as postal_code,
    nullif(upper(trim(country)), '') as country,
    case
        when position('@' in email) > 1
            then substring(email, 1, position('@' in email) - 1)
    end as email_local_part,
    case
        when length(phone) >= 4 then substring(phone, length(phone) - 3, 4)
    end as phone_last_digits
from records
where record_identifier_value is not null
