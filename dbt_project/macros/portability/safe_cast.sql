{# dbt.safe_cast on DuckDB: try_cast, so a value that does not convert is NULL instead of failing the model. #}
{#- dbt-duckdb 1.11 inherits dbt's default (a plain cast); dispatch in the `dbt` namespace
    looks in the root project first, so this override applies to every dbt.safe_cast. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
