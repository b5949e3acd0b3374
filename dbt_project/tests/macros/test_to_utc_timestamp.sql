-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_tracking__events') }}

-- to_utc_timestamp honours offsets ('+01:00', 'Z') and reads a value without offset as UTC.
with

cases as (
    select
        cases.input_value,
        cases.expected
    from (
        values
        ('2026-03-01T10:00:00+01:00', '2026-03-01 09:00:00'),
        ('2026-03-01T10:00:00Z', '2026-03-01 10:00:00'),
        ('2026-03-01 10:00:00', '2026-03-01 10:00:00'),
        ('2026-02-28T23:30:00-05:00', '2026-03-01 04:30:00'),
        ('not a date', null)
    ) as cases (input_value, expected)
)

select *
from cases
where
    {{ cdp.to_utc_timestamp('input_value') }}
    is distinct from cast(expected as {{ dbt.type_timestamp() }})
