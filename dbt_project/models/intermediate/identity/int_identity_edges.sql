-- One row per observed link between two normalised identifiers and the rule that saw
-- it; the rules are data (the seed identity_link_rules). Tier 1: a record asserts the
-- pair (a customer record's email); tier 2: the pair co-occurs (an order's email). Links
-- to or between weak identifiers (anonymous_id, device_id) only attach them to a person:
-- their tier is not read.
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

rules as (
    -- An empty cell is no condition (dbt loads it as null, a unit test fixture as '').
    select
        rule,
        source_table,
        left_type,
        left_column,
        right_type,
        right_column,
        tier,
        nullif(condition_column, '') as condition_column,
        nullif(condition_equals, '') as condition_equals,
        nullif(condition_not_equals, '') as condition_not_equals,
        nullif(requires_null_column, '') as requires_null_column
    from {{ ref('identity_link_rules') }}
),

-- Every rule of a source against every row of it: the rules are data (seed
-- identity_link_rules), the columns a rule may name per source are identity_rule_columns
-- (the seed's data test identity_rule_columns_exposed checks every rule against them).
candidate_links as (
    {{ cdp.identity_rule_links(
        'events', 'rules', 'events', 'events.event_at',
        cdp.identity_rule_columns()['events']
    ) }}
    union all
    {{ cdp.identity_rule_links(
        'contacts', 'rules', 'crm_contacts',
        'coalesce(contacts.created_at, contacts.updated_at, contacts._loaded_at)',
        cdp.identity_rule_columns()['crm_contacts']
    ) }}
    union all
    {{ cdp.identity_rule_links(
        'customers', 'rules', 'shop_customers',
        'coalesce(customers.created_at, customers.updated_at, customers._loaded_at)',
        cdp.identity_rule_columns()['shop_customers']
    ) }}
    union all
    {{ cdp.identity_rule_links(
        'orders', 'rules', 'shop_orders', 'orders.created_at',
        cdp.identity_rule_columns()['shop_orders']
    ) }}
),

observed as (
    select
        left_type,
        left_value,
        right_type,
        right_value,
        rule,
        tier,
        source_table,
        observed_at,
        concat(left_type, ':', left_value) as left_key,
        concat(right_type, ':', right_value) as right_key
    from candidate_links
    where is_applicable and left_value is not null and right_value is not null
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
