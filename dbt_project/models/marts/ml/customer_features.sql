-- The features the predictive traits learn from, per person and per feature set: as of a
-- cut-off `cdp_prediction_horizon_days` before the build's now (`training`, with the
-- labels of the window after it) and as of now (`scoring`, no labels yet). Both sets come
-- from one definition, so the model is trained and applied on the same features.
{%- set horizon_days = var('cdp_prediction_horizon_days') %}
{%- set cutoff = 'persons.features_as_of_at' %}

with

as_of as (
    select as_of_at from {{ ref('int_as_of') }}
),

fct_events as (
    select
        person_id,
        event_at,
        event_name,
        is_email_event,
        session_id
    from {{ ref('fct_events') }}
    where person_id is not null
),

fct_orders as (
    select
        person_id,
        created_at,
        total_usd,
        is_revenue
    from {{ ref('fct_orders') }}
    where person_id is not null
),

feature_sets as (
    select
        'training' as feature_set,
        {{ cdp.add_days('as_of_at', -horizon_days) }} as features_as_of_at,
        as_of_at as labels_until_at
    from as_of
    union all
    select
        'scoring' as feature_set,
        as_of_at as features_as_of_at,
        cast(null as {{ dbt.type_timestamp() }}) as labels_until_at
    from as_of
),

-- Each event counts for every feature set whose cut-off it precedes.
events_before as (
    select
        feature_sets.feature_set,
        feature_sets.features_as_of_at,
        fct_events.person_id,
        fct_events.event_at,
        fct_events.event_name,
        fct_events.is_email_event,
        fct_events.session_id,
        -- Which trailing windows (days before the cut-off) the event falls in.
        fct_events.event_at > {{ cdp.add_days('feature_sets.features_as_of_at', -7) }}
            as is_within_7d,
        fct_events.event_at > {{ cdp.add_days('feature_sets.features_as_of_at', -30) }}
            as is_within_30d,
        fct_events.event_at > {{ cdp.add_days('feature_sets.features_as_of_at', -90) }}
            as is_within_90d
    from fct_events
    inner join feature_sets
        on fct_events.event_at <= feature_sets.features_as_of_at
),

orders_before as (
    select
        feature_sets.feature_set,
        feature_sets.features_as_of_at,
        fct_orders.person_id,
        fct_orders.created_at,
        fct_orders.total_usd,
        fct_orders.is_revenue,
        fct_orders.created_at > {{ cdp.add_days('feature_sets.features_as_of_at', -90) }}
            as is_within_90d
    from fct_orders
    inner join feature_sets
        on fct_orders.created_at <= feature_sets.features_as_of_at
),

event_features as (
    select
        feature_set,
        person_id,
        max(features_as_of_at) as features_as_of_at,
        max(case when not is_email_event then event_at end) as last_visit_at,
        min(event_at) as first_seen_at,
        count(case when not is_email_event and is_within_7d then 1 end) as events_7d,
        count(case when not is_email_event and is_within_30d then 1 end) as events_30d,
        count(case when not is_email_event and is_within_90d then 1 end) as events_90d,
        count(distinct case when is_within_30d then session_id end) as sessions_30d,
        count(case when event_name = 'Product Viewed' and is_within_30d then 1 end)
            as product_views_30d,
        count(case when event_name = 'Product Added' and is_within_30d then 1 end)
            as products_added_30d,
        count(case when event_name = 'Checkout Started' and is_within_30d then 1 end)
            as checkouts_30d,
        count(case when event_name = 'Email Opened' and is_within_30d then 1 end)
            as email_opens_30d,
        count(case when event_name = 'Email Clicked' and is_within_30d then 1 end)
            as email_clicks_30d
    from events_before
    group by feature_set, person_id
),

order_features as (
    select
        feature_set,
        person_id,
        max(features_as_of_at) as features_as_of_at,
        count(case when is_revenue then 1 end) as orders,
        coalesce(sum(case when is_revenue then total_usd end), 0) as revenue_usd,
        count(case when is_revenue and is_within_90d then 1 end) as orders_90d,
        max(case when is_revenue then created_at end) as last_order_at
    from orders_before
    group by feature_set, person_id
),

-- Everyone seen (an event or an order) before the cut-off has features.
persons as (
    select
        feature_set,
        person_id,
        features_as_of_at
    from event_features
    union
    select
        feature_set,
        person_id,
        features_as_of_at
    from order_features
),

-- Labels: what a person did in the window after the training cut-off.
activity_after as (
    select
        feature_sets.feature_set,
        fct_orders.person_id,
        1 as has_revenue_order
    from fct_orders
    inner join feature_sets
        on
            fct_orders.created_at > feature_sets.features_as_of_at
            and fct_orders.created_at <= feature_sets.labels_until_at
    where fct_orders.is_revenue
    union all
    select
        feature_sets.feature_set,
        fct_events.person_id,
        0 as has_revenue_order
    from fct_events
    inner join feature_sets
        on
            fct_events.event_at > feature_sets.features_as_of_at
            and fct_events.event_at <= feature_sets.labels_until_at
    where not fct_events.is_email_event
),

labels as (
    select
        feature_set,
        person_id,
        max(has_revenue_order) as has_revenue_order
    from activity_after
    group by feature_set, person_id
),

features as (
    select
        persons.person_id,
        persons.feature_set,
        persons.features_as_of_at,
        cast(
            {{ dbt.datediff('event_features.last_visit_at', cutoff, 'second') }}
            as double
        ) / 86400.0 as days_since_last_visit,
        cast(
            {{ dbt.datediff('event_features.first_seen_at', cutoff, 'second') }}
            as double
        ) / 86400.0 as tenure_days,
        coalesce(event_features.events_7d, 0) as events_7d,
        coalesce(event_features.events_30d, 0) as events_30d,
        coalesce(event_features.events_90d, 0) as events_90d,
        coalesce(event_features.sessions_30d, 0) as sessions_30d,
        coalesce(event_features.product_views_30d, 0) as product_views_30d,
        coalesce(event_features.products_added_30d, 0) as products_added_30d,
        coalesce(event_features.checkouts_30d, 0) as checkouts_30d,
        coalesce(event_features.email_opens_30d, 0) as email_opens_30d,
        coalesce(event_features.email_clicks_30d, 0) as email_clicks_30d,
        coalesce(order_features.orders, 0) as orders,
        cast(coalesce(order_features.revenue_usd, 0) as double) as revenue_usd,
        coalesce(order_features.orders_90d, 0) as orders_90d,
        cast(
            {{ dbt.datediff('order_features.last_order_at', cutoff, 'second') }}
            as double
        ) / 86400.0 as days_since_last_order,
        -- Only the training set has an observed window after its cut-off.
        case
            when persons.feature_set = 'training'
                then coalesce(labels.has_revenue_order = 1, false)
        end as has_purchased_after,
        case
            when persons.feature_set = 'training'
                then labels.person_id is not null
        end as was_active_after
    from persons
    left join event_features
        on
            persons.feature_set = event_features.feature_set
            and persons.person_id = event_features.person_id
    left join order_features
        on
            persons.feature_set = order_features.feature_set
            and persons.person_id = order_features.person_id
    left join labels
        on
            persons.feature_set = labels.feature_set
            and persons.person_id = labels.person_id
)

select * from features
