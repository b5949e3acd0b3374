-- One row per order (newest version), amounts in USD, with the person who placed it:
-- the customer id's person, else the email's, else the phone's (a guest checkout).
-- Orders carrying an erased identifier are left out; orders that cannot be converted to
-- USD are in quality.quarantined_rows.
with

orders as (
    select * from {{ ref('int_orders_converted') }}
    where _quarantine_reason is null
),

items as (
    select
        order_id,
        count(*) as item_lines,
        sum(quantity) as units
    from {{ ref('stg_shop__order_items') }}
    group by order_id
),

attributed as (
    select
        orders.*,
        coalesce(by_customer.person_id, by_email.person_id, by_phone.person_id) as person_id
    from orders
    {{ cdp.join_person('by_customer', 'customer_id', 'orders.customer_id') }}
    {{ cdp.join_person('by_email', 'email', 'orders.email') }}
    {{ cdp.join_person('by_phone', 'phone', 'orders.phone') }}
    where
        not {{ cdp.is_erased('customer_id', 'orders.customer_id') }}
        and not {{ cdp.is_erased('email', 'orders.email') }}
        and not {{ cdp.is_erased('phone', 'orders.phone') }}
)

select
    attributed.order_id,
    attributed.person_id,
    attributed.customer_id,
    attributed.order_status,
    attributed.channel,
    attributed.currency,
    attributed.rate_to_usd as fx_rate_to_usd,
    attributed.rate_date as fx_rate_date,
    attributed.subtotal,
    attributed.total,
    attributed.subtotal_usd,
    attributed.discount_usd,
    attributed.tax_usd,
    attributed.shipping_usd,
    attributed.total_usd,
    attributed.order_date,
    attributed.created_at,
    attributed.updated_at,
    attributed.customer_id is null as is_guest_checkout,
    attributed.order_status in ({{ cdp.quoted_list(var('cdp_revenue_statuses')) }})
        as is_revenue,
    attributed.order_status = 'refunded' as is_refunded,
    attributed.order_status = 'cancelled' as is_cancelled,
    cast(coalesce(items.item_lines, 0) as {{ dbt.type_bigint() }}) as item_lines,
    cast(coalesce(items.units, 0) as {{ dbt.type_bigint() }}) as units
from attributed
left join items on attributed.order_id = items.order_id
