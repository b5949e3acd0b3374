-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_crm__contacts') }}

-- clean_text trims and nulls generic placeholders; clean_country maps names to ISO alpha-2.
with

texts as (
    select
        texts.input_value,
        texts.expected
    from (
        values
        ('  Ada ', 'Ada'),
        ('N/A', null),
        ('Na', 'Na'),
        ('undefined', null),
        ('   ', null),
        ('Unknownia', 'Unknownia')
    ) as texts (input_value, expected)
),

countries as (
    select
        countries.input_value,
        countries.expected
    from (
        values
        ('us', 'US'),
        (' United Kingdom ', 'GB'),
        ('DEU', 'DE'),
        ('Atlantis', null),
        (null, null)
    ) as countries (input_value, expected)
),

failures as (
    select
        'clean_text' as macro_name,
        input_value
    from texts
    where {{ cdp.clean_text('input_value') }} is distinct from expected
    union all
    select
        'clean_country' as macro_name,
        input_value
    from countries
    where {{ cdp.clean_country('input_value') }} is distinct from expected
)

select * from failures
