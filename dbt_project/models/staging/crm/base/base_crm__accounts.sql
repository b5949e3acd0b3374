with

source as (
    select * from {{ cdp.raw_source('crm', 'crm_accounts') }}
),

renamed as (
    select
        nullif(trim(cast(account_id as {{ dbt.type_string() }})), '') as account_id,
        {{ cdp.clean_text('name') }} as account_name,
        -- 'https://www.Acme.com/' and 'acme.com' are the same company domain. (`domain` is
        -- the contract's name and not a reserved word in DuckDB or Spark: RF04 is waived.)
        nullif(
            {{ cdp.regex_replace_all(
                "lower(" ~ cdp.clean_text('domain') ~ ")",
                "^(https?://)?(www\\.)?|/.*$", ""
            ) }},
            ''
        ) as domain,  -- noqa: RF04
        {{ cdp.clean_text('industry') }} as industry,
        {{ dbt.safe_cast('employee_count', dbt.type_bigint()) }} as employee_count,
        {{ dbt.safe_cast('annual_revenue', 'decimal(38, 10)') }} as annual_revenue,
        {{ cdp.clean_country('country') }} as country,
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
        {{ cdp.latest_version_rank(['account_id'], 'updated_at') }} as _version_rank,
        count(*) over (partition by {{ cdp.version_partition(['account_id']) }}) as _version_count
    from renamed
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("account_id is null", "missing key: account_id"),
            ("employee_count < 0", "negative employee_count"),
            ("annual_revenue < 0", "negative annual_revenue"),
            (cdp.is_future('created_at'), "created_at in the future"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    account_id,
    account_name,
    domain,
    industry,
    employee_count,
    annual_revenue,
    country,
    created_at,
    updated_at,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
