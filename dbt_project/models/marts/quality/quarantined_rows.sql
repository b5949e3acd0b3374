-- Every row held back on its way in, with the reason: nothing is dropped silently.
-- Ingestion rejects (could not be typed) and staging rejects (typed, but breaking a
-- rule: negative money, unknown status, future timestamp, ...).
{%- set ingestion_quarantine = adapter.get_relation(
    database=source('ingestion', 'quarantine').database,
    schema=source('ingestion', 'quarantine').schema,
    identifier=source('ingestion', 'quarantine').identifier,
) if execute else none %}

with

staging_rejects as (
    {%- for table in cdp.staged_tables() %}
    select
        '{{ table.raw_table }}' as source_table,
        'staging' as quarantine_stage,
        cast({{ table.key }} as {{ dbt.type_string() }}) as record_key,
        _quarantine_reason as reason,
        _file,
        _row_number,
        _loaded_at
    from {{ ref(table.base) }}
    where _quarantine_reason is not null
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
),

{% if ingestion_quarantine is not none -%}
ingestion_rejects as (
    select
        table_name as source_table,
        'ingestion' as quarantine_stage,
        cast(null as {{ dbt.type_string() }}) as record_key,
        reason,
        _file,
        _row_number,
        _loaded_at
    from {{ source('ingestion', 'quarantine') }}
),
{%- endif %}

unioned as (
    select * from staging_rejects
    {%- if ingestion_quarantine is not none %}
    union all
    select * from ingestion_rejects
    {%- endif %}
)

select * from unioned
