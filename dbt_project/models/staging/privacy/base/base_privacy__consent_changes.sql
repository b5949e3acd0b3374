{%- set change_key = [
    'subject_type',
    'coalesce(identifier_value, raw_subject_id)',
    'purpose',
    'consent_status',
    'recorded_at',
] %}

with

source as (
    select * from {{ cdp.raw_source('privacy', 'consent') }}
),

renamed as (
    select
        lower(trim(subject_type)) as subject_type,
        {{ cdp.identifier_type_of('subject_type') }} as identifier_type,
        subject_id as raw_subject_id,
        lower({{ cdp.clean_text('purpose') }}) as purpose,
        lower({{ cdp.clean_text('status') }}) as consent_status,
        lower({{ cdp.clean_text('source') }}) as consent_source,
        {{ cdp.to_utc_timestamp('recorded_at') }} as recorded_at,
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

deduplicated as (
    select
        *,
        -- The same change delivered twice is one change. An unusable subject keeps its raw
        -- text in the key, so two different bad rows are each quarantined.
        row_number() over (
            partition by {{ cdp.version_partition(change_key) }}
            order by _loaded_at, _file, _row_number
        ) as _delivery_rank,
        count(*) over (partition by {{ cdp.version_partition(change_key) }}) as _version_count
    from normalised
),

validated as (
    select
        *,
        {{ cdp.quarantine_reason([
            ("identifier_type is null", "unknown subject_type"),
            ("identifier_type is not null and identifier_value is null", "subject_id is not a usable identifier"),
            ("coalesce(purpose, '') not in ('email_marketing', 'sms_marketing', 'advertising', 'analytics', 'personalization')", "unknown purpose"),
            ("coalesce(consent_status, '') not in ('granted', 'denied', 'withdrawn')", "unknown consent status"),
            ("recorded_at is null", "missing recorded_at"),
            (cdp.is_future('recorded_at'), "recorded_at in the future"),
        ]) }} as _quarantine_reason
    from deduplicated
    where _delivery_rank = 1
)

select
    {{ cdp.hash_text(
        "concat_ws('|', identifier_type, identifier_value, purpose, consent_status, "
        ~ "cast(recorded_at as " ~ dbt.type_string() ~ "))"
    ) }} as consent_change_id,
    subject_type,
    identifier_type,
    identifier_value,
    purpose,
    consent_status,
    consent_source,
    recorded_at,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
