-- Every staged order with its money in USD at the rate of its UTC order date (the latest
-- earlier rate when that date has none). An order whose currency has no rate on or before
-- its date cannot be reported: it gets a quarantine reason instead of a guessed amount.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

rates as (
    select * from {{ ref('int_fx_rates_valid') }}
),

converted as (
    select
        orders.*,
        rates.rate_to_usd,
        rates.valid_from as rate_date
    from orders
    left join rates
        on
            orders.currency = rates.currency
            and orders.order_date >= rates.valid_from
            and (rates.valid_until is null or orders.order_date < rates.valid_until)
)

select
    order_id,
    customer_id,
    email,
    phone,
    order_status,
    currency,
    subtotal,
    discount,
    tax,
    shipping,
    total,
    channel,
    created_at,
    order_date,
    updated_at,
    rate_to_usd,
    rate_date,
    _file,
    _row_number,
    _loaded_at,
    {{ cdp.money_times_rate("subtotal", "rate_to_usd") }} as subtotal_usd,
    {{ cdp.money_times_rate("discount", "rate_to_usd") }} as discount_usd,
    {{ cdp.money_times_rate("tax", "rate_to_usd") }} as tax_usd,
    {{ cdp.money_times_rate("shipping", "rate_to_usd") }} as shipping_usd,
    {{ cdp.money_times_rate("total", "rate_to_usd") }} as total_usd,
    case
        when rate_to_usd is null then 'no fx rate for the currency on or before the order date'
    end as _quarantine_reason
from converted
