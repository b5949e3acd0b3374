-- Each buying person's order facts and RFM. Revenue and order_count follow the output
-- contract: orders whose latest status is paid or fulfilled, in USD at the order date's
-- rate. RFM scores are quintiles (1-5) among buyers, tied values sharing the lower score,
-- with a named segment (docs/profiles.md).
with

orders as (
    select * from {{ ref('fct_orders') }}
    where person_id is not null
),

per_person as (
    select
        person_id,
        count(case when is_revenue then 1 end) as order_count,
        coalesce(sum(case when is_revenue then total_usd end), 0) as lifetime_revenue_usd,
        min(case when is_revenue then created_at end) as first_order_at,
        max(case when is_revenue then created_at end) as last_order_at,
        count(*) as orders_placed,
        count(case when is_refunded then 1 end) as refund_count,
        coalesce(sum(case when is_refunded then total_usd end), 0) as refunded_amount_usd,
        count(case when is_cancelled then 1 end) as cancelled_order_count
    from orders
    group by person_id
),

with_recency as (
    select
        *,
        case
            when last_order_at is not null
                then {{ dbt.datediff('last_order_at', cdp.as_of_timestamp(), 'day') }}
        end as days_since_last_order
    from per_person
),

scored as (
    select
        *,
        -- Quintiles by position, ties at their lowest position: with most buyers on one
        -- order, one-order buyers all score 1 (ntile would split them arbitrarily).
        {{ cdp.quintile_score('days_since_last_order desc') }} as rfm_recency_score,
        {{ cdp.quintile_score('order_count') }} as rfm_frequency_score,
        {{ cdp.quintile_score('lifetime_revenue_usd') }} as rfm_monetary_score
    from with_recency
    where order_count > 0
)

select
    with_recency.person_id,
    with_recency.order_count,
    with_recency.lifetime_revenue_usd,
    with_recency.first_order_at,
    with_recency.last_order_at,
    with_recency.days_since_last_order,
    with_recency.orders_placed,
    with_recency.refund_count,
    with_recency.refunded_amount_usd,
    with_recency.cancelled_order_count,
    scored.rfm_recency_score,
    scored.rfm_frequency_score,
    scored.rfm_monetary_score,
    case
        when with_recency.lifetime_revenue_usd = 0 or with_recency.order_count = 0 then null
        else with_recency.lifetime_revenue_usd / with_recency.order_count
    end as average_order_value_usd,
    {{ cdp.rfm_segment('scored.rfm_recency_score', 'scored.rfm_frequency_score') }} as rfm_segment
from with_recency
left join scored on with_recency.person_id = scored.person_id
