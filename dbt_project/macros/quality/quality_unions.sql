{# One select per staged table of the rows its base model quarantined, unioned (for quarantined_rows). #}
{% macro union_staging_rejects() -%}
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
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{# One row per staged table counting where its raw rows went, unioned (for row_accounting). #}
{% macro union_row_accounting() -%}
    {%- for table in cdp.staged_tables() %}
    select
        '{{ table.raw_table }}' as source_table,
        (select count(*) from {{ source(table.source, table.raw_table) }}) as raw_rows,
        (select count(*) from {{ ref(table.staged) }}) as staged_rows,
        count(case when _quarantine_reason is not null then 1 end) as quarantined_rows,
        coalesce(sum(_version_count) - count(*), 0) as superseded_rows,
        {%- if table.soft_delete %}
        count(case when _quarantine_reason is null and {{ table.soft_delete }} then 1 end)
        {%- else %}
        0
        {%- endif %} as soft_deleted_rows
    from {{ ref(table.base) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{# The ingestion quarantine log as quarantined_rows columns; no rows when the log table does not exist (EL-landed raw data). #}
{% macro ingestion_rejects() -%}
    {%- set log = source('ingestion', 'quarantine') -%}
    {%- set exists = execute and adapter.get_relation(
        database=log.database, schema=log.schema, identifier=log.identifier) is not none -%}
    select
        {{ 'table_name' if exists else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as source_table,
        'ingestion' as quarantine_stage,
        cast(null as {{ dbt.type_string() }}) as record_key,
        {{ 'reason' if exists else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as reason,
        {{ '_file' if exists else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as _file,
        {{ '_row_number' if exists else 'cast(null as ' ~ dbt.type_bigint() ~ ')' }} as _row_number,
        {{ '_loaded_at' if exists else 'cast(null as ' ~ dbt.type_timestamp() ~ ')' }} as _loaded_at
    {%- if exists %}
    from {{ log }}
    {%- else %}
    where false
    {%- endif %}
{%- endmacro %}
