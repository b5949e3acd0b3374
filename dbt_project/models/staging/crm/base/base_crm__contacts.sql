with

source as (
    select * from {{ cdp.raw_source('crm', 'crm_contacts') }}
),

renamed as (
    select
        nullif(trim(cast(contact_id as {{ dbt.type_string() }})), '') as contact_id,
        {{ cdp.clean_text('account_id') }} as account_id,
        {{ cdp.normalize_email('email') }} as email,
        {{ cdp.normalize_phone('phone', cdp.clean_country('country')) }} as phone,
        {{ cdp.clean_text('first_name') }} as first_name,
        {{ cdp.clean_text('last_name') }} as last_name,
        {{ cdp.clean_text('job_title') }} as job_title,
        lower({{ cdp.clean_text('lifecycle_stage') }}) as lifecycle_stage,
        lower({{ cdp.clean_text('lead_source') }}) as lead_source,
        {{ cdp.clean_country('country') }} as country,
        {{ cdp.clean_text('city') }} as city,
        {{ cdp.clean_text('postal_code') }} as postal_code,
        {{ cdp.to_utc_timestamp('created_at') }} as created_at,
        {{ cdp.to_utc_timestamp('updated_at') }} as updated_at,
        coalesce({{ dbt.safe_cast('is_deleted', dbt.type_boolean()) }}, false) as is_deleted,
        _file,
        _row_number,
        _loaded_at
    from source
),

versioned as (
    select
        *,
        {{ cdp.latest_version_rank(['contact_id'], 'updated_at') }} as _version_rank,
        count(*) over (partition by {{ cdp.version_partition(['contact_id']) }}) as _version_count
    from renamed
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("contact_id is null", "missing key: contact_id"),
            (cdp.is_future('created_at'), "created_at in the future"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    contact_id,
    account_id,
    email,
    phone,
    first_name,
    last_name,
    job_title,
    lifecycle_stage,
    lead_source,
    country,
    city,
    postal_code,
    created_at,
    updated_at,
    is_deleted,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
