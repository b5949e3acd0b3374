-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_tracking__events') }}

-- json_value reads nested paths as text; regex_matches and regex_replace_all behave alike
-- on every engine (all matches replaced).
with

cases as (
    select
        cases.document,
        cases.json_path,
        cases.expected
    from (
        values
        ('{"page": {"path": "/pricing"}, "n": 5}', '$.page.path', '/pricing'),
        ('{"page": {"path": "/pricing"}, "n": 5}', '$.n', '5'),
        ('{"page": {}}', '$.page.path', null)
    ) as cases (document, json_path, expected)
),

failures as (
    select document as failed_input
    from cases
    where
        (
            json_path = '$.page.path'
            and {{ cdp.json_value('document', '$.page.path') }} is distinct from expected
        )
        or (json_path = '$.n' and {{ cdp.json_value('document', '$.n') }} is distinct from expected)
    union all
    select 'regex_matches' as failed_input
    where not {{ cdp.regex_matches("'abc-123'", '^[a-z]+-[0-9]+$') }}
    union all
    select 'regex_replace_all' as failed_input
    where {{ cdp.regex_replace_all("'(415) 555-2671'", '[^0-9]', '') }} != '4155552671'
)

select * from failures
