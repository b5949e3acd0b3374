-- One row per order line of an order in fct_orders, with USD amounts at the order's rate.
with

items as (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
)

select
    items.order_id,
    items.line_number,
    orders.person_id,
    orders.order_date,
    orders.order_status,
    orders.is_revenue,
    items.product_id,
    items.sku,
    items.product_name,
    items.category,
    items.quantity,
    orders.currency,
    items.unit_price,
    {{ cdp.money_times_rate("items.unit_price", "orders.fx_rate_to_usd") }} as unit_price_usd,
    {{ cdp.money_times_rate("items.line_amount", "orders.fx_rate_to_usd") }} as line_amount_usd
from items
inner join orders on items.order_id = orders.order_id
