with

source as (
    select * from {{ cdp.raw_source('shop', 'shop_customers') }}
),

renamed as (
    select
        nullif(trim(cast(customer_id as {{ dbt.type_string() }})), '') as customer_id,
        {{ cdp.normalize_email('email') }} as email,
        {{ cdp.normalize_phone('phone', cdp.clean_country('country')) }} as phone,
        {{ cdp.clean_text('first_name') }} as first_name,
        {{ cdp.clean_text('last_name') }} as last_name,
        {{ dbt.safe_cast('accepts_marketing', dbt.type_boolean()) }} as accepts_marketing,
        {{ cdp.clean_country('country') }} as country,
        {{ cdp.clean_text('city') }} as city,
        {{ cdp.clean_text('postal_code') }} as postal_code,
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
        {{ cdp.latest_version_rank(['customer_id'], 'updated_at') }} as _version_rank,
        count(*) over (partition by {{ cdp.version_partition(['customer_id']) }}) as _version_count
    from renamed
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("customer_id is null", "missing key: customer_id"),
            (cdp.is_future('created_at'), "created_at in the future"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    customer_id,
    email,
    phone,
    first_name,
    last_name,
    accepts_marketing,
    country,
    city,
    postal_code,
    created_at,
    updated_at,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
