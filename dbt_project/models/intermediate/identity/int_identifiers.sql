-- Every identifier seen in any identity source, once, with when and where it was seen:
-- the nodes of the identity graph. Ticket and deal contact ids are not identity sources
-- (a ticket of a soft-deleted contact must not bring the contact back).
with

events as (
    select * from {{ ref('stg_tracking__events') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

observed as (
    {{ cdp.identity_observations('events', 'event_at', 'events', [
        ('anonymous_id', 'anonymous_id'),
        ('anonymous_id', "case when event_type = 'alias' then previous_id end"),
        ('customer_id', 'user_id'),
        ('email', 'email'),
        ('phone', 'phone'),
        ('device_id', 'device_id'),
    ]) }}
    union all
    {{ cdp.identity_observations(
        'contacts',
        'coalesce(created_at, updated_at, _loaded_at)',
        'crm_contacts',
        [
        ('contact_id', 'contact_id'),
        ('email', 'email'),
        ('phone', 'phone'),
    ]) }}
    union all
    {{ cdp.identity_observations(
        'customers',
        'coalesce(created_at, updated_at, _loaded_at)',
        'shop_customers',
        [
        ('customer_id', 'customer_id'),
        ('email', 'email'),
        ('phone', 'phone'),
    ]) }}
    union all
    {{ cdp.identity_observations('orders', 'created_at', 'shop_orders', [
        ('customer_id', 'customer_id'),
        ('email', 'email'),
        ('phone', 'phone'),
    ]) }}
),

per_source as (
    select
        identifier_type,
        identifier_value,
        source_table,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as observation_count
    from observed
    group by identifier_type, identifier_value, source_table
),

aggregated as (
    select
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(observation_count) as observation_count,
        {{ cdp.sorted_string_agg('source_table') }} as sources
    from per_source
    group by identifier_type, identifier_value
)

select
    {{ cdp.identity_node_id('identifier_type', 'identifier_value') }} as node_id,
    identifier_type,
    identifier_value,
    first_seen_at,
    last_seen_at,
    observation_count,
    sources
from aggregated
