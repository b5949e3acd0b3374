with

source as (
    select * from {{ cdp.raw_source('crm', 'crm_deals') }}
),

renamed as (
    select
        nullif(trim(cast(deal_id as {{ dbt.type_string() }})), '') as deal_id,
        {{ cdp.clean_text('account_id') }} as account_id,
        {{ cdp.clean_text('contact_id') }} as contact_id,
        {{ cdp.clean_text('deal_name') }} as deal_name,
        lower({{ cdp.clean_text('stage') }}) as deal_stage,
        {{ dbt.safe_cast('amount', 'decimal(38, 10)') }} as amount,
        upper({{ cdp.clean_text('currency') }}) as currency,
        {{ cdp.to_utc_timestamp('created_at') }} as created_at,
        {{ cdp.to_utc_timestamp('updated_at') }} as updated_at,
        {{ cdp.to_utc_timestamp('closed_at') }} as closed_at,
        {{ dbt.safe_cast('is_won', dbt.type_boolean()) }} as is_won,
        _file,
        _row_number,
        _loaded_at
    from source
),

versioned as (
    select
        *,
        {{ cdp.latest_version_rank(['deal_id'], 'updated_at') }} as _version_rank,
        count(*) over (partition by {{ cdp.version_partition(['deal_id']) }}) as _version_count
    from renamed
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("deal_id is null", "missing key: deal_id"),
            ("amount < 0", "negative amount"),
            ("amount is not null and not " ~ cdp.regex_matches("coalesce(currency, '')", "^[A-Z]{3}$"), "invalid currency code"),
            (cdp.is_future('created_at'), "created_at in the future"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    deal_id,
    account_id,
    contact_id,
    deal_name,
    deal_stage,
    amount,
    currency,
    created_at,
    updated_at,
    closed_at,
    is_won,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
