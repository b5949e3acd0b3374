with

source as (
    select * from {{ cdp.raw_source('finance', 'fx_rates') }}
),

renamed as (
    select
        {{ dbt.safe_cast('rate_date', 'date') }} as rate_date,
        upper({{ cdp.clean_text('currency') }}) as currency,
        {{ dbt.safe_cast('rate_to_usd', 'decimal(38, 10)') }} as rate_to_usd,
        _file,
        _row_number,
        _loaded_at
    from source
),

versioned as (
    select
        *,
        -- A corrected rate arrives as a new row for the same day: the last delivered wins.
        {{ cdp.latest_version_rank(['rate_date', 'currency']) }} as _version_rank,
        count(*) over (
            partition by {{ cdp.version_partition(['rate_date', 'currency']) }}
        ) as _version_count
    from renamed
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("rate_date is null", "missing key: rate_date"),
            ("not " ~ cdp.regex_matches("coalesce(currency, '')", "^[A-Z]{3}$"), "invalid currency code"),
            ("coalesce(rate_to_usd, 0) <= 0", "rate missing or not positive"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    rate_date,
    currency,
    rate_to_usd,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
