-- One row per person, known or anonymous: the 360-degree view marketing, sales, support
-- and BI read. Output-contract columns first, then the traits. Erased persons have no row
-- (they are not in identity_map).
{%- set predictions = source('ml', 'customer_predictions') %}
{%- set has_predictions = execute and adapter.get_relation(
    database=predictions.database, schema=predictions.schema, identifier=predictions.identifier
) is not none %}

with

identity as (
    select * from {{ ref('identity_map') }}
),

attributes as (
    select * from {{ ref('int_profile_attributes') }}
),

commerce as (
    select * from {{ ref('int_profile_commerce') }}
),

behaviour as (
    select * from {{ ref('int_profile_behaviour') }}
),

crm as (
    select * from {{ ref('int_profile_crm') }}
),

account_groups as (
    select * from {{ ref('int_profile_groups') }}
),

consent as (
    select * from {{ ref('int_consent_latest') }}
),

persons as (
    select
        person_id,
        max(
            case
                when
                    identifier_type in ('customer_id', 'contact_id', 'email', 'phone')
                    and not is_hub
                    then 1
                else 0
            end
        ) = 1 as is_known,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        min(case when identifier_type = 'customer_id' then identifier_value end) as customer_id,
        count(case when identifier_type = 'anonymous_id' then 1 end) as anonymous_id_count,
        count(*) as identifier_count,
        {{ cdp.sources_seen('sources') }} as sources_seen
    from identity
    group by person_id
),

consent_pivot as (
    {{ cdp.consent_pivot('consent', var('cdp_consent_purposes')) }}
),

predictions as (
    {%- if has_predictions %}
    select
        person_id,
        purchase_propensity_30d,
        churn_risk,
        predicted_at
    from {{ predictions }}
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as person_id,
            cast(null as double) as purchase_propensity_30d,
            cast(null as double) as churn_risk,
            cast(null as {{ dbt.type_timestamp() }}) as predicted_at
        where false
    {%- endif %}
)

select
    persons.person_id,
    persons.is_known,
    attributes.email,
    attributes.phone,
    attributes.first_name,
    attributes.last_name,
    attributes.country,
    persons.first_seen_at,
    persons.last_seen_at,
    cast(coalesce(commerce.order_count, 0) as {{ dbt.type_bigint() }}) as order_count,
    cast(coalesce(commerce.lifetime_revenue_usd, 0) as decimal(38, 10)) as lifetime_revenue_usd,
    attributes.email_source,
    attributes.phone_source,
    attributes.name_source,
    attributes.country_source,
    attributes.city,
    attributes.postal_code,
    attributes.address_source,
    persons.customer_id,
    crm.contact_id,
    -- The CRM contact's account (curated by sales) wins; a group call fills it in.
    coalesce(crm.account_id, account_groups.group_id) as account_id,
    crm.lifecycle_stage,
    crm.lead_source,
    crm.job_title,
    persons.sources_seen,
    behaviour.channels_seen,
    behaviour.device_types,
    cast(coalesce(behaviour.device_count, 0) as {{ dbt.type_bigint() }}) as device_count,
    cast(persons.anonymous_id_count as {{ dbt.type_bigint() }}) as anonymous_id_count,
    cast(persons.identifier_count as {{ dbt.type_bigint() }}) as identifier_count,
    cast(coalesce(behaviour.session_count, 0) as {{ dbt.type_bigint() }}) as session_count,
    cast(coalesce(behaviour.page_view_count, 0) as {{ dbt.type_bigint() }}) as page_view_count,
    cast(coalesce(behaviour.events_7d, 0) as {{ dbt.type_bigint() }}) as events_7d,
    cast(coalesce(behaviour.events_30d, 0) as {{ dbt.type_bigint() }}) as events_30d,
    cast(coalesce(behaviour.events_90d, 0) as {{ dbt.type_bigint() }}) as events_90d,
    cast(coalesce(behaviour.email_opens_30d, 0) as {{ dbt.type_bigint() }}) as email_opens_30d,
    cast(coalesce(behaviour.email_clicks_30d, 0) as {{ dbt.type_bigint() }}) as email_clicks_30d,
    behaviour.last_event_at,
    cast(commerce.average_order_value_usd as decimal(38, 10)) as average_order_value_usd,
    commerce.first_order_at,
    commerce.last_order_at,
    cast(commerce.days_since_last_order as {{ dbt.type_bigint() }}) as days_since_last_order,
    cast(coalesce(commerce.orders_placed, 0) as {{ dbt.type_bigint() }}) as orders_placed,
    cast(coalesce(commerce.refund_count, 0) as {{ dbt.type_bigint() }}) as refund_count,
    cast(coalesce(commerce.refunded_amount_usd, 0) as decimal(38, 10)) as refunded_amount_usd,
    cast(coalesce(commerce.cancelled_order_count, 0) as {{ dbt.type_bigint() }})
        as cancelled_order_count,
    commerce.rfm_recency_score,
    commerce.rfm_frequency_score,
    commerce.rfm_monetary_score,
    commerce.rfm_segment,
    cast(coalesce(crm.tickets_total, 0) as {{ dbt.type_bigint() }}) as tickets_total,
    cast(coalesce(crm.tickets_open, 0) as {{ dbt.type_bigint() }}) as tickets_open,
    cast(crm.average_csat as double) as average_csat,
    {%- for purpose in var('cdp_consent_purposes') %}
        coalesce(consent_pivot.consent_{{ purpose }}, 'none') as consent_{{ purpose }},
    {%- endfor %}
    predictions.purchase_propensity_30d,
    predictions.churn_risk,
    predictions.predicted_at
from persons
left join attributes on persons.person_id = attributes.person_id
left join commerce on persons.person_id = commerce.person_id
left join behaviour on persons.person_id = behaviour.person_id
left join crm on persons.person_id = crm.person_id
left join account_groups on persons.person_id = account_groups.person_id
left join consent_pivot on persons.person_id = consent_pivot.person_id
left join predictions on persons.person_id = predictions.person_id
