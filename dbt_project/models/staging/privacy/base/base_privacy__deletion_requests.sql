with

source as (
    select * from {{ cdp.raw_source('privacy', 'deletion_requests') }}
),

renamed as (
    select
        nullif(trim(cast(request_id as {{ dbt.type_string() }})), '') as request_id,
        lower(trim(subject_type)) as subject_type,
        {{ cdp.identifier_type_of('subject_type') }} as identifier_type,
        subject_id as raw_subject_id,
        {{ cdp.to_utc_timestamp('requested_at') }} as requested_at,
        _file,
        _row_number,
        _loaded_at
    from source
),

normalised as (
    select
        *,
        {{ cdp.normalize_identifier('identifier_type', 'raw_subject_id') }} as identifier_value
    from renamed
),

versioned as (
    select
        *,
        {{ cdp.latest_version_rank(['request_id']) }} as _version_rank,
        count(*) over (partition by {{ cdp.version_partition(['request_id']) }}) as _version_count
    from normalised
),

validated as (
    -- No "future" rule here: an erasure request is honoured whatever its date says.
    select
        *,
        {{ cdp.quarantine_reason([
            ("request_id is null", "missing key: request_id"),
            ("identifier_type is null", "unknown subject_type"),
            ("identifier_type is not null and identifier_value is null", "subject_id is not a usable identifier"),
        ]) }} as _quarantine_reason
    from versioned
    where _version_rank = 1
)

select
    request_id,
    subject_type,
    identifier_type,
    identifier_value,
    requested_at,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
