-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_tracking__events') }}

-- json_value reads nested paths as text; regex_matches and regex_replace_all behave alike
-- on every engine (all matches replaced, backslash classes kept: Spark's parser would read
-- '\s' as 's'); text_literal keeps quotes; sorted_string_agg joins in ascending order;
-- money_times_rate keeps 10 decimal places (Spark would round the product to 6);
-- add_days and add_seconds keep the milliseconds (dbt-spark's dateadd drops them).
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
    union all
    select 'regex backslash class' as failed_input
    where
        not {{ cdp.regex_matches("'a b'", '^a\\sb$') }}
        or {{ cdp.regex_matches("'asb'", '^a\\sb$') }}
        or {{ cdp.regex_matches("'axb'", '^a\\.b$') }}
        or {{ cdp.regex_replace_all("'a.b.c'", '\\.', '') }} != 'abc'
    union all
    select 'text_literal' as failed_input
    where length({{ cdp.text_literal("it's a \\ slash") }}) != 14
    union all
    select 'money_times_rate' as failed_input
    where
        {{ cdp.money_times_rate(
            "cast(106.99 as decimal(38, 10))", "cast(0.647665 as decimal(38, 10))"
        ) }}
        != cast(69.29367835 as decimal(38, 10))
    union all
    select 'add_days' as failed_input
    where
        {{ cdp.add_days("cast('2026-10-02 22:51:12.710' as timestamp)", -30) }}
        != cast('2026-09-02 22:51:12.710' as timestamp)
    union all
    select 'add_seconds' as failed_input
    where
        {{ cdp.add_seconds("cast('2026-10-02 22:51:12.710' as timestamp)", -90) }}
        != cast('2026-10-02 22:49:42.710' as timestamp)
    union all
    select 'sorted_string_agg' as failed_input
    from (
        select {{ cdp.sorted_string_agg('letters.letter') }} as joined
        from (values ('b'), ('c'), (null), ('a')) as letters (letter)
    ) as aggregated
    where aggregated.joined != 'a,b,c'
)

select * from failures
