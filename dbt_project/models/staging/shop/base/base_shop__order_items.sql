with

source as (
    select * from {{ cdp.raw_source('shop', 'shop_order_items') }}
),

renamed as (
    select
        nullif(trim(cast(order_id as {{ dbt.type_string() }})), '') as order_id,
        {{ dbt.safe_cast('line_number', dbt.type_bigint()) }} as line_number,
        {{ cdp.clean_text('product_id') }} as product_id,
        {{ cdp.clean_text('sku') }} as sku,
        {{ cdp.clean_text('product_name') }} as product_name,
        {{ cdp.clean_text('category') }} as category,
        {{ dbt.safe_cast('quantity', dbt.type_bigint()) }} as quantity,
        {{ dbt.safe_cast('unit_price', 'decimal(38, 10)') }} as unit_price,
        _file,
        _row_number,
        _loaded_at
    from source
),

versioned as (
    select
        *,
        -- No version column: the line delivered last wins.
        {{ cdp.latest_version_rank(['order_id', 'line_number']) }} as _version_rank,
        count(*) over (
            partition by {{ cdp.version_partition(['order_id', 'line_number']) }}
        ) as _version_count
    from renamed
),

validated as (
    select
        *,
        quantity * unit_price as line_amount,
        {{ cdp.quarantine_reason([
            ("order_id is null", "missing key: order_id"),
            ("line_number is null", "missing key: line_number"),
            ("coalesce(quantity, 0) <= 0", "quantity missing or not positive"),
            ("unit_price is null", "missing unit_price"),
            ("unit_price < 0", "negative money"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    order_id,
    line_number,
    product_id,
    sku,
    product_name,
    category,
    quantity,
    unit_price,
    line_amount,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
