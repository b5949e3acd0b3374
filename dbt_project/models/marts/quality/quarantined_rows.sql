-- Every row held back on its way in, with the reason: nothing is dropped silently.
-- Ingestion rejects (could not be typed) and staging rejects (typed, but breaking a
-- rule: negative money, unknown status, future timestamp, ...) and orders that cannot be
-- converted to USD (no fx rate for their currency and date). The ingestion log is
-- absent when an EL tool lands the raw tables; then only staging rejects are listed.

with

staging_rejects as (
    {{ cdp.union_staging_rejects() }}
),

ingestion_rejects as (
    {{ cdp.ingestion_rejects() }}
),

conversion_rejects as (
    select
        'shop_orders' as source_table,
        'conversion' as quarantine_stage,
        order_id as record_key,
        _quarantine_reason as reason,
        _file,
        _row_number,
        _loaded_at
    from {{ ref('int_orders_converted') }}
    where _quarantine_reason is not null
),

unioned as (
    select * from staging_rejects
    union all
    select * from ingestion_rejects
    union all
    select * from conversion_rejects
)

select
    source_table,
    quarantine_stage,
    -- An erased person's ids must not survive anywhere in the marts, not even here.
    case
        when
            record_key in (
                select erasures.identifier_value
                from {{ ref('int_identity_erasures') }} as erasures
            )
            then null
        else record_key
    end as record_key,
    reason,
    _file,
    _row_number,
    _loaded_at
from unioned
