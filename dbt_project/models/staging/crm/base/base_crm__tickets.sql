with

source as (
    select * from {{ cdp.raw_source('crm', 'crm_tickets') }}
),

renamed as (
    select
        nullif(trim(cast(ticket_id as {{ dbt.type_string() }})), '') as ticket_id,
        {{ cdp.clean_text('contact_id') }} as contact_id,
        lower({{ cdp.clean_text('channel') }}) as channel,
        {{ cdp.clean_text('subject') }} as subject,
        lower({{ cdp.clean_text('status') }}) as ticket_status,
        lower({{ cdp.clean_text('priority') }}) as priority,
        -- CSAT is a 1-5 survey answer; anything else is not an answer.
        case
            when {{ dbt.safe_cast('csat_score', dbt.type_bigint()) }} between 1 and 5
                then {{ dbt.safe_cast('csat_score', dbt.type_bigint()) }}
        end as csat_score,
        {{ cdp.to_utc_timestamp('created_at') }} as created_at,
        {{ cdp.to_utc_timestamp('updated_at') }} as updated_at,
        {{ cdp.to_utc_timestamp('resolved_at') }} as resolved_at,
        _file,
        _row_number,
        _loaded_at
    from source
),

versioned as (
    select
        *,
        {{ cdp.latest_version_rank(['ticket_id'], 'updated_at') }} as _version_rank,
        count(*) over (partition by {{ cdp.version_partition(['ticket_id']) }}) as _version_count
    from renamed
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("ticket_id is null", "missing key: ticket_id"),
            (cdp.is_future('created_at'), "created_at in the future"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    ticket_id,
    contact_id,
    channel,
    subject,
    ticket_status,
    priority,
    csat_score,
    created_at,
    updated_at,
    resolved_at,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
