-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_shop__customers') }}

-- normalize_email: case/space variants meet; placeholders and non-addresses are NULL.
with

cases as (
    select
        cases.input_value,
        cases.expected
    from (
        values
        ('  ALEXZ@Example.com ', 'alexz@example.com'),
        ('alexz@example.com', 'alexz@example.com'),
        ('Jane.Doe+news@Gmail.COM', 'jane.doe+news@gmail.com'),
        ('test@test.com', null),
        (' TEST@test.com', null),
        ('noreply@shop.io', null),
        ('someone@example.com', 'someone@example.com'),
        ('ann@test.com', null),
        ('ann@shop.invalid', null),
        ('n/a', null),
        ('not an email', null),
        ('a@b', null),
        ('', null),
        (null, null)
    ) as cases (input_value, expected)
)

select *
from cases
where {{ cdp.normalize_email('input_value') }} is distinct from expected
