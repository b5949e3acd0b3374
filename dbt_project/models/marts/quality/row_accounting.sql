-- Where every raw row went, per source table. The invariant (tested):
-- raw_rows = staged_rows + quarantined_rows + superseded_rows + soft_deleted_rows.
with

{% for table in cdp.staged_tables() -%}
{{ table.raw_table }}_counts as (
    select
        '{{ table.raw_table }}' as source_table,
        (select count(*) from {{ source(table.source, table.raw_table) }}) as raw_rows,
        (select count(*) from {{ ref(table.staged) }}) as staged_rows,
        count(case when _quarantine_reason is not null then 1 end) as quarantined_rows,
        coalesce(sum(_version_count) - count(*), 0) as superseded_rows,
        {%- if table.soft_delete %}
        count(
            case when _quarantine_reason is null and {{ table.soft_delete }} then 1 end
        ) as soft_deleted_rows
        {%- else %}
        0 as soft_deleted_rows
        {%- endif %}
    from {{ ref(table.base) }}
),

{% endfor -%}
unioned as (
    {%- for table in cdp.staged_tables() %}
    select * from {{ table.raw_table }}_counts
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
)

select
    source_table,
    cast(raw_rows as {{ dbt.type_bigint() }}) as raw_rows,
    cast(staged_rows as {{ dbt.type_bigint() }}) as staged_rows,
    cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows,
    cast(superseded_rows as {{ dbt.type_bigint() }}) as superseded_rows,
    cast(soft_deleted_rows as {{ dbt.type_bigint() }}) as soft_deleted_rows
from unioned
