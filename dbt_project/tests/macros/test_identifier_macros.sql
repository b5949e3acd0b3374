-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('int_identity_edges') }}

-- identifier_type_of maps privacy subject types to identifier types ('user_id' is a
-- customer_id); normalize_identifier normalises by type.
with

cases as (
    select
        cases.subject_type,
        cases.subject_id,
        cases.expected_type,
        cases.expected_value
    from (
        values
        ('user_id', ' 0042 ', 'customer_id', '0042'),
        ('EMAIL', ' Ann@X.io ', 'email', 'ann@x.io'),
        ('phone', '+44 20 7946 0958', 'phone', '+442079460958'),
        ('anonymous_id', 'undefined', 'anonymous_id', null),
        ('cookie', 'abc', null, 'abc')
    ) as cases (subject_type, subject_id, expected_type, expected_value)
)

select *
from cases
where
    {{ cdp.identifier_type_of('subject_type') }} is distinct from expected_type
    or {{ cdp.normalize_identifier(cdp.identifier_type_of('subject_type'), 'subject_id') }}
    is distinct from expected_value
