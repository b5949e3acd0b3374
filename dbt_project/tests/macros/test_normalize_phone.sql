-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_shop__customers') }}

-- normalize_phone: national (with country or the default US), international and 00-prefixed
-- numbers meet in E.164; placeholders and junk are NULL.
with

cases as (
    select
        cases.input_value,
        cases.country,
        cases.expected
    from (
        values
        ('(415) 555-2671', null, '+14155552671'),
        ('+1 415 555 2671', 'DE', '+14155552671'),
        ('030 901820', 'DE', '+4930901820'),
        ('+44 20 7946 0958', null, '+442079460958'),
        ('0044 20 7946 0958', null, '+442079460958'),
        ('020 7946 0958', 'GB', '+442079460958'),
        ('0000000000', null, null),
        ('1234567890', null, null),
        ('n/a', null, null),
        ('123', null, null),
        (null, 'US', null)
    ) as cases (input_value, country, expected)
)

select *
from cases
where {{ cdp.normalize_phone('input_value', 'country') }} is distinct from expected
