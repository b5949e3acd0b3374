-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_tracking__events') }}

-- clean_id trims real ids (leading zeros kept) and nulls placeholders and junk ids.
with

ids as (
    select
        ids.input_value,
        ids.expected
    from (
        values
        (' anon-1 ', 'anon-1'),
        ('00042', '00042'),
        ('undefined', null),
        ('Anonymous', null),
        (' -1 ', null),
        ('[object Object]', null),
        ('00000000-0000-0000-0000-000000000000', null),
        ('0000', null),
        ('000000001', '000000001'),
        ('-10', '-10'),
        ('   ', null)
    ) as ids (input_value, expected)
),

failures as (
    select input_value
    from ids
    where
        coalesce({{ cdp.clean_id('input_value') }}, '<null>')
        != coalesce(expected, '<null>')
)

select * from failures
