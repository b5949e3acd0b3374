-- One row per observed link between two normalised identifiers and the rule that saw
-- it. Tier 1: a record asserts the pair (a customer record's email); tier 2: the pair
-- co-occurs (an order's email). Links to or between weak identifiers (anonymous_id,
-- device_id) only attach them to a person: their tier is not read.
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

event_links as (
    {{ cdp.identity_links('events', 'event_at', 'events', [
        ('anonymous_id', 'anonymous_id', 'customer_id', 'user_id', 'event_user_anonymous', 2, 'true'),
        ('device_id', 'device_id', 'anonymous_id', 'anonymous_id', 'event_device_anonymous', 2, 'true'),
        ('device_id', 'device_id', 'customer_id', 'user_id', 'event_device_user', 2, 'true'),
        ('device_id', 'device_id', 'email', 'email', 'event_device_email', 2, 'true'),
        ('device_id', 'device_id', 'phone', 'phone', 'event_device_phone', 2, 'true'),
        ('customer_id', 'user_id', 'email', 'email', 'identify_user_email', 1, "event_type = 'identify'"),
        ('customer_id', 'user_id', 'phone', 'phone', 'identify_user_phone', 1, "event_type = 'identify'"),
        ('customer_id', 'user_id', 'email', 'email', 'event_user_email', 2, "event_type <> 'identify'"),
        ('customer_id', 'user_id', 'phone', 'phone', 'event_user_phone', 2, "event_type <> 'identify'"),
        ('anonymous_id', 'anonymous_id', 'email', 'email', 'event_anonymous_email', 2, 'true'),
        ('anonymous_id', 'anonymous_id', 'phone', 'phone', 'event_anonymous_phone', 2, 'true'),
        ('email', 'email', 'phone', 'phone', 'event_email_phone', 2, 'user_id is null'),
        ('anonymous_id', 'previous_id', 'customer_id', 'user_id', 'alias_previous_user', 2, "event_type = 'alias'"),
    ]) }}
),

contact_links as (
    {{ cdp.identity_links(
        'contacts',
        'coalesce(created_at, updated_at, _loaded_at)',
        'crm_contacts',
        [
        ('contact_id', 'contact_id', 'email', 'email', 'crm_contact_email', 1, 'true'),
        ('contact_id', 'contact_id', 'phone', 'phone', 'crm_contact_phone', 1, 'true'),
    ]) }}
),

customer_links as (
    {{ cdp.identity_links(
        'customers',
        'coalesce(created_at, updated_at, _loaded_at)',
        'shop_customers',
        [
        ('customer_id', 'customer_id', 'email', 'email', 'shop_customer_email', 1, 'true'),
        ('customer_id', 'customer_id', 'phone', 'phone', 'shop_customer_phone', 1, 'true'),
    ]) }}
),

order_links as (
    {{ cdp.identity_links('orders', 'created_at', 'shop_orders', [
        ('customer_id', 'customer_id', 'email', 'email', 'order_customer_email', 2, 'true'),
        ('customer_id', 'customer_id', 'phone', 'phone', 'order_customer_phone', 2, 'true'),
        ('email', 'email', 'phone', 'phone', 'guest_order_email_phone', 2, 'customer_id is null'),
    ]) }}
),

observed as (
    select * from event_links
    union all
    select * from contact_links
    union all
    select * from customer_links
    union all
    select * from order_links
),

oriented as (
    -- An undirected link is stored once: the smaller (type, value) on the left.
    select
        rule,
        tier,
        source_table,
        observed_at,
        case when left_key <= right_key then left_type else right_type end as left_type,
        case when left_key <= right_key then left_value else right_value end as left_value,
        case when left_key <= right_key then right_type else left_type end as right_type,
        case when left_key <= right_key then right_value else left_value end as right_value
    from observed
    where left_key <> right_key
),

aggregated as (
    select
        left_type,
        left_value,
        right_type,
        right_value,
        rule,
        tier,
        source_table,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as evidence_count
    from oriented
    group by left_type, left_value, right_type, right_value, rule, tier, source_table
)

select
    {{ cdp.identity_node_id('left_type', 'left_value') }} as left_node_id,
    {{ cdp.identity_node_id('right_type', 'right_value') }} as right_node_id,
    left_type,
    left_value,
    right_type,
    right_value,
    rule,
    tier,
    source_table,
    first_seen_at,
    last_seen_at,
    evidence_count
from aggregated
