with

source as (
    select * from {{ cdp.raw_source('shop', 'shop_orders') }}
),

renamed as (
    select
        nullif(trim(cast(order_id as {{ dbt.type_string() }})), '') as order_id,
        {{ cdp.clean_id('customer_id') }} as customer_id,
        {{ cdp.normalize_email('email') }} as email,
        -- Orders carry no country: a national number is read with cdp_default_country.
        {{ cdp.normalize_phone('phone') }} as phone,
        lower({{ cdp.clean_text('status') }}) as order_status,
        upper({{ cdp.clean_text('currency') }}) as currency,
        {{ dbt.safe_cast('subtotal', 'decimal(38, 10)') }} as subtotal,
        {{ dbt.safe_cast('discount', 'decimal(38, 10)') }} as discount,
        {{ dbt.safe_cast('tax', 'decimal(38, 10)') }} as tax,
        {{ dbt.safe_cast('shipping', 'decimal(38, 10)') }} as shipping,
        {{ dbt.safe_cast('total', 'decimal(38, 10)') }} as total,
        lower({{ cdp.clean_text('channel') }}) as channel,
        {{ cdp.to_utc_timestamp('created_at') }} as created_at,
        {{ cdp.to_utc_timestamp('updated_at') }} as updated_at,
        _file,
        _row_number,
        _loaded_at
    from source
),

versioned as (
    select
        *,
        {{ cdp.latest_version_rank(['order_id'], 'updated_at') }} as _version_rank,
        count(*) over (partition by {{ cdp.version_partition(['order_id']) }}) as _version_count
    from renamed
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("order_id is null", "missing key: order_id"),
            ("total is null", "missing total"),
            ("least(coalesce(subtotal, 0), coalesce(discount, 0), coalesce(tax, 0), coalesce(shipping, 0), total) < 0", "negative money"),
            ("not " ~ cdp.regex_matches("coalesce(currency, '')", "^[A-Z]{3}$"), "invalid currency code"),
            ("coalesce(order_status, '') not in ('pending', 'paid', 'fulfilled', 'cancelled', 'refunded')", "unknown order status"),
            ("created_at is null", "missing created_at"),
            (cdp.is_future('created_at'), "created_at in the future"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
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
    cast(created_at as date) as order_date,
    updated_at,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
