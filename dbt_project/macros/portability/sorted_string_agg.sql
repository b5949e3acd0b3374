{# The non-null values of a group joined by a delimiter, in ascending order on every engine (dbt-spark's listagg drops the order). #}
{% macro sorted_string_agg(expression, delimiter=none) -%}
    {{ return(adapter.dispatch('sorted_string_agg', 'cdp')(expression, delimiter if delimiter is not none else "','")) }}
{%- endmacro %}

{% macro default__sorted_string_agg(expression, delimiter) -%}
    {{ dbt.listagg(expression, delimiter, "order by " ~ expression) }}
{%- endmacro %}

{% macro spark__sorted_string_agg(expression, delimiter) -%}
    case when count({{ expression }}) > 0 then array_join(array_sort(collect_list({{ expression }})), {{ delimiter }}) end
{%- endmacro %}
