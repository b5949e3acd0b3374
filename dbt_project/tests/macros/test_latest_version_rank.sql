-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_shop__orders') }}

-- latest_version_rank: newest version first, ties broken by the later delivery.
with

versions as (
    select
        versions.record_key,
        versions.updated_at_text,
        versions.loaded_at_text,
        versions._file,
        versions._row_number,
        versions.payload
    from (
        values
        ('k1', '2026-01-01', '2026-02-01', 'a.csv', 1, 'old'),
        ('k1', '2026-01-02', '2026-02-01', 'a.csv', 2, 'new'),
        ('k2', '2026-01-01', '2026-02-01', 'a.csv', 3, 'first delivery'),
        ('k2', '2026-01-01', '2026-02-02', 'b.csv', 1, 'redelivered'),
        ('k3', null, '2026-02-01', 'a.csv', 4, 'no version'),
        ('k3', '2026-01-01', '2026-02-01', 'a.csv', 5, 'versioned')
    ) as versions (record_key, updated_at_text, loaded_at_text, _file, _row_number, payload)
),

typed as (
    select
        record_key,
        payload,
        _file,
        _row_number,
        cast(updated_at_text as {{ dbt.type_timestamp() }}) as updated_at,
        cast(loaded_at_text as {{ dbt.type_timestamp() }}) as _loaded_at
    from versions
),

ranked as (
    select
        record_key,
        payload,
        {{ cdp.latest_version_rank(['record_key'], 'updated_at') }} as version_rank
    from typed
)

select *
from ranked
where
    version_rank = 1
    and payload not in ('new', 'redelivered', 'versioned')
